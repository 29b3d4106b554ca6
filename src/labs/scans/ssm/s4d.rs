//! S4D: a diagonal linear time-invariant state-space layer (Gu et al. 2022, "On the
//! Parameterization and Initialization of Diagonal State Space Models";
//! `state-spaces/s4` `models/s4/s4d.py`).
//!
//! Per channel h, N/2 complex modes (their conjugates are implied by taking 2·Re):
//! A_n (Re A < 0), B_n = 1, C_n ~ CN(0, 1), a step Δ with log Δ ~ U[log Δ_min, log Δ_max], and
//! a skip D. burn has no complex dtype, so every complex number is a pair of real tensors.
//!
//! The output `y = K * u + D u` is computed three ways that must agree (`tests/native/ssm.rs`):
//! - [`S4d::kernel`]: the Vandermonde kernel K_ℓ = 2·Re Σ_n C_n B̄_n Ā_n^ℓ, with Ā_n^ℓ written as
//!   exp(ℓ·log Ā_n) — exact for ZOH, where log Ā = ΔA;
//! - [`causal_conv_direct`] (O(L²), best for short L) and [`causal_conv_fft`] (O(L log L), burn's
//!   rfft/irfft with zero padding to a power of two ≥ 2L, so the circular convolution is causal);
//! - [`S4d::recurrence`]: x_t = Ā x_{t−1} + B̄ u_t, y_t = 2·Re(C x_t) + D u_t, one step at a time.

use burn::config::Config;
use burn::module::{Module, Param, ParamId};
use burn::tensor::module::conv1d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Device, Tensor, TensorData};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

use crate::rng::{Stream, stream};

/// Initialization of the diagonal A (`s4d.py`'s `init` argument; Gu et al. 2022 §4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum S4dInit {
    /// S4D-Lin: A_n = −½ + iπn (a Fourier basis, like S4's HiPPO-LegS imaginary parts).
    Lin,
    /// S4D-Inv: A_n = −½ + i(N/π)(N/(2n+1) − 1) (approximates HiPPO-LegS's spectrum).
    Inv,
    /// S4D-Real: A_n = −(n+1) (real, no oscillation; what Mamba's A_log starts from).
    Real,
}

impl S4dInit {
    pub const ALL: [S4dInit; 3] = [S4dInit::Lin, S4dInit::Inv, S4dInit::Real];

    /// (Re A_n, Im A_n) for the n-th of `half` modes, N = 2·half.
    pub fn eigenvalue(self, n: usize, half: usize) -> (f64, f64) {
        let big_n = (2 * half) as f64;
        let n = n as f64;
        match self {
            S4dInit::Lin => (-0.5, std::f64::consts::PI * n),
            S4dInit::Inv => (-0.5, big_n / std::f64::consts::PI * (big_n / (2.0 * n + 1.0) - 1.0)),
            S4dInit::Real => (-(n + 1.0), 0.0),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            S4dInit::Lin => "lin",
            S4dInit::Inv => "inv",
            S4dInit::Real => "real",
        }
    }
}

/// Continuous → discrete time (Gu et al. 2022 §3.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Discretization {
    /// Zero-order hold: Ā = exp(ΔA), B̄ = (exp(ΔA) − 1)/A · B.
    Zoh,
    /// Bilinear (Tustin): Ā = (1 + ΔA/2)/(1 − ΔA/2), B̄ = Δ(1 − ΔA/2)⁻¹B.
    Bilinear,
}

impl Discretization {
    pub const ALL: [Discretization; 2] = [Discretization::Zoh, Discretization::Bilinear];

    pub fn name(self) -> &'static str {
        match self {
            Discretization::Zoh => "zoh",
            Discretization::Bilinear => "bilinear",
        }
    }
}

