//! The gradient-flow lab: gradients through deep stacks — norm placement, residual scale, init,
//! activation (`docs/science.md` §3).
//!
//! | module | what |
//! |---|---|
//! | [`spec`] | the lab's settings (a task, the stacks trained side by side) |
//! | [`presets`] | the runs it reproduces |
//! | [`schema`] | its form: fields, ranges, choices, help |
//! | [`regression`] | the tasks: teacher–student regression, deep linear maps, token copying |
//! | [`deep_stack`] | the stacks: MLP and attention blocks, every norm placement |
//! | [`experiment`] | a spec built into a run, with per-block gradient metrics |
//! | [`probe`] | the per-block profile at initialisation |
//! | [`report`] | the report: loss per stack, gradient ratio through depth |

pub mod deep_stack;
pub mod experiment;
pub mod presets;
pub mod probe;
pub mod regression;
pub mod report;
pub mod schema;
pub mod spec;

pub use experiment::GradientFlowExperiment;
pub use report::FlowReport;
pub use spec::GradientFlowSpec;
