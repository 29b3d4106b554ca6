//! `gradscope` — the native command line. See `gradscope --help`.

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    gradscope::cli::main()
}

#[cfg(target_arch = "wasm32")]
fn main() {}
