//! # gradscope
//!
//! Train the small models that training-dynamics research argues about — live, in the browser
//! (WebGPU, or burn's Flex CPU backend compiled to wasm), in an embeddable widget, and natively.
//!
//! Every run is described by one serializable [`spec::ExperimentSpec`]; the same spec produces
//! the same run in every front end. The layers, from the bottom:
//!
//! | module | job |
//! |---|---|
//! | [`spec`] | the run description: serde types, validation, URL-hash form, presets |
//! | [`data`] | datasets generated from a spec (modular arithmetic, the memory tasks) |
//! | [`models`] | burn modules, each a `Config` with documented defaults plus `init(&device)` |
//! | [`train`] | losses, optimizers, the training loop and its metrics |
//! | [`experiments`] | a spec turned into a running experiment (dataset + model + trainer) |
//! | [`analysis`] | host-side views of a model and a history: Fourier/IPR, "did it grok?" |
//! | [`sweep`] | sweep files, their points, result lines, merging shards |
//! | [`backend`] | the one place that names concrete burn devices (Flex CPU, wgpu, WebGPU) |
//! | `cli` | the native command line (not on wasm) |
//! | `web` | the browser worker: wasm-bindgen and web-sys live only there |
//!
//! The core (`data`, `models`, `train`, `experiments`) takes any burn [`burn::tensor::Device`] and
//! knows nothing of the web or the terminal.
//!
//! **Labs.** A lab (grokking, scans) is a variant in four places: its spec
//! ([`spec::ExperimentSpec`]), its experiment ([`experiments::Experiment`]), its metrics payload
//! ([`train::metrics::LabMetrics`]) and its report and analysis ([`analysis::LabReport`],
//! [`analysis::LabAnalysis`]). Everything else — the session, the worker and its protocol, the CLI,
//! the URL hash, metrics files — handles any lab without naming one; the page has one module per
//! lab (`www/labs/`).

pub mod analysis;
pub mod backend;
pub mod data;
pub mod experiments;
pub mod models;
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
