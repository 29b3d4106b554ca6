//! `gradscope` — the native command line. See `gradscope --help`.

/// burn's CPU backend allocates a fresh buffer per op; mimalloc reuses them where glibc's malloc
/// returns large blocks to the OS and faults them back in (see Cargo.toml).
#[cfg(not(target_arch = "wasm32"))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    gradscope::cli::main()
}

#[cfg(target_arch = "wasm32")]
fn main() {}
