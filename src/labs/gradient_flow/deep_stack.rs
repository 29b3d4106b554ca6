//! The gradient-flow lab's model: a deep stack of residual (or plain) blocks, with the choices
//! the lab is about — norm placement, residual branch scale, init, activation
//! (`docs/science.md` §3).
//!
//! ```text
//! x [b, in] ─ W_in ─ h_0 ─ block_1 ─ … ─ block_L ─ h_L ─ W_head ─ y [b, out]
//!
//! block, with the MLP branch F(h) = act(h W_in + b_in) W_out + b_out (hidden width = width)
//! and s the branch scale (1, 1/√L, or SkipInit's α = 0):
//!   none     h + s·F(h)
//!   Post-LN  N(h + s·F(h))
//!   Pre-LN   h + s·F(N(h))
//!   Peri-LN  h + s·N(F(N(h)))          (normalize each sublayer's input and output)
//!   Mix-LN   Post-LN for the first ⌊ρL⌋ blocks, Pre-LN after (Li et al. 2024)
//! without a residual ("no residual"), the `h +` is dropped: a plain deep network.
//! Pre-, Peri- and Mix-LN stacks end with a final norm before the readout (as Pre-LN
//! transformers do): the residual stream grows with depth, and the readout should not.
//!
//! transformer blocks (the sequence task): an attention sublayer, then the MLP sublayer, each
//! wired as above with its own norms and branch scale:
//!   A(h) = softmax(q kᵀ/√d_head + causal) v W_o,  q = h W_q, k = h W_k, v = h W_v
//! with qk-LayerNorm (Dehghani et al. 2023; Wortsman et al. 2023) normalising q and k over
//! each head's dimensions before the product. The stream is `[b·s, w]` throughout; only
//! attention reshapes it to `[b, heads, s, d_head]`.
//! ```
//!
//! A two-layer branch, as in a transformer's MLP sublayer, rather than act(h W): with one
//! ReLU layer the branch's output variance (0.68 of its Jacobian's gain, ReLU's mean going to
//! the norm) is smaller than what it adds to the backward signal, and Post-LN's gradients then
//! *grow* towards the input (first/last-quarter ratio ≈ 4 at depth 24); with the two-layer
//! branch they vanish there (≈ 0.3), as published — checked against PyTorch in float64.
//!
//! N is LayerNorm or RMSNorm (ε = 1e-5, PyTorch's LayerNorm default), gain 1 and bias 0 at
//! init. Weights are drawn on the host (see `models/init.rs`) so every backend starts from the
//! same numbers; biases start at 0. `tests/native/gradient_flow.rs` checks the per-layer gradients
//! against a float64 backward pass written in the test and central finite differences.

use burn::module::{Module, Param};
use burn::tensor::activation::{gelu, log_softmax, relu, softmax};
use burn::tensor::{Device, Tensor, TensorData};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::nn::attention::causal_bias;
use crate::nn::init::{normal, orthogonal};

/// ε of both norms (PyTorch's `nn.LayerNorm` default).
pub const NORM_EPS: f64 = 1e-5;
/// SELU's constants (Klambauer et al. 2017): the fixed point of mean 0, variance 1.
pub const SELU_LAMBDA: f64 = 1.050_700_987_355_480_5;
pub const SELU_ALPHA: f64 = 1.673_263_242_354_377_3;

/// Where the norms sit in a block (see the module doc).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NormPlacement {
    None,
    Post,
    Pre,
    Peri,
    /// Post-LN for the first ⌊ρ·depth⌋ blocks, Pre-LN after.
    Mix,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NormKind {
    /// (h − mean) / √(var + ε) · g + b.
    LayerNorm,
    /// h / √(mean(h²) + ε) · g.
    RmsNorm,
}

/// The residual branch's scale, or no residual connection at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResidualScale {
    One,
    /// 1/√depth.
    InvSqrtDepth,
    /// A learnable scalar per block, initialised to 0 (De & Smith 2020): each block starts as
    /// the identity, and its weights get no gradient until α moves.
    SkipInit,
    /// A plain deep network: h_{l+1} = F(h_l).
    None,
}