/// Configuration of [`S4d`].
#[derive(Config, Debug)]
pub struct S4dConfig {
    /// Channels H (each an independent SSM).
    pub channels: usize,
    /// State size N per channel: N/2 complex modes and their conjugates.
    #[config(default = 64)]
    pub d_state: usize,
    #[config(default = "S4dInit::Lin")]
    pub init: S4dInit,
    #[config(default = "Discretization::Zoh")]
    pub discretization: Discretization,
    /// log Δ ~ U[log dt_min, log dt_max] per channel (s4d.py's defaults).
    #[config(default = 1e-3)]
    pub dt_min: f64,
    #[config(default = 1e-1)]
    pub dt_max: f64,
    /// Seed of the initialization stream.
    #[config(default = 0)]
    pub seed: u64,
}

/// The S4D layer's parameters. Re A is kept as log(−Re A) so it stays negative (s4d.py's
/// `log_A_real`).
#[derive(Module, Debug)]
pub struct S4d {
    /// log(−Re A), `[h, N/2]`.
    pub log_a_re: Param<Tensor<2>>,
    /// Im A, `[h, N/2]`.
    pub a_im: Param<Tensor<2>>,
    /// Re C and Im C, `[h, N/2]`.
    pub c_re: Param<Tensor<2>>,
    pub c_im: Param<Tensor<2>>,
    /// log Δ, `[h]`.
    pub log_dt: Param<Tensor<1>>,
    /// Skip, `[h]`.
    pub d: Param<Tensor<1>>,
    #[module(skip)]
    pub discretization: Discretization,
}

/// The discretized system of one [`S4d`], `[h, N/2]` each: log Ā (so Ā^ℓ = exp(ℓ log Ā)),
/// Ā itself, and C·B̄.
pub struct Discrete {
    pub log_a_re: Tensor<2>,
    pub log_a_im: Tensor<2>,
    pub a_re: Tensor<2>,
    pub a_im: Tensor<2>,
    pub b_re: Tensor<2>,
    pub b_im: Tensor<2>,
}

impl S4dConfig {
    /// Draws C and log Δ on the host from the seed's init stream (channel-major); A from the
    /// init's formula; D ~ N(0, 1) as in s4d.py.
    pub fn init(&self, device: &Device) -> S4d {
        self.init_with(&mut stream(self.seed, Stream::Init), device)
    }

    /// [`S4dConfig::init`] drawing from `rng` (a layer of a larger model).
    pub fn init_with(&self, rng: &mut ChaCha8Rng, device: &Device) -> S4d {
        let (h, half) = (self.channels, self.d_state / 2);
        // CN(0, 1): real and imaginary parts each N(0, ½) (torch.randn with dtype cfloat).
        let part = Normal::new(0.0, std::f64::consts::FRAC_1_SQRT_2).expect("finite std");
        let mut c_re = Vec::with_capacity(h * half);
        let mut c_im = Vec::with_capacity(h * half);
        for _ in 0..h * half {
            c_re.push(part.sample(rng) as f32);
            c_im.push(part.sample(rng) as f32);
        }
        let (lo, hi) = (self.dt_min.ln(), self.dt_max.ln());
        let log_dt: Vec<f32> =
            (0..h).map(|_| (lo + rng.random::<f64>() * (hi - lo)) as f32).collect();
        let unit = Normal::new(0.0, 1.0).expect("unit normal");
        let d: Vec<f32> = (0..h).map(|_| unit.sample(rng) as f32).collect();
        let mut log_a_re = Vec::with_capacity(h * half);
        let mut a_im = Vec::with_capacity(h * half);
        for _ in 0..h {
            for n in 0..half {
                let (re, im) = self.init.eigenvalue(n, half);
                log_a_re.push((-re).ln() as f32);
                a_im.push(im as f32);
            }
        }
        let p2 = |v: Vec<f32>| Param::from_data(TensorData::new(v, [h, half]), device);
        let p1 = |v: Vec<f32>| Param::from_data(TensorData::new(v, [h]), device);
        S4d {
            log_a_re: p2(log_a_re),
            a_im: p2(a_im),
            c_re: p2(c_re),
            c_im: p2(c_im),
            log_dt: p1(log_dt),
            d: p1(d),
            discretization: self.discretization,
        }
    }
}

