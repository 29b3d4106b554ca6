//! The grokking experiment: a modular-arithmetic dataset, a model, a loss and an optimizer, plus
//! the diagnostics the lab shows (softmax collapse, NLM alignment, Fourier/IPR, pruning,
//! prediction grid).

use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Int, Tensor, TensorData};
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::analysis::{self, Analysis, CellClass, GrokReport, PruningPoint};
use super::metrics::{GrokkingMetrics, GrokkingRecord};
use super::spec::{GrokkingModel, GrokkingSpec, LossKind, MlpInput, Precision};
use crate::backend::DeviceLimits;
use crate::labs::grokking::models::GrokkingNet;
use crate::labs::grokking::models::mlp::MlpConfig;
use crate::labs::grokking::models::transformer::{CONTEXT, TransformerConfig};
use crate::labs::grokking::modular::{ModularDataset, Split};
use crate::nn::params::{self, NamedTensor};
use crate::rng::{Stream, stream};
use crate::spec::SpecError;
use crate::train::checkpoint::{self, ExperimentState, RngState};
use crate::train::gradients::{GradientStats, GradientTransform};
use crate::train::loss::{per_sample_loss, predictions, softmax_collapsed};
use crate::train::metrics::{Readout, ReadoutLayout};
use crate::train::{Experiment, ExperimentSummary, RunError, optim};

/// One split on the device.
struct DeviceSplit {
    a: Tensor<1, Int>,
    b: Tensor<1, Int>,
    labels: Tensor<1, Int>,
    /// The true labels (differ from `labels` where label noise replaced them).
    clean_labels: Tensor<1, Int>,
    /// 1.0 where the label was corrupted, `[n]`; `None` without label noise.
    corrupted: Option<Tensor<1>>,
    /// one_hot(labels), `[n, p]`.
    targets: Tensor<2>,
    /// The model's logits at initialisation, subtracted when the output is centered, `[n, p]`.
    initial_logits: Option<Tensor<2>>,
    len: usize,
}

impl DeviceSplit {
    fn new(split: &Split, p: usize, device: &Device) -> Self {
        let ints = |v: &[u32]| {
            let data: Vec<i32> = v.iter().map(|&x| x as i32).collect();
            Tensor::<1, Int>::from_data(TensorData::new(data, [v.len()]), device)
        };
        let labels = ints(&split.labels);
        // one_hot(labels) by comparison with 0..p. (`Tensor::one_hot` range-checks its input
        // with a synchronous read, which panics on WebGPU in a browser.)
        let classes = Tensor::<1, Int>::arange(0..p as i64, device).reshape([1, p]); // [1, p]
        let targets = labels
            .clone()
            .reshape([split.len(), 1]) // [n] -> [n, 1]
            .expand([split.len(), p])
            .equal(classes.expand([split.len(), p]))
            .float(); // [n, p]
        let corrupted = split.corrupted.iter().any(|&c| c).then(|| {
            let flags: Vec<f32> = split.corrupted.iter().map(|&c| c as u8 as f32).collect();
            Tensor::<1>::from_data(TensorData::new(flags, [split.len()]), device)
        });
        Self {
            a: ints(&split.a),
            b: ints(&split.b),
            labels,
            clean_labels: ints(&split.clean_labels),
            corrupted,
            targets,
            initial_logits: None,
            len: split.len(),
        }
    }

    /// Rows `idx` of the inputs, targets and initial logits.
    fn select(&self, idx: Tensor<1, Int>) -> Batch {
        Batch {
            a: self.a.clone().select(0, idx.clone()),
            b: self.b.clone().select(0, idx.clone()),
            targets: self.targets.clone().select(0, idx.clone()),
            initial_logits: self.initial_logits.clone().map(|t| t.select(0, idx)),
        }
    }

    fn all(&self) -> Batch {
        Batch {
            a: self.a.clone(),
            b: self.b.clone(),
            targets: self.targets.clone(),
            initial_logits: self.initial_logits.clone(),
        }
    }
}

