//! Browser tests (wasm-bindgen-test in headless Chromium, in a dedicated worker; see webdriver.json and
//! scripts/test.sh): training on the CPU backend compiled to wasm, and a few steps on WebGPU
//! (SwiftShader here) that must match the CPU backend on the same seed.
#![cfg(target_arch = "wasm32")]

use gradscope::backend;
use gradscope::spec::{ExperimentSpec, GrokkingModel, GrokkingSpec, LossKind};
use gradscope::train::{MetricsRecord, TrainingSession};
use wasm_bindgen_test::*;

// In a dedicated worker, as the playground trains: the first WebGPU step of a transformer
// compiles ~100 kernels in one stretch, and on the page's main thread that stalled the renderer
// past chromedriver's 30 s message timeout on a busy 2-core machine.
wasm_bindgen_test_configure!(run_in_dedicated_worker);

#[path = "shared/transformer_checks.rs"]
mod transformer_checks;

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
    assert_eq!(on_gpu.history().len(), on_cpu.history().len());
    for (g, c) in on_gpu.history().iter().zip(on_cpu.history()) {
        assert!(
            (g.train_loss - c.train_loss).abs() <= 1e-3 * c.train_loss,
            "step {}: {} vs {}",
            g.step,
            g.train_loss,
            c.train_loss
        );
        // Step 0 has no gradient yet; every later evaluation has a cosine on both backends.
        match (g.nlm_cosine, c.nlm_cosine) {
            (Some(gc), Some(cc)) => {
                assert!((gc - cc).abs() < 1e-3, "step {}: cos {gc} vs {cc}", g.step)
            }
            (None, None) => assert_eq!(g.step, 0, "no NLM cosine at step {}", g.step),
            (gc, cc) => panic!("step {}: NLM cosine {gc:?} on WebGPU vs {cc:?} on the CPU", g.step),
        }
    }
    let (ga, ca) = (on_gpu.analyse(true).await.unwrap(), on_cpu.analyse(true).await.unwrap());
    // Near-ties in the argmax may round differently; nearly every pair must agree.
    let same = ga.grid.iter().zip(&ca.grid).filter(|(g, c)| g == c).count();
    assert!(same as f64 >= 0.98 * ga.grid.len() as f64, "{same} of {} cells agree", ga.grid.len());
    assert_eq!(ga.spectrum.n_freq, 12);
    assert_eq!(ga.ipr.len(), 32, "one IPR per first-layer neuron");
    assert_eq!(ga.ipr.len(), ca.ipr.len());
    for (g, c) in ga.ipr.iter().zip(&ca.ipr) {
        assert!((g - c).abs() < 1e-3, "IPR {g} vs {c}");
    }
    // The pruning curve: the same fractions, and accuracies within a few pairs whose top two
    // logits are within rounding of each other (264 train, 265 test pairs).
    assert!(!ga.pruning.is_empty());
    assert_eq!(ga.pruning.len(), ca.pruning.len());
    for (g, c) in ga.pruning.iter().zip(&ca.pruning) {
        assert_eq!(g.fraction, c.fraction);
        for (what, gv, cv) in
            [("train", g.train_acc, c.train_acc), ("test", g.test_acc, c.test_acc)]
        {
            assert!(
                (gv - cv).abs() <= 3.0 / 264.0,
                "pruned {}: {what} acc {gv} vs {cv}",
                g.fraction
            );
        }
    }
}

/// The transformer's attention against hand-derived values and a float64 loop, causality, and
/// (a, b) ≠ (b, a), on WebGPU and on the CPU-wasm backend: each backend against references
/// outside the model, not only against each other (both once shared an inverted mask).
#[wasm_bindgen_test]
async fn transformer_attention_is_causal_on_webgpu_and_the_cpu() {
    let gpu = backend::webgpu().await.expect("WebGPU adapter");
    for b in [gpu, backend::cpu()] {
        transformer_checks::attention_matches_a_hand_computed_example(&b.device).await;
        transformer_checks::attention_matches_a_float64_loop(&b.device).await;
        transformer_checks::later_tokens_do_not_change_earlier_outputs(&b.device).await;
        transformer_checks::logits_distinguish_swapped_operands(&b.device).await;
    }
}

/// The tiny Nanda- and Power-shaped transformers against the PyTorch fixtures: logits at init,
/// then the losses of 5 full-batch AdamW steps on WebGPU (SwiftShader runs every kernel on the
/// CPU: 20 steps of both models took ~6 minutes here), and all 20 steps with the final logits
/// on the CPU-wasm backend.
#[wasm_bindgen_test]
async fn transformer_training_matches_pytorch_on_webgpu_and_the_cpu() {
    let gpu = backend::webgpu().await.expect("WebGPU adapter");
    for (b, steps) in [(gpu, 5), (backend::cpu(), 20)] {
        for (name, json) in transformer_checks::FIXTURES {
            let started = web_time::Instant::now();
            let name = format!("{name} on {}", b.label);
            transformer_checks::training_matches_the_pytorch_fixture(
                &name, json, &b.device, b.limits, steps,
            )
            .await;
            console_log!(
                "{name}: {steps} steps checked in {:.1} s",
                started.elapsed().as_secs_f64()
            );
        }
    }
}
