//! The browser's training worker without WebGPU (built by trunk for wasm32 without the
//! `webgpu` feature; see `index.html`): what a browser that trains on the CPU downloads, a
//! quarter of the WebGPU worker's bytes (docs/performance.md). Natively this binary does
//! nothing: use the `gradscope` CLI.

#[cfg(target_arch = "wasm32")]
gradscope::worker_binary!();

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("gradscope-worker-cpu runs in a browser Web Worker; natively, use `gradscope`.");
}
