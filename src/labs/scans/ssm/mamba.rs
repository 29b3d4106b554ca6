//! The Mamba block (Gu & Dao 2023, `state-spaces/mamba` `mamba_ssm/modules/mamba_simple.py`),
//! and the same gated block with its selective scan replaced by an LTI S4D layer — the paper's
//! "S4 in a gated block" comparison (Table 1: S4 18.3%, H3-style gated S4 ≈57%, Mamba 99.8% on
//! selective copying).
//!
//! ```text
//! x ─ in_proj ─┬─ x ─ causal depthwise conv (k=4) ─ SiLU ─ x_proj ─ (Δ, B, C) ─ selective scan ─┐
//!              └─ z ─────────────────────────────────────────────────── SiLU ──────────── ⊙ ────┴─ out_proj
//! ```
//!
//! Inits follow mamba_simple.py: A_log = log(1..N) per channel (S4D-Real), dt_proj's bias the
//! inverse softplus of a log-uniform draw in [dt_min, dt_max] (clamped ≥ 1e-4), dt_proj's weight
//! U(±dt_rank^−½), D = 1, linear layers U(±1/√fan_in) (PyTorch's default bound), conv weights
//! and bias U(±1/√k).

use burn::config::Config;
use burn::module::{Module, Param, ParamId};
use burn::tensor::activation::{silu, softplus};
use burn::tensor::module::conv1d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Device, Tensor, TensorData};
use rand_chacha::ChaCha8Rng;

use super::linear::Linear;
use super::s4d::{Discretization, S4d, S4dConfig, S4dInit, log_uniform};
use super::scan::{ScanMethod, selective_scan_output, selective_scan_states};
use crate::nn::init::uniform;

/// Kernel width of the causal depthwise convolution (mamba's `d_conv`).
pub const D_CONV: usize = 4;

/// Configuration of [`MambaBlock`].
#[derive(Config, Debug)]
pub struct MambaConfig {
    pub d_model: usize,
    /// State size N per channel (mamba's `d_state`).
    #[config(default = 16)]
    pub d_state: usize,
    /// d_inner = expand · d_model.
    #[config(default = 2)]
    pub expand: usize,
    /// Rank of Δ's projection; 0 means ⌈d_model/16⌉ (mamba's "auto").
    #[config(default = 0)]
    pub dt_rank: usize,
    #[config(default = 1e-3)]
    pub dt_min: f64,
    #[config(default = 1e-1)]
    pub dt_max: f64,
    /// How the selective scan is computed (same numbers, different speed).
    #[config(default = "ScanMethod::Fused")]
    pub scan: ScanMethod,
    /// Replace the selective scan by an LTI S4D layer with this init (the gated-S4 baseline).
    #[config(default = "None")]
    pub lti: Option<S4dInit>,
    /// How that LTI layer discretizes (ZOH or bilinear); the selective scan always uses ZOH on
    /// A and Euler on B, as Mamba does.
    #[config(default = "Discretization::Zoh")]
    pub lti_discretization: Discretization,
    /// Blocks in the model: out_proj is drawn as nn.Linear's default divided by √n_layer
    /// (mamba_ssm's `_init_weights`, `rescale_prenorm_residual` with one residual per layer),
    /// so the residual stream's variance does not grow with depth.
    #[config(default = 1)]
    pub n_layer: usize,
}

impl MambaConfig {
    pub fn d_inner(&self) -> usize {
        self.expand * self.d_model
    }

    pub fn dt_rank(&self) -> usize {
        if self.dt_rank == 0 { self.d_model.div_ceil(16) } else { self.dt_rank }
    }

    pub fn init_with(&self, rng: &mut ChaCha8Rng, device: &Device) -> MambaBlock {
        let (d, e, n, r) = (self.d_model, self.d_inner(), self.d_state, self.dt_rank());
        let in_proj = Linear::init(rng, d, 2 * e, false, device);
        let conv_bound = 1.0 / (D_CONV as f64).sqrt();
        let conv_weight = Param::from_data(
            TensorData::new(uniform(rng, e * D_CONV, conv_bound), [e, 1, D_CONV]),
            device,
        );
        let conv_bias = Param::from_data(TensorData::new(uniform(rng, e, conv_bound), [e]), device);
        let mixer = match self.lti {
            Some(init) => Mixer::Lti(
                S4dConfig::new(e)
                    .with_d_state(n)
                    .with_init(init)
                    .with_discretization(self.lti_discretization)
                    .with_dt_min(self.dt_min)
                    .with_dt_max(self.dt_max)
                    .init_with(rng, device),
            ),
            None => {
                let x_proj = Linear::init(rng, e, r + 2 * n, false, device);
                let dt_weight = uniform(rng, r * e, (r as f64).powf(-0.5));
                // Inverse softplus of dt: dt + log(−expm1(−dt)), so softplus(bias) = dt.
                let dt_bias: Vec<f32> = log_uniform(rng, e, self.dt_min, self.dt_max)
                    .into_iter()
                    .map(|dt| {
                        let dt = dt.max(1e-4);
                        (dt + (-(-dt).exp_m1()).ln()) as f32
                    })
                    .collect();
                let a_log: Vec<f32> =
                    (0..e).flat_map(|_| (1..=n).map(|k| (k as f32).ln())).collect();
                Mixer::Selective(SelectiveSsm {
                    x_proj,
                    dt_proj: Linear {
                        weight: Param::from_data(TensorData::new(dt_weight, [r, e]), device),
                        bias: Some(Param::from_data(TensorData::new(dt_bias, [e]), device)),
                    },
                    a_log: Param::from_data(TensorData::new(a_log, [e, n]), device),
                    d: Param::from_data(TensorData::new(vec![1.0f32; e], [e]), device),
                    dt_rank: r,
                    d_state: n,
                    scan: self.scan,
                })
            }
        };
        let out_proj = Linear::init_scaled(
            rng,
            e,
            d,
            false,
            1.0 / (self.n_layer.max(1) as f64).sqrt(),
            device,
        );
        MambaBlock { in_proj, conv_weight, conv_bias, mixer, out_proj }
    }
}