struct Batch {
    a: Tensor<1, Int>,
    b: Tensor<1, Int>,
    targets: Tensor<2>,
    initial_logits: Option<Tensor<2>>,
}

/// Pairs and the labels trained on (after label noise).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SplitDump {
    pub a: Vec<u32>,
    pub b: Vec<u32>,
    pub labels: Vec<u32>,
}

/// [`GrokkingExperiment::weights_and_split`]: the weights at `step` and the split.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct WeightsAndSplit {
    pub step: u64,
    pub params: Vec<NamedTensor>,
    pub train: SplitDump,
    pub test: SplitDump,
}

/// A running grokking experiment.
pub struct GrokkingExperiment {
    spec: GrokkingSpec,
    device: Device,
    dataset: ModularDataset,
    /// `None` only transiently while the optimizer consumes it.
    model: Option<GrokkingNet>,
    optimizer: ModuleOptimizer,
    transform: GradientTransform,
    train: DeviceSplit,
    test: DeviceSplit,
    summary: ExperimentSummary,
    batch_rng: ChaCha8Rng,
    batch_order: Vec<usize>,
    batch_cursor: usize,
    /// ⟨g, w⟩, ‖g‖², ‖w‖² of the last step that asked for them.
    last_grad_stats: Option<GradientStats>,
    step: u64,
}

fn build_model(spec: &GrokkingSpec, device: &Device) -> GrokkingNet {
    let p = spec.task.p as usize;
    match &spec.model {
        GrokkingModel::Mlp(m) => {
            // (embedding width, tied tables, one first layer for both operands, tied readout)
            let (embedding_dim, tied, shared_input, tied_output) = match &m.input {
                MlpInput::OneHot => (None, true, false, false),
                MlpInput::Embedding(e) => {
                    (Some(e.dim), e.tied, e.shared_input_layer, e.tied_output)
                }
            };
            GrokkingNet::Mlp(
                MlpConfig::new(p, p)
                    .with_embedding_dim(embedding_dim)
                    .with_tied_embedding(tied)
                    .with_shared_input_layer(shared_input)
                    .with_tied_output(tied_output)
                    .with_width(m.width)
                    .with_depth(m.depth)
                    .with_activation(m.activation)
                    .with_bias(m.bias)
                    .with_init(m.init)
                    .with_init_scale(m.init_scale)
                    .with_seed(spec.seed)
                    .init(device),
            )
        }
        GrokkingModel::Transformer(t) => GrokkingNet::Transformer(
            TransformerConfig::new(p, p)
                .with_layers(t.layers)
                .with_d_model(t.d_model)
                .with_heads(t.heads)
                .with_d_mlp(t.d_mlp)
                .with_layer_norm(t.layer_norm)
                .with_causal(t.causal)
                .with_init_scale(t.init_scale)
                .with_seed(spec.seed)
                .init(device),
        ),
    }
}

const MIB: f64 = (1 << 20) as f64;

/// Refuses a run that does not fit the device, naming the estimate: float64 where the backend
/// has none, or a tensor larger than one device buffer. Called before anything is allocated.
pub fn check_fits(spec: &GrokkingSpec, limits: DeviceLimits) -> Result<(), SpecError> {
    if spec.loss.precision == Precision::F64 && !limits.float64 {
        return Err(SpecError::new(
            "grokking.loss.precision",
            "f64 is not available on this backend (WebGPU has no float64); use f32, or the CPU \
             backend for a float64 loss",
        ));
    }
    let rows = crate::labs::grokking::modular::pair_count(&spec.task) as u64;
    let p = spec.task.p as u64;
    // Evaluation runs whole splits at once; the widest activation decides.
    let (field, floats_per_row, what) = match &spec.model {
        GrokkingModel::Mlp(m) => {
            ("grokking.model.mlp.width", (m.width as u64).max(p), "activation")
        }
        GrokkingModel::Transformer(t) => {
            let d_mlp_rows = if t.layers > 1 { CONTEXT as u64 } else { 1 };
            let widest =
                (t.d_mlp as u64 * d_mlp_rows).max(t.d_model as u64 * CONTEXT as u64).max(p);
            ("grokking.model.transformer.d_mlp", widest, "activation")
        }
    };
    let largest = rows * floats_per_row * 4;
    if largest > limits.max_buffer_bytes {
        return Err(SpecError::new(
            field,
            format!(
                "needs a {:.0} MiB {what} buffer ({rows} pairs × {floats_per_row} floats), more \
                 than this device's {:.0} MiB buffer limit; use a smaller model or p",
                largest as f64 / MIB,
                limits.max_buffer_bytes as f64 / MIB,
            ),
        ));
    }
    Ok(())
}

