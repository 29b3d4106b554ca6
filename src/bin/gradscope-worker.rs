//! The browser's training worker (built by trunk for wasm32; see `index.html`).
//! Natively this binary does nothing: use the `gradscope` CLI.

#[cfg(target_arch = "wasm32")]
unsafe extern "C" {
    /// wasm-ld's synthesized function that runs every static constructor (cubecl registers its
    /// IR through the `inventory` crate's constructors).
    fn __wasm_call_ctors();
}

#[cfg(target_arch = "wasm32")]
fn main() {
    // Run the static constructors once, here. Without an explicit call, wasm-ld links a binary
    // "command-style" and wraps *every* export in a call to them, so each message, timer and
    // JS-value handoff into the worker re-ran all of cubecl's `inventory` registrations: 4–5% of
    // a CPU-wasm run of pair-tiny-mlp in Chromium's profiler (docs/performance.md). This call is
    // the linker's documented opt-out (inventory's docs, "WebAssembly and constructors").
    // SAFETY: runs before any other code of the worker, once.
    unsafe { __wasm_call_ctors() };
    gradscope::web::worker_main();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("gradscope-worker runs in a browser Web Worker; natively, use `gradscope`.");
}