/// Weight init; the std is multiplied by the stack's gain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InitKind {
    /// N(0, 2/(fan_in + fan_out)) (Glorot & Bengio 2010).
    Xavier,
    /// N(0, 2/fan_in) for a layer the activation follows, N(0, 1/fan_in) for the branch's
    /// output layer (He et al. 2015, for ReLU).
    Kaiming,
    /// N(0, 1/fan_in) (LeCun 1998; SELU's init).
    Lecun,
    /// A random (semi-)orthogonal matrix (Saxe et al. 2014).
    Orthogonal,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    Relu,
    Tanh,
    /// The exact (erf) GELU.
    Gelu,
    /// λ·x for x > 0, λ·α·(eˣ − 1) otherwise.
    Selu,
    /// The identity: a deep linear network.
    Linear,
}

impl Activation {
    pub fn apply<const D: usize>(self, x: Tensor<D>) -> Tensor<D> {
        match self {
            Activation::Relu => relu(x),
            Activation::Tanh => x.tanh(),
            Activation::Gelu => gelu(x),
            Activation::Selu => {
                let negative = (x.clone().clamp_max(0.0).exp() - 1.0) * SELU_ALPHA;
                (relu(x) + negative) * SELU_LAMBDA
            }
            Activation::Linear => x,
        }
    }
}

/// What one block of the stack is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockKind {
    /// The MLP sublayer alone (vector tasks).
    Mlp,
    /// Causal self-attention, then the MLP sublayer (the sequence task).
    Transformer,
}

impl BlockKind {
    /// The weight matrices of a block, in [`Block::weights`]' order: what the per-tensor
    /// drill-down names.
    pub fn tensors(self) -> &'static [&'static str] {
        match self {
            BlockKind::Mlp => &["in", "out"],
            BlockKind::Transformer => &["q", "k", "v", "o", "in", "out"],
        }
    }
}

/// The stack's loss.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Objective {
    /// ½ · mean over the batch of ‖f(x) − y‖².
    Regression,
    /// Cross-entropy at the rows whose one-hot target is set (rows of zeros are not scored),
    /// plus `z_loss` · mean (log Z)² over the same rows (PaLM; Wortsman et al. 2023 use 1e-4).
    Classification { z_loss: f64 },
}

/// Configuration of [`DeepStack`] (the lab's `StackSpec` plus the task's dimensions).
#[derive(Clone, Debug, PartialEq)]
pub struct StackConfig {
    pub input_dim: usize,
    pub output_dim: usize,
    pub depth: usize,
    pub width: usize,
    pub norm: NormPlacement,
    pub norm_kind: NormKind,
    pub mix_ratio: f64,
    pub residual: ResidualScale,
    pub init: InitKind,
    pub gain: f64,
    pub activation: Activation,
    pub block: BlockKind,
    /// Transformer blocks: attention heads (`width` divisible by it).
    pub heads: usize,
    /// Transformer blocks: LayerNorm on queries and keys.
    pub qk_norm: bool,
    /// Transformer blocks: positions per sequence (the stream's rows come in runs of it).
    pub seq_len: usize,
    pub objective: Objective,
}

impl StackConfig {
    /// Block `l`'s placement: Mix-LN resolved to Post-LN (l < ⌊ρ·depth⌋) or Pre-LN.
    pub fn placement(&self, l: usize) -> NormPlacement {
        match self.norm {
            NormPlacement::Mix => {
                // ⌊ρ·depth⌋ of the decimal ρ the user typed: a product within 10⁻⁹ below a
                // whole number is that number (0.58 · 50 is 29 blocks; float64 says 28.999…).
                let post = (self.mix_ratio * self.depth as f64 + 1e-9).floor() as usize;
                if l < post { NormPlacement::Post } else { NormPlacement::Pre }
            }
            p => p,
        }
    }

    /// `[fan_in, fan_out]` weights of this init, row-major. `activated`: the layer's output
    /// goes through the activation (Kaiming's gain √2 is for those; a layer whose output is
    /// added or read out gets gain 1, as `kaiming_normal_(nonlinearity="linear")`).
    fn weights(
        &self,
        rng: &mut ChaCha8Rng,
        fan_in: usize,
        fan_out: usize,
        activated: bool,
    ) -> Vec<f32> {
        let g = self.gain;
        match self.init {
            InitKind::Xavier => {
                normal(rng, fan_in, fan_out, g * (2.0 / (fan_in + fan_out) as f64).sqrt())
            }
            InitKind::Kaiming => {
                let gain2 = if activated { 2.0 } else { 1.0 };
                normal(rng, fan_in, fan_out, g * (gain2 / fan_in as f64).sqrt())
            }
            InitKind::Lecun => normal(rng, fan_in, fan_out, g * (1.0 / fan_in as f64).sqrt()),
            InitKind::Orthogonal => orthogonal(rng, fan_in, fan_out, g),
        }
    }

