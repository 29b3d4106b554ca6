//! The grokking lab: delayed generalization on modular arithmetic (`docs/science.md` §1).
//!
//! | module | what |
//! |---|---|
//! | [`spec`] | the lab's settings (task, model, loss) and their validation |
//! | [`presets`] | the published runs it reproduces |
//! | [`schema`] | its form: fields, ranges, choices, help |
//! | [`expr`], [`modular`] | operations as expressions, and the p × p datasets they label |
//! | [`models`] | the MLP (and its fused pair layer) and the transformer |
//! | [`experiment`] | a spec built into a run: full-batch or mini-batch training, its metrics |
//! | [`metrics`] | what an evaluation reports (the flat records of format-1 files) |
//! | [`analysis`] | the Fourier and IPR views, the pruning curve, "did it grok?" |
//! | [`commands`] | its own worker command: the preview of your own operation |

pub mod analysis;
pub mod commands;
pub mod experiment;
pub mod expr;
pub mod metrics;
pub mod models;
pub mod modular;
pub mod presets;
pub mod schema;
pub mod spec;

pub use analysis::{Analysis, GrokReport, Verdict};
pub use experiment::GrokkingExperiment;
pub use metrics::{GrokkingMetrics, GrokkingRecord};
pub use spec::*;