impl GrokkingExperiment {
    pub fn model(&self) -> &GrokkingNet {
        self.model.as_ref().expect("model is present between steps")
    }

    pub fn dataset(&self) -> &ModularDataset {
        &self.dataset
    }

    /// The next minibatch: a fresh shuffle each epoch, consumed in order.
    fn next_batch(&mut self, size: usize) -> Tensor<1, Int> {
        if self.batch_cursor.saturating_add(size) > self.batch_order.len() {
            self.batch_order.shuffle(&mut self.batch_rng);
            self.batch_cursor = 0;
        }
        let idx: Vec<i32> = self.batch_order[self.batch_cursor..self.batch_cursor + size]
            .iter()
            .map(|&i| i as i32)
            .collect();
        self.batch_cursor += size;
        Tensor::<1, Int>::from_data(TensorData::new(idx, [size]), &self.device)
    }

    /// Logits as the loss sees them: α·(f_θ − f_θ₀) or α·f_θ.
    fn scaled_logits(&self, logits: Tensor<2>, initial: Option<Tensor<2>>) -> Tensor<2> {
        let centered = match initial {
            Some(f0) => logits - f0,
            None => logits,
        };
        let alpha = self.spec.loss.output_scale;
        if alpha == 1.0 { centered } else { centered.mul_scalar(alpha) }
    }

    /// The loss as reported and trained: cross-entropy / p with `class_mean`.
    fn scale_loss(&self, loss: Tensor<1>) -> Tensor<1> {
        let per_class = self.spec.loss.class_mean && self.spec.loss.kind != LossKind::Mse;
        if per_class { loss.div_scalar(self.spec.task.p as f64) } else { loss }
    }

    /// Per-split evaluation on the current weights, without autodiff:
    /// `[loss, acc, collapsed fraction, zero-loss fraction]` plus, for a split with label noise,
    /// `[clean acc, corrupted fit]`.
    fn eval_split(
        &self,
        model: &GrokkingNet,
        split: &DeviceSplit,
    ) -> (Tensor<1>, Option<Tensor<1>>) {
        let a = split.a.clone().without_autodiff();
        let b = split.b.clone().without_autodiff();
        let initial = split.initial_logits.clone().map(|t| t.without_autodiff());
        let logits = self.scaled_logits(model.forward(a, b), initial); // [n, p]
        let (kind, precision) = (self.spec.loss.kind, self.spec.loss.precision);
        let targets = split.targets.clone().without_autodiff();
        let losses = per_sample_loss(kind, precision, logits.clone(), targets); // [n]
        let zero = losses.clone().equal_elem(0.0).float().mean();
        let collapsed = softmax_collapsed(logits.clone(), kind, precision).mean();
        let predicted = predictions(logits); // [n]
        let acc = predicted.clone().equal(split.labels.clone().without_autodiff()).float().mean();
        let base = Tensor::cat(vec![self.scale_loss(losses.mean()), acc, collapsed, zero], 0); // [4]
        let noise = split.corrupted.as_ref().map(|flags| {
            let flags = flags.clone().without_autodiff();
            let clean = predicted.clone().equal(split.clean_labels.clone().without_autodiff());
            let fit_noisy = predicted.equal(split.labels.clone().without_autodiff()).float();
            // Of the corrupted samples, the fraction predicted as their corrupted label.
            let fit = (fit_noisy * flags.clone()).sum() / flags.sum();
            Tensor::cat(vec![clean.float().mean(), fit], 0) // [2]
        });
        (base, noise)
    }

