//! The scans experiment: the models of a [`ScansSpec`] trained side by side on the same fresh
//! batches of a memory task, evaluated on one fixed held-out set, plus the lab's views (S4D
//! kernels and eigenvalues, Δ_t and states of the selective scan, memory decay, the
//! extrapolation curve, one example's prediction).

use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::activation::log_softmax;
use burn::tensor::{Device, Int, Tensor, TensorData};
use rand_chacha::ChaCha8Rng;

use super::analysis::{Example, Heatmap, ModelViews, ScansAnalysis, ScansReport};
use crate::backend::DeviceLimits;
use crate::labs::scans::memory::{MemoryTask, SequenceBatch, TaskKind};
use crate::labs::scans::spec::{ScanModelSpec, ScansSpec};
use crate::labs::scans::ssm::fused_scan;
use crate::labs::scans::ssm::net::{MixerKind, SsmNet, SsmNetConfig};
use crate::labs::scans::ssm::scan::ScanMethod;
use crate::rng::{Stream, stream};
use crate::spec::{OptimizerSpec, SpecError};
use crate::train::checkpoint::{self, ExperimentState, RngState};
use crate::train::gradients::GradientTransform;
use crate::train::metrics::{Readout, ReadoutLayout, Record, SeriesMetrics};
use crate::train::{Experiment, ExperimentSummary, RunError, optim};

/// Metrics each model reports at every evaluation, as `<model>.<metric>` series.
pub const MODEL_METRICS: [&str; 4] = ["train_loss", "train_acc", "test_loss", "test_acc"];
/// Taps of the kernel view (the kernel decays well before this at the default Δ).
const KERNEL_VIEW: usize = 512;
/// S4D channels shown in the kernel and eigenvalue views.
const VIEW_CHANNELS: usize = 4;
/// Sequences per evaluation chunk of the extrapolation curve (long sequences, small batches).
const EXTRAPOLATION_BATCH: usize = 16;

/// A batch of sequences on the device.
struct DeviceSequences {
    /// `[n, len]`
    tokens: Tensor<2, Int>,
    /// The answers, flattened `[n · k]`.
    answers: Tensor<1, Int>,
    /// one_hot(answers), `[n · k, vocab]` (built by comparison: `Tensor::one_hot` reads back
    /// synchronously, which panics on WebGPU in a browser).
    targets: Tensor<2>,
    n: usize,
    len: usize,
    k: usize,
}

impl DeviceSequences {
    fn new(batch: &SequenceBatch, vocab: usize, device: &Device) -> Self {
        let ints = |v: &[u32], shape: Vec<usize>| {
            let data: Vec<i32> = v.iter().map(|&x| x as i32).collect();
            TensorData::new(data, shape)
        };
        let (n, len, k) = (batch.batch, batch.len, batch.answer_len);
        let tokens = Tensor::<2, Int>::from_data(ints(&batch.tokens, vec![n, len]), device);
        let answers = Tensor::<1, Int>::from_data(ints(&batch.answers, vec![n * k]), device);
        let classes = Tensor::<1, Int>::arange(0..vocab as i64, device).reshape([1, vocab]);
        let targets = answers
            .clone()
            .reshape([n * k, 1])
            .expand([n * k, vocab])
            .equal(classes.expand([n * k, vocab]))
            .float(); // [n·k, vocab]
        Self { tokens, answers, targets, n, len, k }
    }

    /// Rows `start..start + count`.
    fn rows(&self, start: usize, count: usize) -> Self {
        Self {
            tokens: self.tokens.clone().narrow(0, start, count),
            answers: self.answers.clone().narrow(0, start * self.k, count * self.k),
            targets: self.targets.clone().narrow(0, start * self.k, count * self.k),
            n: count,
            len: self.len,
            k: self.k,
        }
    }
}

