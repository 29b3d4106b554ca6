//! A small decoder-only transformer on the tokens `[a, b, =]`, read out at `=`.
//!
//! Follows Nanda et al.'s model (`progress-measures-paper/transformers.py`): learned token and
//! position embeddings, multi-head attention without biases, a ReLU MLP, an untied unembedding,
//! optional pre-LayerNorm. Init: every matrix N(0, 1/d_model), the unembedding N(0, 1/d_vocab),
//! biases 0 — drawn on the host from the run seed.
//!
//! Only the logits at the last position are used, so the last block computes its query, its
//! MLP and the unembedding at that position alone ([`Transformer::forward`]): the same numbers
//! as running every position ([`Transformer::forward_reference`], checked in `tests/native/models.rs`)
//! at about half the work for a 1-layer model.

use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::{LayerNorm, LayerNormConfig};
use burn::tensor::activation::{relu, softmax};
use burn::tensor::{Device, Int, Tensor};

use crate::nn::attention::causal_bias;
use crate::nn::init::{normal, param1, param2};
use crate::rng::{Stream, stream};

/// Sequence length: the tokens a, b and `=`.
pub const CONTEXT: usize = 3;

/// Configuration of [`Transformer`].
#[derive(Config, Debug)]
pub struct TransformerConfig {
    /// Symbols per operand (p); the vocabulary is p + 1 (the extra token is `=`).
    pub n_symbols: usize,
    /// Output classes (p).
    pub n_classes: usize,
    /// Blocks.
    #[config(default = 1)]
    pub layers: usize,
    /// Residual width.
    #[config(default = 128)]
    pub d_model: usize,
    /// Attention heads (d_head = d_model / heads).
    #[config(default = 4)]
    pub heads: usize,
    /// MLP hidden width.
    #[config(default = 512)]
    pub d_mlp: usize,
    /// Pre-LayerNorm before attention, MLP and unembedding.
    #[config(default = false)]
    pub layer_norm: bool,
    /// Causal attention mask.
    #[config(default = true)]
    pub causal: bool,
    /// Multiplies every initial weight.
    #[config(default = 1.0)]
    pub init_scale: f64,
    /// Seed of the initialization stream.
    #[config(default = 0)]
    pub seed: u64,
}

/// One block: attention then MLP, each added to the residual stream.
#[derive(Module, Debug)]
pub struct Block {
    /// Query, key, value and output maps, `[d_model, d_model]` (heads side by side).
    pub w_q: Param<Tensor<2>>,
    pub w_k: Param<Tensor<2>>,
    pub w_v: Param<Tensor<2>>,
    pub w_o: Param<Tensor<2>>,
    /// MLP, `[d_model, d_mlp]` and `[d_mlp, d_model]`, with biases.
    pub w_in: Param<Tensor<2>>,
    pub b_in: Param<Tensor<1>>,
    pub w_out: Param<Tensor<2>>,
    pub b_out: Param<Tensor<1>>,
    pub ln_attn: Option<LayerNorm>,
    pub ln_mlp: Option<LayerNorm>,
}

/// The transformer.
#[derive(Module, Debug)]
pub struct Transformer {
    /// Token embedding, `[p + 1, d_model]` (row p is `=`).
    pub embed: Param<Tensor<2>>,
    /// Position embedding, `[3, d_model]`.
    pub pos_embed: Param<Tensor<2>>,
    pub blocks: Vec<Block>,
    pub ln_final: Option<LayerNorm>,
    /// Unembedding, `[d_model, p]`.
    pub unembed: Param<Tensor<2>>,
    #[module(skip)]
    pub heads: usize,
    #[module(skip)]
    pub causal: bool,
}

impl TransformerConfig {
    /// Draws every weight on the host from the seed's init stream, in declaration order.
    pub fn init(&self, device: &Device) -> Transformer {
        let mut rng = stream(self.seed, Stream::Init);
        let (d, s) = (self.d_model, self.init_scale);
        let std_model = s / (d as f64).sqrt();
        let mut matrix = |rows: usize, cols: usize, std: f64| {
            param2(normal(&mut rng, rows, cols, std), rows, cols, device)
        };
        let embed = matrix(self.n_symbols + 1, d, std_model);
        let pos_embed = matrix(CONTEXT, d, std_model);
        let ln = || self.layer_norm.then(|| LayerNormConfig::new(d).init(device));
        let blocks = (0..self.layers)
            .map(|_| Block {
                w_q: matrix(d, d, std_model),
                w_k: matrix(d, d, std_model),
                w_v: matrix(d, d, std_model),
                w_o: matrix(d, d, std_model),
                w_in: matrix(d, self.d_mlp, std_model),
                b_in: param1(vec![0.0; self.d_mlp], device),
                // Nanda: W_out ~ N(0, 1/d_model) as well.
                w_out: matrix(self.d_mlp, d, std_model),
                b_out: param1(vec![0.0; d], device),
                ln_attn: ln(),
                ln_mlp: ln(),
            })
            .collect();
        let unembed = matrix(d, self.n_classes, s / ((self.n_symbols + 1) as f64).sqrt());
        Transformer {
            embed,
            pos_embed,
            blocks,
            ln_final: ln(),
            unembed,
            heads: self.heads,
            causal: self.causal,
        }
    }
}

fn norm(ln: &Option<LayerNorm>, x: Tensor<2>) -> Tensor<2> {
    match ln {
        Some(ln) => ln.forward(x),
        None => x,
    }
}

/// `x @ w` for `x: [n, t, d_in]`, `w: [d_in, d_out]` → `[n, t, d_out]`.
fn matmul3(x: Tensor<3>, w: Tensor<2>) -> Tensor<3> {
    let [n, t, d_in] = x.dims();
    let [_, d_out] = w.dims();
    x.reshape([n * t, d_in]).matmul(w).reshape([n, t, d_out])
}