/// Mamba's S6: input-dependent Δ, B, C and a selective scan.
#[derive(Module, Debug)]
pub struct SelectiveSsm {
    /// d_inner → (Δ rank, B, C).
    pub x_proj: Linear,
    /// Δ rank → d_inner; its bias is Δ's bias inside the softplus.
    pub dt_proj: Linear,
    /// A = −exp(A_log), `[d_inner, N]`.
    pub a_log: Param<Tensor<2>>,
    /// Skip, `[d_inner]`.
    pub d: Param<Tensor<1>>,
    #[module(skip)]
    pub dt_rank: usize,
    #[module(skip)]
    pub d_state: usize,
    #[module(skip)]
    pub scan: ScanMethod,
}

/// The sequence mixer inside the gated block.
#[derive(Module, Debug)]
pub enum Mixer {
    Selective(SelectiveSsm),
    /// LTI: an S4D layer over the d_inner channels.
    Lti(S4d),
}

/// What the selective scan saw, for the lab's views: Δ_t (after softplus) `[b, l, d_inner]`
/// and the states h_t `[b, l, d_inner, N]`.
pub struct ScanTrace {
    pub delta: Tensor<3>,
    pub states: Tensor<4>,
}

/// One Mamba block (no residual or norm: the model around it adds them).
#[derive(Module, Debug)]
pub struct MambaBlock {
    pub in_proj: Linear,
    /// Depthwise causal convolution, `[d_inner, 1, 4]` and `[d_inner]`.
    pub conv_weight: Param<Tensor<3>>,
    pub conv_bias: Param<Tensor<1>>,
    pub mixer: Mixer,
    pub out_proj: Linear,
}

impl MambaBlock {
    /// The parameters weight decay must not reach: the selective SSM's A_log and D, which
    /// mamba_simple.py marks `_no_weight_decay`; an LTI mixer's, S4D's list.
    pub fn no_weight_decay(&self) -> Vec<ParamId> {
        match &self.mixer {
            Mixer::Selective(ssm) => vec![ssm.a_log.id, ssm.d.id],
            Mixer::Lti(s4d) => s4d.no_weight_decay(),
        }
    }

    /// `x: [b, l, d_model]` → `[b, l, d_model]`.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        self.forward_traced(x, false).0
    }

    /// [`MambaBlock::forward`], also returning the selective scan's Δ and states when `trace`
    /// (and the block is selective).
    pub fn forward_traced(&self, x: Tensor<3>, trace: bool) -> (Tensor<3>, Option<ScanTrace>) {
        let [batch, len, _] = x.dims();
        let xz = self.in_proj.forward(x); // [b, l, 2·d_inner]
        let e = xz.dims()[2] / 2;
        let (x, z) = (xz.clone().narrow(2, 0, e), xz.narrow(2, e, e)); // [b, l, d_inner] each
        // Causal depthwise conv: pad k−1 on both sides, keep the first l outputs.
        let x = conv1d(
            x.swap_dims(1, 2), // [b, d_inner, l]
            self.conv_weight.val(),
            Some(self.conv_bias.val()),
            ConvOptions::new([1], [D_CONV - 1], [1], e),
        )
        .narrow(2, 0, len); // [b, d_inner, l]
        let x = silu(x);
        let (y, traced) = match &self.mixer {
            Mixer::Lti(s4d) => (s4d.forward(x).swap_dims(1, 2), None), // [b, l, d_inner]
            Mixer::Selective(ssm) => {
                let x = x.swap_dims(1, 2); // [b, l, d_inner]
                let (r, n) = (ssm.dt_rank, ssm.d_state);
                let x_dbl = ssm.x_proj.forward(x.clone()); // [b, l, r + 2N]
                let dt = x_dbl.clone().narrow(2, 0, r);
                let b = x_dbl.clone().narrow(2, r, n); // [b, l, N]
                let c = x_dbl.narrow(2, r + n, n); // [b, l, N]
                // dt_proj without its bias: the bias goes inside the softplus (delta_bias).
                let dt = super::linear::matmul3(dt, ssm.dt_proj.weight.val()); // [b, l, d_inner]
                let bias = ssm.dt_proj.bias.as_ref().map(|p| p.val());
                let a = ssm.a_log.val().exp().neg(); // [d_inner, N]
                let traced = trace.then(|| {
                    let mut delta = dt.clone();
                    if let Some(bias) = &bias {
                        delta = delta + bias.clone().reshape([1, 1, e]);
                    }
                    softplus(delta, 1.0)
                });
                let skip = ssm.d.val().reshape([1, 1, e]).expand([batch, len, e]);
                match traced {
                    // The views need the states: the composed scan keeps them.
                    Some(delta) => {
                        let method = if ssm.scan == ScanMethod::Fused {
                            ScanMethod::Parallel
                        } else {
                            ssm.scan
                        };
                        let (y, states) =
                            selective_scan_states(x.clone(), dt, a, b, c, bias, true, method);
                        (y + x * skip, Some(ScanTrace { delta, states }))
                    }
                    None => {
                        let y = selective_scan_output(x.clone(), dt, a, b, c, bias, true, ssm.scan);
                        (y + x * skip, None)
                    }
                }
            }
        };
        let y = y * silu(z); // [b, l, d_inner]
        (self.out_proj.forward(y), traced)
    }
}
