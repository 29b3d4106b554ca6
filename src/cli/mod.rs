//! The native command line: `gradscope run | sweep | report | presets | spec | schema | bench | inspect`,
//! one module per command (`args` is the grammar; `input` what they share). A lab's own
//! commands (`inspect init|gradients|ssm`, `bench scans`) are reached through the registry.
//!
//! Exit codes: 0 success, 1 a run failed (divergence, device), 2 bad input (spec, arguments).

mod args;
mod bench;
mod input;
mod inspect;
mod report;
mod run;
mod sweep;

use std::process::ExitCode;

use clap::Parser;

use args::{Cli, Command, EmitKind, SweepCommand};

/// Entry point of the `gradscope` binary.
pub fn main() -> ExitCode {
    // burn's optimizer records load their state onto `Device::default()`, which is the wgpu
    // device when wgpu is compiled in: `--resume` would start a GPU (and fail without one)
    // just to move the state back to the CPU. Every device we train on is named explicitly,
    // so the default is only ever that staging device: make it the CPU.
    if std::env::var_os("BURN_DEVICE").is_none() {
        // SAFETY: the first thing main does, before any thread is spawned.
        unsafe { std::env::set_var("BURN_DEVICE", "flex") };
    }
    match Cli::parse().command {
        Command::Presets => report::presets(),
        Command::Spec { spec } => report::spec(spec.as_deref()),
        Command::Schema { out } => report::schema(out.as_deref()),
        Command::Report { file } => report::report(&file),
        Command::Sweep(args) => match args.merge {
            Some(SweepCommand::Merge { files, out }) => sweep::merge(&files, out.as_deref()),
            None => sweep::sweep(sweep::SweepOptions {
                file: args.file.expect("clap requires the file"),
                out: args.out,
                jobs: args.jobs,
                threads: args.threads,
                shard: args.shard,
                dry_run: args.dry_run,
                emit_slurm: matches!(args.emit, Some(EmitKind::Slurm)),
                stop_after_grok: args.stop_after_grok,
                curves: args.curves,
                tasks: args.tasks,
                sbatch: args.sbatch,
                out_dir: args.out_dir,
                backend: args.backend.into(),
            }),
        },
        Command::SweepPoint => sweep::sweep_point(),
        Command::Run(args) => run::run(args),
        Command::Bench(args) => bench::bench(args),
        Command::Inspect { what } => inspect::inspect(what),
    }
}
