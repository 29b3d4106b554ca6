//! The browser side: the only module with wasm-bindgen and web-sys.
//!
//! Training runs in a dedicated Web Worker (`src/bin/gradscope-worker.rs`), so the page's main
//! thread only draws. The page (`www/`) and the worker speak the JSON [`protocol`].

pub mod protocol;
pub mod worker;

pub use worker::worker_main;
