//! Host-side weight initialization from a seeded stream.
//!
//! burn's own initializers draw from each backend's RNG, which differ between Flex and WebGPU;
//! drawing here makes a CPU run and a GPU run of the same spec start from the same weights.

use burn::module::Param;
use burn::tensor::{Device, Tensor, TensorData};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal, Uniform};

/// `rows × cols` values drawn from N(0, std²), row-major.
pub fn normal(rng: &mut ChaCha8Rng, rows: usize, cols: usize, std: f64) -> Vec<f32> {
    let dist = Normal::new(0.0, std).expect("std is finite and non-negative");
    (0..rows * cols).map(|_| dist.sample(rng) as f32).collect()
}

/// A `rows × cols` (semi-)orthogonal matrix times `gain`, row-major (Saxe et al. 2014; as
/// PyTorch's `orthogonal_`): the orthonormalized columns (if rows ≥ cols; else rows) of a
/// Gaussian matrix, by modified Gram–Schmidt in float64. Square: QᵀQ = QQᵀ = I.
pub fn orthogonal(rng: &mut ChaCha8Rng, rows: usize, cols: usize, gain: f64) -> Vec<f32> {
    let (long, short) = (rows.max(cols), rows.min(cols));
    let unit = Normal::new(0.0, 1.0).expect("unit normal");
    // `short` vectors of length `long`, made orthonormal one after another.
    let mut q: Vec<Vec<f64>> = Vec::with_capacity(short);
    while q.len() < short {
        let mut v: Vec<f64> = (0..long).map(|_| unit.sample(rng)).collect();
        for u in &q {
            let dot: f64 = v.iter().zip(u).map(|(a, b)| a * b).sum();
            v.iter_mut().zip(u).for_each(|(a, b)| *a -= dot * b);
        }
        let norm = v.iter().map(|a| a * a).sum::<f64>().sqrt();
        // A draw (numerically) in the span of the others: draw again.
        if norm > 1e-6 {
            q.push(v.into_iter().map(|a| a / norm).collect());
        }
    }
    let mut out = vec![0.0f32; rows * cols];
    for (k, v) in q.iter().enumerate() {
        for (i, x) in v.iter().enumerate() {
            // rows ≥ cols: v is column k; else v is row k.
            let at = if rows >= cols { i * cols + k } else { k * cols + i };
            out[at] = (gain * x) as f32;
        }
    }
    out
}

/// `n` values from N(0, std²) truncated at ±2·std, as Haiku's `TruncatedNormal(stddev=std)`:
/// no rescaling, so their standard deviation is [`TRUNCATED_STD`]·std.
pub fn truncated_normal(rng: &mut ChaCha8Rng, n: usize, std: f64) -> Vec<f32> {
    let unit = Normal::new(0.0, 1.0).expect("unit normal");
    (0..n)
        .map(|_| {
            loop {
                let x: f64 = unit.sample(rng);
                if x.abs() <= 2.0 {
                    break (x * std) as f32;
                }
            }
        })
        .collect()
}

/// Standard deviation of the unit normal truncated at ±2. Haiku's `VarianceScaling` divides
/// its target std by it so that the truncated draws keep that std; `hk.Linear`'s default
/// `TruncatedNormal(1/√fan_in)` does not, and its weights have std 0.88/√fan_in.
pub const TRUNCATED_STD: f64 = 0.879_625_661_034_239_8;

/// `n` values drawn from U(−bound, bound).
pub fn uniform(rng: &mut ChaCha8Rng, n: usize, bound: f64) -> Vec<f32> {
    if bound == 0.0 {
        return vec![0.0; n];
    }
    let dist = Uniform::new_inclusive(-bound, bound).expect("bound is finite and positive");
    (0..n).map(|_| rng.sample(dist) as f32).collect()
}

/// A trainable `[rows, cols]` parameter holding `values`.
pub fn param2(values: Vec<f32>, rows: usize, cols: usize, device: &Device) -> Param<Tensor<2>> {
    Param::from_data(TensorData::new(values, [rows, cols]), device)
}

/// A trainable `[n]` parameter holding `values`.
pub fn param1(values: Vec<f32>, device: &Device) -> Param<Tensor<1>> {
    let n = values.len();
    Param::from_data(TensorData::new(values, [n]), device)
}