impl S4d {
    /// The parameters weight decay must not reach: A (log(−Re A), Im A) and log Δ, which
    /// state-spaces/s4's `S4DKernel` registers with `weight_decay: 0` (`register(…, lr)`). C
    /// and D are decayed like any weight.
    pub fn no_weight_decay(&self) -> Vec<ParamId> {
        vec![self.log_a_re.id, self.a_im.id, self.log_dt.id]
    }

    pub fn channels(&self) -> usize {
        self.d.dims()[0]
    }

    /// Continuous-time A, (Re, Im), `[h, N/2]`.
    pub fn a(&self) -> (Tensor<2>, Tensor<2>) {
        (self.log_a_re.val().exp().neg(), self.a_im.val())
    }

    /// Ā, log Ā and B̄ (B = 1) by the layer's discretization.
    pub fn discretize(&self) -> Discrete {
        let (a_re, a_im) = self.a();
        let [h, half] = a_re.dims();
        let dt = self.log_dt.val().exp().reshape([h, 1]); // [h, 1]
        let (za_re, za_im) = (a_re.clone() * dt.clone(), a_im.clone() * dt.clone()); // ΔA
        match self.discretization {
            Discretization::Zoh => {
                // Ā = exp(ΔA) = e^{Re}(cos Im + i sin Im); B̄ = (Ā − 1)/A.
                let mag = za_re.clone().exp();
                let (bar_re, bar_im) =
                    (mag.clone() * za_im.clone().cos(), mag * za_im.clone().sin());
                let (b_re, b_im) = complex_div(bar_re.clone() - 1.0, bar_im.clone(), a_re, a_im);
                Discrete {
                    log_a_re: za_re,
                    log_a_im: za_im,
                    a_re: bar_re,
                    a_im: bar_im,
                    b_re,
                    b_im,
                }
            }
            Discretization::Bilinear => {
                // Ā = (1 + ΔA/2)/(1 − ΔA/2), B̄ = Δ/(1 − ΔA/2).
                let (num_re, num_im) = (za_re.clone() * 0.5 + 1.0, za_im.clone() * 0.5);
                let (den_re, den_im) = (za_re.neg() * 0.5 + 1.0, za_im.neg() * 0.5);
                let (bar_re, bar_im) = complex_div(num_re, num_im, den_re.clone(), den_im.clone());
                let (b_re, b_im) = complex_div(
                    dt.expand([h, half]),
                    Tensor::zeros([h, half], &bar_re.device()),
                    den_re,
                    den_im,
                );
                // log Ā = log|Ā| + i·arg Ā.
                let log_re =
                    (bar_re.clone().powi_scalar(2) + bar_im.clone().powi_scalar(2)).log() * 0.5;
                let log_im = bar_im.clone().atan2(bar_re.clone());
                Discrete {
                    log_a_re: log_re,
                    log_a_im: log_im,
                    a_re: bar_re,
                    a_im: bar_im,
                    b_re,
                    b_im,
                }
            }
        }
    }

    /// The convolution kernel K, `[h, len]`: K_ℓ = 2·Re Σ_n C_n B̄_n Ā_n^ℓ.
    pub fn kernel(&self, len: usize) -> Tensor<2> {
        let disc = self.discretize();
        let [h, half] = disc.log_a_re.dims();
        let device = disc.log_a_re.device();
        // C·B̄, [h, N/2].
        let (cb_re, cb_im) = complex_mul(self.c_re.val(), self.c_im.val(), disc.b_re, disc.b_im);
        // Ā^ℓ = exp(ℓ log Ā), [h, N/2, len].
        let ell = Tensor::<1, burn::tensor::Int>::arange(0..len as i64, &device)
            .float()
            .reshape([1, 1, len]);
        let mag = (disc.log_a_re.reshape([h, half, 1]) * ell.clone()).exp();
        // ℓ·arg Ā reaches hundreds of radians (S4D-Lin at N = 64, Δ = 0.1: ~10 per step).
        // GPUs' sin/cos are only specified on [−π, π] (WGSL: absolute error 2⁻¹¹ there), so
        // the phase is reduced first; the gradient passes through (round has zero slope).
        let phase = disc.log_a_im.reshape([h, half, 1]) * ell;
        let turns = (phase.clone() / std::f64::consts::TAU).round().detach();
        let phase = phase - turns * std::f64::consts::TAU;
        let (pow_re, pow_im) = (mag.clone() * phase.clone().cos(), mag * phase.sin());
        // 2·Re(CB · Ā^ℓ) = 2(CB_re·P_re − CB_im·P_im), summed over modes by a batched matmul.
        let k =
            cb_re.reshape([h, 1, half]).matmul(pow_re) - cb_im.reshape([h, 1, half]).matmul(pow_im); // [h, 1, len]
        k.reshape([h, len]) * 2.0
    }

