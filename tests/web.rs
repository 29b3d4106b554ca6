//! Browser tests (wasm-bindgen-test in headless Chromium; see webdriver.json and
//! scripts/test.sh): training on the CPU backend compiled to wasm, and a few steps on WebGPU
//! (SwiftShader here) that must match the CPU backend on the same seed.
#![cfg(target_arch = "wasm32")]

use gradscope::backend;
use gradscope::spec::{ExperimentSpec, GrokkingModel, GrokkingSpec, LossKind};
use gradscope::train::{MetricsRecord, TrainingSession};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// Small enough for SwiftShader: p = 23 (264 train pairs), width 32.
fn small_spec(steps: u64) -> ExperimentSpec {
    let mut s = GrokkingSpec::default();
    s.task.p = 23;
    let GrokkingModel::Mlp(m) = &mut s.model else { unreachable!() };
    m.width = 32;
    s.loss.kind = LossKind::CrossEntropy;
    s.optimizer.lr = 2e-2;
    s.optimizer.weight_decay = 0.1;
    s.training.steps = steps;
    ExperimentSpec::Grokking(s)
}

async fn train(b: &backend::Backend, spec: ExperimentSpec) -> Vec<MetricsRecord> {
    let mut session = TrainingSession::new(spec, &b.device, b.limits).expect("valid spec");
    session.run_to_end(|_| {}).await.expect("no divergence");
    session.history().to_vec()
}

#[wasm_bindgen_test]
async fn cpu_backend_trains_in_the_browser() {
    let history = train(&backend::cpu(), small_spec(60)).await;
    assert_eq!(history.len(), 61);
    let (first, last) = (&history[0], history.last().unwrap());
    assert!(last.train_loss < 0.5 * first.train_loss, "{} → {}", first.train_loss, last.train_loss);
    assert!(last.train_acc > first.train_acc + 0.3, "{} → {}", first.train_acc, last.train_acc);
}

#[wasm_bindgen_test]
async fn webgpu_matches_the_cpu_backend_on_the_same_seed() {
    let gpu = backend::webgpu()
        .await
        .expect("headless Chromium with --enable-unsafe-webgpu has an adapter");
    assert!(gpu.label.starts_with("WebGPU"), "{}", gpu.label);
    let steps = 3;
    let on_gpu = train(&gpu, small_spec(steps)).await;
    let on_cpu = train(&backend::cpu(), small_spec(steps)).await;
    assert_eq!(on_gpu.len(), on_cpu.len());
    for (g, c) in on_gpu.iter().zip(&on_cpu) {
        // f32 on both; different reduction orders: agree to 1e-3 relative.
        for (name, gv, cv) in [
            ("train_loss", g.train_loss, c.train_loss),
            ("test_loss", g.test_loss, c.test_loss),
            ("weight_norm", g.weight_norm, c.weight_norm),
        ] {
            assert!(
                (gv - cv).abs() <= 1e-3 * cv.abs().max(1e-3),
                "step {}: {name} {gv} vs {cv}",
                g.step
            );
        }
        assert!((g.train_acc - c.train_acc).abs() <= 2.0 / 264.0, "step {}", g.step);
    }
    assert!(on_gpu.last().unwrap().train_loss < on_gpu[0].train_loss, "loss decreases on WebGPU");
}

/// The grokking lab's own pieces on WebGPU: StableMax, ⊥Grad, clipping, the metrics and the
/// analysis snapshot (async readbacks of the weight maps and predictions) agree with the CPU.
#[wasm_bindgen_test]
async fn webgpu_stablemax_orthograd_and_analysis_match_the_cpu() {
    let gpu = backend::webgpu().await.expect("WebGPU adapter");
    assert!(!gpu.limits.float64, "WebGPU reports no float64");
    let spec = || {
        let ExperimentSpec::Grokking(mut s) = small_spec(3);
        s.loss.kind = LossKind::Stablemax;
        s.optimizer.orthograd = true;
        s.optimizer.grad_clip = 1.0;
        ExperimentSpec::Grokking(s)
    };
    let mut on_gpu = TrainingSession::new(spec(), &gpu.device, gpu.limits).unwrap();
    on_gpu.run_to_end(|_| {}).await.unwrap();
    let cpu = backend::cpu();
    let mut on_cpu = TrainingSession::new(spec(), &cpu.device, cpu.limits).unwrap();
    on_cpu.run_to_end(|_| {}).await.unwrap();
    for (g, c) in on_gpu.history().iter().zip(on_cpu.history()) {
        assert!(
            (g.train_loss - c.train_loss).abs() <= 1e-3 * c.train_loss,
            "step {}: {} vs {}",
            g.step,
            g.train_loss,
            c.train_loss
        );
        if let (Some(gc), Some(cc)) = (g.nlm_cosine, c.nlm_cosine) {
            assert!((gc - cc).abs() < 1e-3, "step {}: cos {gc} vs {cc}", g.step);
        }
    }
    let (ga, ca) = (on_gpu.analyse(true).await.unwrap(), on_cpu.analyse(true).await.unwrap());
    // Near-ties in the argmax may round differently; nearly every pair must agree.
    let same = ga.grid.iter().zip(&ca.grid).filter(|(g, c)| g == c).count();
    assert!(same as f64 >= 0.98 * ga.grid.len() as f64, "{same} of {} cells agree", ga.grid.len());
    assert_eq!(ga.spectrum.n_freq, 12);
    for (g, c) in ga.ipr.iter().zip(&ca.ipr) {
        assert!((g - c).abs() < 1e-3, "IPR {g} vs {c}");
    }
    assert_eq!(ga.pruning.len(), ca.pruning.len());
}