/// Mean cross-entropy over the answer positions and the summed correct answers.
/// `logits: [n, len, vocab]` → `([1], [1])`.
fn answer_loss(logits: Tensor<3>, seq: &DeviceSequences) -> (Tensor<1>, Tensor<1>) {
    let vocab = logits.dims()[2];
    let rows = seq.n * seq.k;
    let answer_logits = logits.narrow(1, seq.len - seq.k, seq.k).reshape([rows, vocab]); // [n·k, vocab]
    let logp = log_softmax(answer_logits.clone(), 1);
    let loss = (logp * seq.targets.clone()).sum().neg() / rows as f64; // [1]
    let correct = answer_logits.argmax(1).reshape([rows]).equal(seq.answers.clone()).float().sum(); // [1]
    (loss, correct)
}

/// The loss the lab trains `net` on, and the fraction of answers right, for `batch` on
/// `device`: [`answer_loss`] for callers outside a run (the PyTorch reference test).
pub fn batch_loss(
    net: &SsmNet,
    batch: &SequenceBatch,
    vocab: usize,
    device: &Device,
) -> (Tensor<1>, Tensor<1>) {
    let seq = DeviceSequences::new(batch, vocab, device);
    let (loss, correct) = answer_loss(net.forward(seq.tokens.clone()), &seq);
    (loss, correct / (seq.n * seq.k) as f64)
}

/// One model of the run.
struct Variant {
    name: String,
    spec: ScanModelSpec,
    /// `None` only transiently while the optimizer consumes it.
    net: Option<SsmNet>,
    optimizer: ModuleOptimizer,
    /// `[loss, accuracy]` of the last training batch (detached).
    last: Option<Tensor<1>>,
}

/// A running scans experiment.
pub struct ScansExperiment {
    spec: ScansSpec,
    device: Device,
    variants: Vec<Variant>,
    data_rng: ChaCha8Rng,
    eval: DeviceSequences,
    eval_host: SequenceBatch,
    transform: GradientTransform,
    summary: ExperimentSummary,
    step: u64,
}

/// The model config of `spec` for `task`.
pub fn net_config(spec: &ScanModelSpec, task: &MemoryTask, seed: u64) -> SsmNetConfig {
    SsmNetConfig::new(task.vocab_size(), spec.mixer)
        .with_layers(spec.layers)
        .with_d_model(spec.d_model)
        .with_d_state(spec.d_state)
        .with_expand(spec.expand)
        .with_s4d_init(spec.s4d_init)
        .with_discretization(spec.discretization)
        .with_dt_min(spec.dt_min)
        .with_dt_max(spec.dt_max)
        .with_scan(spec.scan)
        .with_seed(seed)
}

/// The optimizer of one model: `spec`'s, with no weight decay on A and Δ (S4D) or A_log and D
/// (Mamba), as their sources register them ([`SsmNet::no_weight_decay`]).
pub fn optimizer_for(spec: &OptimizerSpec, net: &SsmNet) -> ModuleOptimizer {
    optim::build_with_no_decay(spec, net.no_weight_decay())
}

const MIB: f64 = (1 << 20) as f64;

/// The largest single tensor a model allocates for `rows` sequences of `len` tokens, in bytes:
/// the selective scan's states `[rows, len, d_inner, N]` (each level of the parallel scan holds
/// one of that size; with `backward`, the fused GPU kernel's one output buffer holds three),
/// S4D's kernel powers `[h, N/2, len]`, or the logits `[rows, len, vocab]`.
pub fn largest_tensor_bytes(
    m: &ScanModelSpec,
    vocab: usize,
    rows: usize,
    len: usize,
    backward: bool,
) -> u64 {
    let d_inner = m.expand * m.d_model;
    if m.mixer == MixerKind::Mamba && backward && m.scan == ScanMethod::Fused {
        let fused = fused_scan::backward_buffer_bytes(rows, len, d_inner, m.d_state);
        return fused.max(4 * (rows * len * vocab) as u64);
    }
    let (rows, len, d_inner) = (rows as u64, len as u64, d_inner as u64);
    let width = match m.mixer {
        MixerKind::Mamba => d_inner * m.d_state as u64 * rows,
        MixerKind::GatedS4d => (d_inner * (m.d_state as u64 / 2)).max(rows * 2 * d_inner),
        MixerKind::S4d | MixerKind::S4dNoGate => {
            (m.d_model as u64 * (m.d_state as u64 / 2)).max(rows * 2 * m.d_model as u64)
        }
    };
    4 * len * width.max(rows * vocab as u64)
}