    /// y = K * u + D u for `u: [batch, h, len]`, the convolution by [`causal_conv`].
    pub fn forward(&self, u: Tensor<3>) -> Tensor<3> {
        let [batch, h, len] = u.dims();
        let k = self.kernel(len);
        causal_conv(u.clone(), k) + u * self.d.val().reshape([1, h, 1]).expand([batch, h, len])
    }

    /// The same y as [`S4d::forward`] from the recurrence x_t = Ā x_{t−1} + B̄ u_t,
    /// y_t = 2·Re(C x_t) + D u_t, one step at a time. `u: [batch, h, len]`.
    pub fn recurrence(&self, u: Tensor<3>) -> Tensor<3> {
        let [batch, h, len] = u.dims();
        let disc = self.discretize();
        let half = disc.a_re.dims()[1];
        let device = u.device();
        let expand = |t: Tensor<2>| t.reshape([1, h, half]).expand([batch, h, half]);
        let (a_re, a_im) = (expand(disc.a_re), expand(disc.a_im));
        let (b_re, b_im) = (expand(disc.b_re), expand(disc.b_im));
        let (c_re, c_im) = (expand(self.c_re.val()), expand(self.c_im.val()));
        let mut x_re = Tensor::<3>::zeros([batch, h, half], &device);
        let mut x_im = Tensor::<3>::zeros([batch, h, half], &device);
        let mut ys = Vec::with_capacity(len);
        for t in 0..len {
            let u_t = u.clone().narrow(2, t, 1).expand([batch, h, half]); // [batch, h, N/2]
            let re = a_re.clone() * x_re.clone() - a_im.clone() * x_im.clone()
                + b_re.clone() * u_t.clone();
            let im = a_re.clone() * x_im + a_im.clone() * x_re + b_im.clone() * u_t;
            x_re = re;
            x_im = im;
            let y = (c_re.clone() * x_re.clone() - c_im.clone() * x_im.clone()).sum_dim(2) * 2.0; // [batch, h, 1]
            ys.push(y);
        }
        let d = self.d.val().reshape([1, h, 1]).expand([batch, h, len]);
        Tensor::cat(ys, 2) + u * d
    }
}

/// Above this length [`causal_conv`] goes through the FFT (measured by `gradscope bench scans`:
/// on the CPU the direct convolution wins below a few hundred steps).
pub const FFT_ABOVE: usize = 256;

/// Causal convolution `y_t = Σ_{s≤t} K_{t−s} u_s` per channel, by length.
pub fn causal_conv(u: Tensor<3>, kernel: Tensor<2>) -> Tensor<3> {
    if u.dims()[2] > FFT_ABOVE { causal_conv_fft(u, kernel) } else { causal_conv_direct(u, kernel) }
}

/// [`causal_conv`] as a depthwise 1-D convolution: O(L²) per channel.
/// `u: [batch, h, len]`, `kernel: [h, len]` → `[batch, h, len]`.
pub fn causal_conv_direct(u: Tensor<3>, kernel: Tensor<2>) -> Tensor<3> {
    let [_, h, len] = u.dims();
    // conv1d correlates: flip K and pad len−1 on the left (both sides, keep the first len).
    let weight = kernel.flip([1]).reshape([h, 1, len]); // [h, 1, len]
    conv1d(u, weight, None, ConvOptions::new([1], [len - 1], [1], h)).narrow(2, 0, len)
}