    /// The stack, its weights drawn from `rng` in order: the input projection, then per block
    /// W_in and W_out (nothing else: biases, norm gains and SkipInit's α are constants at
    /// init), then the readout.
    pub fn init_with(&self, rng: &mut ChaCha8Rng, device: &Device) -> DeepStack {
        let w = self.width;
        let matrix = |values: Vec<f32>, rows: usize, cols: usize| {
            Param::from_data(TensorData::new(values, [rows, cols]), device)
        };
        let vector =
            |value: f32, n: usize| Param::from_data(TensorData::new(vec![value; n], [n]), device);
        let input = matrix(self.weights(rng, self.input_dim, w, false), self.input_dim, w);
        let norm = |on: bool| {
            on.then(|| Norm {
                gain: vector(1.0, w),
                bias: (self.norm_kind == NormKind::LayerNorm).then(|| vector(0.0, w)),
                kind: self.norm_kind,
            })
        };
        let d_head = w / self.heads.max(1);
        let qk_norm = || {
            self.qk_norm.then(|| Norm {
                gain: vector(1.0, d_head),
                bias: Some(vector(0.0, d_head)),
                kind: NormKind::LayerNorm,
            })
        };
        let scale = match self.residual {
            ResidualScale::InvSqrtDepth => 1.0 / (self.depth as f64).sqrt(),
            _ => 1.0,
        };
        let blocks = (0..self.depth)
            .map(|l| {
                let placement = self.placement(l);
                let attention = (self.block == BlockKind::Transformer).then(|| {
                    let [w_q, w_k, w_v, w_o] =
                        [(); 4].map(|_| matrix(self.weights(rng, w, w, false), w, w));
                    AttentionSublayer {
                        w_q,
                        w_k,
                        w_v,
                        w_o,
                        q_norm: qk_norm(),
                        k_norm: qk_norm(),
                        norm_in: norm(matches!(
                            placement,
                            NormPlacement::Pre | NormPlacement::Peri
                        )),
                        norm_out: norm(matches!(
                            placement,
                            NormPlacement::Post | NormPlacement::Peri
                        )),
                        skip: (self.residual == ResidualScale::SkipInit).then(|| vector(0.0, 1)),
                        heads: self.heads,
                        seq_len: self.seq_len,
                    }
                });
                let w_in = matrix(self.weights(rng, w, w, true), w, w);
                let w_out = matrix(self.weights(rng, w, w, false), w, w);
                Block {
                    attention,
                    w_in,
                    b_in: vector(0.0, w),
                    w_out,
                    b_out: vector(0.0, w),
                    norm_in: norm(matches!(placement, NormPlacement::Pre | NormPlacement::Peri)),
                    norm_out: norm(matches!(placement, NormPlacement::Post | NormPlacement::Peri)),
                    skip: (self.residual == ResidualScale::SkipInit).then(|| vector(0.0, 1)),
                    placement,
                    scale,
                    residual: self.residual != ResidualScale::None,
                    activation: self.activation,
                }
            })
            .collect();
        // The readout: LeCun-scaled whatever the stack's init, so it does not decide the loss
        // scale.
        let head =
            matrix(normal(rng, w, self.output_dim, (1.0 / w as f64).sqrt()), w, self.output_dim);
        let last = self.depth.checked_sub(1).map(|l| self.placement(l));
        let final_norm = norm(matches!(last, Some(NormPlacement::Pre | NormPlacement::Peri)));
        DeepStack { input, blocks, final_norm, head, objective: self.objective }
    }
}

/// LayerNorm or RMSNorm over the last dimension.
#[derive(Module, Debug)]
pub struct Norm {
    pub gain: Param<Tensor<1>>,
    /// LayerNorm only.
    pub bias: Option<Param<Tensor<1>>>,
    #[module(skip)]
    pub kind: NormKind,
}

