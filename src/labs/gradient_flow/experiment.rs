//! The gradient-flow lab as a running experiment: its stacks trained side by side on the same
//! fresh batches of a regression task, with per-block metrics taken at each evaluation step.
//!
//! **Per-block metrics** (`docs/science.md` §3), on the last training step before each
//! evaluation (the session says which step that is), and at step 0 on the initial weights:
//! - `grad_norm.LL`: ‖∂L/∂W_l‖_F of block l's weight matrices together (1-based,
//!   zero-padded so names sort in depth order and the first non-finite one is the shallowest);
//! - `act_rms.LL`: RMS of block l's output on the training batch (forward signal propagation);
//! - `update_ratio.LL`: ‖ΔW_l‖_F / ‖W_l‖_F of that optimizer step (all its matrices together);
//! - transformer blocks: `max_logit.LL`, the largest attention logit q·k/√d_head on the batch
//!   (Wortsman et al. 2023: it grows without bound at high lr unless qk-LayerNorm is on);
//! - the drill-down, `grad_<tensor>.LL`: ‖∂L/∂W‖_F of each matrix of the block on its own
//!   (`grad_q`, `grad_k`, `grad_v`, `grad_o`, `grad_in`, `grad_out`).
//!
//! They are computed on the device and read back with the losses in the session's one
//! transfer per evaluation; other steps pay only for the divergence flag: every step, each
//! block's ‖∂L/∂W_l‖² is checked for NaN/∞ on the device, and the first step at which it was
//! is kept there (`nonfinite_step.LL` in the record once set), so a diverging run names the
//! block and the step where its gradients first broke. A record's series are
//! `<stack>.train_loss`, `<stack>.test_loss` and `<stack>.<metric>.LL`.

use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Tensor, TensorData};
use rand_chacha::ChaCha8Rng;

use super::probe::{GradientProfile, profile_at_init};
use super::report::FlowReport;
use crate::backend::DeviceLimits;
use crate::labs::gradient_flow::deep_stack::{
    BlockKind, DeepStack, Trace, activation_rms, stacked_weights, tensor_grad_squares,
};
use crate::labs::gradient_flow::regression::{FlowTaskKind, Teacher};
use crate::labs::gradient_flow::spec::{GradientFlowSpec, StackSpec};
use crate::rng::{Stream, stream};
use crate::spec::SpecError;
use crate::train::checkpoint::{self, ExperimentState, RngState};
use crate::train::gradients::GradientTransform;
use crate::train::metrics::{Readout, ReadoutLayout, Record, SeriesMetrics};
use crate::train::{Experiment, ExperimentSummary, RunError, optim};

/// Held-out examples (fixed for the run) for `test_loss`.
pub const EVAL_INPUTS: usize = 512;
/// The per-block metrics of every stack, in a record's series names.
pub const LAYER_METRICS: [&str; 3] = ["grad_norm", "act_rms", "update_ratio"];

/// The per-block metrics of a stack of `block`s, in the order of its readout: the common
/// ones, `max_logit` for transformer blocks, then `grad_<tensor>` for each of its matrices.
pub fn layer_metrics(block: BlockKind) -> Vec<String> {
    let mut out: Vec<String> = LAYER_METRICS.iter().map(|m| m.to_string()).collect();
    if block == BlockKind::Transformer {
        out.push("max_logit".into());
    }
    out.extend(block.tensors().iter().map(|t| format!("grad_{t}")));
    out
}

/// A stack's per-block measurements of one step (detached, on the device).
struct BlockMeasures {
    /// ‖∂L/∂W‖² of every matrix, `[L, T]`.
    squares: Tensor<2>,
    /// `[L]`
    act_rms: Tensor<1>,
    /// Transformer blocks, `[L]`.
    max_logit: Option<Tensor<1>>,
}

impl BlockMeasures {
    fn take(squares: Tensor<2>, trace: &Trace) -> Self {
        Self {
            squares,
            act_rms: activation_rms(trace).detach(),
            max_logit: (!trace.max_logits.is_empty())
                .then(|| Tensor::cat(trace.max_logits.clone(), 0)),
        }
    }

    /// All of them as one `[M·L]` tensor in [`layer_metrics`]' order, with `update_ratio` `[L]`.
    fn readout(self, update_ratio: Tensor<1>) -> Tensor<1> {
        let [depth, t] = self.squares.dims();
        let block = self.squares.clone().sum_dim(1).sqrt().reshape([depth]); // [L]
        let mut parts = vec![block, self.act_rms, update_ratio];
        parts.extend(self.max_logit);
        parts.push(self.squares.sqrt().swap_dims(0, 1).reshape([t * depth])); // [T·L], metric-major
        Tensor::cat(parts, 0)
    }
}