    /// The current weights (every parameter by name, row-major) and the train/test split, read
    /// back in one transfer: what `gradscope inspect init` writes, so any other implementation
    /// can start from exactly this run's numbers (`scripts/reference/transformer_torch.py` does).
    pub async fn weights_and_split(&self) -> Result<WeightsAndSplit, String> {
        let params = params::named_tensors(&self.model().valid()).await?;
        let split =
            |s: &Split| SplitDump { a: s.a.clone(), b: s.b.clone(), labels: s.labels.clone() };
        Ok(WeightsAndSplit {
            step: self.step,
            params,
            train: split(&self.dataset.train),
            test: split(&self.dataset.test),
        })
    }

    /// The heavier views, computed on the current weights: Fourier spectrum and IPR of the
    /// operand map, the prediction grid, and with `pruning` (MLP only) the pruning curve, which
    /// costs 3 forward passes per pruned fraction. Up to three async readbacks.
    pub async fn analyse(&self, pruning: bool) -> Result<Analysis, String> {
        let model = self.model().valid();
        let p = self.spec.task.p as usize;
        let read = |t: Tensor<1>| async move {
            let data = t.into_data_async().await.map_err(|e| format!("{e:?}"))?;
            data.try_to_vec::<f32>().map_err(|e| format!("{e:?}"))
        };

        // The [p, units] maps → host (one readback), where the DFT runs in f64.
        let mut maps = vec![model.operand_map()];
        maps.extend(model.ipr_maps());
        let [_, units] = maps[0].dims();
        let n_maps = maps.len();
        let flat: Vec<Tensor<1>> = maps.into_iter().map(|m| m.reshape([p * units])).collect();
        let values = read(Tensor::cat(flat, 0)).await?;
        let mut maps: Vec<Vec<f32>> = values.chunks(p * units).map(<[f32]>::to_vec).collect();
        debug_assert_eq!(maps.len(), n_maps);
        let spectrum = analysis::fourier::spectrum(&maps[0], p, units);
        let ipr = analysis::fourier::mean_ipr(&maps.split_off(1), p, units);

        // Predictions for every pair of the dataset, train then test.
        let all_a =
            Tensor::cat(vec![self.train.a.clone(), self.test.a.clone()], 0).without_autodiff();
        let all_b =
            Tensor::cat(vec![self.train.b.clone(), self.test.b.clone()], 0).without_autodiff();
        let predicted = predictions(model.forward(all_a, all_b)).float();
        let predicted: Vec<u32> = read(predicted).await?.into_iter().map(|x| x as u32).collect();
        let grid = self.prediction_grid(&predicted);

        let pruning = match model.as_mlp() {
            Some(mlp) if pruning => self.pruning_curve(mlp, &ipr, &read).await?,
            _ => Vec::new(),
        };
        Ok(Analysis { step: self.step, p: p as u32, spectrum, ipr, grid, pruning })
    }

    /// Classifies each cell (a, b) of the p × p grid from the predictions over train ++ test.
    fn prediction_grid(&self, predicted: &[u32]) -> Vec<CellClass> {
        let p = self.spec.task.p as usize;
        let mut grid = vec![CellClass::Absent; p * p];
        let (train, test) = (&self.dataset.train, &self.dataset.test);
        for (i, &y) in predicted.iter().enumerate() {
            let (split, j, is_train) =
                if i < train.len() { (train, i, true) } else { (test, i - train.len(), false) };
            let cell = split.a[j] as usize * p + split.b[j] as usize;
            let correct = y == split.clean_labels[j];
            grid[cell] = match (is_train, split.corrupted[j], correct) {
                (true, true, true) => CellClass::NoisyGeneralized,
                (true, true, false) if y == split.labels[j] => CellClass::NoisyMemorized,
                (true, true, false) => CellClass::NoisyOther,
                (true, false, true) => CellClass::TrainCorrect,
                (true, false, false) => CellClass::TrainWrong,
                (false, _, true) => CellClass::TestCorrect,
                (false, _, false) => CellClass::TestWrong,
            };
        }
        grid
    }

