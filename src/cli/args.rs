//! The command line's grammar (clap): every command, flag and default, and nothing else.

use clap::{Parser, Subcommand, ValueEnum};

use crate::backend::BackendKind;

#[derive(Parser, Debug)]
#[command(
    name = "gradscope",
    version,
    about = "Train the models training-dynamics research argues about."
)]
pub(super) struct Cli {
    #[command(subcommand)]
    pub(super) command: Command,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub(super) enum BackendArg {
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
pub(super) enum Command {
    /// Train a preset or a spec file; write one JSON object per evaluation.
    Run(RunArgs),
    /// Read a metrics file (`run --out`, or the playground's "Metrics JSON" export) and print
    /// its lab, size and the lab's report ("did it grok?", "which model solved it?") as JSON.
    Report {
        /// The metrics file.
        file: String,
    },
    /// Run a sweep: a base spec and axes over its fields (`docs/sweeps.md`); every point is
    /// trained and its verdict appended to the output as one JSON line. Rerunning it skips the
    /// points already in the output. `gradscope sweep merge FILES…` joins shards. On SIGTERM it
    /// checkpoints its points in flight (`OUT.inflight/`) and exits 75; rerun to resume them.
    Sweep(SweepArgs),
    /// Runs one sweep point for `gradscope sweep` (a request on stdin, the result on stdout).
    #[command(name = "sweep-point", hide = true)]
    SweepPoint,
    /// List the presets.
    Presets,
    /// Print a preset's (or a spec file's) full, validated spec as JSON.
    Spec { spec: Option<String> },
    /// Print every lab's form schema as JSON: each field's kind, range, choices, default, help
    /// and when it applies (the page's form is drawn from it).
    Schema {
        /// Write it here instead; a `.js` path gets the page's ES module
        /// (`www/form-schema.js`, committed: regenerate it after changing a lab's fields).
        #[arg(long)]
        out: Option<String>,
    },
    /// Measure training speed per backend: steps/s without readbacks, steps/s with an
    /// evaluation (one readback) every step, and optionally the time to grok.
    /// `gradscope bench scans` races the scans instead: ms per forward+backward of the
    /// sequential, parallel and chunked selective scans and S4D's convolution against length.
    Bench(BenchArgs),
    /// Write a run's numbers as plain JSON, for checking them with your own code.
    Inspect {
        #[command(subcommand)]
        what: Inspect,
    },
}

#[derive(clap::Args, Debug)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub(super) struct SweepArgs {
    #[command(subcommand)]
    pub(super) merge: Option<SweepCommand>,
    /// The sweep file (JSON: `{"base": …, "axes": {…}}`).
    #[arg(required = true)]
    pub(super) file: Option<String>,
    /// Result lines go here (appended; points already in it are skipped). Default:
    /// FILE's stem + `.jsonl` (`.shard-i-of-N.jsonl` with --shard) in the current folder.
    #[arg(long)]
    pub(super) out: Option<String>,
    /// Worker processes. Default: the cores divided by --threads.
    #[arg(long)]
    pub(super) jobs: Option<usize>,
    /// Threads per worker (pinned, so results do not depend on the machine's core count).
    #[arg(long, default_value_t = 1)]
    pub(super) threads: usize,
    /// Run only slice i of N (0-based): points i, i+N, i+2N, …
    #[arg(long, value_name = "i/N")]
    pub(super) shard: Option<String>,
    /// Print the points, how many are left, and an estimated time; run nothing.
    #[arg(long)]
    pub(super) dry_run: bool,
    /// Print a cluster script instead of running: `slurm` (a job array over --tasks shards).
    #[arg(long, value_enum)]
    pub(super) emit: Option<EmitKind>,
    /// Stop each point this many steps after its test accuracy first reaches 0.99 (grokking
    /// sweeps, as `run --stop-after-grok`); a point's `steps` says where it stopped.
    #[arg(long, value_name = "STEPS")]
    pub(super) stop_after_grok: Option<u64>,
    /// Also write each point's curve to DIR/HASH.jsonl (HASH: the point's `hash` in the
    /// results): its metrics file as `run --out` writes it, a header line with the spec and
    /// one JSON object per evaluation.
    #[arg(long, value_name = "DIR")]
    pub(super) curves: Option<String>,
    /// With --emit: array tasks (shards). Default: one per point, at most 1000.
    #[arg(long, requires = "emit")]
    pub(super) tasks: Option<usize>,
    /// With --emit slurm: more `#SBATCH` options for your site, e.g. `--sbatch '--time=2:00:00
    /// --partition=gpu --gres=gpu:1 --mem=8G'` (whitespace-separated; repeatable). A GPU sweep
    /// (`--backend wgpu`) asks for no GPU without `--gres`.
    #[arg(long, requires = "emit", value_name = "OPTIONS", allow_hyphen_values = true)]
    pub(super) sbatch: Vec<String>,
    /// With --emit: the folder the tasks write their shards and logs to. Default: FILE's
    /// stem + `.shards`.
    #[arg(long, requires = "emit")]
    pub(super) out_dir: Option<String>,
    #[arg(long, value_enum, default_value = "cpu")]
    pub(super) backend: BackendArg,
}

/// The formats of `run --out`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(super) enum MetricsFormat {
    Jsonl,
    Csv,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub(super) enum EmitKind {
    /// A Slurm job-array script (`sbatch` it).
    Slurm,
}

#[derive(Subcommand, Debug)]
pub(super) enum SweepCommand {
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
pub(super) enum Inspect {
    /// The initial weights (each parameter by name: shape and row-major values), with the spec
    /// itself. A grokking spec adds the train/test split (a, b, labels):
    /// `{"spec", "step", "params": [{"name", "shape", "values"}], "train", "test"}`; a scans
    /// spec gives every model's weights and the first training batch: `{"spec", "step",
    /// "models": [{"name", "mixer", "params"}], "batch": {"n", "len", "answer_len", "tokens",
    /// "answers"}}` (format: `src/labs/scans/dump.rs`).
    Init {
        spec: Option<String>,
        /// Write here instead of stdout.
        #[arg(long)]
        out: Option<String>,
    },
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
    /// A scans-lab spec's selective scan and S4D layer as plain JSON: the arguments of mamba's
    /// `selective_scan_ref` in its layout with the outputs of the sequential, parallel and
    /// chunked scans, and an S4D layer's parameters, input, kernel, convolution and recurrence
    /// outputs (format: `src/labs/scans/dump.rs`; check with
    /// `scripts/reference/scans_torch.py check`). Default: the selective-copying preset.
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

/// `gradscope run`'s flags.
#[derive(clap::Args, Debug)]
pub(super) struct RunArgs {
    /// A preset name (see `gradscope presets`), a spec JSON file, or a playground link or
    /// its hash (`'#grokking.task.p=97&…'`, the page's "Run natively" line). Default: the
    /// default preset.
    pub(super) spec: Option<String>,
    #[arg(long, value_enum, default_value = "cpu")]
    pub(super) backend: BackendArg,
    /// Override the step budget.
    #[arg(long)]
    pub(super) steps: Option<u64>,
    /// Write metrics to this file, one line per evaluation (see --format).
    #[arg(long)]
    pub(super) out: Option<String>,
    /// The format of --out: `jsonl`, a header line (format, lab, spec) and then one JSON
    /// object per evaluation (what `gradscope report` and the page read back); or `csv`, one
    /// row per evaluation and one column per metric, nested names dotted
    /// (`series.mamba.test_acc`), as the page's CSV export (`pd.read_csv` reads it as it is).
    /// Default: csv for a path ending in `.csv`, else jsonl.
    #[arg(long, value_enum, requires = "out")]
    pub(super) format: Option<MetricsFormat>,
    /// No progress bar; print each evaluation as a JSON line on stdout.
    #[arg(long)]
    pub(super) quiet: bool,
    /// Write the final analysis (Fourier spectrum, key frequencies, IPR, prediction grid,
    /// pruning curve) as JSON to this file.
    #[arg(long)]
    pub(super) analysis: Option<String>,
    /// With --analysis, scans lab: show the views (predictions, Δ_t, states) on this
    /// sequence of token ids ("0 3 0 5 1 1" or "0,3,0,5,1,1") instead of the first
    /// held-out one.
    #[arg(long, requires = "analysis", value_name = "TOKENS")]
    pub(super) example: Option<String>,
    /// Stop this many steps after test accuracy first reaches 0.99 (long grokking runs
    /// need not spend their whole budget once they have grokked).
    #[arg(long, value_name = "STEPS")]
    pub(super) stop_after_grok: Option<u64>,
    /// Save the run (weights, optimizer state, step, RNG, history) to DIR/checkpoint.gsck
    /// every --every steps and at the end, replacing the previous one atomically.
    #[arg(long, value_name = "DIR")]
    pub(super) checkpoint: Option<String>,
    /// Checkpoint interval in steps: a multiple of the spec's eval_every (default: the
    /// multiple nearest 1000).
    #[arg(long, value_name = "STEPS")]
    pub(super) every: Option<u64>,
    /// Continue the run saved in DIR (or in a checkpoint file, such as the page's
    /// "Checkpoint" export; its spec; --steps may extend the budget). With
    /// --out, the file is rewritten with the saved history, then continued. Checkpoints
    /// keep going to DIR unless --checkpoint names another.
    #[arg(long, value_name = "DIR", conflicts_with = "spec")]
    pub(super) resume: Option<String>,
}

/// `gradscope bench`'s flags.
#[derive(clap::Args, Debug)]
pub(super) struct BenchArgs {
    /// A preset, a spec file, or `scans` for the scan race.
    pub(super) spec: Option<String>,
    /// Backends to measure (repeat the flag); default: cpu.
    #[arg(long, value_enum)]
    pub(super) backend: Vec<BackendArg>,
    /// Timed steps per measurement (after one warm-up step).
    #[arg(long, default_value_t = 20)]
    pub(super) steps: u64,
    /// Also train the spec from scratch until test accuracy ≥ 0.99 (or its budget) and
    /// report the wall time.
    #[arg(long)]
    pub(super) to_grok: bool,
    /// Print one JSON object per backend instead of the table (for scripts such as
    /// scripts/bench-browser.sh): `{"backend", "kind", "speed", "grok"}`.
    #[arg(long)]
    pub(super) json: bool,
    /// Scan race: sequence lengths, comma-separated (default 64,256,1024,4096,8192,16384).
    #[arg(long, value_delimiter = ',')]
    pub(super) lengths: Vec<usize>,
    /// Scan race: a target slower than this at one length skips the longer ones.
    #[arg(long, default_value_t = 20.0)]
    pub(super) cap_seconds: f64,
}
