//! Fourier spectrum, IPR and the "did it grok?" verdict on planted inputs.
#![cfg(not(target_arch = "wasm32"))]

use gradscope::labs::grokking::analysis::fourier::{dft_magnitudes, ipr, spectrum};
use gradscope::labs::grokking::analysis::{GrokReport, Verdict};
use gradscope::labs::grokking::{GrokkingMetrics, GrokkingRecord};
use rand::SeedableRng;
use rand_distr::{Distribution, Normal};

/// Nanda et al.'s modulus, so their key frequencies are all below p/2.
const P: usize = 113;

/// `[p, units]` with column u = cos(2π k_u x / p + φ_u).
fn planted(freqs: &[usize]) -> Vec<f32> {
    let units = freqs.len();
    let mut m = vec![0f32; P * units];
    for x in 0..P {
        for (u, &k) in freqs.iter().enumerate() {
            let phase = 0.3 * u as f64;
            m[x * units + u] =
                (2.0 * std::f64::consts::PI * (k * x) as f64 / P as f64 + phase).cos() as f32;
        }
    }
    m
}

fn noise(units: usize, seed: u64) -> Vec<f32> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let n = Normal::new(0.0, 1.0).unwrap();
    (0..P * units).map(|_| n.sample(&mut rng) as f32).collect()
}

#[test]
fn dft_of_a_cosine_is_a_single_line_of_height_p_over_2() {
    let m = planted(&[5]);
    let mags = dft_magnitudes(&m, P, 1);
    assert_eq!(mags.len(), P / 2 + 1);
    for (k, row) in mags.iter().enumerate() {
        let want = if k == 5 { P as f64 / 2.0 } else { 0.0 };
        assert!((row[0] - want).abs() < 1e-4, "k = {k}: {} vs {want}", row[0]);
    }
}

#[test]
fn key_frequencies_of_a_planted_embedding_are_the_planted_ones() {
    let s = spectrum(&planted(&[14]), P, 1);
    assert_eq!(s.key_freqs, vec![14]);
    assert!(s.key_share > 0.999);
    // Nanda's mainline frequencies, several neurons each, plus a little noise.
    let freqs = [14, 35, 41, 42, 52, 14, 35, 41, 42, 52];
    let mut m = planted(&freqs);
    for (v, n) in m.iter_mut().zip(noise(freqs.len(), 1)) {
        *v += 0.02 * n;
    }
    let s = spectrum(&m, P, freqs.len());
    let mut keys = s.key_freqs.clone();
    keys.sort();
    assert_eq!(keys, vec![14, 35, 41, 42, 52]);
    // White noise spreads over most of the 56 frequencies.
    let s = spectrum(&noise(64, 2), P, 64);
    assert!(s.key_freqs.len() > 35, "{} key frequencies in noise", s.key_freqs.len());
    assert!((s.energy.iter().sum::<f64>() - 1.0).abs() < 1e-9);
}

#[test]
fn ipr_is_high_for_a_periodic_neuron_and_low_for_noise() {
    let periodic = ipr(&planted(&[3, 20, 48]), P, 3);
    for v in &periodic {
        assert!((v - 1.0).abs() < 1e-6, "pure cosine IPR {v}");
    }
    let diffuse = ipr(&noise(200, 3), P, 200);
    let mean = diffuse.iter().sum::<f64>() / diffuse.len() as f64;
    // |ĉ_k|² of Gaussian noise is exponential: E[IPR] ≈ 2/n_freq ≈ 0.035 for 57 frequencies.
    assert!(mean > 0.02 && mean < 0.08, "white-noise IPR {mean}");
    assert!(diffuse.iter().all(|&v| v < 0.3));
}

fn record(step: u64, train_acc: f64, test_acc: f64) -> GrokkingRecord {
    GrokkingRecord {
        step,
        wall_ms: 0.0,
        lab: GrokkingMetrics {
            train_loss: 1.0 - train_acc + 1e-3,
            train_acc,
            test_loss: 1.0 - test_acc + 1e-3,
            test_acc,
            weight_norm: 1.0,
            softmax_collapse: 0.0,
            zero_loss: 0.0,
            nlm_cosine: None,
            grad_norm: None,
            train_clean_acc: None,
            corrupted_fit: None,
            layer_norms: vec![],
        },
    }
}

#[test]
fn verdicts() {
    let run = |points: &[(u64, f64, f64)]| {
        let h: Vec<_> = points.iter().map(|&(s, a, b)| record(s, a, b)).collect();
        GrokReport::from_history(&h)
    };
    assert_eq!(run(&[(0, 0.01, 0.01), (10, 0.5, 0.01)]).verdict, Verdict::NoLearning);
    assert_eq!(
        run(&[(0, 0.01, 0.01), (10, 1.0, 0.05), (20, 1.0, 0.1)]).verdict,
        Verdict::Memorized
    );
    let grok = run(&[(0, 0.01, 0.01), (28, 1.0, 0.4), (40, 1.0, 0.99), (44, 1.0, 1.0)]);
    assert_eq!(grok.verdict, Verdict::Grokked);
    assert_eq!(
        (grok.train_step, grok.test_step, grok.test_acc_at_fit),
        (Some(28), Some(40), Some(0.4))
    );
    assert_eq!(
        run(&[(0, 0.01, 0.01), (10, 0.995, 0.95), (12, 1.0, 0.995)]).verdict,
        Verdict::Generalized
    );
    // PAIR's statistic: max test/train loss.
    assert!((grok.max_loss_ratio.unwrap() - (0.601 / 0.001)).abs() < 1e-9);
}
