//! # gradscope
//!
//! Train the small models that training-dynamics research argues about — live, in the browser
//! (WebGPU, or burn's Flex CPU backend compiled to wasm), in an embeddable widget, and natively.
//!
//! Every run is described by one serializable [`labs::ExperimentSpec`]; the same spec produces
//! the same run in every front end. The house, from the bottom:
//!
//! | module | part | job |
//! |---|---|---|
//! | [`backend`] | core | the one place that names concrete burn devices (Flex CPU, wgpu, WebGPU) |
//! | [`rng`], [`nn`] | core | seeded random streams; building blocks more than one lab uses |
//! | [`spec`] | core | what every lab's spec shares: optimizer, budget, seed, validation, URL hash |
//! | [`train`] | core | the [`train::Experiment`] contract, the session loop, metrics, checkpoints, losses, optimizers |
//! | [`labs`] | labs | one folder per lab (`grokking`, `scans`, `gradient_flow`), and the registry that names them |
//! | [`sweep`] | front | sweep files, their points, result lines, merging shards |
//! | `cli` | front | the native command line (not on wasm) |
//! | `web` | front | the browser worker: wasm-bindgen and web-sys live only there |
//!
//! The core takes any burn [`burn::tensor::Device`], knows no lab, and knows nothing of the
//! web or the terminal; a lab knows the core and nothing of another lab; the front ends reach
//! the labs through the registry. `tests/native/layout.rs` checks these rules on the source.

pub mod backend;
pub mod labs;
pub mod nn;
pub mod rng;
pub mod spec;
pub mod sweep;
pub mod train;

#[cfg(not(target_arch = "wasm32"))]
pub mod cli;

#[cfg(target_arch = "wasm32")]
pub mod web;

/// The allocator of every native binary that links gradscope (the CLI, the tests, the bench).
/// burn's CPU backend allocates a fresh multi-MB buffer per op; glibc's malloc hands large blocks
/// back to the OS and page-faults them in again every step (~15% of a step in perf), mimalloc
/// keeps them (see Cargo.toml). Declared once here so that the tests train at the CLI's speed.
#[cfg(not(target_arch = "wasm32"))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
