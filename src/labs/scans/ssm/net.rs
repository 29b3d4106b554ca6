//! The scans lab's sequence model: token embedding → `layers` × (x + mixer(LayerNorm(x))) →
//! LayerNorm → logits per position. The mixer is one of the three the Mamba paper compares on
//! selective copying (Table 1): a plain S4D layer (the S4 row, "no gate": with s4d.py's GLU
//! readout, or with a plain linear readout), the gated block with an LTI S4D inside (the H3
//! row), or the Mamba block.
//!
//! Init: mamba_ssm's `_init_weights` — embeddings N(0, 0.02²), out_proj ÷ √n_layer (in
//! `MambaConfig`). The readout stays untied, with a bias (`MambaLMHeadModel` ties it to the
//! embedding; tying would change every saved scans model's format).

use burn::config::Config;
use burn::module::{Module, Param, ParamId};
use burn::nn::{LayerNorm, LayerNormConfig};
use burn::tensor::activation::{gelu, sigmoid};
use burn::tensor::{Device, Int, Tensor, TensorData};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

use super::linear::Linear;
use super::mamba::{MambaBlock, MambaConfig, ScanTrace};
use super::s4d::{Discretization, S4d, S4dConfig, S4dInit};
use super::scan::ScanMethod;
use crate::rng::{Stream, stream};

/// Which sequence mixer a layer uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MixerKind {
    /// S4D layer, GELU, then a position-wise linear map with a GLU (s4d.py's block).
    S4d,
    /// S4D layer, GELU, then a position-wise linear map d → d: s4d.py's block without the
    /// GLU, so no branch of the layer gates another (the Mamba paper's "no gate" row read
    /// strictly).
    S4dNoGate,
    /// The Mamba block with its selective scan replaced by S4D (LTI, gated).
    GatedS4d,
    /// The Mamba block (selective scan).
    Mamba,
}

impl MixerKind {
    pub const ALL: [MixerKind; 4] =
        [MixerKind::S4d, MixerKind::S4dNoGate, MixerKind::GatedS4d, MixerKind::Mamba];

    pub fn name(self) -> &'static str {
        match self {
            MixerKind::S4d => "s4d",
            MixerKind::S4dNoGate => "s4d_no_gate",
            MixerKind::GatedS4d => "gated_s4d",
            MixerKind::Mamba => "mamba",
        }
    }

    /// The mixer's output is a function of Δ, B, C chosen per token.
    pub fn is_selective(self) -> bool {
        self == MixerKind::Mamba
    }
}

/// Configuration of [`SsmNet`].
#[derive(Config, Debug)]
pub struct SsmNetConfig {
    /// Tokens in the vocabulary (inputs and outputs).
    pub vocab: usize,
    pub mixer: MixerKind,
    #[config(default = 2)]
    pub layers: usize,
    #[config(default = 64)]
    pub d_model: usize,
    /// State size N (S4D: N/2 complex modes; Mamba: N real ones per channel).
    #[config(default = 16)]
    pub d_state: usize,
    /// Mamba's expansion factor (d_inner = expand · d_model).
    #[config(default = 2)]
    pub expand: usize,
    #[config(default = "S4dInit::Lin")]
    pub s4d_init: S4dInit,
    #[config(default = "Discretization::Zoh")]
    pub discretization: Discretization,
    #[config(default = 1e-3)]
    pub dt_min: f64,
    #[config(default = 1e-1)]
    pub dt_max: f64,
    #[config(default = "ScanMethod::Fused")]
    pub scan: ScanMethod,
    /// Seed of the initialization stream.
    #[config(default = 0)]
    pub seed: u64,
}

/// s4d.py's block: y = GLU(W · GELU(S4D(x))), W: d → 2d; without the gate,
/// y = W · GELU(S4D(x)), W: d → d.
#[derive(Module, Debug)]
pub struct S4dBlock {
    pub s4d: S4d,
    pub out: Linear,
    /// The readout ends in a GLU (`out` maps d → 2d) rather than being linear (d → d).
    #[module(skip)]
    pub glu: bool,
}

impl S4dBlock {
    /// `x: [b, l, d]` → `[b, l, d]`.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let y = gelu(self.s4d.forward(x.swap_dims(1, 2)).swap_dims(1, 2)); // [b, l, d]
        let y = self.out.forward(y); // [b, l, 2d] with the GLU, else [b, l, d]
        if !self.glu {
            return y;
        }
        let d = y.dims()[2] / 2;
        y.clone().narrow(2, 0, d) * sigmoid(y.narrow(2, d, d))
    }
}

#[derive(Module, Debug)]
pub enum LayerMixer {
    S4d(S4dBlock),
    Mamba(MambaBlock),
}

#[derive(Module, Debug)]
pub struct Layer {
    pub norm: LayerNorm,
    pub mixer: LayerMixer,
}

/// The model.
#[derive(Module, Debug)]
pub struct SsmNet {
    /// Token embedding, `[vocab, d_model]`.
    pub embed: Param<Tensor<2>>,
    pub layers: Vec<Layer>,
    pub norm_f: LayerNorm,
    /// `[d_model, vocab]`.
    pub head: Linear,
}