/// `[n, t, d]` → `[n, heads, t, d_head]`.
fn split_heads(x: Tensor<3>, heads: usize) -> Tensor<4> {
    let [n, t, d] = x.dims();
    x.reshape([n, t, heads, d / heads]).swap_dims(1, 2)
}

/// `[n, heads, t, d_head]` → `[n, t, d]`.
fn merge_heads(x: Tensor<4>) -> Tensor<3> {
    let [n, heads, t, d_head] = x.dims();
    x.swap_dims(1, 2).reshape([n, t, heads * d_head])
}

impl Block {
    fn ln(&self, ln: &Option<LayerNorm>, x: Tensor<3>) -> Tensor<3> {
        match ln {
            Some(ln) => ln.forward(x),
            None => x,
        }
    }

    /// Attention of the queries at positions `q_from..t` over keys `0..t`. `x`: `[n, t, d]` →
    /// `[n, t − q_from, d]` (before the residual add).
    pub fn attention(&self, x: Tensor<3>, q_from: usize, heads: usize, causal: bool) -> Tensor<3> {
        let [n, t, d] = x.dims();
        let h = self.ln(&self.ln_attn, x);
        let hq = h.clone().slice([0..n, q_from..t, 0..d]); // [n, tq, d]
        let q = split_heads(matmul3(hq, self.w_q.val()), heads); // [n, H, tq, dh]
        let k = split_heads(matmul3(h.clone(), self.w_k.val()), heads); // [n, H, t, dh]
        let v = split_heads(matmul3(h, self.w_v.val()), heads); // [n, H, t, dh]
        let d_head = d / heads;
        let scores = q.matmul(k.swap_dims(2, 3)).div_scalar((d_head as f64).sqrt()); // [n, H, tq, t]
        let scores = if causal {
            let tq = t - q_from;
            let bias = causal_bias(q_from, t, &scores.device()).reshape([1, 1, tq, t]);
            scores + bias // [n, H, tq, t] + [1, 1, tq, t]
        } else {
            scores
        };
        let z = softmax(scores, 3).matmul(v); // [n, H, tq, dh]
        matmul3(merge_heads(z), self.w_o.val()) // [n, tq, d]
    }

    fn mlp(&self, x: Tensor<3>) -> Tensor<3> {
        let h = self.ln(&self.ln_mlp, x);
        let hidden = relu(matmul3(h, self.w_in.val()) + self.b_in.val().unsqueeze()); // [n, t, d_mlp]
        matmul3(hidden, self.w_out.val()) + self.b_out.val().unsqueeze() // [n, t, d]
    }

    /// The block on every position, `[n, t, d]` → `[n, t, d]`.
    pub fn forward(&self, x: Tensor<3>, heads: usize, causal: bool) -> Tensor<3> {
        let x = x.clone() + self.attention(x, 0, heads, causal);
        x.clone() + self.mlp(x)
    }

    /// The block's output at the last position only, `[n, t, d]` → `[n, 1, d]`.
    fn forward_last(&self, x: Tensor<3>, heads: usize, causal: bool) -> Tensor<3> {
        let [n, t, d] = x.dims();
        let last = x.clone().slice([0..n, t - 1..t, 0..d]); // [n, 1, d]
        let x = last + self.attention(x, t - 1, heads, causal);
        x.clone() + self.mlp(x)
    }
}

impl Transformer {
    /// The residual stream after the embeddings, `[n, 3, d]`.
    fn embed_tokens(&self, a: Tensor<1, Int>, b: Tensor<1, Int>) -> Tensor<3> {
        let [n] = a.dims();
        let [vocab, d] = self.embed.dims();
        let equals = Tensor::<1, Int>::full([n], (vocab - 1) as i64, &a.device());
        let tokens = Tensor::stack::<2>(vec![a, b, equals], 1).reshape([n * CONTEXT]); // [n·3]
        let x = self.embed.val().select(0, tokens).reshape([n, CONTEXT, d]); // [n, 3, d]
        x + self.pos_embed.val().unsqueeze() // + [1, 3, d]
    }

    fn unembed(&self, last: Tensor<3>) -> Tensor<2> {
        let [n, _, d] = last.dims();
        norm(&self.ln_final, last.reshape([n, d])).matmul(self.unembed.val()) // [n, p]
    }

    /// Logits at `=` for the pairs (a[i], b[i]). `a`, `b`: `[n]` → `[n, p]`.
    pub fn forward(&self, a: Tensor<1, Int>, b: Tensor<1, Int>) -> Tensor<2> {
        let mut x = self.embed_tokens(a, b);
        let (last, earlier) = self.blocks.split_last().expect("at least one block");
        for block in earlier {
            x = block.forward(x, self.heads, self.causal);
        }
        self.unembed(last.forward_last(x, self.heads, self.causal))
    }

    /// Slow reference for [`Transformer::forward`]: every block on every position.
    pub fn forward_reference(&self, a: Tensor<1, Int>, b: Tensor<1, Int>) -> Tensor<2> {
        let mut x = self.embed_tokens(a, b);
        for block in &self.blocks {
            x = block.forward(x, self.heads, self.causal);
        }
        let [n, t, d] = x.dims();
        self.unembed(x.slice([0..n, t - 1..t, 0..d]))
    }

    /// The operand embeddings `[p, d_model]` (without `=`): what the Fourier view analyses.
    pub fn operand_embedding(&self) -> Tensor<2> {
        let [vocab, d] = self.embed.dims();
        self.embed.val().slice([0..vocab - 1, 0..d])
    }
}