    /// Doshi et al.: zero the lowest-IPR fraction of first-layer neurons and re-measure. One
    /// readback for every fraction.
    async fn pruning_curve<F, Fut>(
        &self,
        mlp: &crate::labs::grokking::models::mlp::Mlp,
        ipr: &[f64],
        read: &F,
    ) -> Result<Vec<PruningPoint>, String>
    where
        F: Fn(Tensor<1>) -> Fut,
        Fut: std::future::Future<Output = Result<Vec<f32>, String>>,
    {
        let width = ipr.len();
        let mut order: Vec<usize> = (0..width).collect();
        order.sort_by(|&x, &y| ipr[x].total_cmp(&ipr[y]));
        let fractions = analysis::PRUNE_FRACTIONS;
        let device = model_device_mlp(mlp);
        let mut parts = Vec::new();
        for &fraction in fractions {
            let pruned = (fraction * width as f64).round() as usize;
            let mut mask = vec![1f32; width];
            for &n in &order[..pruned] {
                mask[n] = 0.0;
            }
            let mask = Tensor::<1>::from_data(TensorData::new(mask, [width]), &device);
            let predict = |split: &DeviceSplit| {
                predictions(mlp.forward_masked(
                    split.a.clone().without_autodiff(),
                    split.b.clone().without_autodiff(),
                    mask.clone(),
                ))
            };
            let acc = |pred: Tensor<1, Int>, labels: &Tensor<1, Int>| {
                pred.equal(labels.clone().without_autodiff()).float().mean()
            };
            let train = predict(&self.train);
            parts.push(acc(train.clone(), &self.train.clean_labels));
            parts.push(acc(train, &self.train.labels));
            parts.push(acc(predict(&self.test), &self.test.labels));
        }
        let v = read(Tensor::cat(parts, 0)).await?;
        Ok(fractions
            .iter()
            .enumerate()
            .map(|(i, &fraction)| PruningPoint {
                fraction,
                train_clean_acc: v[3 * i] as f64,
                train_acc: v[3 * i + 1] as f64,
                test_acc: v[3 * i + 2] as f64,
            })
            .collect())
    }
}

fn model_device(model: &GrokkingNet) -> Device {
    match model {
        GrokkingNet::Mlp(m) => model_device_mlp(m),
        GrokkingNet::Transformer(t) => t.embed.val().device(),
    }
}

fn model_device_mlp(mlp: &crate::labs::grokking::models::mlp::Mlp) -> Device {
    mlp.input_a.val().device()
}

impl Experiment for GrokkingExperiment {
    type Spec = GrokkingSpec;
    type Metrics = GrokkingMetrics;
    type Report = GrokReport;
    type Analysis = Analysis;

    fn check_fits(spec: &GrokkingSpec, limits: DeviceLimits) -> Result<(), SpecError> {
        check_fits(spec, limits)
    }

