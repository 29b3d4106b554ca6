//! The native command line: `gradscope run | sweep | report | presets | spec | bench | inspect`.
//!
//! Exit codes: 0 success, 1 a run failed (divergence, device), 2 bad input (spec, arguments).

mod sweep;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use web_time::Instant;

use crate::backend::{self, BackendKind};
use crate::labs::{ExperimentSpec, LabExperiment, TrainingSession, presets};
use crate::spec::SpecError;
use crate::train::RunError;

#[derive(Parser, Debug)]
#[command(
    name = "gradscope",
    version,
    about = "Train the models training-dynamics research argues about."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum BackendArg {
    /// burn's Flex CPU backend.
    Cpu,
    /// burn-wgpu (Vulkan/Metal/DX12; Mesa lavapipe without a GPU).
    Wgpu,
}

impl From<BackendArg> for BackendKind {
    fn from(b: BackendArg) -> Self {
        match b {
            BackendArg::Cpu => BackendKind::Cpu,
            BackendArg::Wgpu => BackendKind::Wgpu,
        }
    }
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Train a preset or a spec file; write one JSON object per evaluation.
    Run {
        /// A preset name (see `gradscope presets`), a spec JSON file, or a playground link or
        /// its hash (`'#grokking.task.p=97&…'`, the page's "Run natively" line). Default: the
        /// default preset.
        spec: Option<String>,
        #[arg(long, value_enum, default_value = "cpu")]
        backend: BackendArg,
        /// Override the step budget.
        #[arg(long)]
        steps: Option<u64>,
        /// Write metrics as JSON lines to this file.
        #[arg(long)]
        out: Option<String>,
        /// No progress bar; print each evaluation as a JSON line on stdout.
        #[arg(long)]
        quiet: bool,
        /// Write the final analysis (Fourier spectrum, key frequencies, IPR, prediction grid,
        /// pruning curve) as JSON to this file.
        #[arg(long)]
        analysis: Option<String>,
        /// With --analysis, scans lab: show the views (predictions, Δ_t, states) on this
        /// sequence of token ids ("0 3 0 5 1 1" or "0,3,0,5,1,1") instead of the first
        /// held-out one.
        #[arg(long, requires = "analysis", value_name = "TOKENS")]
        example: Option<String>,
        /// Stop this many steps after test accuracy first reaches 0.99 (long grokking runs
        /// need not spend their whole budget once they have grokked).
        #[arg(long, value_name = "STEPS")]
        stop_after_grok: Option<u64>,
        /// Save the run (weights, optimizer state, step, RNG, history) to DIR/checkpoint.gsck
        /// every --every steps and at the end, replacing the previous one atomically.
        #[arg(long, value_name = "DIR")]
        checkpoint: Option<String>,
        /// Checkpoint interval in steps: a multiple of the spec's eval_every (default: the
        /// multiple nearest 1000).
        #[arg(long, value_name = "STEPS")]
        every: Option<u64>,
        /// Continue the run saved in DIR (or in a checkpoint file, such as the page's
        /// "Checkpoint" export; its spec; --steps may extend the budget). With
        /// --out, the file is rewritten with the saved history, then continued. Checkpoints
        /// keep going to DIR unless --checkpoint names another.
        #[arg(long, value_name = "DIR", conflicts_with = "spec")]
        resume: Option<String>,
    },
    /// Read a metrics file (`run --out`, or the playground's "Metrics JSON" export) and print
    /// its lab, size and the lab's report ("did it grok?", "which model solved it?") as JSON.
    Report {
        /// The metrics file.
        file: String,
    },
    /// Run a sweep: a base spec and axes over its fields (`docs/sweeps.md`); every point is
    /// trained and its verdict appended to the output as one JSON line. Rerunning it skips the
    /// points already in the output. `gradscope sweep merge FILES…` joins shards.
    Sweep(SweepArgs),
    /// Runs one sweep point for `gradscope sweep` (a request on stdin, the result on stdout).
    #[command(name = "sweep-point", hide = true)]
    SweepPoint,
    /// List the presets.
    Presets,
    /// Print a preset's (or a spec file's) full, validated spec as JSON.
    Spec { spec: Option<String> },
    /// Measure training speed per backend: steps/s without readbacks, steps/s with an
    /// evaluation (one readback) every step, and optionally the time to grok.
    /// `gradscope bench scans` races the scans instead: ms per forward+backward of the
    /// sequential, parallel and chunked selective scans and S4D's convolution against length.
    Bench {
        /// A preset, a spec file, or `scans` for the scan race.
        spec: Option<String>,
        /// Backends to measure (repeat the flag); default: cpu.
        #[arg(long, value_enum)]
        backend: Vec<BackendArg>,
        /// Timed steps per measurement (after one warm-up step).
        #[arg(long, default_value_t = 20)]
        steps: u64,
        /// Also train the spec from scratch until test accuracy ≥ 0.99 (or its budget) and
        /// report the wall time.
        #[arg(long)]
        to_grok: bool,
        /// Print one JSON object per backend instead of the table (for scripts such as
        /// scripts/bench-browser.sh): `{"backend", "kind", "speed", "grok"}`.
        #[arg(long)]
        json: bool,
        /// Scan race: sequence lengths, comma-separated.
        #[arg(long, value_delimiter = ',', default_values_t = crate::labs::scans::race::RACE_LENGTHS)]
        lengths: Vec<usize>,
        /// Scan race: a target slower than this at one length skips the longer ones.
        #[arg(long, default_value_t = 20.0)]
        cap_seconds: f64,
    },
    /// Write a run's numbers as plain JSON, for checking them with your own code.
    Inspect {
        #[command(subcommand)]
        what: Inspect,
    },
}