/// [`causal_conv`] through the FFT: zero-padding both to n ≥ 2L (a power of two) makes the
/// circular convolution equal the linear one on its first L outputs. O(L log L).
pub fn causal_conv_fft(u: Tensor<3>, kernel: Tensor<2>) -> Tensor<3> {
    let [batch, h, len] = u.dims();
    let n = (2 * len).next_power_of_two();
    let (u_re, u_im) = burn::signal::rfft(u, 2, Some(n)); // [batch, h, n/2 + 1]
    let (k_re, k_im) = burn::signal::rfft(kernel.reshape([1, h, len]), 2, Some(n)); // [1, h, n/2 + 1]
    let bins = n / 2 + 1;
    let (k_re, k_im) = (k_re.expand([batch, h, bins]), k_im.expand([batch, h, bins]));
    let (y_re, y_im) = complex_mul(u_re, u_im, k_re, k_im);
    burn::signal::irfft(y_re, y_im, 2, Some(n)).narrow(2, 0, len)
}

/// (a + ib)(c + id).
pub fn complex_mul<const D: usize>(
    a: Tensor<D>,
    b: Tensor<D>,
    c: Tensor<D>,
    d: Tensor<D>,
) -> (Tensor<D>, Tensor<D>) {
    (a.clone() * c.clone() - b.clone() * d.clone(), a * d + b * c)
}

/// (a + ib)/(c + id).
pub fn complex_div<const D: usize>(
    a: Tensor<D>,
    b: Tensor<D>,
    c: Tensor<D>,
    d: Tensor<D>,
) -> (Tensor<D>, Tensor<D>) {
    let den = c.clone().powi_scalar(2) + d.clone().powi_scalar(2);
    ((a.clone() * c.clone() + b.clone() * d.clone()) / den.clone(), (b * c - a * d) / den)
}

/// Draws one value per channel in [lo, hi) on a log scale (Mamba's dt init).
pub fn log_uniform(rng: &mut impl Rng, n: usize, lo: f64, hi: f64) -> Vec<f64> {
    let (lo, hi) = (lo.ln(), hi.ln());
    (0..n).map(|_| (lo + rng.random::<f64>() * (hi - lo)).exp()).collect()
}

/// One S4D channel with Δ = exp(`log_dt`) and C drawn from seed 0, on the CPU: its kernel
/// K_0 … K_{len−1} and its Ā per mode as `[re, im]`. The scans lab's live kernel view, which
/// follows the user's Δ, init and discretization without touching the loaded run.
pub async fn single_channel_view(
    init: S4dInit,
    discretization: Discretization,
    d_state: usize,
    log_dt: f64,
    len: usize,
) -> Result<(Vec<f32>, Vec<[f32; 2]>), String> {
    if !(2..=1024).contains(&d_state) || d_state % 2 != 0 {
        return Err(format!("d_state must be even, in 2..=1024 (got {d_state})"));
    }
    if !(1..=16384).contains(&len) {
        return Err(format!("the kernel length must be in 1..=16384 (got {len})"));
    }
    if !log_dt.is_finite() || !(-12.0..=3.0).contains(&log_dt) {
        return Err(format!("log Δ must be in [−12, 3] (got {log_dt})"));
    }
    let device = crate::backend::cpu().device;
    let mut layer = S4dConfig::new(1)
        .with_d_state(d_state)
        .with_init(init)
        .with_discretization(discretization)
        .init(&device);
    layer.log_dt = Param::from_data(TensorData::new(vec![log_dt as f32], [1]), &device);
    let read = |t: Tensor<2>| async move {
        let n = t.dims().iter().product::<usize>();
        let data = t.reshape([n]).into_data_async().await.map_err(|e| format!("{e:?}"))?;
        data.try_to_vec::<f32>().map_err(|e| format!("{e:?}"))
    };
    let kernel = read(layer.kernel(len)).await?;
    let disc = layer.discretize();
    let re = read(disc.a_re).await?;
    let im = read(disc.a_im).await?;
    Ok((kernel, re.into_iter().zip(im).map(|(a, b)| [a, b]).collect()))
}