/// Refuses a run whose largest tensor would not fit one device buffer, naming the estimate.
pub fn check_fits(spec: &ScansSpec, limits: DeviceLimits) -> Result<(), SpecError> {
    let task = &spec.task;
    let longest = task.len * spec.eval.extrapolation;
    for (name, m) in &spec.models {
        let checks = [
            (
                spec.training.batch_size,
                task.len,
                true,
                "scans.training.batch_size",
                "a training batch",
            ),
            (
                EXTRAPOLATION_BATCH.min(spec.eval.sequences),
                longest,
                false,
                "scans.eval.extrapolation",
                "the extrapolation curve's longest sequences",
            ),
        ];
        for (rows, len, backward, field, what) in checks {
            let bytes = largest_tensor_bytes(m, task.vocab_size(), rows, len, backward);
            if bytes > limits.max_buffer_bytes {
                return Err(SpecError::new(
                    field,
                    format!(
                        "model `{name}` needs a {:.0} MiB tensor for {what} ({rows} sequences × \
                         {len} tokens), more than this device's {:.0} MiB buffer limit; use \
                         fewer sequences, shorter ones, or a smaller model",
                        bytes as f64 / MIB,
                        limits.max_buffer_bytes as f64 / MIB
                    ),
                ));
            }
        }
    }
    Ok(())
}

impl ScansExperiment {
    pub fn spec(&self) -> &ScansSpec {
        &self.spec
    }

    /// The models by name, in the spec's order.
    pub fn models(&self) -> impl Iterator<Item = (&str, &SsmNet)> {
        self.variants
            .iter()
            .map(|v| (v.name.as_str(), v.net.as_ref().expect("present between steps")))
    }

    /// The batch the next training step will draw, without drawing it.
    pub fn next_batch(&self) -> SequenceBatch {
        self.spec.task.sample(self.spec.training.batch_size, &mut self.data_rng.clone())
    }

    /// One optimizer step of every model on the same fresh batch.
    pub fn train_step(&mut self) {
        let batch = self.spec.task.sample(self.spec.training.batch_size, &mut self.data_rng);
        let seq = DeviceSequences::new(&batch, self.spec.task.vocab_size(), &self.device);
        let lr = optim::learning_rate(&self.spec.optimizer, self.step);
        for v in &mut self.variants {
            let net = v.net.take().expect("present between steps");
            let (loss, correct) = answer_loss(net.forward(seq.tokens.clone()), &seq);
            let acc = correct.detach() / (seq.n * seq.k) as f64;
            v.last = Some(Tensor::cat(vec![loss.clone().detach(), acc], 0));
            let mut grads = GradientsParams::from_grads(loss.backward(), &net);
            self.transform.apply(&net, &mut grads);
            v.net = Some(v.optimizer.step(lr, net, grads));
        }
        self.step += 1;
    }

    /// Summed-over-rows loss/n and correct count of `net` on `seq`, in chunks.
    fn evaluate(&self, net: &SsmNet, seq: &DeviceSequences) -> (Tensor<1>, Tensor<1>) {
        let chunk = self.spec.training.batch_size.max(1);
        let mut losses = Vec::new();
        let mut corrects = Vec::new();
        let mut start = 0;
        while start < seq.n {
            let count = chunk.min(seq.n - start);
            let rows = seq.rows(start, count);
            let tokens = rows.tokens.clone().without_autodiff();
            let part = DeviceSequences {
                tokens: tokens.clone(),
                answers: rows.answers.clone().without_autodiff(),
                targets: rows.targets.clone().without_autodiff(),
                ..rows
            };
            let (loss, correct) = answer_loss(net.forward(tokens), &part);
            losses.push(loss * (count as f64 / seq.n as f64));
            corrects.push(correct);
            start += count;
        }
        let sum =
            |v: Vec<Tensor<1>>| v.into_iter().reduce(|a, b| a + b).expect("at least one chunk");
        (sum(losses), sum(corrects))
    }