/// The per-block divergence flag's series: the first optimizer step (1-based) at which the
/// block's gradient was NaN or infinite; absent while it never was.
pub const NONFINITE_STEP: &str = "nonfinite_step";

/// The fields of a checkpoint's lab state that hold one entry per stack, in stack order (a
/// run split over workers keeps each share's: `labs::team`).
pub const PER_MODEL_STATE: &[&str] = &["nonfinite_step"];

/// A per-block series name: `pre-ln.grad_norm.07`.
pub fn layer_series(stack: &str, metric: &str, block: usize) -> String {
    format!("{stack}.{metric}.{block:02}")
}

/// One stack of the run.
struct Variant {
    name: String,
    spec: StackSpec,
    /// `None` only transiently while the optimizer consumes it.
    net: Option<DeepStack>,
    optimizer: ModuleOptimizer,
    /// The last training batch's loss, `[1]` (detached).
    loss: Option<Tensor<1>>,
    /// Per-block metrics of the last step that took them, in [`layer_metrics`]' order
    /// (detached).
    layers: Option<Tensor<1>>,
    /// Per block, the first step whose gradient was non-finite, or −1: `[L]`, updated on the
    /// device every step.
    nonfinite_step: Tensor<1>,
}

/// A running gradient-flow experiment.
pub struct GradientFlowExperiment {
    spec: GradientFlowSpec,
    device: Device,
    teacher: Teacher,
    variants: Vec<Variant>,
    data_rng: ChaCha8Rng,
    eval: (Tensor<2>, Tensor<2>),
    transform: GradientTransform,
    summary: ExperimentSummary,
    step: u64,
    /// The per-step divergence flag is on (always, but for `bench`'s bare-step figure).
    divergence_flag: bool,
    /// The at-init profile, computed on the first analysis (it never changes).
    profile: std::sync::OnceLock<GradientProfile>,
}

/// The largest single tensor a stack allocates for `examples` examples, in bytes: the
/// activations `[rows, width]` (rows = examples × positions), a weight `[width, width]` (or the
/// input projection / readout), the inputs, or the attention logits `[examples, heads, s, s]`.
pub fn largest_tensor_bytes(spec: &GradientFlowSpec, m: &StackSpec, examples: usize) -> u64 {
    let t = &spec.task;
    let (input_dim, output_dim) = t.dims();
    let s = t.seq_len();
    let rows = examples * s;
    let attention = if m.block == BlockKind::Transformer { examples * m.heads * s * s } else { 0 };
    let widest = [
        rows * m.width,
        m.width * m.width,
        input_dim * m.width,
        m.width * output_dim,
        rows * input_dim.max(output_dim),
        attention,
    ]
    .into_iter()
    .max()
    .unwrap_or(0);
    4 * widest as u64
}

/// An estimate of what one stack holds while training, in bytes: each parameter four times
/// (weights, gradient, Adam's two moments), and the activations the backward pass keeps for
/// the larger of a training batch and the held-out set (per block, ~8 `[rows, w]` tensors for
/// the MLP sublayer with its norms; attention adds ~6 more and three `[examples, heads, s, s]`
/// ones: logits, masked logits, probabilities).
pub fn estimated_bytes(spec: &GradientFlowSpec, m: &StackSpec, examples: usize) -> u64 {
    let t = &spec.task;
    let (d_in, d_out) = t.dims();
    let (w, s) = (m.width as u64, t.seq_len() as u64);
    let rows = examples as u64 * s;
    let transformer = m.block == BlockKind::Transformer;
    let per_block_params = if transformer { 6 * w * w + 2 * w } else { 2 * w * w + 2 * w };
    let params = m.depth as u64 * per_block_params + (d_in + d_out) as u64 * w;
    let per_block_acts = 8 * rows * w
        + if transformer { 6 * rows * w + 3 * examples as u64 * m.heads as u64 * s * s } else { 0 };
    4 * (4 * params + m.depth as u64 * per_block_acts + rows * (d_in + d_out) as u64)
}

