//! The gradient-flow lab's model: a deep stack of residual (or plain) blocks, with the choices
//! the lab is about — norm placement, residual branch scale, init, activation
//! (`../shared/science.md` §3).
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
//! same numbers; biases start at 0. `tests/gradient_flow.rs` checks the per-layer gradients
//! against a float64 backward pass written in the test and central finite differences.

use burn::module::{Module, Param};
use burn::tensor::activation::{gelu, relu};
use burn::tensor::{Device, Tensor, TensorData};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::models::init::{normal, orthogonal};

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
}

impl StackConfig {
    /// Block `l`'s placement: Mix-LN resolved to Post-LN (l < ⌊ρ·depth⌋) or Pre-LN.
    pub fn placement(&self, l: usize) -> NormPlacement {
        match self.norm {
            NormPlacement::Mix => {
                let post = (self.mix_ratio * self.depth as f64).floor() as usize;
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
        let blocks = (0..self.depth)
            .map(|l| {
                let placement = self.placement(l);
                let w_in = matrix(self.weights(rng, w, w, true), w, w);
                let w_out = matrix(self.weights(rng, w, w, false), w, w);
                Block {
                    w_in,
                    b_in: vector(0.0, w),
                    w_out,
                    b_out: vector(0.0, w),
                    norm_in: norm(matches!(placement, NormPlacement::Pre | NormPlacement::Peri)),
                    norm_out: norm(matches!(placement, NormPlacement::Post | NormPlacement::Peri)),
                    skip: (self.residual == ResidualScale::SkipInit).then(|| vector(0.0, 1)),
                    placement,
                    scale: match self.residual {
                        ResidualScale::InvSqrtDepth => 1.0 / (self.depth as f64).sqrt(),
                        _ => 1.0,
                    },
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
        DeepStack { input, blocks, final_norm, head }
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

/// One block (see the module doc).
#[derive(Module, Debug)]
pub struct Block {
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
    /// `[b, w]` → `[b, w]`.
    pub fn forward(&self, h: Tensor<2>) -> Tensor<2> {
        let input = match &self.norm_in {
            Some(n) => n.forward(h.clone()),
            None => h.clone(),
        };
        let hidden =
            self.activation.apply(input.matmul(self.w_in.val()) + self.b_in.val().unsqueeze::<2>()); // [b, w]
        let branch = hidden.matmul(self.w_out.val()) + self.b_out.val().unsqueeze::<2>();
        let branch = match (&self.norm_out, self.placement) {
            (Some(n), NormPlacement::Peri) => n.forward(branch),
            _ => branch,
        };
        let branch = match &self.skip {
            Some(alpha) => branch * alpha.val().unsqueeze::<2>(),
            None if self.scale != 1.0 => branch * self.scale,
            None => branch,
        };
        let out = if self.residual { h + branch } else { branch };
        match (&self.norm_out, self.placement) {
            (Some(n), NormPlacement::Post) => n.forward(out),
            _ => out,
        }
    }
}

/// The stack: input projection, blocks, readout.
#[derive(Module, Debug)]
pub struct DeepStack {
    /// `[in, w]`
    pub input: Param<Tensor<2>>,
    pub blocks: Vec<Block>,
    /// Before the readout, when the last block is Pre- or Peri-LN.
    pub final_norm: Option<Norm>,
    /// `[w, out]`
    pub head: Param<Tensor<2>>,
}

impl DeepStack {
    /// `x: [b, in]` → `[b, out]`.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        self.forward_traced(x).0
    }

    /// The output and every block's output h_1 … h_L (`[b, w]` each).
    pub fn forward_traced(&self, x: Tensor<2>) -> (Tensor<2>, Vec<Tensor<2>>) {
        let mut h = x.matmul(self.input.val()); // [b, w]
        let mut trace = Vec::with_capacity(self.blocks.len());
        for block in &self.blocks {
            h = block.forward(h);
            trace.push(h.clone());
        }
        let h = match &self.final_norm {
            Some(n) => n.forward(h),
            None => h,
        };
        (h.matmul(self.head.val()), trace)
    }

    /// ½ · mean over the batch of ‖f(x) − y‖²: the lab's regression loss.
    pub fn loss(&self, x: Tensor<2>, y: Tensor<2>) -> Tensor<1> {
        let [b, _] = y.dims();
        (self.forward(x) - y).powi_scalar(2).sum().mul_scalar(0.5 / b as f64)
    }
}

/// RMS of each traced activation, `[L]`, on the device (one readback for all).
pub fn activation_rms(trace: &[Tensor<2>]) -> Tensor<1> {
    Tensor::cat(trace.iter().map(|h| h.clone().powi_scalar(2).mean().sqrt()).collect(), 0)
}

impl Block {
    /// The block's weight matrices (W_in, W_out): what its gradient norm and update ratio
    /// are taken over.
    pub fn weights(&self) -> [Tensor<2>; 2] {
        [self.w_in.val(), self.w_out.val()]
    }
}

/// ‖∂L/∂W_l‖_F of each block's weights (W_in and W_out together), `[L]`, on the device; 0
/// where no gradient reached them.
pub fn block_grad_norms(stack: &DeepStack, grads: &burn::tensor::Gradients) -> Tensor<1> {
    let device = stack.input.val().device();
    Tensor::cat(
        stack
            .blocks
            .iter()
            .map(|b| {
                let squares = b.weights().into_iter().map(|w| match w.grad(grads) {
                    Some(g) => g.powi_scalar(2).sum(),
                    None => Tensor::<1>::zeros([1], &device),
                });
                squares.reduce(|a, b| a + b).expect("two weights").sqrt()
            })
            .collect(),
        0,
    )
}