/// The embeddings' init standard deviation (mamba_ssm's `initializer_range`).
pub const EMBED_STD: f64 = 0.02;

impl SsmNetConfig {
    /// Draws every weight on the host from the seed's init stream, layer by layer.
    pub fn init(&self, device: &Device) -> SsmNet {
        let mut rng = stream(self.seed, Stream::Init);
        let d = self.d_model;
        // mamba_ssm's `_init_weights` (mixer_seq_simple.py): embeddings N(0, 0.02²)
        // (`initializer_range`), not nn.Embedding's N(0, 1).
        let normal = Normal::new(0.0, EMBED_STD).expect("a normal");
        let embed: Vec<f32> = (0..self.vocab * d).map(|_| normal.sample(&mut rng) as f32).collect();
        let layers = (0..self.layers)
            .map(|_| Layer {
                norm: LayerNormConfig::new(d).init(device),
                mixer: self.mixer_init(&mut rng, device),
            })
            .collect();
        SsmNet {
            embed: Param::from_data(TensorData::new(embed, [self.vocab, d]), device),
            layers,
            norm_f: LayerNormConfig::new(d).init(device),
            head: Linear::init(&mut rng, d, self.vocab, true, device),
        }
    }

    fn mixer_init(&self, rng: &mut ChaCha8Rng, device: &Device) -> LayerMixer {
        let mamba = |lti: Option<S4dInit>| {
            MambaConfig::new(self.d_model)
                .with_d_state(self.d_state)
                .with_expand(self.expand)
                .with_dt_min(self.dt_min)
                .with_dt_max(self.dt_max)
                .with_scan(self.scan)
                .with_lti(lti)
                .with_lti_discretization(self.discretization)
                .with_n_layer(self.layers)
        };
        match self.mixer {
            MixerKind::S4d | MixerKind::S4dNoGate => {
                let glu = self.mixer == MixerKind::S4d;
                let s4d = S4dConfig::new(self.d_model)
                    .with_d_state(self.d_state)
                    .with_init(self.s4d_init)
                    .with_discretization(self.discretization)
                    .with_dt_min(self.dt_min)
                    .with_dt_max(self.dt_max)
                    .init_with(rng, device);
                let width = if glu { 2 * self.d_model } else { self.d_model };
                let out = Linear::init(rng, self.d_model, width, true, device);
                LayerMixer::S4d(S4dBlock { s4d, out, glu })
            }
            MixerKind::GatedS4d => {
                LayerMixer::Mamba(mamba(Some(self.s4d_init)).init_with(rng, device))
            }
            MixerKind::Mamba => LayerMixer::Mamba(mamba(None).init_with(rng, device)),
        }
    }
}

impl SsmNet {
    /// The parameters weight decay must not reach, every layer's (`S4d::no_weight_decay`,
    /// `MambaBlock::no_weight_decay`: as their sources register them).
    pub fn no_weight_decay(&self) -> Vec<ParamId> {
        self.layers
            .iter()
            .flat_map(|layer| match &layer.mixer {
                LayerMixer::S4d(block) => block.s4d.no_weight_decay(),
                LayerMixer::Mamba(block) => block.no_weight_decay(),
            })
            .collect()
    }

    /// Token embeddings, `tokens: [b, l]` → `[b, l, d_model]`.
    pub fn embed(&self, tokens: Tensor<2, Int>) -> Tensor<3> {
        let [b, l] = tokens.dims();
        let d = self.embed.dims()[1];
        self.embed.val().select(0, tokens.reshape([b * l])).reshape([b, l, d])
    }

    /// Logits, `tokens: [b, l]` → `[b, l, vocab]`.
    pub fn forward(&self, tokens: Tensor<2, Int>) -> Tensor<3> {
        self.forward_embedded(self.embed(tokens))
    }

    /// Logits from embeddings `x: [b, l, d_model]` (the memory-decay view differentiates
    /// with respect to them).
    pub fn forward_embedded(&self, x: Tensor<3>) -> Tensor<3> {
        self.forward_traced(x, false).0
    }

    /// [`SsmNet::forward_embedded`], with each selective layer's Δ and states when `trace`.
    pub fn forward_traced(&self, mut x: Tensor<3>, trace: bool) -> (Tensor<3>, Vec<ScanTrace>) {
        let mut traces = Vec::new();
        for layer in &self.layers {
            let h = layer.norm.forward(x.clone());
            let y = match &layer.mixer {
                LayerMixer::S4d(block) => block.forward(h),
                LayerMixer::Mamba(block) => {
                    let (y, t) = block.forward_traced(h, trace);
                    traces.extend(t);
                    y
                }
            };
            x = x + y;
        }
        (self.head.forward(self.norm_f.forward(x)), traces)
    }

    /// The S4D layers (plain or gated), for the kernel and eigenvalue views.
    pub fn s4d_layers(&self) -> Vec<&S4d> {
        self.layers
            .iter()
            .filter_map(|l| match &l.mixer {
                LayerMixer::S4d(b) => Some(&b.s4d),
                LayerMixer::Mamba(m) => match &m.mixer {
                    super::mamba::Mixer::Lti(s) => Some(s),
                    super::mamba::Mixer::Selective(_) => None,
                },
            })
            .collect()
    }
}