/// Refuses a run whose largest tensor, or all its stacks' parameters and activations together
/// ([`estimated_bytes`]), would not fit the device, naming the estimate.
pub fn check_fits(spec: &GradientFlowSpec, limits: DeviceLimits) -> Result<(), SpecError> {
    let rows = spec.training.batch_size.max(EVAL_INPUTS);
    let mib = |b: u64| b as f64 / (1 << 20) as f64;
    let total: u64 = spec.models.values().map(|m| estimated_bytes(spec, m, rows)).sum();
    if total > limits.max_total_bytes {
        let (name, _) = spec
            .models
            .iter()
            .max_by_key(|(_, m)| estimated_bytes(spec, m, rows))
            .expect("at least one stack");
        return Err(SpecError::new(
            format!("gradient_flow.models.{name}.depth"),
            format!(
                "the stacks would need about {:.0} MiB together (weights, gradients, optimizer \
                 state and the activations of {rows} examples; `{name}` is the largest), more \
                 than the {:.0} MiB this device allows a run; use fewer, shallower or narrower \
                 stacks, or a smaller batch",
                mib(total),
                mib(limits.max_total_bytes)
            ),
        ));
    }
    for (name, m) in &spec.models {
        let bytes = largest_tensor_bytes(spec, m, rows);
        if bytes > limits.max_buffer_bytes {
            return Err(SpecError::new(
                format!("gradient_flow.models.{name}.width"),
                format!(
                    "stack `{name}` needs a {:.0} MiB tensor ({rows} examples, width {}), more \
                     than this device's {:.0} MiB buffer limit; use a smaller width or batch",
                    mib(bytes),
                    m.width,
                    mib(limits.max_buffer_bytes)
                ),
            ));
        }
    }
    Ok(())
}

impl GradientFlowExperiment {
    /// Turns the per-step divergence flag off or on (`bench` measures what it costs).
    pub fn set_divergence_flag(&mut self, on: bool) {
        self.divergence_flag = on;
    }

    pub fn spec(&self) -> &GradientFlowSpec {
        &self.spec
    }

    /// The lab's views: every stack's per-block profile at initialisation on the probe batch
    /// (signal propagation before any training; the stacks are rebuilt from the seed, which
    /// gives the same initial weights).
    pub async fn analyse(&self) -> Result<GradientProfile, String> {
        if let Some(profile) = self.profile.get() {
            return Ok(profile.clone());
        }
        let profile = profile_at_init(&self.spec, &self.device).await?;
        Ok(self.profile.get_or_init(|| profile).clone())
    }
}

impl Experiment for GradientFlowExperiment {
    type Spec = GradientFlowSpec;
    type Metrics = SeriesMetrics;
    type Report = FlowReport;
    type Analysis = GradientProfile;

    fn check_fits(spec: &GradientFlowSpec, limits: DeviceLimits) -> Result<(), SpecError> {
        check_fits(spec, limits)
    }

    /// Builds a validated spec on `device` (made an autodiff device here). Every stack draws
    /// its weights from the same init stream (see `probe`).
    fn new(spec: &GradientFlowSpec, device: &Device) -> Self {
        let device = device.clone().autodiff();
        let variants: Vec<Variant> = spec
            .models
            .iter()
            .map(|(name, m)| Variant {
                name: name.clone(),
                spec: m.clone(),
                net: Some(
                    m.config(&spec.task).init_with(&mut stream(spec.seed, Stream::Init), &device),
                ),
                optimizer: optim::build(&spec.optimizer),
                loss: None,
                layers: None,
                nonfinite_step: Tensor::full([m.depth], -1.0, &device),
            })
            .collect();
        let teacher = Teacher::new(&spec.task, spec.seed);
        let eval = teacher.batch(EVAL_INPUTS, &mut stream(spec.seed, Stream::ProbeInputs), &device);
        let task = &spec.task;
        let what = match task.kind {
            FlowTaskKind::TeacherStudent => format!(
                "teacher–student regression: {} → {} through a {}-layer tanh teacher",
                task.input_dim, task.output_dim, task.teacher_depth
            ),
            FlowTaskKind::LowRankLinear => format!(
                "a rank-{} linear map {} → {} (singular values 3 … 3/{})",
                task.rank, task.input_dim, task.output_dim, task.rank
            ),
            FlowTaskKind::Copy => format!(
                "copying {} tokens of {} symbols after a separator (sequences of {}; \
                 cross-entropy on the copied half)",
                task.copy_length,
                task.vocab,
                task.seq_len()
            ),
        };
        let mut facts = vec![
            what,
            format!("{} fresh examples per step, {EVAL_INPUTS} held out", spec.training.batch_size),
            "per-block metrics are taken at each evaluation step".to_string(),
        ];
        let mut parameters = 0;
        let mut series = Vec::new();
        for v in &variants {
            let n = v.net.as_ref().expect("built").num_params();
            parameters += n;
            facts.push(format!(
                "{}: depth {}, width {}, {n} parameters",
                v.name, v.spec.depth, v.spec.width
            ));
            series.push(format!("{}.train_loss", v.name));
            series.push(format!("{}.test_loss", v.name));
            for metric in layer_metrics(v.spec.block) {
                series.extend((1..=v.spec.depth).map(|l| layer_series(&v.name, &metric, l)));
            }
        }
        let summary = ExperimentSummary {
            lab: "gradient_flow".into(),
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
            data_rng: stream(spec.seed, Stream::FlowInputs),
            teacher,
            variants,
            eval,
            summary,
            device,
            step: 0,
            divergence_flag: true,
            profile: std::sync::OnceLock::new(),
        }
    }

