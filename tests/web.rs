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
    s.optimizer.lr = 3e-3;
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
    let gpu = backend::webgpu().await.expect("headless Chromium with --enable-unsafe-webgpu has an adapter");
    assert!(gpu.label.starts_with("WebGPU — "), "{}", gpu.label);
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
            assert!((gv - cv).abs() <= 1e-3 * cv.abs().max(1e-3), "step {}: {name} {gv} vs {cv}", g.step);
        }
        assert!((g.train_acc - c.train_acc).abs() <= 2.0 / 264.0, "step {}", g.step);
    }
    assert!(on_gpu.last().unwrap().train_loss < on_gpu[0].train_loss, "loss decreases on WebGPU");
}