    /// A sequence the user typed, checked against the task (see [`MemoryTask::typed`]); at
    /// most as long as the longest extrapolation length, which the run was checked to fit.
    pub fn typed_example(&self, tokens: &[u32]) -> Result<SequenceBatch, String> {
        let max_len = self.spec.task.len * self.spec.eval.extrapolation.max(1);
        self.spec.task.typed(tokens, max_len)
    }

    /// The lab's views on the current weights (a few async readbacks per model), on `example`
    /// (from [`ScansExperiment::typed_example`]) or the first held-out sequence.
    pub async fn analyse(&self, example: Option<SequenceBatch>) -> Result<ScansAnalysis, String> {
        let example = example.unwrap_or_else(|| self.eval_host.rows(0, 1));
        let ex_device = DeviceSequences::new(&example, self.spec.task.vocab_size(), &self.device);
        let mut models = Vec::new();
        for v in &self.variants {
            let net = v.net.as_ref().expect("present between steps");
            models.push(self.views(&v.name, &v.spec, net, &ex_device).await?);
        }
        let k = example.answer_len;
        Ok(ScansAnalysis {
            step: self.step,
            task: self.spec.task.name().into(),
            len: example.len,
            example: Example {
                tokens: example.tokens.clone(),
                answers: example.answers.clone(),
                answer_start: example.len - k,
            },
            models,
        })
    }

    async fn views(
        &self,
        name: &str,
        spec: &ScanModelSpec,
        net: &SsmNet,
        example: &DeviceSequences,
    ) -> Result<ModelViews, String> {
        let valid = net.valid();
        let len = example.len;
        // Prediction on the example, and Δ_t / states of the first selective layer.
        let embedded = valid.embed(example.tokens.clone().without_autodiff());
        let (logits, traces) = valid.forward_traced(embedded, true);
        let k = example.k;
        let vocab = logits.dims()[2];
        let predicted = logits.narrow(1, len - k, k).reshape([k, vocab]).argmax(1).reshape([k]);
        let prediction: Vec<u32> =
            read_ints(predicted).await?.into_iter().map(|x| x as u32).collect();
        let (mut delta, mut states) = (None, None);
        if let Some(trace) = traces.into_iter().next() {
            let [_, l, _, n] = trace.states.dims(); // [1, l, d_inner, N]
            let mean_delta = trace.delta.mean_dim(2).reshape([l]); // [l]
            let mean_state = trace.states.abs().mean_dim(2).reshape([l * n]); // [l·N]
            delta = Some(read(mean_delta).await?);
            states = Some(Heatmap { rows: l, cols: n, values: read(mean_state).await? });
        }
        // S4D views: the first S4D layer's kernel and Ā for its first channels.
        let (mut kernels, mut eigenvalues) = (Vec::new(), Vec::new());
        if let Some(s4d) = valid.s4d_layers().first() {
            let h = s4d.channels().min(VIEW_CHANNELS);
            let taps = len.min(KERNEL_VIEW);
            let kernel = read(s4d.kernel(taps).narrow(0, 0, h).reshape([h * taps])).await?;
            kernels = kernel.chunks(taps).map(|c| c.to_vec()).collect();
            let disc = s4d.discretize();
            let half = disc.a_re.dims()[1];
            let re = read(disc.a_re.narrow(0, 0, h).reshape([h * half])).await?;
            let im = read(disc.a_im.narrow(0, 0, h).reshape([h * half])).await?;
            eigenvalues = re.into_iter().zip(im).map(|(a, b)| [a, b]).collect();
        }
        let memory_decay = self.memory_decay(net, example).await?;
        let extrapolation = self.extrapolation(&valid).await?;
        Ok(ModelViews {
            name: name.into(),
            mixer: spec.mixer,
            prediction,
            kernels,
            eigenvalues,
            delta,
            states,
            memory_decay,
            extrapolation,
        })
    }

