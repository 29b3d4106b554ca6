//! The browser side: the only module with wasm-bindgen and web-sys.
//!
//! Training runs in a dedicated Web Worker (`src/bin/gradscope-worker.rs`), so the page's main
//! thread only draws. The page (`www/`) and the worker speak the JSON [`protocol`].

pub mod protocol;
pub mod worker;

pub use worker::worker_main;

/// The `main` of a worker binary (`src/bin/gradscope-worker.rs` and `-cpu.rs`): runs the static
/// constructors once, then [`worker_main`].
///
/// Why here and not in [`worker_main`]: without an explicit call to `__wasm_call_ctors`, wasm-ld
/// links a binary "command-style" and wraps *every* export in a call to the constructors, so each
/// message, timer and JS-value handoff into the worker re-ran all of cubecl's `inventory`
/// registrations: 4–5% of a CPU-wasm run of pair-tiny-mlp in Chromium's profiler
/// (docs/performance.md); the explicit call is the linker's documented opt-out (inventory's docs,
/// "WebAssembly and constructors"). The reference must live in the binary alone: in the library
/// it would also opt the browser tests' binary out, whose constructors then never ran (cubecl
/// failed on its first kernel).
#[macro_export]
macro_rules! worker_binary {
    () => {
        unsafe extern "C" {
            /// wasm-ld's synthesized function that runs every static constructor (cubecl
            /// registers its IR through the `inventory` crate's constructors).
            fn __wasm_call_ctors();
        }

        fn main() {
            // SAFETY: runs before any other code of the worker (this is its entry point), once.
            unsafe { __wasm_call_ctors() };
            $crate::web::worker_main();
        }
    };
}
