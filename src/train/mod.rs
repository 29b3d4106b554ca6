//! Training: losses, optimizers, metrics, and the session loop every front end drives, for
//! any lab that implements [`Experiment`].
//!
//! The loop is our own (burn-train's Learner is not wasm-ready). It never reads a tensor
//! synchronously: metrics come back through one `into_data_async` per evaluation, which is the
//! only way that works on WebGPU in a browser.

pub mod bench;
pub mod checkpoint;
pub mod experiment;
pub mod gradients;
pub mod lab_command;
pub mod loss;
pub mod metrics;
pub mod metrics_csv;
pub mod optim;
pub mod session;

pub use checkpoint::{Checkpoint, ExperimentState};
pub use experiment::{Experiment, ExperimentSummary, RunReport};
pub use metrics::{MetricsFile, MetricsFileError, Record, RunMetrics, SeriesMetrics};
pub use session::{RunError, TrainingSession};
