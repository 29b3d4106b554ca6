//! The grokking MLP: `one-hot(a) ⊕ one-hot(b) (2p) → width (× depth) → p`, or with learned
//! embeddings `E_a[a] ⊕ E_b[b] (2·dim) → width (× depth) → p` (tied: E_a = E_b).
//!
//! With one-hot input the first layer is computed as a row lookup:
//! `x·W₁ = W₁[a] + W₁[p + b]` — the same numbers as the dense product (checked against it in
//! `tests/native/models.rs`) at 1/2p of the work, and without materializing a `[batch, 2p]` input.
//! Without a first-layer bias and with x² or ReLU, that lookup, the activation and the next
//! layer's weights run as one fused op ([`pair_layer`], with its own CPU kernel), so the
//! `[batch, width]` hidden activations are never stored.
//! [`Mlp::forward_one_hot`] keeps the dense reference beside both (compared in values and
//! gradients in `tests/native/models.rs`).

use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::Linear;
use burn::tensor::activation;
use burn::tensor::{Device, Int, Tensor};

use super::pair_layer::{PairActivation, pair_layer};
use crate::labs::grokking::spec::{Activation, InitScheme};
use crate::nn::init::{TRUNCATED_STD, normal, param1, param2, truncated_normal, uniform};
use crate::rng::{Stream, stream};

/// Configuration of [`Mlp`].
#[derive(Config, Debug)]
pub struct MlpConfig {
    /// Symbols per input (p); the input is one-hot(a) ⊕ one-hot(b), 2p wide.
    pub n_symbols: usize,
    /// Output classes (p).
    pub n_classes: usize,
    /// Learned embedding width; `None` = one-hot input.
    #[config(default = "None")]
    pub embedding_dim: Option<usize>,
    /// One embedding table for both operands.
    #[config(default = true)]
    pub tied_embedding: bool,
    /// One first-layer matrix for both operands (embedding input only).
    #[config(default = false)]
    pub shared_input_layer: bool,
    /// Logits = (h·W_out)·Eᵀ (embedding input only).
    #[config(default = false)]
    pub tied_output: bool,
    /// Hidden width N.
    #[config(default = 500)]
    pub width: usize,
    /// Hidden layers.
    #[config(default = 1)]
    pub depth: usize,
    /// Hidden activation (x² as in Doshi et al.).
    #[config(default = "Activation::Quadratic")]
    pub activation: Activation,
    /// Biases on every layer.
    #[config(default = false)]
    pub bias: bool,
    /// Initialization scheme.
    #[config(default = "InitScheme::Doshi")]
    pub init: InitScheme,
    /// Multiplies every initial weight.
    #[config(default = 1.0)]
    pub init_scale: f64,
    /// Seed of the initialization stream.
    #[config(default = 0)]
    pub seed: u64,
}

/// The MLP. `input_a`/`input_b` are the two halves of the first layer's weight.
#[derive(Module, Debug)]
pub struct Mlp {
    /// Embedding of a (and of b when tied), `[p, dim]`; `None` for one-hot input.
    pub embed_a: Option<Param<Tensor<2>>>,
    /// Embedding of b when untied, `[p, dim]`.
    pub embed_b: Option<Param<Tensor<2>>>,
    /// The first weight's rows for operand a: `[p, width]` (one-hot) or `[dim, width]`.
    pub input_a: Param<Tensor<2>>,
    /// The first weight's rows for operand b: `[p, width]` (one-hot) or `[dim, width]`;
    /// `None` when shared with a's.
    pub input_b: Option<Param<Tensor<2>>>,
    /// First-layer bias. `[width]`
    pub input_bias: Option<Param<Tensor<1>>>,
    /// Hidden `width → width` layers (depth − 1 of them).
    pub hidden: Vec<Linear>,
    /// `width → p` readout (`width → dim` when read out through the embedding).
    pub output: Linear,
    #[module(skip)]
    pub tied_output: bool,
    #[module(skip)]
    pub activation: Activation,
}

