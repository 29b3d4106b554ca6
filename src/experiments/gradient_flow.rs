//! The gradient-flow lab as a running experiment: its stacks trained side by side on the same
//! fresh batches of a regression task, with per-block metrics taken at each evaluation step.
//!
//! **Per-block metrics** (`../shared/science.md` §3), on the last training step before each
//! evaluation (the session says which step that is), and at step 0 on the initial weights:
//! - `grad_norm.LL`: ‖∂L/∂W_l‖_F of block l's weights, W_in and W_out together (1-based,
//!   zero-padded so names sort in depth order and the first non-finite one is the shallowest);
//! - `act_rms.LL`: RMS of block l's output on the training batch (forward signal propagation);
//! - `update_ratio.LL`: ‖ΔW_l‖_F / ‖W_l‖_F of that optimizer step (both matrices together).
//!
//! They are computed on the device and read back with the losses in the session's one
//! transfer per evaluation; other steps pay for none of it. A record's series are
//! `<stack>.train_loss`, `<stack>.test_loss` and `<stack>.<metric>.LL`.

use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Tensor};
use rand_chacha::ChaCha8Rng;

use super::gradient_probe::{GradientProfile, profile_at_init};
use super::{DeviceLimits, ExperimentSummary};
use crate::data::regression::{FlowTaskKind, Teacher};
use crate::data::rng::{Stream, stream};
use crate::models::deep_stack::{DeepStack, activation_rms, block_grad_norms};
use crate::spec::SpecError;
use crate::spec::gradient_flow::{GradientFlowSpec, StackSpec};
use crate::train::gradients::GradientTransform;
use crate::train::metrics::{LabMetrics, Readout, ReadoutLayout, SeriesMetrics};
use crate::train::{MetricsRecord, optim};

/// Held-out inputs (fixed for the run) for `test_loss`.
pub const EVAL_INPUTS: usize = 512;
/// The per-block metrics, in a record's series names.
pub const LAYER_METRICS: [&str; 3] = ["grad_norm", "act_rms", "update_ratio"];

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
    /// Per-block `[grad_norm (L), act_rms (L), update_ratio (L)]` of the last step that took
    /// them (detached).
    layers: Option<Tensor<1>>,
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
}

/// The largest single tensor a stack allocates for `rows` inputs, in bytes: the activations
/// `[rows, width]`, a weight `[width, width]` (or the input projection / readout).
pub fn largest_tensor_bytes(spec: &GradientFlowSpec, m: &StackSpec, rows: usize) -> u64 {
    let t = &spec.task;
    let widest = [
        rows * m.width,
        m.width * m.width,
        t.input_dim * m.width,
        m.width * t.output_dim,
        rows * t.input_dim,
    ]
    .into_iter()
    .max()
    .unwrap_or(0);
    4 * widest as u64
}

/// Refuses a run whose largest tensor, or all its stacks' parameters and activations together,
/// would not fit the device, naming the estimate.
pub fn check_fits(spec: &GradientFlowSpec, limits: DeviceLimits) -> Result<(), SpecError> {
    let rows = spec.training.batch_size.max(EVAL_INPUTS);
    for (name, m) in &spec.models {
        let bytes = largest_tensor_bytes(spec, m, rows);
        if bytes > limits.max_buffer_bytes {
            return Err(SpecError::new(
                format!("gradient_flow.models.{name}.width"),
                format!(
                    "stack `{name}` needs a {:.0} MiB tensor ({rows} inputs × width {}), more \
                     than this device's {:.0} MiB buffer limit; use a smaller width or batch",
                    bytes as f64 / (1 << 20) as f64,
                    m.width,
                    limits.max_buffer_bytes as f64 / (1 << 20) as f64
                ),
            ));
        }
    }
    Ok(())
}

impl GradientFlowExperiment {
    /// Builds a validated spec on `device` (made an autodiff device here). Every stack draws
    /// its weights from the same init stream (see `gradient_probe`).
    pub fn new(spec: &GradientFlowSpec, device: &Device) -> Self {
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
        };
        let mut facts = vec![
            what,
            format!("{} fresh inputs per step, {EVAL_INPUTS} held out", spec.training.batch_size),
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
            for metric in LAYER_METRICS {
                series.extend((1..=v.spec.depth).map(|l| layer_series(&v.name, metric, l)));
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
        }
    }