    /// Builds a validated spec on an autodiff `device`.
    fn new(spec: &GrokkingSpec, device: &Device) -> Self {
        let device = device.clone().autodiff();
        let dataset = ModularDataset::generate(&spec.task, spec.seed);
        let p = spec.task.p as usize;
        let model = build_model(spec, &device);
        let mut train = DeviceSplit::new(&dataset.train, p, &device);
        let mut test = DeviceSplit::new(&dataset.test, p, &device);
        if spec.loss.center {
            // Kumar et al.: f = α·(f_θ − f_θ₀); f_θ₀ is a constant of the run.
            let init = model.valid();
            for split in [&mut train, &mut test] {
                let logits = init.forward(
                    split.a.clone().without_autodiff(),
                    split.b.clone().without_autodiff(),
                );
                split.initial_logits = Some(Tensor::from_inner(logits).detach());
            }
        }
        let corrupted = dataset.train.corrupted.iter().filter(|&&c| c).count();
        let mut facts =
            vec![format!("{} train / {} test pairs", dataset.train.len(), dataset.test.len())];
        if corrupted > 0 {
            facts.push(format!("{corrupted} corrupted labels"));
        }
        let summary = ExperimentSummary {
            lab: "grokking".into(),
            parameters: model.num_params(),
            param_names: params::param_names(&model),
            float64: spec.loss.precision == Precision::F64,
            facts,
            series: Vec::new(),
        };
        let transform = GradientTransform {
            clip_norm: (spec.optimizer.grad_clip > 0.0).then_some(spec.optimizer.grad_clip),
            orthograd: spec.optimizer.orthograd,
            stats: false,
        };
        Self {
            spec: spec.clone(),
            optimizer: optim::build(&spec.optimizer),
            transform,
            train,
            test,
            model: Some(model),
            summary,
            batch_rng: stream(spec.seed, Stream::Batches),
            batch_order: (0..dataset.train.len()).collect(),
            batch_cursor: usize::MAX,
            dataset,
            device,
            last_grad_stats: None,
            step: 0,
        }
    }

    fn new_report(&self) -> GrokReport {
        GrokReport::default()
    }

    fn step(&self) -> u64 {
        self.step
    }

    /// The run between two steps: weights, optimizer state, the batch shuffler and where the
    /// epoch's batch order stands (see `train::checkpoint`). Reads the weights synchronously:
    /// native and CPU backends only.
    fn save_state(&self) -> Result<ExperimentState, String> {
        let (models, optimizers) = checkpoint::save_trained([(self.model(), &self.optimizer)])?;
        Ok(ExperimentState {
            step: self.step,
            models,
            optimizers,
            rng: RngState::of(&self.batch_rng),
            extra: serde_json::json!({
                "batch_order": self.batch_order,
                "batch_cursor": self.batch_cursor as u64,
            }),
        })
    }

    /// Puts a [`GrokkingExperiment::save_state`] back into this freshly built run.
    fn restore_state(&mut self, state: ExperimentState) -> Result<(), String> {
        let order: Vec<usize> = serde_json::from_value(state.extra["batch_order"].clone())
            .map_err(|e| format!("batch order: {e}"))?;
        let cursor = state.extra["batch_cursor"].as_u64().ok_or("batch cursor missing")?;
        let mut sorted = order.clone();
        sorted.sort_unstable();
        if sorted != (0..self.batch_order.len()).collect::<Vec<_>>() {
            return Err("the batch order does not fit this run's training set".into());
        }
        let spec = &self.spec.optimizer;
        let slots = vec![(&mut self.model, &mut self.optimizer)];
        checkpoint::restore_trained(slots, &state, |_| optim::build(spec))?;
        self.batch_rng = state.rng.restore()?;
        self.batch_order = order;
        self.batch_cursor = usize::try_from(cursor).unwrap_or(usize::MAX);
        self.step = state.step;
        Ok(())
    }