impl MlpConfig {
    /// Draws every weight on the host from the seed's init stream, layer by layer, in the order
    /// input, hidden…, output (weights then bias), so the numbers do not depend on the backend.
    pub fn init(&self, device: &Device) -> Mlp {
        let mut rng = stream(self.seed, Stream::Init);
        let half = self.embedding_dim.unwrap_or(self.n_symbols);
        let shared = self.embedding_dim.is_some() && self.shared_input_layer;
        let tied_output = self.embedding_dim.is_some() && self.tied_output;
        let scale = self.init_scale;
        let scaled = |v: Vec<f32>| -> Vec<f32> {
            v.into_iter().map(|x| (x as f64 * scale) as f32).collect()
        };
        // One layer's (weight `[fan_in, fan_out]`, bias `[fan_out]`).
        let layer = |rng: &mut _, fan_in: usize, fan_out: usize| -> (Vec<f32>, Vec<f32>) {
            let (w, b) = match self.init {
                // d-doshi/Grokking utils/models.py: std = 0.25**0.5 / (2N)**(1/3), no bias.
                InitScheme::Doshi => {
                    let std = 0.5 / (2.0 * self.width as f64).cbrt();
                    (normal(rng, fan_in, fan_out, std), vec![0.0; fan_out])
                }
                // torch.nn.Linear: kaiming_uniform(a=√5) ⇒ U(±1/√fan_in), bias likewise.
                InitScheme::TorchDefault => {
                    let bound = 1.0 / (fan_in as f64).sqrt();
                    let w = uniform(rng, fan_in * fan_out, bound);
                    let b =
                        if self.bias { uniform(rng, fan_out, bound) } else { vec![0.0; fan_out] };
                    (w, b)
                }
                // hk.Linear: TruncatedNormal(1/√fan_in), zero bias.
                InitScheme::Haiku => {
                    let std = 1.0 / (fan_in as f64).sqrt();
                    (truncated_normal(rng, fan_in * fan_out, std), vec![0.0; fan_out])
                }
            };
            (scaled(w), scaled(b))
        };

        let (mut embed_a, mut embed_b) = (None, None);
        if let Some(dim) = self.embedding_dim {
            let p = self.n_symbols;
            let table = |rng: &mut _| {
                let values = match self.init {
                    // Doshi scheme: the same N(0, σ²) as the layers.
                    InitScheme::Doshi => {
                        normal(rng, p, dim, 0.5 / (2.0 * self.width as f64).cbrt())
                    }
                    // nn.Embedding: N(0, 1).
                    InitScheme::TorchDefault => normal(rng, p, dim, 1.0),
                    // hk.initializers.VarianceScaling(2.0): truncated N(0, 2/fan_in), fan_in = p.
                    InitScheme::Haiku => {
                        let std = (2.0 / p as f64).sqrt() / TRUNCATED_STD;
                        truncated_normal(rng, p * dim, std)
                    }
                };
                param2(scaled(values), p, dim, device)
            };
            embed_a = Some(table(&mut rng));
            if !self.tied_embedding {
                embed_b = Some(table(&mut rng));
            }
        }
        let (input_a, input_b, b_in) = if shared {
            let (w, b) = layer(&mut rng, half, self.width);
            (param2(w, half, self.width, device), None, b)
        } else {
            // One [2·half, width] layer on the concatenated input, split into its two halves.
            let (w, b) = layer(&mut rng, 2 * half, self.width);
            let split = half * self.width;
            let a = param2(w[..split].to_vec(), half, self.width, device);
            (a, Some(param2(w[split..].to_vec(), half, self.width, device)), b)
        };
        let input_bias = self.bias.then(|| param1(b_in, device));

        let linear = |rng: &mut _, fan_in: usize, fan_out: usize| -> Linear {
            let (w, b) = layer(rng, fan_in, fan_out);
            Linear {
                weight: param2(w, fan_in, fan_out, device),
                bias: self.bias.then(|| param1(b, device)),
            }
        };
        let hidden = (1..self.depth).map(|_| linear(&mut rng, self.width, self.width)).collect();
        let out_width = if tied_output { half } else { self.n_classes };
        let output = linear(&mut rng, self.width, out_width);

        Mlp {
            embed_a,
            embed_b,
            input_a,
            input_b,
            input_bias,
            hidden,
            output,
            tied_output,
            activation: self.activation,
        }
    }
}

impl Mlp {
    fn activate(&self, x: Tensor<2>) -> Tensor<2> {
        match self.activation {
            Activation::Quadratic => x.square(),
            Activation::Relu => activation::relu(x),
            Activation::Gelu => activation::gelu(x),
        }
    }

    /// The first layer's pre-activation contribution of each operand value, `[p, width]` for
    /// a and for b: W₁ rows for one-hot input, E·W₁ with embeddings. Row lookups into these give
    /// the first layer (see [`Mlp::first_layer`]); the Fourier and IPR views analyse them.
    pub fn input_maps(&self) -> (Tensor<2>, Tensor<2>) {
        let w_b = self.input_b.as_ref().unwrap_or(&self.input_a).val();
        match &self.embed_a {
            None => (self.input_a.val(), w_b),
            Some(ea) => {
                let eb = self.embed_b.as_ref().unwrap_or(ea);
                (ea.val().matmul(self.input_a.val()), eb.val().matmul(w_b))
            }
        }
    }

    /// How each first-layer neuron feeds each class, `[p, width]` (Doshi's W columns): the
    /// readout for depth 1, `None` for deeper MLPs, whose first layer does not reach the output.
    pub fn output_map(&self) -> Option<Tensor<2>> {
        if !self.hidden.is_empty() {
            return None;
        }
        let w = self.output.weight.val(); // [width, p] (or [width, dim] read out through E)
        Some(match (&self.embed_a, self.tied_output) {
            (Some(e), true) => e.val().matmul(w.transpose()), // [p, dim]·[dim, width]
            _ => w.transpose(),                               // [p, width]
        })
    }