    /// The exact memory decay of `net` on `example` ([`memory_decay`]).
    async fn memory_decay(
        &self,
        net: &SsmNet,
        example: &DeviceSequences,
    ) -> Result<Vec<f64>, String> {
        read(memory_decay(net, example.tokens.clone())?)
            .await
            .map(|v| v.into_iter().map(f64::from).collect())
    }

    /// Held-out accuracy at L, 2L, 4L, … up to `eval.extrapolation` × L, each with its standard
    /// error over the sequences scored (the answer tokens of one sequence are not independent:
    /// a model that lost the data gets them all wrong), so a curve of 16 sequences says how far
    /// to trust each point.
    async fn extrapolation(&self, net: &SsmNet) -> Result<Vec<[f64; 3]>, String> {
        let mut curve = Vec::new();
        let mut factor = 1;
        while factor <= self.spec.eval.extrapolation {
            let task = self.spec.task.at_len(self.spec.task.len * factor);
            let count = EXTRAPOLATION_BATCH.min(self.spec.eval.sequences);
            let mut rng = stream(self.spec.seed ^ factor as u64, Stream::EvalSequences);
            let batch = task.sample(count, &mut rng);
            let seq = DeviceSequences::new(&batch, task.vocab_size(), &self.device);
            let per_sequence = read(sequence_accuracy(net, &seq)).await?;
            let [mean, stderr] = mean_and_stderr(&per_sequence);
            curve.push([task.len as f64, mean, stderr]);
            factor *= 2;
        }
        Ok(curve)
    }
}

/// Each sequence's share of answer tokens right, `[n]` (no gradient).
fn sequence_accuracy(net: &SsmNet, seq: &DeviceSequences) -> Tensor<1> {
    let logits = net.forward(seq.tokens.clone().without_autodiff()); // [n, L, vocab]
    let vocab = logits.dims()[2];
    let answer_logits = logits.narrow(1, seq.len - seq.k, seq.k).reshape([seq.n * seq.k, vocab]);
    let right = answer_logits
        .argmax(1)
        .reshape([seq.n * seq.k])
        .equal(seq.answers.clone().without_autodiff());
    right.float().reshape([seq.n, seq.k]).mean_dim(1).reshape([seq.n]) // [n]
}

/// The mean of `xs` and its standard error, s/√n with the sample standard deviation (0 for
/// one value).
pub fn mean_and_stderr(xs: &[f32]) -> [f64; 2] {
    let n = xs.len() as f64;
    let mean = xs.iter().map(|&x| x as f64).sum::<f64>() / n;
    if xs.len() < 2 {
        return [mean, 0.0];
    }
    let var = xs.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / (n - 1.0);
    [mean, (var / n).sqrt()]
}

/// ‖∂y_T/∂u_t‖_F for ℓ = T − t = 0 … L−1 (`[L]`, on the device): the Frobenius norm of the
/// Jacobian of the last position's logits y_T with respect to the embedding u_t, exactly. One
/// backward pass: the sequence `tokens` (`[1, L]`) repeated once per logit, row i back-propagating
/// from logit i alone, gives every row of the Jacobian at once (the model treats batch rows
/// independently). (It was once a single random projection, ‖Jᵀg‖ with g ~ N(0, I): unbiased
/// for ‖J‖²_F, but 0.6–1.4× off on one draw.)
pub fn memory_decay(net: &SsmNet, tokens: Tensor<2, Int>) -> Result<Tensor<1>, String> {
    let len = tokens.dims()[1];
    let embedded = net.embed(tokens).detach(); // [1, L, d]
    let vocab = net.head.weight.dims()[1];
    let rows = embedded.repeat_dim(0, vocab).require_grad(); // [vocab, L, d]
    let logits = net.forward_embedded(rows.clone()); // [vocab, L, vocab]
    let device = logits.device();
    let pick = Tensor::<2>::eye(vocab, &device).reshape([vocab, 1, vocab]); // row i: logit i
    let grads = (logits.narrow(1, len - 1, 1) * pick).sum().backward();
    let grad = rows.grad(&grads).ok_or("no gradient reached the embeddings")?; // [vocab, L, d]
    // Σ over logits and embedding channels → [L], then ℓ = T − t.
    Ok(grad.powi_scalar(2).sum_dim(2).sum_dim(0).sqrt().reshape([len]).flip([0]))
}