    fn new_report(&self) -> FlowReport {
        FlowReport::default()
    }

    fn step(&self) -> u64 {
        self.step
    }

    /// The run between two steps: each stack's weights and optimizer state, the data RNG and
    /// the per-block divergence flags (see `train::checkpoint`). Reads tensors synchronously:
    /// native and CPU backends only.
    fn save_state(&self) -> Result<ExperimentState, String> {
        let pairs =
            self.variants.iter().map(|v| (v.net.as_ref().expect("net present"), &v.optimizer));
        let (models, optimizers) = checkpoint::save_trained(pairs)?;
        let mut flags = Vec::new();
        for v in &self.variants {
            let f: Vec<f32> = v
                .nonfinite_step
                .clone()
                .into_data()
                .try_to_vec::<f32>()
                .map_err(|e| format!("{e:?}"))?;
            flags.push(f);
        }
        Ok(ExperimentState {
            step: self.step,
            models,
            optimizers,
            rng: RngState::of(&self.data_rng),
            extra: serde_json::json!({ "nonfinite_step": flags }),
        })
    }

    /// Puts a [`GradientFlowExperiment::save_state`] back into this freshly built run.
    fn restore_state(&mut self, state: ExperimentState) -> Result<(), String> {
        let flags: Vec<Vec<f32>> = serde_json::from_value(state.extra["nonfinite_step"].clone())
            .map_err(|e| format!("divergence flags: {e}"))?;
        if flags.len() != self.variants.len()
            || self.variants.iter().zip(&flags).any(|(v, f)| f.len() != v.spec.depth)
        {
            return Err("the checkpoint's divergence flags do not fit this run's stacks".into());
        }
        let slots = self.variants.iter_mut().map(|v| (&mut v.net, &mut v.optimizer)).collect();
        checkpoint::restore_trained(slots, &state, |_| optim::build(&self.spec.optimizer))?;
        for (v, flags) in self.variants.iter_mut().zip(flags) {
            let depth = v.spec.depth;
            v.nonfinite_step = Tensor::from_data(TensorData::new(flags, [depth]), &self.device);
        }
        self.data_rng = state.rng.restore()?;
        self.step = state.step;
        Ok(())
    }

    /// One optimizer step of every stack on the same fresh batch; with `measure` (the last
    /// step before an evaluation), also its per-block metrics.
    fn train_step(&mut self, measure: bool) {
        let (x, y) =
            self.teacher.batch(self.spec.training.batch_size, &mut self.data_rng, &self.device);
        let lr = optim::learning_rate(&self.spec.optimizer, self.step);
        for v in &mut self.variants {
            let net = v.net.take().expect("present between steps");
            let (out, trace) = net.forward_traced(x.clone());
            let loss = net.objective_loss(out, y.clone()); // [1]
            v.loss = Some(loss.clone().detach());
            let grads = loss.backward();
            let squares = (measure || self.divergence_flag)
                .then(|| tensor_grad_squares(&net, &grads).detach()); // [L, T]
            if let (Some(squares), true) = (&squares, self.divergence_flag) {
                let block = squares.clone().sum_dim(1).reshape([net.blocks.len()]); // [L]
                let broke = block.clone().is_nan().bool_or(block.is_inf());
                let first = v.nonfinite_step.clone().lower_elem(0.0).bool_and(broke);
                v.nonfinite_step =
                    v.nonfinite_step.clone().mask_fill(first, (self.step + 1) as f32);
            }
            // Before the step: the weights (for the update ratio) and the measurements.
            let before = measure.then(|| {
                let measures = BlockMeasures::take(squares.expect("taken when measuring"), &trace);
                (measures, stacked_weights(&net))
            });
            drop(trace);
            let mut params = GradientsParams::from_grads(grads, &net);
            self.transform.apply(&net, &mut params);
            let net = v.optimizer.step(lr, net, params);
            if let Some((measures, old)) = before {
                // ‖ΔW_l‖ / ‖W_l‖ over all the block's matrices: [L·T, w²] rows → [L].
                let depth = net.blocks.len();
                let per_block = |rows: Tensor<2>| -> Tensor<1> {
                    let [n, _] = rows.dims();
                    rows.powi_scalar(2)
                        .sum_dim(1)
                        .reshape([depth, n / depth])
                        .sum_dim(1)
                        .reshape([depth])
                };
                let delta = per_block(stacked_weights(&net) - old.clone());
                let ratio = (delta / per_block(old)).sqrt();
                v.layers = Some(measures.readout(ratio));
            }
            v.net = Some(net);
        }
        self.step += 1;
    }