    /// First-layer pre-activation, `[batch, width]`.
    fn first_layer(&self, a: Tensor<1, Int>, b: Tensor<1, Int>) -> Tensor<2> {
        let w_b = self.input_b.as_ref().unwrap_or(&self.input_a).val();
        let pre = match &self.embed_a {
            // one-hot(a)·W₁[:p] + one-hot(b)·W₁[p:] as row lookups.
            None => self.input_a.val().select(0, a) + w_b.select(0, b),
            Some(ea) => {
                let eb = self.embed_b.as_ref().unwrap_or(ea);
                let xa = ea.val().select(0, a); // [batch, dim]
                let xb = eb.val().select(0, b); // [batch, dim]
                xa.matmul(self.input_a.val()) + xb.matmul(w_b) // [batch, width]
            }
        };
        match &self.input_bias {
            Some(bias) => pre + bias.val().unsqueeze_dim(0), // [batch, width] + [1, width]
            None => pre,
        }
    }

    /// Logits for the pairs (a[i], b[i]). `a`, `b`: `[batch]` → `[batch, p]`.
    pub fn forward(&self, a: Tensor<1, Int>, b: Tensor<1, Int>) -> Tensor<2> {
        self.forward_pruned(a, b, None)
    }

    /// [`Mlp::forward`] with the first hidden layer's neurons multiplied by `mask` (`[width]`,
    /// 0 = pruned), for Doshi et al.'s pruning of low-IPR neurons.
    pub fn forward_masked(
        &self,
        a: Tensor<1, Int>,
        b: Tensor<1, Int>,
        mask: Tensor<1>,
    ) -> Tensor<2> {
        self.forward_pruned(a, b, Some(mask))
    }

    /// The forward pass, with the first hidden layer's neurons masked when `mask` is given.
    fn forward_pruned(
        &self,
        a: Tensor<1, Int>,
        b: Tensor<1, Int>,
        mask: Option<Tensor<1>>,
    ) -> Tensor<2> {
        let fused = PairActivation::of(self.activation)
            .filter(|_| self.embed_a.is_none() && self.input_bias.is_none());
        let Some(activation) = fused else {
            let h = self.activate(self.first_layer(a, b)); // [batch, width]
            let h = match mask {
                Some(mask) => h * mask.unsqueeze_dim(0), // [batch, width] · [1, width]
                None => h,
            };
            return self.forward_hidden(h);
        };
        // One-hot input without a first-layer bias: the first layer, its activation and the
        // next layer's weights are one op (models/pair_layer.rs).
        let w_b = self.input_b.as_ref().unwrap_or(&self.input_a).val();
        let next = self.hidden.first().unwrap_or(&self.output);
        let w = match mask {
            // h·diag(mask)·W = h·(mask ⊙ rows of W)
            Some(mask) => next.weight.val() * mask.unsqueeze_dim(1), // [width, n] · [width, 1]
            None => next.weight.val(),
        };
        let z = pair_layer(self.input_a.val(), w_b, w, a, b, activation); // [batch, n]
        let z = match &next.bias {
            Some(bias) => z + bias.val().unsqueeze_dim(0),
            None => z,
        };
        if self.hidden.is_empty() {
            return self.readout(z);
        }
        let mut x = self.activate(z); // [batch, width]
        for layer in &self.hidden[1..] {
            x = self.activate(layer.forward(x));
        }
        self.readout(self.output.forward(x))
    }

    /// Dense reference for [`Mlp::forward`] with one-hot input: `x` is `[batch, 2p]`
    /// (one-hot(a) ⊕ one-hot(b)).
    pub fn forward_one_hot(&self, x: Tensor<2>) -> Tensor<2> {
        let (map_a, map_b) = self.input_maps();
        let w_in = Tensor::cat(vec![map_a, map_b], 0); // [2p, width]
        let pre = x.matmul(w_in); // [batch, width]
        let pre = match &self.input_bias {
            Some(bias) => pre + bias.val().unsqueeze_dim(0),
            None => pre,
        };
        self.forward_hidden(self.activate(pre))
    }

    /// Hidden layers after the first activation, then the readout.
    fn forward_hidden(&self, mut x: Tensor<2>) -> Tensor<2> {
        for layer in &self.hidden {
            x = self.activate(layer.forward(x)); // [batch, width]
        }
        self.readout(self.output.forward(x))
    }

    /// Logits from the output layer's result: `[batch, p]`, or through the embedding when
    /// the readout is tied (`[batch, dim]·[dim, p]`).
    fn readout(&self, out: Tensor<2>) -> Tensor<2> {
        match (&self.embed_a, self.tied_output) {
            (Some(e), true) => out.matmul(e.val().transpose()), // [batch, dim]·[dim, p]
            _ => out,
        }
    }
}
