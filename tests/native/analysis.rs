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

// ---- the series labs' reports, and which lab a metrics file without a header is ------------

fn series_record(step: u64, series: &[(&str, f64)]) -> gradscope::labs::MetricsRecord {
    let series = series.iter().map(|(k, v)| (k.to_string(), *v)).collect();
    gradscope::labs::MetricsRecord {
        step,
        wall_ms: 0.0,
        lab: gradscope::labs::LabMetrics::Series(gradscope::train::SeriesMetrics { series }),
    }
}

/// The scans report per model: best held-out accuracy and its step, the first step at or above
/// 0.9 ("solved"), numbers worked out by hand from the records below.
#[test]
fn scans_report_tracks_best_and_solved_steps_per_model() {
    use gradscope::labs::LabReport;
    let history = [
        series_record(
            0,
            &[("mamba.test_acc", 0.1), ("s4d.test_acc", 0.1), ("mamba.train_loss", 2.0)],
        ),
        series_record(10, &[("mamba.test_acc", 0.95), ("s4d.test_acc", 0.4)]),
        series_record(20, &[("mamba.test_acc", 0.92), ("s4d.test_acc", 0.5)]),
    ];
    let LabReport::Scans(report) = LabReport::from_history(&history) else {
        panic!("series without per-block gradient norms are the scans lab's")
    };
    let by = |n: &str| report.models.iter().find(|m| m.name == n).expect(n).clone();
    let (mamba, s4d) = (by("mamba"), by("s4d"));
    assert_eq!(report.models.len(), 2, "train_loss is not a model");
    assert_eq!((mamba.best_acc, mamba.best_step, mamba.solved_step), (0.95, 10, Some(10)));
    assert_eq!((s4d.best_acc, s4d.best_step, s4d.solved_step), (0.5, 20, None));
    let fields = LabReport::from_history(&history).sweep_fields(&history);
    let field = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).expect(k);
    assert_eq!(field("mamba.final_test_acc"), serde_json::json!(0.92));
    assert_eq!(field("s4d.solved_step"), serde_json::Value::Null, "never: a gap, not a string");
    assert_eq!(field("mamba.solved_step"), serde_json::json!(10));
}

/// The gradient-flow report per stack: the first, last and best held-out loss, and the last
/// block's gradient norm over the first block's at the latest evaluation.
#[test]
fn flow_report_tracks_losses_and_the_gradient_ratio_through_depth() {
    use gradscope::labs::LabReport;
    let history = [
        series_record(
            0,
            &[
                ("pre.test_loss", 4.0),
                ("pre.grad_norm.01", 2.0),
                ("pre.grad_norm.02", 3.0),
                ("pre.grad_norm.03", 8.0),
                ("pre.max_logit.01", 1.5),
                ("pre.max_logit.02", 2.5),
            ],
        ),
        series_record(
            5,
            &[
                ("pre.test_loss", 1.0),
                ("pre.grad_norm.01", 4.0),
                ("pre.grad_norm.02", 1.0),
                ("pre.grad_norm.03", 1.0),
            ],
        ),
        series_record(
            9,
            &[
                ("pre.test_loss", 2.0),
                ("pre.grad_norm.01", 0.5),
                ("pre.grad_norm.02", 1.0),
                ("pre.grad_norm.03", 2.0),
                ("pre.max_logit.01", 7.0),
                ("pre.max_logit.02", 3.0),
            ],
        ),
    ];
    let LabReport::GradientFlow(report) = LabReport::from_history(&history) else {
        panic!("series with per-block gradient norms are the gradient-flow lab's")
    };
    let [pre] = report.stacks.as_slice() else { panic!("one stack: {:?}", report.stacks) };
    assert_eq!((pre.initial_loss, pre.last_loss, pre.best_loss, pre.best_step), (4.0, 2.0, 1.0, 5));
    assert_eq!(pre.last_over_first, 4.0, "block 3 over block 1 at step 9: 2.0 / 0.5");
    assert_eq!(pre.max_logit, Some(7.0));
}

/// A metrics file without a header is read as the lab its records show: flat numbers are the
/// grokking lab's; a grokking record after series is refused (one file, one lab).
#[test]
fn a_headerless_metrics_file_takes_the_lab_its_records_show() {
    use gradscope::labs::read_metrics_file;
    let grokking = "{\"step\":0,\"train_loss\":1,\"train_acc\":0,\"test_loss\":1,\"test_acc\":0}\n";
    let file = read_metrics_file(grokking).unwrap();
    assert_eq!((file.lab.as_deref(), file.version), (Some("grokking"), 1));
    let series = "{\"step\":0,\"series\":{\"a.test_acc\":0.5}}\n";
    assert_eq!(read_metrics_file(series).unwrap().lab, None, "series alone do not say which lab");
    let mixed = format!("{grokking}{series}");
    let e = read_metrics_file(&mixed).unwrap_err();
    assert_eq!((e.line, e.field.as_str()), (2, "series"), "{e}");
}

/// The CSV table (`run --out x.csv`): dotted columns, `step` first and the rest by name, a
/// column that appears later reported (the file is then written anew) and empty in the rows
/// before it, `null` empty, arrays as JSON text, and cells with a comma, quote or line break
/// quoted with the quotes doubled (RFC 4180), as the page's CSV export writes them.
#[test]
fn metrics_csv_flattens_records_and_quotes_cells() {
    use gradscope::train::metrics_csv::CsvTable;
    use serde_json::json;
    let mut t = CsvTable::default();
    assert!(t.push(&json!({"step": 0, "series": {"a.loss": 1.5, "b.loss": null}})));
    assert!(!t.push(&json!({"step": 10, "series": {"a.loss": 0.25, "b.loss": 2}})));
    assert_eq!(t.last_row(), "10,0.25,2\n");
    assert!(t.push(&json!({"step": 20, "note": "x, \"y\"\nz", "top": [1, 2], "empty": {}})));
    assert_eq!(
        t.to_text(),
        "step,note,series.a.loss,series.b.loss,top\n\
         0,,1.5,,\n\
         10,,0.25,2,\n\
         20,\"x, \"\"y\"\"\nz\",,,\"[1,2]\"\n"
    );
}
