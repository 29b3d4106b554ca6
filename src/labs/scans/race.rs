//! The scan race: time per forward+backward of each way to compute a sequence mixer, against
//! sequence length, on one device — the page's log–log chart and `gradscope bench scans`.
//!
//! Shapes are a Mamba layer of the lab's default model and the PyTorch reference's defaults
//! (`scripts/reference/scans_torch.py bench`): batch 1, D = 64 channels, N = 16 states; S4D with
//! 64 channels and N = 32 (16 complex modes, the same 16 numbers of state per channel).

use burn::tensor::{Device, Tensor, TensorData};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal, Uniform};
use serde::{Deserialize, Serialize};
use web_time::Instant;

use crate::labs::scans::ssm::s4d::S4dConfig;
use crate::labs::scans::ssm::scan::{ScanMethod, SelectiveScanInputs, selective_scan};
use crate::train::bench::settled_count;

/// Channels of the raced layer.
pub const RACE_CHANNELS: usize = 64;
/// States per channel.
pub const RACE_STATES: usize = 16;
/// The lengths raced by default: 64 … 16384, ×4.
pub const RACE_LENGTHS: [usize; 6] = [64, 256, 1024, 4096, 8192, 16384];

/// What is raced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RaceTarget {
    /// The selective scan by [`ScanMethod::Sequential`].
    Sequential,
    /// The selective scan by [`ScanMethod::Parallel`].
    Parallel,
    /// The selective scan by [`ScanMethod::Chunked`].
    Chunked,
    /// The selective scan by [`ScanMethod::Fused`] (one kernel: Flex CPU or CubeCL GPU).
    Fused,
    /// S4D's kernel and causal convolution (FFT above 256 steps).
    S4dConv,
}

impl RaceTarget {
    pub const ALL: [RaceTarget; 5] = [
        RaceTarget::Sequential,
        RaceTarget::Parallel,
        RaceTarget::Chunked,
        RaceTarget::Fused,
        RaceTarget::S4dConv,
    ];

    pub fn name(self) -> &'static str {
        match self {
            RaceTarget::Sequential => "sequential scan",
            RaceTarget::Parallel => "parallel scan",
            RaceTarget::Chunked => "chunked scan",
            RaceTarget::Fused => "fused scan",
            RaceTarget::S4dConv => "S4D convolution",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| {
            serde_json::to_value(t).ok().and_then(|v| v.as_str().map(|s| s == name)) == Some(true)
        })
    }
}

/// One measurement.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RaceEntry {
    pub target: RaceTarget,
    pub len: usize,
    /// Milliseconds per forward+backward (median of the timed calls); `None` when skipped
    /// because a shorter length already passed the time cap.
    pub ms: Option<f64>,
    /// GPU dispatches per forward+backward, where counted.
    pub dispatches: Option<f64>,
    /// Why there is no time: the length passed the cap earlier, or would not fit the device.
    #[serde(default)]
    pub note: Option<String>,
}

/// The largest tensor one forward+backward of `target` at `len` allocates, in bytes: the scan's
/// states `[1, len, 64, 16]` (S4D: its kernel powers `[64, 16, len]`, the same size); the fused
/// scan's backward buffer on a GPU (three such sections; the CPU kernel allocates less).
pub fn largest_tensor_bytes(target: RaceTarget, len: usize) -> u64 {
    match target {
        RaceTarget::Fused => crate::labs::scans::ssm::fused_scan::backward_buffer_bytes(
            1,
            len,
            RACE_CHANNELS,
            RACE_STATES,
        ),
        _ => 4 * (len * RACE_CHANNELS * RACE_STATES) as u64,
    }
}

fn random(rng: &mut ChaCha8Rng, n: usize) -> Vec<f32> {
    (0..n).map(|_| StandardNormal.sample(rng)).collect()
}

fn uniform(rng: &mut ChaCha8Rng, n: usize, scale: f32) -> Vec<f32> {
    let u = Uniform::new(0.0f32, 1.0).expect("valid range");
    (0..n).map(|_| scale * u.sample(rng)).collect()
}

