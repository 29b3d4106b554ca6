//! The browser's training worker with WebGPU (built by trunk for wasm32 with the `webgpu`
//! feature; see `index.html`). Natively this binary does nothing: use the `gradscope` CLI.

#[cfg(target_arch = "wasm32")]
gradscope::worker_binary!();

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("gradscope-worker runs in a browser Web Worker; natively, use `gradscope`.");
}