    /// Every stack's metrics in one tensor: `<name>.train` (the last batch's loss),
    /// `<name>.test` (held-out loss) and `<name>.layers` (per-block metrics; at step 0 those of
    /// the initial weights on the held-out batch, with no update ratio).
    fn metrics_tensor(&self) -> (Tensor<1>, ReadoutLayout) {
        let mut out = Readout::default();
        let (x, y) = &self.eval;
        for v in &self.variants {
            let net = v.net.as_ref().expect("present between steps");
            let (pred, trace) = net.forward_traced(x.clone());
            let test = net.objective_loss(pred, y.clone());
            let device = test.device();
            let train = match &v.loss {
                Some(t) => t.clone(),
                None => Tensor::<1>::full([1], f32::NAN, &device),
            };
            let layers = match (&v.layers, self.step) {
                (Some(t), s) if s > 0 => t.clone(),
                _ => {
                    let depth = v.spec.depth;
                    let grads = test.clone().backward();
                    // No update yet: NaN at step 0 (left out of the record).
                    let none = Tensor::<1>::full(
                        [depth],
                        if self.step == 0 { f32::NAN } else { 0.0 },
                        &device,
                    );
                    let squares = tensor_grad_squares(net, &grads).detach();
                    BlockMeasures::take(squares, &trace).readout(none)
                }
            };
            out.push(format!("{}.train", v.name), train);
            out.push(format!("{}.test", v.name), test.detach());
            out.push(format!("{}.layers", v.name), layers);
            out.push(format!("{}.nonfinite", v.name), v.nonfinite_step.clone());
        }
        out.finish()
    }

    /// The record of [`GradientFlowExperiment::metrics_tensor`]'s values. NaN entries (no
    /// training batch, or no update, yet) are left out.
    fn record(
        &self,
        layout: &ReadoutLayout,
        values: &[f32],
        wall_ms: f64,
    ) -> Record<SeriesMetrics> {
        let mut series = std::collections::BTreeMap::new();
        // Before the first step: no training loss, no update ratio (NaN placeholders).
        let keep = |x: f32| self.step > 0 || !x.is_nan();
        for v in &self.variants {
            let first =
                |part: &str| layout.get(values, &format!("{}.{part}", v.name)).first().copied();
            if let Some(x) = first("train").filter(|&x| self.step > 0 && keep(x)) {
                series.insert(format!("{}.train_loss", v.name), x as f64);
            }
            if let Some(x) = first("test") {
                series.insert(format!("{}.test_loss", v.name), x as f64);
            }
            let layers = layout.get(values, &format!("{}.layers", v.name));
            let depth = v.spec.depth;
            for (m, metric) in layer_metrics(v.spec.block).iter().enumerate() {
                for l in 0..depth {
                    if let Some(&x) = layers.get(m * depth + l).filter(|&&x| keep(x)) {
                        series.insert(layer_series(&v.name, metric, l + 1), x as f64);
                    }
                }
            }
            let flags = layout.get(values, &format!("{}.nonfinite", v.name));
            for (l, &step) in flags.iter().enumerate().filter(|(_, s)| **s >= 0.0) {
                series.insert(layer_series(&v.name, NONFINITE_STEP, l + 1), step as f64);
            }
        }
        Record { step: self.step, wall_ms, lab: SeriesMetrics { series } }
    }

    /// Every stack's per-block profile at initialisation; the lab's views take no example.
    async fn analyse(&self, _: bool, _: Option<&[u32]>) -> Result<GradientProfile, RunError> {
        Self::analyse(self).await.map_err(RunError::Device)
    }

    fn summary(&self) -> ExperimentSummary {
        self.summary.clone()
    }

    fn set_divergence_flag(&mut self, on: bool) -> bool {
        Self::set_divergence_flag(self, on);
        true
    }
}