/// One forward+backward of `target` at `len` on `device`, finished by an async readback.
async fn call(target: RaceTarget, len: usize, device: &Device) -> Result<(), String> {
    let device = device.clone().autodiff();
    let (d, n) = (RACE_CHANNELS, RACE_STATES);
    let mut rng = ChaCha8Rng::seed_from_u64(len as u64);
    let t3 = |v: Vec<f32>, s: [usize; 3]| Tensor::<3>::from_data(TensorData::new(v, s), &device);
    let u = t3(random(&mut rng, d * len), [1, d, len]).require_grad();
    let out = match target {
        RaceTarget::S4dConv => {
            let s4d = S4dConfig::new(d).with_d_state(2 * n).init(&device);
            s4d.forward(u.clone())
        }
        scan => {
            let method = match scan {
                RaceTarget::Sequential => ScanMethod::Sequential,
                RaceTarget::Parallel => ScanMethod::Parallel,
                RaceTarget::Fused => ScanMethod::Fused,
                _ => ScanMethod::Chunked,
            };
            // mamba's test distributions: A = −0.5·U, Δ = 0.5·U.
            let a = Tensor::<2>::from_data(
                TensorData::new(uniform(&mut rng, d * n, -0.5), [d, n]),
                &device,
            );
            let inputs = SelectiveScanInputs {
                u: u.clone(),
                delta: t3(uniform(&mut rng, d * len, 0.5), [1, d, len]).require_grad(),
                a: a.require_grad(),
                b: t3(random(&mut rng, n * len), [1, n, len]).require_grad(),
                c: t3(random(&mut rng, n * len), [1, n, len]).require_grad(),
                d: Tensor::<1>::ones([d], &device).require_grad(),
                delta_bias: None,
                delta_softplus: true,
            };
            selective_scan(inputs, method)
        }
    };
    let grads = out.sum().backward();
    let g = u.grad(&grads).ok_or("no gradient")?.sum();
    g.into_data_async().await.map_err(|e| format!("{e:?}"))?;
    Ok(())
}

/// Times `target` at `len`: one warm-up call (compilation, allocation), then up to 3 timed
/// calls while their total stays under `cap_ms`; the median. With `count`, also the GPU
/// dispatches of one call.
pub async fn measure(
    target: RaceTarget,
    len: usize,
    device: &Device,
    limits: crate::backend::DeviceLimits,
    cap_ms: f64,
    count: impl Fn() -> Option<u64>,
    pause: impl AsyncFn(),
) -> Result<RaceEntry, String> {
    let bytes = largest_tensor_bytes(target, len);
    if bytes > limits.max_buffer_bytes {
        let note = format!(
            "L = {len} needs a {} MiB tensor, more than this device's {} MiB buffer limit",
            bytes >> 20,
            limits.max_buffer_bytes >> 20
        );
        return Ok(RaceEntry { target, len, ms: None, dispatches: None, note: Some(note) });
    }
    let before = settled_count(&count, &pause).await;
    let started = Instant::now();
    call(target, len, device).await?;
    let first_ms = started.elapsed().as_secs_f64() * 1e3;
    let dispatches = match (before, settled_count(&count, &pause).await) {
        (Some(b), Some(a)) => Some((a - b) as f64),
        _ => None,
    };
    let mut times = Vec::new();
    let mut spent = 0.0;
    while times.len() < 3 && (times.is_empty() || spent + times[0] < cap_ms) {
        if first_ms > cap_ms && times.is_empty() {
            // One call already passed the cap: the warm-up time is the figure.
            times.push(first_ms);
            break;
        }
        let t = Instant::now();
        call(target, len, device).await?;
        let ms = t.elapsed().as_secs_f64() * 1e3;
        spent += ms;
        times.push(ms);
    }
    times.sort_by(f64::total_cmp);
    Ok(RaceEntry { target, len, ms: Some(times[times.len() / 2]), dispatches, note: None })
}