    pub fn step(&self) -> u64 {
        self.step
    }

    pub fn summary(&self) -> ExperimentSummary {
        self.summary.clone()
    }

    pub fn spec(&self) -> &GradientFlowSpec {
        &self.spec
    }

    /// One optimizer step of every stack on the same fresh batch; with `measure` (the last
    /// step before an evaluation), also its per-block metrics.
    pub fn train_step(&mut self, measure: bool) {
        let (x, y) =
            self.teacher.batch(self.spec.training.batch_size, &mut self.data_rng, &self.device);
        let [n, _] = y.dims();
        let lr = optim::learning_rate(&self.spec.optimizer, self.step);
        for v in &mut self.variants {
            let net = v.net.take().expect("present between steps");
            let (out, trace) = net.forward_traced(x.clone());
            let loss = (out - y.clone()).powi_scalar(2).sum().mul_scalar(0.5 / n as f64); // [1]
            v.loss = Some(loss.clone().detach());
            let grads = loss.backward();
            let before = measure.then(|| {
                let weights: Vec<[Tensor<2>; 2]> =
                    net.blocks.iter().map(|b| b.weights().map(|w| w.detach())).collect();
                (block_grad_norms(&net, &grads).detach(), activation_rms(&trace).detach(), weights)
            });
            let mut params = GradientsParams::from_grads(grads, &net);
            self.transform.apply(&net, &mut params);
            let net = v.optimizer.step(lr, net, params);
            if let Some((grad_norms, rms, weights)) = before {
                let ratios: Vec<Tensor<1>> = net
                    .blocks
                    .iter()
                    .zip(weights)
                    .map(|(b, old)| {
                        let [d_in, d_out] = [0, 1].map(|i| {
                            (b.weights()[i].clone().detach() - old[i].clone()).powi_scalar(2).sum()
                        });
                        let [n_in, n_out] = old.map(|w| w.powi_scalar(2).sum());
                        (d_in + d_out).sqrt() / (n_in + n_out).sqrt()
                    })
                    .collect();
                v.layers = Some(Tensor::cat(vec![grad_norms, rms, Tensor::cat(ratios, 0)], 0));
            }
            v.net = Some(net);
        }
        self.step += 1;
    }

    /// Every stack's metrics in one tensor: `<name>.train` (the last batch's loss),
    /// `<name>.test` (held-out loss) and `<name>.layers` (per-block metrics; at step 0 those of
    /// the initial weights on the held-out batch, with no update ratio).
    pub fn metrics_tensor(&self) -> (Tensor<1>, ReadoutLayout) {
        let mut out = Readout::default();
        let (x, y) = &self.eval;
        let n = EVAL_INPUTS as f64;
        for v in &self.variants {
            let net = v.net.as_ref().expect("present between steps");
            let (pred, trace) = net.forward_traced(x.clone());
            let test = (pred - y.clone()).powi_scalar(2).sum().mul_scalar(0.5 / n);
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
                    Tensor::cat(
                        vec![
                            block_grad_norms(net, &grads).detach(),
                            activation_rms(&trace).detach(),
                            none,
                        ],
                        0,
                    )
                }
            };
            out.push(format!("{}.train", v.name), train);
            out.push(format!("{}.test", v.name), test.detach());
            out.push(format!("{}.layers", v.name), layers);
        }
        out.finish()
    }

    /// The record of [`GradientFlowExperiment::metrics_tensor`]'s values. NaN entries (no
    /// training batch, or no update, yet) are left out.
    pub fn record(&self, layout: &ReadoutLayout, values: &[f32], wall_ms: f64) -> MetricsRecord {
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
            for (m, metric) in LAYER_METRICS.iter().enumerate() {
                for l in 0..depth {
                    if let Some(&x) = layers.get(m * depth + l).filter(|&&x| keep(x)) {
                        series.insert(layer_series(&v.name, metric, l + 1), x as f64);
                    }
                }
            }
        }
        MetricsRecord {
            step: self.step,
            wall_ms,
            lab: LabMetrics::Series(SeriesMetrics { series }),
        }
    }

    /// The lab's views: every stack's per-block profile at initialisation on the probe batch
    /// (signal propagation before any training; the stacks are rebuilt from the seed, which
    /// gives the same initial weights).
    pub async fn analyse(&self) -> Result<GradientProfile, String> {
        profile_at_init(&self.spec, &self.device).await
    }
}
