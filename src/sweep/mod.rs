//! Sweeps: one base spec, axes over any of its fields, every point of their product trained and
//! its verdict written as one JSON line.
//!
//! - [`plan`]: the sweep file, its points, and the hash that recognizes a point across reruns,
//!   edits of the file and shards;
//! - [`outcome`]: a point's run and verdict, the result lines, reading them back (a killed
//!   sweep's truncated last line included), merging shards, and the table.
//!
//! The processes that run the points (`--jobs`, `--shard`, the Slurm script) are the CLI's
//! (`cli::sweep`); everything here also builds for the browser worker. See `docs/sweeps.md`.

/// Most points the browser worker runs for one sweep (the page's "run it here"): a phase diagram
/// of 5 × 5 small runs takes a minute or two on a CPU; larger sweeps belong to `gradscope sweep`.
pub const MAX_BROWSER_POINTS: usize = 25;

pub mod outcome;
pub mod plan;

pub use outcome::{
    PointEnd, PointResult, ResultsFile, RunResult, RunStatus, merge, read_results, run_point,
    table, train_point,
};
pub use plan::{Axis, Point, SweepPlan, parse_shard, shard_indices, spec_hash};