impl Norm {
    /// `[b, w]` → `[b, w]`.
    pub fn forward(&self, h: Tensor<2>) -> Tensor<2> {
        let normed = match self.kind {
            NormKind::LayerNorm => {
                let centred = h.clone() - h.mean_dim(1); // [b, w]
                let var = centred.clone().powi_scalar(2).mean_dim(1); // [b, 1]
                centred / (var + NORM_EPS).sqrt()
            }
            NormKind::RmsNorm => {
                let ms = h.clone().powi_scalar(2).mean_dim(1); // [b, 1]
                h / (ms + NORM_EPS).sqrt()
            }
        };
        let normed = normed * self.gain.val().unsqueeze::<2>();
        match &self.bias {
            Some(b) => normed + b.val().unsqueeze::<2>(),
            None => normed,
        }
    }
}

/// The residual wiring of one sublayer around its branch F (see the module doc): the norms
/// `placement` puts in, the branch scale (SkipInit's α or `scale`), and the residual add.
#[allow(clippy::too_many_arguments)]
fn wire(
    h: Tensor<2>,
    norm_in: &Option<Norm>,
    norm_out: &Option<Norm>,
    skip: &Option<Param<Tensor<1>>>,
    placement: NormPlacement,
    scale: f64,
    residual: bool,
    branch: impl FnOnce(Tensor<2>) -> Tensor<2>,
) -> Tensor<2> {
    let input = match norm_in {
        Some(n) => n.forward(h.clone()),
        None => h.clone(),
    };
    let branch = branch(input); // [rows, w]
    let branch = match (norm_out, placement) {
        (Some(n), NormPlacement::Peri) => n.forward(branch),
        _ => branch,
    };
    let branch = match skip {
        Some(alpha) => branch * alpha.val().unsqueeze::<2>(),
        None if scale != 1.0 => branch * scale,
        None => branch,
    };
    let out = if residual { h + branch } else { branch };
    match (norm_out, placement) {
        (Some(n), NormPlacement::Post) => n.forward(out),
        _ => out,
    }
}

/// A transformer block's attention sublayer: causal multi-head self-attention without biases,
/// with its own norms and branch scale (wired as the block's MLP sublayer).
#[derive(Module, Debug)]
pub struct AttentionSublayer {
    /// Query, key, value and output maps, `[w, w]` (heads side by side).
    pub w_q: Param<Tensor<2>>,
    pub w_k: Param<Tensor<2>>,
    pub w_v: Param<Tensor<2>>,
    pub w_o: Param<Tensor<2>>,
    /// qk-LayerNorm over each head's `d_head` dimensions (gain and bias shared by the heads).
    pub q_norm: Option<Norm>,
    pub k_norm: Option<Norm>,
    pub norm_in: Option<Norm>,
    pub norm_out: Option<Norm>,
    pub skip: Option<Param<Tensor<1>>>,
    #[module(skip)]
    pub heads: usize,
    #[module(skip)]
    pub seq_len: usize,
}

impl AttentionSublayer {
    /// The branch A(x), `[b·s, w]` → `[b·s, w]`, and the largest attention logit q·k/√d_head
    /// over the positions each query may see, `[1]` (Wortsman et al.'s "max attention logit").
    pub fn branch(&self, x: Tensor<2>) -> (Tensor<2>, Tensor<1>) {
        let [rows, w] = x.dims();
        let (s, heads) = (self.seq_len, self.heads);
        let (b, d_head) = (rows / s, w / heads);
        let project = |weight: &Param<Tensor<2>>, norm: &Option<Norm>| {
            let t = x.clone().matmul(weight.val()); // [b·s, w]
            let t = match norm {
                // [b·s·heads, d_head]: each head's vector normalised on its own.
                Some(n) => n.forward(t.reshape([rows * heads, d_head])).reshape([rows, w]),
                None => t,
            };
            t.reshape([b, s, heads, d_head]).swap_dims(1, 2) // [b, heads, s, d_head]
        };
        let q = project(&self.w_q, &self.q_norm);
        let k = project(&self.w_k, &self.k_norm);
        let v = project(&self.w_v, &None);
        let logits = q.matmul(k.swap_dims(2, 3)).div_scalar((d_head as f64).sqrt()); // [b, heads, s, s]
        let causal = causal_bias(0, s, &logits.device()).reshape([1, 1, s, s]);
        let logits = logits + causal; // blocked entries at −1e9: never the max
        let max_logit = logits.clone().detach().max().reshape([1]);
        let z = softmax(logits, 3).matmul(v); // [b, heads, s, d_head]
        let z = z.swap_dims(1, 2).reshape([rows, w]); // [b·s, w]
        (z.matmul(self.w_o.val()), max_logit)
    }
}

