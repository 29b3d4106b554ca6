//! The scans lab: S4D vs Mamba on synthetic memory tasks (`docs/science.md` §2).
//!
//! | module | what |
//! |---|---|
//! | [`spec`] | the lab's settings (a memory task, the models trained side by side) |
//! | [`presets`] | the published runs it reproduces |
//! | [`schema`] | its form: fields, ranges, choices, help |
//! | [`memory`] | the memory tasks: selective copying, induction heads |
//! | [`ssm`] | the state-space models and their scans (every fast path beside its reference) |
//! | [`experiment`] | a spec built into a run: several models, same seed, same batches |
//! | [`analysis`] | the report ("which model solved it?") and the views (Δ, state, kernels) |
//! | [`dump`] | `gradscope inspect ssm`: a model's internals as JSON for outside checks |
//! | [`race`], `race_table` | the scan race: sequential vs parallel vs fused scans, timed (a table: `gradscope bench scans`) |
//! | [`commands`] | its own worker commands: the kernel explorer, the scan race |

pub mod analysis;
pub mod commands;
pub mod dump;
pub mod experiment;
pub mod memory;
pub mod presets;
pub mod race;
#[cfg(not(target_arch = "wasm32"))]
pub mod race_table;
pub mod schema;
pub mod spec;
pub mod ssm;

pub use analysis::{ScansAnalysis, ScansReport};
pub use experiment::ScansExperiment;
pub use spec::ScansSpec;
