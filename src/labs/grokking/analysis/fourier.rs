//! The Fourier view of a weight matrix over the p values of an operand (Nanda et al. 2023) and
//! the inverse participation ratio of its units (Doshi et al. 2023).
//!
//! A map `M` is `[p, units]`, row x = how value x enters unit u. Its real DFT along x,
//! ĉ_k(u) = Σ_x M[x, u] e^{−2πikx/p} for k = 0..=⌊p/2⌋, is computed directly in f64 (p ≤ 257,
//! so the O(p²·units) sum is small, and it is its own reference). A model that has grokked
//! modular addition concentrates its energy on a handful of "key" frequencies.

use serde::{Deserialize, Serialize};

/// Share of the non-constant energy the key frequencies must hold.
pub const KEY_FREQUENCY_SHARE: f64 = 0.9;

/// The spectrum of a `[p, units]` map.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Spectrum {
    /// Frequencies 0..=⌊p/2⌋.
    pub n_freq: usize,
    pub units: usize,
    /// |ĉ_k(u)| / ‖ĉ(u)‖₂, frequency-major (`[n_freq, units]`): each unit's normalized
    /// magnitude spectrum, the heatmap's cells.
    pub magnitude: Vec<f32>,
    /// Share of the total energy Σ_u |ĉ_k(u)|² at each frequency (counting ±k), `[n_freq]`.
    pub energy: Vec<f64>,
    /// The fewest non-constant frequencies that hold [`KEY_FREQUENCY_SHARE`] of the
    /// non-constant energy, strongest first.
    pub key_freqs: Vec<u32>,
    /// The share of the non-constant energy the key frequencies hold.
    pub key_share: f64,
}

/// |ĉ_k| of each column of `map` (`[p, units]`, row-major), as `[n_freq][units]`.
pub fn dft_magnitudes(map: &[f32], p: usize, units: usize) -> Vec<Vec<f64>> {
    assert_eq!(map.len(), p * units, "map is [p, units]");
    let n_freq = p / 2 + 1;
    let mut out = vec![vec![0.0; units]; n_freq];
    let mut re = vec![0.0f64; units];
    let mut im = vec![0.0f64; units];
    for (k, row_out) in out.iter_mut().enumerate() {
        re.iter_mut().for_each(|v| *v = 0.0);
        im.iter_mut().for_each(|v| *v = 0.0);
        for x in 0..p {
            // Reduce k·x mod p first: the angle stays exact for every x.
            let angle = -2.0 * std::f64::consts::PI * ((k * x) % p) as f64 / p as f64;
            let (s, c) = angle.sin_cos();
            let row = &map[x * units..(x + 1) * units];
            for u in 0..units {
                re[u] += c * row[u] as f64;
                im[u] += s * row[u] as f64;
            }
        }
        for u in 0..units {
            row_out[u] = re[u].hypot(im[u]);
        }
    }
    out
}

/// The spectrum of `map` (`[p, units]`, row-major).
pub fn spectrum(map: &[f32], p: usize, units: usize) -> Spectrum {
    let mags = dft_magnitudes(map, p, units);
    let n_freq = mags.len();
    // Energy per frequency; k and p − k are the same real frequency, so k ≥ 1 counts twice
    // (except k = p/2, which cannot occur for odd p).
    let mut energy: Vec<f64> = mags
        .iter()
        .enumerate()
        .map(|(k, row)| {
            let e: f64 = row.iter().map(|m| m * m).sum();
            if k == 0 || 2 * k == p { e } else { 2.0 * e }
        })
        .collect();
    let total: f64 = energy.iter().sum();
    if total > 0.0 {
        energy.iter_mut().for_each(|e| *e /= total);
    }
    let mut order: Vec<usize> = (1..n_freq).collect();
    order.sort_by(|&a, &b| energy[b].total_cmp(&energy[a]));
    let non_constant: f64 = order.iter().map(|&k| energy[k]).sum();
    let mut key_freqs = Vec::new();
    let mut held = 0.0;
    for &k in &order {
        if non_constant <= 0.0 || held >= KEY_FREQUENCY_SHARE * non_constant {
            break;
        }
        held += energy[k];
        key_freqs.push(k as u32);
    }
    let mut magnitude = vec![0f32; n_freq * units];
    for u in 0..units {
        let norm = (0..n_freq).map(|k| mags[k][u].powi(2)).sum::<f64>().sqrt();
        for k in 0..n_freq {
            magnitude[k * units + u] = if norm > 0.0 { (mags[k][u] / norm) as f32 } else { 0.0 };
        }
    }
    Spectrum {
        n_freq,
        units,
        magnitude,
        energy,
        key_freqs,
        key_share: if non_constant > 0.0 { held / non_constant } else { 0.0 },
    }
}

/// Doshi et al.'s inverse participation ratio of each unit of `map` (`[p, units]`):
/// v̂ = |rfft(v)|, IPR = Σ_k (v̂_k / ‖v̂‖₂)^(2r) with r = 2. 1 for a pure frequency, about
/// 3/n_freq for white noise. Units whose column is all zero get 0.
pub fn ipr(map: &[f32], p: usize, units: usize) -> Vec<f64> {
    const R: i32 = 2;
    let mags = dft_magnitudes(map, p, units);
    (0..units)
        .map(|u| {
            let norm = mags.iter().map(|row| row[u].powi(2)).sum::<f64>().sqrt();
            if norm == 0.0 {
                return 0.0;
            }
            mags.iter().map(|row| (row[u] / norm).powi(2 * R)).sum()
        })
        .collect()
}

/// Doshi et al. average a neuron's IPR over its maps (input rows for a and b, output column):
/// the mean of [`ipr`] over several `[p, units]` maps.
pub fn mean_ipr(maps: &[Vec<f32>], p: usize, units: usize) -> Vec<f64> {
    let mut acc = vec![0.0; units];
    for map in maps {
        for (a, v) in acc.iter_mut().zip(ipr(map, p, units)) {
            *a += v / maps.len() as f64;
        }
    }
    acc
}