/// One block (see the module doc).
#[derive(Module, Debug)]
pub struct Block {
    /// Transformer blocks: the attention sublayer, before the MLP sublayer.
    pub attention: Option<AttentionSublayer>,
    /// The branch's first layer, `[w, w]`, and bias `[w]`.
    pub w_in: Param<Tensor<2>>,
    pub b_in: Param<Tensor<1>>,
    /// The branch's second layer, `[w, w]`, and bias `[w]`.
    pub w_out: Param<Tensor<2>>,
    pub b_out: Param<Tensor<1>>,
    /// Pre-LN, Peri-LN: on the branch's input.
    pub norm_in: Option<Norm>,
    /// Post-LN: after the sum; Peri-LN: on the branch's output.
    pub norm_out: Option<Norm>,
    /// SkipInit's α, `[1]`.
    pub skip: Option<Param<Tensor<1>>>,
    #[module(skip)]
    pub placement: NormPlacement,
    #[module(skip)]
    pub scale: f64,
    #[module(skip)]
    pub residual: bool,
    #[module(skip)]
    pub activation: Activation,
}

impl Block {
    /// `[rows, w]` → `[rows, w]`.
    pub fn forward(&self, h: Tensor<2>) -> Tensor<2> {
        self.forward_traced(h).0
    }

    /// The block's output and, for a transformer block, its max attention logit (`[1]`).
    pub fn forward_traced(&self, h: Tensor<2>) -> (Tensor<2>, Option<Tensor<1>>) {
        let (h, max_logit) = match &self.attention {
            Some(a) => {
                let mut max_logit = None;
                let h = wire(
                    h,
                    &a.norm_in,
                    &a.norm_out,
                    &a.skip,
                    self.placement,
                    self.scale,
                    self.residual,
                    |x| {
                        let (out, m) = a.branch(x);
                        max_logit = Some(m);
                        out
                    },
                );
                (h, max_logit)
            }
            None => (h, None),
        };
        let mlp = |x: Tensor<2>| {
            let hidden =
                self.activation.apply(x.matmul(self.w_in.val()) + self.b_in.val().unsqueeze::<2>()); // [rows, w]
            hidden.matmul(self.w_out.val()) + self.b_out.val().unsqueeze::<2>()
        };
        let out = wire(
            h,
            &self.norm_in,
            &self.norm_out,
            &self.skip,
            self.placement,
            self.scale,
            self.residual,
            mlp,
        );
        (out, max_logit)
    }

    /// The block's weight matrices, in [`BlockKind::tensors`]' order (W_q, W_k, W_v, W_o for a
    /// transformer block, then W_in, W_out): what its gradient norm and update ratio are
    /// taken over.
    pub fn weights(&self) -> Vec<Tensor<2>> {
        let mut out = Vec::with_capacity(6);
        if let Some(a) = &self.attention {
            out.extend([&a.w_q, &a.w_k, &a.w_v, &a.w_o].map(|w| w.val()));
        }
        out.extend([self.w_in.val(), self.w_out.val()]);
        out
    }
}

/// The stack: input projection, blocks, readout.
#[derive(Module, Debug)]
pub struct DeepStack {
    /// `[in, w]` (the sequence task: its one-hot token and position rows are the embeddings).
    pub input: Param<Tensor<2>>,
    pub blocks: Vec<Block>,
    /// Before the readout, when the last block is Pre- or Peri-LN.
    pub final_norm: Option<Norm>,
    /// `[w, out]`
    pub head: Param<Tensor<2>>,
    #[module(skip)]
    pub objective: Objective,
}

/// What a traced forward pass saw, per block.
pub struct Trace {
    /// Each block's output h_1 … h_L, `[rows, w]`.
    pub outputs: Vec<Tensor<2>>,
    /// Transformer blocks: each block's max attention logit, `[1]` (detached); empty otherwise.
    pub max_logits: Vec<Tensor<1>>,
}