async fn read(t: Tensor<1>) -> Result<Vec<f32>, String> {
    let data = t.into_data_async().await.map_err(|e| format!("{e:?}"))?;
    data.convert::<f32>().try_to_vec::<f32>().map_err(|e| format!("{e:?}"))
}

async fn read_ints(t: Tensor<1, Int>) -> Result<Vec<i64>, String> {
    let data = t.into_data_async().await.map_err(|e| format!("{e:?}"))?;
    data.convert::<i64>().try_to_vec::<i64>().map_err(|e| format!("{e:?}"))
}

impl Experiment for ScansExperiment {
    type Spec = ScansSpec;
    type Metrics = SeriesMetrics;
    type Report = ScansReport;
    type Analysis = ScansAnalysis;

    fn check_fits(spec: &ScansSpec, limits: DeviceLimits) -> Result<(), SpecError> {
        check_fits(spec, limits)
    }

    /// Builds a validated spec on `device` (made an autodiff device here).
    fn new(spec: &ScansSpec, device: &Device) -> Self {
        let device = device.clone().autodiff();
        let vocab = spec.task.vocab_size();
        let variants: Vec<Variant> = spec
            .models
            .iter()
            .map(|(name, m)| {
                let net = net_config(m, &spec.task, spec.seed).init(&device);
                Variant {
                    name: name.clone(),
                    spec: m.clone(),
                    optimizer: optimizer_for(&spec.optimizer, &net),
                    net: Some(net),
                    last: None,
                }
            })
            .collect();
        let eval_host =
            spec.task.sample(spec.eval.sequences, &mut stream(spec.seed, Stream::EvalSequences));
        let eval = DeviceSequences::new(&eval_host, vocab, &device);
        let task = &spec.task;
        let what = match task.kind {
            TaskKind::SelectiveCopying => format!(
                "selective copying: {} tokens of {} symbols in L = {}",
                task.data_tokens, task.vocab, task.len
            ),
            TaskKind::InductionHeads => {
                format!("induction heads: {} symbols, L = {}", task.vocab, task.len)
            }
        };
        let mut facts = vec![
            what,
            format!(
                "{} fresh sequences per step, {} held out",
                spec.training.batch_size, spec.eval.sequences
            ),
        ];
        let mut parameters = 0;
        let mut series = Vec::new();
        for v in &variants {
            let n = v.net.as_ref().expect("built").num_params();
            parameters += n;
            facts.push(format!("{} ({}): {} parameters", v.name, v.spec.mixer.name(), n));
            series.extend(MODEL_METRICS.iter().map(|m| format!("{}.{m}", v.name)));
        }
        let summary = ExperimentSummary {
            lab: "scans".into(),
            parameters,
            param_names: Vec::new(),
            float64: false,
            facts,
            series,
        };
        Self {
            transform: GradientTransform {
                clip_norm: (spec.optimizer.grad_clip > 0.0).then_some(spec.optimizer.grad_clip),
                orthograd: spec.optimizer.orthograd,
                stats: false,
            },
            spec: spec.clone(),
            data_rng: stream(spec.seed, Stream::Sequences),
            variants,
            eval,
            eval_host,
            summary,
            device,
            step: 0,
        }
    }