    /// One optimizer step on a minibatch (or the full training set). With `stats`, also keeps
    /// the gradient/weight alignment of this step for the next evaluation.
    fn train_step(&mut self, stats: bool) {
        let batch = self.spec.training.batch_size;
        let Batch { a, b, targets, initial_logits } = if batch == 0 || batch >= self.train.len {
            self.train.all()
        } else {
            let idx = self.next_batch(batch);
            self.train.select(idx)
        };
        let model = self.model.take().expect("model is present between steps");
        let logits = self.scaled_logits(model.forward(a, b), initial_logits); // [batch, p]
        let loss = self.scale_loss(
            per_sample_loss(self.spec.loss.kind, self.spec.loss.precision, logits, targets).mean(),
        );
        let mut grads = GradientsParams::from_grads(loss.backward(), &model);
        let transform = GradientTransform { stats, ..self.transform };
        if let Some(s) = transform.apply(&model, &mut grads) {
            self.last_grad_stats = Some(s);
        }
        // Kumar et al.: the learning rate scales as 1/α² with the output scale.
        let alpha = self.spec.loss.output_scale;
        let lr = optim::learning_rate(&self.spec.optimizer, self.step) / (alpha * alpha);
        self.model = Some(self.optimizer.step(lr, model, grads));
        self.step += 1;
    }

    /// Every per-evaluation metric as one device tensor, read back in one transfer:
    /// `[train_loss, train_acc, train_collapsed, train_zero_loss, test_loss, test_acc,
    ///   ⟨g,w⟩, ‖g‖², ‖w‖², train_clean_acc, corrupted_fit, Σw² per parameter…]`.
    /// Entries without a value (no gradient yet, no label noise) are NaN.
    fn metrics_tensor(&self) -> (Tensor<1>, ReadoutLayout) {
        let model = self.model().valid();
        let (train, train_noise) = self.eval_split(&model, &self.train);
        let (test, _) = self.eval_split(&model, &self.test);
        let nan = |n: usize| Tensor::<1>::full([n], f32::NAN, &model_device(&model));
        let grad = match &self.last_grad_stats {
            Some(s) => s.0.clone().inner(),
            None => nan(3),
        };
        let noise = train_noise.unwrap_or_else(|| nan(2));
        let mut out = Readout::default();
        out.push("train", train); // [loss, acc, collapsed, zero loss]
        out.push("test", test.slice([0..2])); // [loss, acc]
        out.push("grad", grad); // [⟨g,w⟩, ‖g‖², ‖w‖²]
        out.push("noise", noise); // [clean acc, corrupted fit]
        out.push("sq_norms", params::param_sq_norms(&model)); // Σw² per parameter
        out.finish()
    }

    /// Turns [`GrokkingExperiment::metrics_tensor`]'s values into a record.
    fn record(&self, layout: &ReadoutLayout, v: &[f32], wall_ms: f64) -> GrokkingRecord {
        let part =
            |name: &str, i: usize| layout.get(v, name).get(i).map_or(f64::NAN, |&x| x as f64);
        let opt = |x: f64| x.is_finite().then_some(x);
        let layer_norms: Vec<f64> =
            layout.get(v, "sq_norms").iter().map(|&x| (x as f64).sqrt()).collect();
        let (dot, gg, ww) = (part("grad", 0), part("grad", 1), part("grad", 2));
        let metrics = GrokkingMetrics {
            train_loss: part("train", 0),
            train_acc: part("train", 1),
            test_loss: part("test", 0),
            test_acc: part("test", 1),
            weight_norm: layer_norms.iter().map(|n| n * n).sum::<f64>().sqrt(),
            softmax_collapse: part("train", 2),
            zero_loss: part("train", 3),
            // Before the first step there is no gradient; a zero gradient has no direction.
            nlm_cosine: self.last_grad_stats.as_ref().and_then(|_| opt(dot / (gg * ww).sqrt())),
            grad_norm: self.last_grad_stats.as_ref().map(|_| gg.sqrt()),
            train_clean_acc: opt(part("noise", 0)),
            corrupted_fit: opt(part("noise", 1)),
            layer_norms,
        };
        GrokkingRecord { step: self.step, wall_ms, lab: metrics }
    }

    /// `final_views` adds the pruning curve; the lab's views take no example.
    async fn analyse(&self, final_views: bool, _: Option<&[u32]>) -> Result<Analysis, RunError> {
        Self::analyse(self, final_views).await.map_err(RunError::Device)
    }

    fn summary(&self) -> ExperimentSummary {
        self.summary.clone()
    }
}