#[derive(clap::Args, Debug)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
struct SweepArgs {
    #[command(subcommand)]
    merge: Option<SweepCommand>,
    /// The sweep file (JSON: `{"base": …, "axes": {…}}`).
    #[arg(required = true)]
    file: Option<String>,
    /// Result lines go here (appended; points already in it are skipped). Default:
    /// FILE's stem + `.jsonl` (`.shard-i-of-N.jsonl` with --shard) in the current folder.
    #[arg(long)]
    out: Option<String>,
    /// Worker processes. Default: the cores divided by --threads.
    #[arg(long)]
    jobs: Option<usize>,
    /// Threads per worker (pinned, so results do not depend on the machine's core count).
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Run only slice i of N (0-based): points i, i+N, i+2N, …
    #[arg(long, value_name = "i/N")]
    shard: Option<String>,
    /// Print the points, how many are left, and an estimated time; run nothing.
    #[arg(long)]
    dry_run: bool,
    /// Print a cluster script instead of running: `slurm` (a job array over --tasks shards).
    #[arg(long, value_enum)]
    emit: Option<EmitKind>,
    /// With --emit: array tasks (shards). Default: one per point, at most 1000.
    #[arg(long, requires = "emit")]
    tasks: Option<usize>,
    /// With --emit: the folder the tasks write their shards and logs to. Default: FILE's
    /// stem + `.shards`.
    #[arg(long, requires = "emit")]
    out_dir: Option<String>,
    #[arg(long, value_enum, default_value = "cpu")]
    backend: BackendArg,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum EmitKind {
    /// A Slurm job-array script (`sbatch` it).
    Slurm,
}

#[derive(Subcommand, Debug)]
enum SweepCommand {
    /// Merge result files (shards, reruns): one line per point, in point order, and the table.
    Merge {
        /// Result files (`out/*.jsonl`).
        #[arg(required = true)]
        files: Vec<String>,
        /// Write the merged lines here (and print the table); default: the lines on stdout.
        #[arg(long)]
        out: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
enum Inspect {
    /// The initial weights (each parameter by name: shape and row-major values) and the
    /// train/test split (a, b, labels) of a grokking spec, with the spec itself:
    /// `{"spec", "step", "params": [{"name", "shape", "values"}], "train", "test"}`.
    Init {
        spec: Option<String>,
        /// Write here instead of stdout.
        #[arg(long)]
        out: Option<String>,
    },
    /// A scans-lab spec's selective scan and S4D layer as plain JSON: the arguments of mamba's
    /// `selective_scan_ref` in its layout with the outputs of the sequential, parallel and
    /// chunked scans, and an S4D layer's parameters, input, kernel, convolution and recurrence
    /// outputs (format: `src/labs/scans/dump.rs`; check with
    /// `scripts/reference/scans_torch.py check`).
    /// A gradient-flow spec (preset or `{"gradient_flow": {...}}` file) at initialisation, on
    /// one fixed batch of the spec's batch size: per stack, each block's gradient norm
    /// ‖∂L/∂W_l‖_F and output RMS as plain arrays, `{"seed", "batch", "models": [{"name",
    /// "loss", "grad_norm", "act_rms"}], "spec"}`. Default: the norm-placement preset.
    Gradients {
        spec: Option<String>,
        /// Write here instead of stdout.
        #[arg(long)]
        out: Option<String>,
    },
    Ssm {
        spec: Option<String>,
        /// Sequence length of the dumped inputs.
        #[arg(long, default_value_t = 256)]
        len: usize,
        /// Write here instead of stdout.
        #[arg(long)]
        out: Option<String>,
    },
}

/// Resolves a preset name, a spec file path, or a link / URL hash.
fn load_spec(arg: Option<&str>) -> Result<ExperimentSpec, SpecError> {
    let Some(arg) = arg else { return Ok(presets::default_preset().spec) };
    if let Some(preset) = presets::find(arg) {
        return Ok(preset.spec);
    }
    if let Some((_, hash)) = arg.split_once('#') {
        return ExperimentSpec::from_hash(&strip_view_options(hash));
    }
    match std::fs::read_to_string(arg) {
        Ok(text) => ExperimentSpec::from_json(&text),
        Err(e) => {
            let names: Vec<_> = presets::all().iter().map(|p| p.name).collect();
            Err(SpecError::new(
                "(spec)",
                format!(
                    "`{arg}` is neither a preset ({}) nor a readable spec file ({e})",
                    names.join(", ")
                ),
            ))
        }
    }
}

/// Drops a link's view options (`controls=…`, `views=…`, `autoplay=…`, `…_hide=true`: what the
/// page shows, www/links.js), keeping the spec pairs; no spec field is named like them.
fn strip_view_options(hash: &str) -> String {
    hash.split('&')
        .filter(|pair| {
            let key = pair.split('=').next().unwrap_or_default();
            !(matches!(key, "controls" | "views" | "autoplay") || key.ends_with("_hide"))
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn with_steps(spec: ExperimentSpec, steps: Option<u64>) -> Result<ExperimentSpec, SpecError> {
    match steps {
        Some(steps) => spec.with_steps(steps),
        None => Ok(spec),
    }
}

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
    let cli = Cli::parse();
    match cli.command {
        Command::Presets => {
            for p in presets::all() {
                println!(
                    "{}\n  {}\n  source: {}\n  expect: {}\n",
                    p.name, p.title, p.source, p.expect
                );
            }
            ExitCode::SUCCESS
        }
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
                tasks: args.tasks,
                out_dir: args.out_dir,
                backend: args.backend.into(),
            }),
        },
        Command::SweepPoint => sweep::sweep_point(),
        Command::Report { file } => {
            let text = match std::fs::read_to_string(&file) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("error: cannot read {file}: {e}");
                    return ExitCode::from(2);
                }
            };
            match crate::labs::read_metrics_file(&text) {
                Ok(metrics) => {
                    let report = crate::labs::LabReport::from_history(&metrics.records);
                    let out = serde_json::json!({
                        "lab": metrics.lab,
                        "format_version": metrics.version,
                        "records": metrics.records.len(),
                        "last_step": metrics.records.last().map(|r| r.step),
                        "spec": metrics.spec,
                        "report": report,
                    });
                    println!("{}", serde_json::to_string_pretty(&out).expect("reports serialize"));
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {file}: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Command::Spec { spec } => match load_spec(spec.as_deref()) {
            Ok(spec) => {
                println!("{}", spec.to_json_pretty());
                ExitCode::SUCCESS
            }
            Err(e) => bad_input(&e),
        },
        Command::Run {
            spec,
            backend,
            steps,
            out,
            quiet,
            analysis,
            example,
            stop_after_grok,
            checkpoint,
            every,
            resume,
        } => {
            let resumed = match resume.as_deref().map(read_checkpoint).transpose() {
                Ok(c) => c,
                Err(code) => return code,
            };
            let spec = match resumed.as_ref() {
                Some(c) => with_steps(c.spec.clone(), steps),
                None => load_spec(spec.as_deref()).and_then(|s| with_steps(s, steps)),
            };
            let spec = match spec {
                Ok(s) => s,
                Err(e) => return bad_input(&e),
            };
            // A resumed file's run checkpoints into the folder beside it.
            let resume_dir = resume.map(|r| {
                let p = std::path::Path::new(&r);
                if p.is_file() {
                    p.parent().map_or_else(|| ".".into(), |d| d.display().to_string())
                } else {
                    r
                }
            });
            let saving = match checkpoint.or(resume_dir) {
                None => None,
                Some(dir) => {
                    let eval_every = spec.training().eval_every;
                    let every = every.unwrap_or_else(|| (1000 / eval_every).max(1) * eval_every);
                    if every == 0 || every % eval_every != 0 {
                        eprintln!(
                            "error: --every {every} must be a positive multiple of the spec's eval_every ({eval_every}): checkpoints are taken at evaluations"
                        );
                        return ExitCode::from(2);
                    }
                    Some(Saving { dir: dir.into(), every })
                }
            };
            let example = match example.as_deref().map(parse_tokens).transpose() {
                Ok(e) => e,
                Err(e) => {
                    eprintln!("error: --example: {e}");
                    return ExitCode::from(2);
                }
            };
            let outputs = RunOutputs {
                metrics: out.as_deref(),
                analysis: analysis.as_deref(),
                example,
                quiet,
            };
            run(spec, backend.into(), outputs, stop_after_grok, saving, resumed)
        }
        Command::Bench { spec, backend, steps, to_grok, json, lengths, cap_seconds } => {
            let backends = if backend.is_empty() { vec![BackendArg::Cpu] } else { backend };
            if spec.as_deref() == Some("scans") {
                return bench_scans(&backends, &lengths, cap_seconds);
            }
            let spec = match load_spec(spec.as_deref()) {
                Ok(s) => s,
                Err(e) => return bad_input(&e),
            };
            if steps == 0 {
                eprintln!("error: --steps must be at least 1");
                return ExitCode::from(2);
            }
            bench(spec, &backends, steps, to_grok, json)
        }
        Command::Inspect { what: Inspect::Init { spec, out } } => {
            match load_spec(spec.as_deref()) {
                Ok(spec) => inspect_init(spec, out.as_deref()),
                Err(e) => bad_input(&e),
            }
        }
        Command::Inspect { what: Inspect::Gradients { spec, out } } => {
            match load_spec(spec.as_deref().or(Some("norm-placement"))) {
                Ok(spec) => inspect_gradients(spec, out.as_deref()),
                Err(e) => bad_input(&e),
            }
        }
        Command::Inspect { what: Inspect::Ssm { spec, len, out } } => {
            match load_spec(spec.as_deref().or(Some("selective-copying"))) {
                Ok(spec) => inspect_ssm(spec, len, out.as_deref()),
                Err(e) => bad_input(&e),
            }
        }
    }
}

fn inspect_gradients(spec: ExperimentSpec, out: Option<&str>) -> ExitCode {
    let ExperimentSpec::GradientFlow(flow) = &spec else {
        return bad_input(&SpecError::new(
            "(spec)",
            "`inspect gradients` takes a gradient-flow spec (e.g. the norm-placement preset)",
        ));
    };
    let backend = backend::cpu();
    let probe = crate::labs::gradient_flow::probe::profile_at_init(flow, &backend.device);
    match pollster::block_on(probe) {
        Ok(profile) => {
            let mut json = serde_json::to_value(&profile).expect("profiles serialize");
            json["spec"] = serde_json::from_str(&spec.to_json()).expect("specs serialize");
            write_or_print(&json.to_string(), out)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

fn write_or_print(text: &str, out: Option<&str>) -> ExitCode {
    match out {
        Some(path) => {
            if let Err(e) = std::fs::write(path, text) {
                eprintln!("error: cannot write {path}: {e}");
                return ExitCode::from(2);
            }
        }
        None => println!("{text}"),
    }
    ExitCode::SUCCESS
}

fn inspect_ssm(spec: ExperimentSpec, len: usize, out: Option<&str>) -> ExitCode {
    let ExperimentSpec::Scans(scans) = &spec else {
        return bad_input(&SpecError::new(
            "(spec)",
            "`inspect ssm` takes a scans-lab spec (e.g. the selective-copying preset); for a \
             grokking spec use `inspect init`",
        ));
    };
    if !(1..=crate::labs::scans::spec::MAX_LEN).contains(&len) {
        eprintln!("error: --len must be in 1..={} (got {len})", crate::labs::scans::spec::MAX_LEN);
        return ExitCode::from(2);
    }
    let backend = backend::cpu();
    match pollster::block_on(crate::labs::scans::dump::ssm_dump(scans, len, &backend.device)) {
        Ok(mut json) => {
            json["spec"] = serde_json::from_str(&spec.to_json()).expect("specs serialize");
            write_or_print(&json.to_string(), out)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

/// `gradscope bench scans`: the scan race per backend, one row per target.
fn bench_scans(backends: &[BackendArg], lengths: &[usize], cap_seconds: f64) -> ExitCode {
    use crate::labs::scans::race::RaceTarget;
    if lengths.is_empty() || lengths.iter().any(|&l| !(1..=1 << 20).contains(&l)) {
        eprintln!("error: --lengths must be 1..=1048576 each");
        return ExitCode::from(2);
    }
    if !(cap_seconds.is_finite() && cap_seconds > 0.0) {
        eprintln!("error: --cap-seconds must be positive");
        return ExitCode::from(2);
    }
    let counting = backends.iter().any(|&b| BackendKind::from(b) == BackendKind::Wgpu)
        && backend::count_gpu_dispatches();
    let mut lengths = lengths.to_vec();
    lengths.sort_unstable();
    lengths.dedup();
    println!(
        "ms per forward+backward (batch 1, {} channels, {} states); [GPU dispatches per call]",
        crate::labs::scans::race::RACE_CHANNELS,
        crate::labs::scans::race::RACE_STATES
    );
    for &b in backends {
        let backend = match backend::native(b.into()) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("{b:?}: unavailable: {e}");
                continue;
            }
        };
        let gpu = counting && backend.kind == BackendKind::Wgpu;
        let count = || if gpu { backend::gpu_dispatches() } else { None };
        println!("\n{}", backend.label);
        let header: String = lengths.iter().map(|l| format!("{:>16}", format!("L={l}"))).collect();
        println!("{:<18}{header}", "");
        let mut rows: Vec<(RaceTarget, Vec<Option<crate::labs::scans::race::RaceEntry>>)> =
            Vec::new();
        for target in RaceTarget::ALL {
            let mut row = Vec::new();
            let mut capped = false;
            let mut line = format!("{:<18}", target.name());
            for &len in &lengths {
                if capped {
                    line.push_str(&format!("{:>16}", "(capped)"));
                    row.push(None);
                    continue;
                }
                let pause = async || sleep_ms(50);
                match pollster::block_on(crate::labs::scans::race::measure(
                    target,
                    len,
                    &backend.device,
                    backend.limits,
                    cap_seconds * 1e3,
                    count,
                    pause,
                )) {
                    Ok(e) if e.ms.is_none() => {
                        eprintln!(
                            "{} at L = {len}: {}",
                            target.name(),
                            e.note.as_deref().unwrap_or("skipped")
                        );
                        line.push_str(&format!("{:>16}", "(too large)"));
                        row.push(None);
                        capped = true;
                    }
                    Ok(e) => {
                        let ms = e.ms.unwrap_or(f64::NAN);
                        capped = ms > cap_seconds * 1e3;
                        let cell = match e.dispatches {
                            Some(d) => format!("{ms:.1} [{d:.0}]"),
                            None => format!("{ms:.2}"),
                        };
                        line.push_str(&format!("{cell:>16}"));
                        row.push(Some(e));
                    }
                    Err(e) => {
                        eprintln!("{}: {e}", target.name());
                        return ExitCode::from(1);
                    }
                }
                // On a terminal the row fills in as it is measured; in a file it is written once.
                use std::io::{IsTerminal as _, Write as _};
                if std::io::stdout().is_terminal() {
                    print!("\r{line}");
                    let _ = std::io::stdout().flush();
                }
            }
            if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
                println!();
            } else {
                println!("{line}");
            }
            rows.push((target, row));
        }
        // Ratios within this backend's run: sequential / parallel and sequential / chunked.
        let ms = |t: RaceTarget, i: usize| {
            rows.iter().find(|(r, _)| *r == t).and_then(|(_, row)| row[i].as_ref()?.ms)
        };
        for (name, fast) in [
            ("sequential / parallel", RaceTarget::Parallel),
            ("sequential / chunked", RaceTarget::Chunked),
        ] {
            let cells: String = (0..lengths.len())
                .map(|i| match (ms(RaceTarget::Sequential, i), ms(fast, i)) {
                    (Some(s), Some(f)) => format!("{:>16}", format!("{:.2}×", s / f)),
                    _ => format!("{:>16}", "–"),
                })
                .collect();
            println!("{name:<18}{cells}");
        }
    }
    ExitCode::SUCCESS
}

fn inspect_init(spec: ExperimentSpec, out: Option<&str>) -> ExitCode {
    let backend = backend::cpu();
    let session = match TrainingSession::new(spec.clone(), &backend.device, backend.limits) {
        Ok(s) => s,
        Err(RunError::Spec(e)) => return bad_input(&e),
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    let Some(experiment) = session.experiment().as_grokking() else {
        return bad_input(&SpecError::new(
            "(spec)",
            "`inspect init` takes a grokking spec; for the scans lab use `inspect ssm`",
        ));
    };
    let dump = match pollster::block_on(experiment.weights_and_split()) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    let mut json = serde_json::to_value(&dump).expect("dumps serialize");
    json["spec"] = serde_json::from_str(&spec.to_json()).expect("specs serialize");
    write_or_print(&json.to_string(), out)
}

fn bad_input(e: &SpecError) -> ExitCode {
    eprintln!("error: {e}");
    ExitCode::from(2)
}

/// Where `gradscope run` writes.
struct RunOutputs<'a> {
    metrics: Option<&'a str>,
    analysis: Option<&'a str>,
    /// The analysis's example sequence, if given.
    example: Option<Vec<u32>>,
    quiet: bool,
}

/// Token ids separated by spaces or commas.
fn parse_tokens(text: &str) -> Result<Vec<u32>, String> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|t| !t.is_empty())
        .map(|t| t.parse::<u32>().map_err(|_| format!("`{t}` is not a token id (0, 1, 2, …)")))
        .collect()
}

/// Where and how often `run` checkpoints.
struct Saving {
    dir: std::path::PathBuf,
    every: u64,
}

/// The checkpoint file in a checkpoint folder.
const CHECKPOINT_FILE: &str = "checkpoint.gsck";

/// Reads `DIR/checkpoint.gsck`, or the file itself (the page's "Checkpoint" export).
fn read_checkpoint(dir: &str) -> Result<crate::labs::Checkpoint, ExitCode> {
    let given = std::path::Path::new(dir);
    let path = if given.is_file() { given.to_path_buf() } else { given.join(CHECKPOINT_FILE) };
    let bytes = std::fs::read(&path).map_err(|e| {
        eprintln!("error: --resume: cannot read {}: {e}", path.display());
        ExitCode::from(2)
    })?;
    crate::labs::Checkpoint::from_bytes(&bytes).map_err(|e| {
        eprintln!("error: --resume: {}: {e}", path.display());
        ExitCode::from(2)
    })
}

/// Writes the checkpoint next to the old one, then renames it over it: a kill mid-write
/// leaves the previous checkpoint whole.
fn write_checkpoint(session: &TrainingSession, saving: &Saving) -> Result<(), String> {
    let checkpoint = session.checkpoint().map_err(|e| e.to_string())?;
    std::fs::create_dir_all(&saving.dir)
        .map_err(|e| format!("cannot create {}: {e}", saving.dir.display()))?;
    let path = saving.dir.join(CHECKPOINT_FILE);
    let tmp = saving.dir.join(format!("{CHECKPOINT_FILE}.tmp"));
    let write = || -> std::io::Result<()> {
        let mut f = File::create(&tmp)?;
        f.write_all(&checkpoint.to_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, &path)
    };
    write().map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn run(
    spec: ExperimentSpec,
    kind: BackendKind,
    outputs: RunOutputs,
    stop_after_grok: Option<u64>,
    saving: Option<Saving>,
    resumed: Option<crate::labs::Checkpoint>,
) -> ExitCode {
    let RunOutputs { metrics: out, analysis: analysis_out, example, quiet } = outputs;
    if stop_after_grok.is_some() && spec.lab() != "grokking" {
        eprintln!("error: --stop-after-grok applies to grokking runs only");
        return ExitCode::from(2);
    }
    let backend = match backend::native(kind) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    let built = match resumed {
        Some(mut checkpoint) => {
            checkpoint.spec = spec;
            TrainingSession::resume(checkpoint, &backend.device, backend.limits)
        }
        None => TrainingSession::new(spec, &backend.device, backend.limits),
    };
    let mut session = match built {
        Ok(s) => s,
        Err(RunError::Spec(e)) => return bad_input(&e),
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    // A bad example is refused before training, not after.
    if let Some(Err(e)) = example.as_deref().map(|t| session.check_example(t)) {
        eprintln!("error: --example: {e}");
        return ExitCode::from(2);
    }
    let mut writer = match out.map(File::create).transpose() {
        Ok(f) => f.map(BufWriter::new),
        Err(e) => {
            eprintln!("error: cannot write {}: {e}", out.unwrap_or_default());
            return ExitCode::from(2);
        }
    };
    if let Some(w) = writer.as_mut() {
        let header = crate::train::metrics::file_header(session.spec());
        let saved: String = session
            .history()
            .iter()
            .map(|r| serde_json::to_string(r).expect("records serialize") + "\n")
            .collect();
        if let Err(e) = writeln!(w, "{header}").and_then(|_| w.write_all(saved.as_bytes())) {
            eprintln!("error: cannot write {}: {e}", out.unwrap_or_default());
            return ExitCode::from(2);
        }
    }
    if !quiet && session.step() > 0 {
        eprintln!(
            "resuming at step {} ({} evaluations saved)",
            session.step(),
            session.history().len()
        );
    }
    let summary = session.summary();
    let budget = session.spec().steps();
    if !quiet {
        eprintln!(
            "backend: {} | {} | {} parameters | {} steps",
            backend.label,
            summary.facts.join(" | "),
            summary.parameters,
            budget
        );
    }
    let bar = if quiet { ProgressBar::hidden() } else { ProgressBar::new(budget) };
    bar.set_style(
        ProgressStyle::with_template(
            "{bar:30} {pos}/{len} steps [{elapsed_precise}<{eta_precise}] {msg}",
        )
        .expect("static template"),
    );
    let mut on_record = |r: &crate::labs::MetricsRecord| {
        bar.set_position(r.step);
        bar.set_message(progress_text(r));
        let line = serde_json::to_string(r).expect("records serialize");
        if let Some(w) = writer.as_mut() {
            let _ = writeln!(w, "{line}").and_then(|_| w.flush());
        }
        if quiet {
            println!("{line}");
        }
    };
    let result = pollster::block_on(async {
        while !session.is_finished() {
            let grokked = session.report().grokking().and_then(|r| r.test_step);
            if let (Some(margin), Some(at)) = (stop_after_grok, grokked) {
                if session.step() >= at + margin {
                    if !quiet {
                        eprintln!("stopping {margin} steps after test acc ≥ 0.99 (step {at})");
                    }
                    break;
                }
            }
            if let Some(record) = session.advance(u64::MAX).await? {
                on_record(&record);
                if let Some(saving) = &saving {
                    if record.step % saving.every == 0 || session.is_finished() {
                        write_checkpoint(&session, saving).map_err(RunError::Device)?;
                    }
                }
            }
        }
        Ok::<_, RunError>(())
    });
    bar.finish();
    if let Err(e) = result {
        // The record that showed the divergence is kept with the rest (NaN written as null).
        if let (RunError::Diverged { .. }, Some(r)) = (&e, session.history().last()) {
            on_record(r);
        }
        eprintln!("error: {e}");
        return ExitCode::from(1);
    }
    if !quiet {
        print_outcome(&session);
    }
    if let Some(path) = analysis_out {
        let analysis = match pollster::block_on(session.analyse(true, example.as_deref())) {
            Ok(a) => a,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(1);
            }
        };
        let json = serde_json::to_string(&analysis).expect("analyses serialize");
        if let Err(e) = std::fs::write(path, json) {
            eprintln!("error: cannot write {path}: {e}");
            return ExitCode::from(2);
        }
    }
    ExitCode::SUCCESS
}

/// The progress bar's message for a record.
fn progress_text(r: &crate::labs::MetricsRecord) -> String {
    use crate::labs::LabMetrics;
    match &r.lab {
        LabMetrics::Grokking(m) => format!(
            "train {:.3}/{:.4}  test {:.3}/{:.4}",
            m.train_acc, m.train_loss, m.test_acc, m.test_loss
        ),
        LabMetrics::Series(s) => s
            .series
            .iter()
            .filter_map(|(k, v)| {
                k.strip_suffix(".test_acc")
                    .map(|name| format!("{name} {v:.3}"))
                    .or_else(|| k.strip_suffix(".test_loss").map(|name| format!("{name} {v:.4}")))
            })
            .collect::<Vec<_>>()
            .join("  "),
    }
}

fn print_outcome(session: &TrainingSession) {
    if let Some(report) = session.report().grokking() {
        print_grokking_outcome(session, report);
    } else if let crate::labs::LabReport::Scans(report) = session.report() {
        let last = session.history().last();
        for m in &report.models {
            let now = last.and_then(|r| r.series(&format!("{}.test_acc", m.name)));
            eprintln!(
                "{:<12} held-out accuracy {:.4} (best {:.4} at step {}); ≥ {}: {}",
                m.name,
                now.unwrap_or(f64::NAN),
                m.best_acc,
                m.best_step,
                crate::labs::scans::analysis::SOLVED_ACC,
                m.solved_step.map_or("never".to_string(), |s| format!("step {s}")),
            );
        }
        if let Some(r) = last {
            eprintln!("{:.1} s of training", r.wall_ms / 1e3);
        }
    } else if let crate::labs::LabReport::GradientFlow(report) = session.report() {
        for m in &report.stacks {
            let logit =
                m.max_logit.map(|l| format!("; max attention logit {l:.3}")).unwrap_or_default();
            eprintln!(
                "{:<12} held-out loss {:.4} → {:.4} (best {:.4} at step {}); last/first block \
                 gradient norm {:.3}{logit}",
                m.name, m.initial_loss, m.last_loss, m.best_loss, m.best_step, m.last_over_first
            );
        }
        if let Some(r) = session.history().last() {
            eprintln!("{:.1} s of training", r.wall_ms / 1e3);
        }
    }
}

fn print_grokking_outcome(session: &TrainingSession, report: &crate::labs::grokking::GrokReport) {
    let Some(last) = session.history().last().and_then(|r| r.grokking().map(|m| (r, m))) else {
        return;
    };
    let (record, last) = last;
    let show = |s: Option<u64>| s.map_or("never".to_string(), |s| format!("step {s}"));
    eprintln!(
        "final: train acc {:.4}, test acc {:.4}, train loss {:.3e}, test loss {:.3e}, |w| {:.2}, \
         softmax collapse {:.3}, {:.1} s",
        last.train_acc,
        last.test_acc,
        last.train_loss,
        last.test_loss,
        last.weight_norm,
        last.softmax_collapse,
        record.wall_ms / 1e3
    );
    eprintln!(
        "verdict: {:?} | train acc ≥ 0.99: {} | test acc ≥ 0.99: {} | test acc = 1: {}",
        report.verdict,
        show(report.train_step),
        show(report.test_step),
        show(
            session
                .history()
                .iter()
                .find(|r| r.grokking().is_some_and(|m| m.test_acc >= 1.0))
                .map(|r| r.step)
        ),
    );
    if let Ok(crate::labs::LabAnalysis::Grokking(a)) =
        pollster::block_on(session.analyse(false, None))
    {
        eprintln!(
            "key frequencies: {:?} ({:.0}% of the non-constant Fourier energy); median IPR {:.3}",
            a.spectrum.key_freqs,
            100.0 * a.spectrum.key_share,
            median(&a.ipr)
        );
    }
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Trains `spec` from scratch until test accuracy ≥ 0.99 or its budget ends:
/// (the step it was reached, if it was; steps run; seconds).
fn time_to_grok(
    spec: &ExperimentSpec,
    backend: &backend::Backend,
) -> Result<(Option<u64>, u64, f64), RunError> {
    let mut run = TrainingSession::new(spec.clone(), &backend.device, backend.limits)?;
    let t = Instant::now();
    let mut reached = None;
    pollster::block_on(async {
        while !run.is_finished() && reached.is_none() {
            if let Some(r) = run.advance(u64::MAX).await? {
                reached = r.grokking().is_some_and(|m| m.test_acc >= 0.99).then_some(r.step);
            }
        }
        Ok::<_, RunError>(())
    })?;
    Ok((reached, run.step(), t.elapsed().as_secs_f64()))
}

fn sleep_ms(ms: u64) {
    std::thread::sleep(std::time::Duration::from_millis(ms));
}

fn bench(
    spec: ExperimentSpec,
    backends: &[BackendArg],
    steps: u64,
    to_grok: bool,
    json: bool,
) -> ExitCode {
    if !json {
        println!("spec: {}", crate::spec::url_hash::encode(&spec));
    }
    // Before any GPU device exists: cubecl reads its configuration once.
    let counting = backends.iter().any(|&b| BackendKind::from(b) == BackendKind::Wgpu)
        && backend::count_gpu_dispatches();
    let mut baseline: Option<f64> = None;
    for &b in backends {
        let backend = match backend::native(b.into()) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("{b:?}: unavailable: {e}");
                continue;
            }
        };
        // Kernel launches are counted on the GPU only.
        let gpu = counting && backend.kind == BackendKind::Wgpu;
        let count = || if gpu { backend::gpu_dispatches() } else { None };
        let (device, limits) = (&backend.device, backend.limits);
        let figures = pollster::block_on(crate::train::bench::measure::<LabExperiment>(
            &spec,
            device,
            limits,
            steps,
            count,
            async || sleep_ms(50),
        ))
        .and_then(|speed| {
            let grok = if to_grok { Some(time_to_grok(&spec, &backend)?) } else { None };
            Ok((speed, grok))
        });
        match figures {
            Ok((f, grok)) if json => {
                let grok = grok.map(|(step, steps, seconds)| {
                    serde_json::json!({ "step": step, "steps": steps, "seconds": seconds })
                });
                let line = serde_json::json!({
                    "backend": backend.label,
                    "kind": backend.kind,
                    "speed": f,
                    "grok": grok,
                });
                println!("{line}");
            }
            Ok((f, grok)) => {
                let ratio = baseline
                    .map(|b| format!("  ({:.2}× the first backend)", f.train_steps_per_sec / b))
                    .unwrap_or_default();
                baseline.get_or_insert(f.train_steps_per_sec);
                println!(
                    "{:<44} {:>8.2} steps/s ({:.2} ms/step){ratio}; first step {:.0} ms",
                    backend.label,
                    f.train_steps_per_sec,
                    1e3 / f.train_steps_per_sec,
                    f.first_step_ms,
                );
                println!(
                    "{:<44} {:>8.2} steps/s with an evaluation every step (×{:.2} slower)",
                    "",
                    f.eval_steps_per_sec,
                    f.readback_overhead(),
                );
                println!(
                    "{:<44} {:>8.2} steps/s with the per-step metrics on every step (×{:.2} slower)",
                    "",
                    f.instrumented_steps_per_sec,
                    f.instrumentation_overhead(),
                );
                if let Some(bare) = f.bare_steps_per_sec {
                    println!(
                        "{:<44} {bare:>8.2} steps/s without the per-step divergence flag (×{:.3} \
                         faster)",
                        "",
                        bare / f.train_steps_per_sec,
                    );
                }
                if let Some(d) = f.gpu_dispatches_per_step {
                    println!("{:<44} {d:>8.1} GPU dispatches per training step", "");
                }
                match grok {
                    Some((Some(s), _, secs)) => {
                        println!("{:<44} test acc ≥ 0.99 at step {s} after {secs:.2} s", "")
                    }
                    Some((None, steps, secs)) => {
                        println!("{:<44} test acc < 0.99 after all {steps} steps ({secs:.2} s)", "")
                    }
                    None => {}
                }
            }
            Err(RunError::Spec(e)) => return bad_input(&e),
            Err(e) => {
                eprintln!("{}: {e}", backend.label);
                return ExitCode::from(1);
            }
        }
    }
    ExitCode::SUCCESS
}