impl DeepStack {
    /// `x: [rows, in]` → `[rows, out]`.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        self.forward_traced(x).0
    }

    /// The output and every block's output and max attention logit.
    pub fn forward_traced(&self, x: Tensor<2>) -> (Tensor<2>, Trace) {
        let mut h = x.matmul(self.input.val()); // [rows, w]
        let mut trace =
            Trace { outputs: Vec::with_capacity(self.blocks.len()), max_logits: Vec::new() };
        for block in &self.blocks {
            let (out, max_logit) = block.forward_traced(h);
            h = out;
            trace.outputs.push(h.clone());
            trace.max_logits.extend(max_logit);
        }
        let h = match &self.final_norm {
            Some(n) => n.forward(h),
            None => h,
        };
        (h.matmul(self.head.val()), trace)
    }

    /// The stack's loss on `(x, y)` (see [`Objective`]), `[1]`.
    pub fn loss(&self, x: Tensor<2>, y: Tensor<2>) -> Tensor<1> {
        self.objective_loss(self.forward(x), y)
    }

    /// The loss of outputs `out` against targets `y` (`[rows, out]` both).
    pub fn objective_loss(&self, out: Tensor<2>, y: Tensor<2>) -> Tensor<1> {
        match self.objective {
            Objective::Regression => {
                let [b, _] = y.dims();
                (out - y).powi_scalar(2).sum().mul_scalar(0.5 / b as f64)
            }
            Objective::Classification { z_loss } => {
                let scored = y.clone().sum_dim(1); // [rows, 1]: 1 where a target is set
                let count = scored.clone().sum().clamp_min(1.0); // [1]
                let ce = (y * log_softmax(out.clone(), 1)).sum().neg() / count.clone();
                if z_loss == 0.0 {
                    return ce;
                }
                let max = out.clone().max_dim(1).detach(); // [rows, 1]
                let log_z = (out - max.clone()).exp().sum_dim(1).log() + max; // [rows, 1]
                ce + (log_z.powi_scalar(2) * scored).sum().mul_scalar(z_loss) / count
            }
        }
    }
}

/// RMS of each traced activation, `[L]`, on the device (one readback for all). The
/// activations are stacked first: a few large ops rather than a few per block (on the CPU
/// each op's fixed cost, not its arithmetic, is what per-block metrics cost).
pub fn activation_rms(trace: &Trace) -> Tensor<1> {
    let depth = trace.outputs.len();
    let all = Tensor::stack::<3>(trace.outputs.clone(), 0).detach(); // [L, rows, w]
    all.reshape([depth as i32, -1]).powi_scalar(2).mean_dim(1).sqrt().reshape([depth]) // [L]
}

/// Every block's weight matrices as rows, `[L·T, w²]` (T = [`BlockKind::tensors`], all of
/// them `[w, w]`), detached: what the update ratio and the gradient norms reduce over.
pub fn stacked_weights(stack: &DeepStack) -> Tensor<2> {
    let rows: Vec<Tensor<1>> =
        stack.blocks.iter().flat_map(|b| b.weights()).map(|w| w.detach().reshape([-1])).collect();
    Tensor::stack(rows, 0)
}

/// ‖∂L/∂W‖_F of every weight matrix of every block, `[L, T]` (T = [`BlockKind::tensors`]),
/// on the device; 0 where no gradient reached it.
pub fn tensor_grad_norms(stack: &DeepStack, grads: &burn::tensor::Gradients) -> Tensor<2> {
    tensor_grad_squares(stack, grads).sqrt()
}

/// ‖∂L/∂W‖²_F, `[L, T]`, reduced in one op over the stacked gradients.
pub fn tensor_grad_squares(stack: &DeepStack, grads: &burn::tensor::Gradients) -> Tensor<2> {
    let device = stack.input.val().device();
    let per_block = stack.blocks.first().map_or(0, |b| b.weights().len());
    let rows: Vec<Tensor<1>> = stack
        .blocks
        .iter()
        .flat_map(|b| b.weights())
        .map(|w| {
            let n = w.shape().num_elements();
            match w.grad(grads) {
                Some(g) => g.reshape([n]),
                None => Tensor::<1>::zeros([n], &device),
            }
        })
        .collect();
    let squares = Tensor::stack::<2>(rows, 0).powi_scalar(2).sum_dim(1); // [L·T, 1]
    squares.reshape([stack.blocks.len(), per_block])
}

/// ‖∂L/∂W_l‖_F of each block's weights (all its matrices together), `[L]`, on the device; 0
/// where no gradient reached them.
pub fn block_grad_norms(stack: &DeepStack, grads: &burn::tensor::Gradients) -> Tensor<1> {
    let squares = tensor_grad_squares(stack, grads); // [L, T]
    squares.sum_dim(1).sqrt().reshape([stack.blocks.len()])
}