    fn new_report(&self) -> ScansReport {
        ScansReport::default()
    }

    fn step(&self) -> u64 {
        self.step
    }

    /// The run between two steps: each model's weights and optimizer state and the data RNG
    /// (see `train::checkpoint`). Reads weights synchronously: native and CPU backends only.
    fn save_state(&self) -> Result<ExperimentState, String> {
        let pairs =
            self.variants.iter().map(|v| (v.net.as_ref().expect("net present"), &v.optimizer));
        let (models, optimizers) = checkpoint::save_trained(pairs)?;
        Ok(ExperimentState {
            step: self.step,
            models,
            optimizers,
            rng: RngState::of(&self.data_rng),
            extra: serde_json::Value::Null,
        })
    }

    /// Puts a [`ScansExperiment::save_state`] back into this freshly built run.
    fn restore_state(&mut self, state: ExperimentState) -> Result<(), String> {
        let slots = self.variants.iter_mut().map(|v| (&mut v.net, &mut v.optimizer)).collect();
        checkpoint::restore_trained(slots, &state, |net| optimizer_for(&self.spec.optimizer, net))?;
        self.data_rng = state.rng.restore()?;
        self.step = state.step;
        Ok(())
    }

    /// Every step of this lab is the same: it keeps no gradient statistics.
    fn train_step(&mut self, _stats: bool) {
        Self::train_step(self)
    }

    /// Every model's metrics in one tensor: per model, the last batch's `[loss, acc]` and the
    /// held-out `[loss, acc]` (in chunks of the training batch size, so evaluation never
    /// allocates more than training).
    fn metrics_tensor(&self) -> (Tensor<1>, ReadoutLayout) {
        let mut out = Readout::default();
        for v in &self.variants {
            let net = v.net.as_ref().expect("present between steps").valid();
            let (loss, correct) = self.evaluate(&net, &self.eval);
            let rows = (self.eval.n * self.eval.k) as f64;
            let device = loss.device();
            let last = match &v.last {
                Some(t) => t.clone().inner(),
                None => Tensor::<1>::full([2], f32::NAN, &device),
            };
            out.push(format!("{}.train", v.name), last);
            out.push(format!("{}.test", v.name), Tensor::cat(vec![loss, correct / rows], 0));
        }
        out.finish()
    }

    /// The record of [`ScansExperiment::metrics_tensor`]'s values.
    fn record(
        &self,
        layout: &ReadoutLayout,
        values: &[f32],
        wall_ms: f64,
    ) -> Record<SeriesMetrics> {
        let mut series = std::collections::BTreeMap::new();
        for v in &self.variants {
            let train = layout.get(values, &format!("{}.train", v.name));
            let test = layout.get(values, &format!("{}.test", v.name));
            let at = |s: &[f32], i: usize| s.get(i).map_or(f64::NAN, |&x| x as f64);
            // Before the first step there is no training batch: leave those series out.
            if self.step > 0 {
                series.insert(format!("{}.train_loss", v.name), at(train, 0));
                series.insert(format!("{}.train_acc", v.name), at(train, 1));
            }
            series.insert(format!("{}.test_loss", v.name), at(test, 0));
            series.insert(format!("{}.test_acc", v.name), at(test, 1));
        }
        Record { step: self.step, wall_ms, lab: SeriesMetrics { series } }
    }

    /// The views, on `example` (a typed sequence) or the first held-out sequence.
    async fn analyse(
        &self,
        _final_views: bool,
        example: Option<&[u32]>,
    ) -> Result<ScansAnalysis, RunError> {
        let example =
            example.map(|t| self.typed_example(t)).transpose().map_err(RunError::Input)?;
        Self::analyse(self, example).await.map_err(RunError::Device)
    }

    fn check_example(&self, tokens: &[u32]) -> Result<(), RunError> {
        self.typed_example(tokens).map(drop).map_err(RunError::Input)
    }

    fn summary(&self) -> ExperimentSummary {
        self.summary.clone()
    }
}
