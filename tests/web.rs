//! Browser tests (wasm-bindgen-test in headless Chromium, in a dedicated worker; see webdriver.json and
//! scripts/test.sh): training on the CPU backend compiled to wasm, and a few steps on WebGPU
//! (SwiftShader here) that must match the CPU backend on the same seed.
#![cfg(target_arch = "wasm32")]

use gradscope::backend;
use gradscope::labs::ExperimentSpec;
use gradscope::labs::TrainingSession;
use gradscope::labs::grokking::GrokkingRecord;
use gradscope::labs::grokking::{GrokkingModel, GrokkingSpec, LossKind};
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

async fn train(b: &backend::Backend, spec: ExperimentSpec) -> Vec<GrokkingRecord> {
    let mut session = TrainingSession::new(spec, &b.device, b.limits).expect("valid spec");
    session.run_to_end(|_| {}).await.expect("no divergence");
    session.history().iter().map(|r| r.to_grokking().unwrap()).collect()
}

#[wasm_bindgen_test]
async fn cpu_backend_trains_in_the_browser() {
    let history = train(&backend::cpu(), small_spec(60)).await;
    assert_eq!(history.len(), 61);
    let (first, last) = (&history[0], history.last().unwrap());
    assert!(last.train_loss < 0.5 * first.train_loss, "{} → {}", first.train_loss, last.train_loss);
    assert!(last.train_acc > first.train_acc + 0.3, "{} → {}", first.train_acc, last.train_acc);
}

/// The CPU backend's matmuls in wasm run gemm's 128-bit SIMD microkernels (`backend::cpu`
/// turns them on; gemm's default on wasm is scalar), and agree with a direct float64 triple
/// loop on shapes that leave partial tiles at every edge (1×1, 7×5·5×3, 33×65·65×17, 130×97·97×200).
#[wasm_bindgen_test]
async fn cpu_matmul_uses_wasm_simd_and_matches_a_float64_loop() {
    use burn::tensor::{Tensor, TensorData};
    let cpu = backend::cpu();
    assert!(gemm::get_wasm_simd128(), "gemm's wasm SIMD kernels are off");
    for (m, k, n) in [(1, 1, 1), (7, 5, 3), (33, 65, 17), (130, 97, 200)] {
        // Deterministic values in [-1, 1) (an LCG), so the check needs no RNG crate.
        let mut state = (m * 1000 + k * 10 + n) as u64;
        let mut next = || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((state >> 40) as f64 / (1u64 << 24) as f64) * 2.0 - 1.0
        };
        let a: Vec<f64> = (0..m * k).map(|_| next()).collect();
        let b: Vec<f64> = (0..k * n).map(|_| next()).collect();
        let to32 = |v: &[f64]| v.iter().map(|&x| x as f32).collect::<Vec<f32>>();
        let ta = Tensor::<2>::from_data(TensorData::new(to32(&a), [m, k]), &cpu.device);
        let tb = Tensor::<2>::from_data(TensorData::new(to32(&b), [k, n]), &cpu.device);
        let got = read_f32(ta.matmul(tb)).await;
        let want: Vec<f32> = (0..m * n)
            .map(|ij| {
                let (i, j) = (ij / n, ij % n);
                (0..k)
                    .map(|l| (a[i * k + l] as f32 as f64) * (b[l * n + j] as f32 as f64))
                    .sum::<f64>() as f32
            })
            .collect();
        // f32 accumulation over k ≤ 97 terms of magnitude ≤ 1: well within 1e-5 · k.
        assert_allclose(&got, &want, 1e-5, 1e-5 * k as f32, &format!("{m}×{k}·{k}×{n}"));
    }
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
        let ExperimentSpec::Grokking(mut s) = small_spec(3) else { panic!("a grokking spec") };
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
    let grok = |s: &TrainingSession| -> Vec<GrokkingRecord> {
        s.history().iter().map(|r| r.to_grokking().unwrap()).collect()
    };
    for (g, c) in grok(&on_gpu).iter().zip(&grok(&on_cpu)) {
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
    let analysis = |a| match a {
        gradscope::labs::LabAnalysis::Grokking(a) => a,
        other => panic!("not a grokking analysis: {other:?}"),
    };
    let ga = analysis(on_gpu.analyse(true, None).await.unwrap());
    let ca = analysis(on_cpu.analyse(true, None).await.unwrap());
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

/// w after three AdamW steps (lr 0.01, ε = 1e-25, Prieto et al.'s) on y = w · 1e-20 from
/// w = 1: the gradient 1e-20 is a normal float, its square 1e-40 a subnormal one.
async fn adam_after_three_tiny_gradients(device: &burn::tensor::Device) -> f32 {
    use burn::module::Param;
    use burn::nn::Linear;
    use burn::optim::GradientsParams;
    use burn::tensor::{Tensor, TensorData};
    use gradscope::spec::{OptimizerKind, OptimizerSpec};
    let spec = OptimizerSpec {
        kind: OptimizerKind::AdamW,
        lr: 0.01,
        weight_decay: 0.0,
        eps: 1e-25,
        ..OptimizerSpec::default()
    };
    let mut optimizer = gradscope::train::optim::build(&spec);
    let weight = Param::from_data(TensorData::new(vec![1.0f32], [1, 1]), device);
    let mut layer = Linear { weight, bias: None };
    for _ in 0..3 {
        let x = Tensor::<2>::from_data(TensorData::new(vec![1e-20f32], [1, 1]), device);
        let grads = GradientsParams::from_grads(layer.forward(x).sum().backward(), &layer);
        layer = optimizer.step(spec.lr, layer, grads);
    }
    read_f32(layer.weight.val()).await[0]
}

/// What the backend's subnormal probe says decides what Adam does with a tiny ε, on each
/// backend: where subnormals are kept, each step is the learning rate (w = 1 − 3 · 0.01, as
/// natively in tests/native/training.rs); where they are flushed, v̂ = 0 and each step is
/// lr · 1e-20 / 1e-25 = 1000 (w = −2999): the step the page's warning
/// (`train::optim::subnormal_warning`) describes. wasm keeps subnormals; SwiftShader's WebGPU
/// flushed them when measured (2026-12-07), and the e2e WebGPU test asserts the page's warning
/// there, so a change of SwiftShader shows up in that test, not silently here.
#[wasm_bindgen_test]
async fn the_subnormal_probe_predicts_adams_step_with_a_tiny_eps() {
    let cpu = backend::cpu();
    let gpu = backend::webgpu().await.expect("WebGPU adapter");
    assert!(!cpu.limits.flushes_subnormals, "wasm keeps subnormals");
    for b in [cpu, gpu] {
        let w = adam_after_three_tiny_gradients(&b.device).await;
        let want = if b.limits.flushes_subnormals { 1.0 - 3.0 * 0.01 * 1e5 } else { 0.97 };
        assert!(
            (w - want).abs() <= 1e-2 * want.abs().max(0.1),
            "{}: w = {w}, want {want}",
            b.label
        );
    }
}

// ---- the scans lab on WebGPU, against the in-browser CPU backend ----------------------------

async fn read_f32<const D: usize>(t: burn::tensor::Tensor<D>) -> Vec<f32> {
    let n = t.shape().num_elements();
    t.reshape([n]).into_data_async().await.expect("readback").try_to_vec::<f32>().unwrap()
}

/// max |a − b| − (atol + rtol·|b|) ≤ 0, as torch.allclose.
fn assert_allclose(a: &[f32], b: &[f32], rtol: f32, atol: f32, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!((x - y).abs() <= atol + rtol * y.abs(), "{what}: element {i}: {x} vs {y}");
    }
}

/// The selective scan on WebGPU (parallel, chunked, and `fused`, the CubeCL kernel) and the
/// fused CPU kernel in wasm against the sequential scan on the in-browser CPU backend, outputs and the gradients
/// w.r.t. u, Δ, A, B, C, D, at L ∈ {1, 7, 128, 1000}, with mamba's fp32 tolerances (outputs
/// rtol 6e-4 / atol 2e-3; gradients 1e-3, relative to each argument's largest gradient). On wasm
/// a shader that fails validation is only logged and its dispatch skipped, so only a comparison
/// like this one catches it.
#[wasm_bindgen_test]
async fn webgpu_selective_scans_match_the_cpu_reference() {
    use burn::tensor::{Device, Tensor, TensorData};
    use gradscope::labs::scans::ssm::scan::{ScanMethod, SelectiveScanInputs, selective_scan};
    let gpu = backend::webgpu().await.expect("WebGPU adapter");
    let cpu = backend::cpu();
    let (b, d, n) = (2usize, 4usize, 8usize);
    for (seed, l) in [1usize, 7, 128, 1000].into_iter().enumerate() {
        let mut x = 0x9e37_79b9u64 + seed as u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 40) as f32 / (1u64 << 24) as f32 // U[0, 1)
        };
        let mut vals = |k: usize, lo: f32, hi: f32| {
            (0..k).map(|_| lo + (hi - lo) * next()).collect::<Vec<f32>>()
        };
        let data = [
            (vals(b * d * l, -2.0, 2.0), vec![b, d, l]),
            (vals(b * d * l, 0.0, 0.5), vec![b, d, l]),
            (vals(d * n, -0.5, 0.0), vec![d, n]),
            (vals(b * n * l, -2.0, 2.0), vec![b, n, l]),
            (vals(b * n * l, -2.0, 2.0), vec![b, n, l]),
            (vals(d, -1.0, 1.0), vec![d]),
        ];
        let bias = vals(d, 0.0, 0.5);
        let g = vals(b * d * l, -1.0, 1.0);
        let run = |device: &Device, method: ScanMethod| {
            let t3 = |i: usize| {
                Tensor::<3>::from_data(
                    TensorData::new(data[i].0.clone(), data[i].1.clone()),
                    device,
                )
                .require_grad()
            };
            let (u, delta, bm, cm) = (t3(0), t3(1), t3(3), t3(4));
            let a = Tensor::<2>::from_data(
                TensorData::new(data[2].0.clone(), data[2].1.clone()),
                device,
            )
            .require_grad();
            let dd = Tensor::<1>::from_data(
                TensorData::new(data[5].0.clone(), data[5].1.clone()),
                device,
            )
            .require_grad();
            let inputs = SelectiveScanInputs {
                u: u.clone(),
                delta: delta.clone(),
                a: a.clone(),
                b: bm.clone(),
                c: cm.clone(),
                d: dd.clone(),
                delta_bias: Some(Tensor::from_data(TensorData::new(bias.clone(), [d]), device)),
                delta_softplus: true,
            };
            let out = selective_scan(inputs, method);
            let weights = Tensor::<3>::from_data(TensorData::new(g.clone(), [b, d, l]), device);
            let grads = (out.clone() * weights).sum().backward();
            let zeros = |k: usize| Tensor::<1>::zeros([k], device);
            let grad3 = |t: &Tensor<3>| {
                t.grad(&grads)
                    .map(|g| {
                        let n = g.shape().num_elements();
                        g.reshape([n])
                    })
                    .unwrap_or_else(|| zeros(t.shape().num_elements()))
            };
            let ga = a.grad(&grads).map(|g| g.reshape([d * n])).unwrap_or_else(|| zeros(d * n));
            let gd = dd.grad(&grads).unwrap_or_else(|| zeros(d));
            (out, vec![grad3(&u), grad3(&delta), ga, grad3(&bm), grad3(&cm), gd])
        };
        let (ref_out, ref_grads) = run(&cpu.device, ScanMethod::Sequential);
        let ref_out = read_f32(ref_out).await;
        let mut want = Vec::new();
        for t in ref_grads {
            want.push(read_f32(t).await);
        }
        // The fused CPU kernel too, as the CPU fallback runs it in wasm.
        let cases = [
            (&gpu.device, ScanMethod::Parallel, "WebGPU"),
            (&gpu.device, ScanMethod::Chunked, "WebGPU"),
            (&gpu.device, ScanMethod::Fused, "WebGPU"),
            (&cpu.device, ScanMethod::Fused, "CPU (wasm)"),
        ];
        for (device, method, on) in cases {
            // A device without the kernel would run the composed scan under the name Fused.
            if method == ScanMethod::Fused {
                assert!(gradscope::labs::scans::ssm::fused_scan::has_fused_kernel(device), "{on}");
            }
            let (out, grads) = run(device, method);
            let method = format!("{method:?} on {on}");
            assert_allclose(
                &read_f32(out).await,
                &ref_out,
                6e-4,
                2e-3,
                &format!("{method} output, L={l}"),
            );
            for (k, (got, want)) in grads.into_iter().zip(&want).enumerate() {
                let scale = want.iter().fold(1.0f32, |m, x| m.max(x.abs()));
                let got = read_f32(got).await;
                assert_allclose(
                    &got,
                    want,
                    1e-3,
                    1e-3 * scale,
                    &format!("{method} gradient {k}, L={l}"),
                );
            }
        }
    }
}

/// S4D on WebGPU: the kernel and the FFT convolution against the CPU backend's, norm-wise
/// relative error < 2e-3. Not the 1e-4 of the float64 checks: WGSL specifies `sin`/`cos` only to
/// an absolute error of 2⁻¹¹ ≈ 4.9e-4 (on [−π, π], where `S4d::kernel` reduces the phase), and
/// SwiftShader sits at that bound (measured 5.6e-4 for S4D-Lin/ZOH).
#[wasm_bindgen_test]
async fn webgpu_s4d_kernel_and_fft_convolution_match_the_cpu() {
    use burn::tensor::{Tensor, TensorData};
    use gradscope::labs::scans::ssm::s4d::{Discretization, S4dConfig, S4dInit};
    let gpu = backend::webgpu().await.expect("WebGPU adapter");
    let cpu = backend::cpu();
    for (init, disc) in
        [(S4dInit::Lin, Discretization::Zoh), (S4dInit::Inv, Discretization::Bilinear)]
    {
        let len = 300; // above FFT_ABOVE: the FFT path
        let u: Vec<f32> = (0..4 * len).map(|i| ((i * 7919) % 97) as f32 / 48.0 - 1.0).collect();
        let y = |device: &burn::tensor::Device| {
            let layer = S4dConfig::new(4)
                .with_d_state(16)
                .with_init(init)
                .with_discretization(disc)
                .init(device);
            let ut = Tensor::<3>::from_data(TensorData::new(u.clone(), [1, 4, len]), device);
            (layer.kernel(len), layer.forward(ut))
        };
        let (kg, yg) = y(&gpu.device);
        let (kc, yc) = y(&cpu.device);
        let norm_rel = |a: &[f32], b: &[f32]| {
            let num: f32 = a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f32>().sqrt();
            num / b.iter().map(|y| y * y).sum::<f32>().sqrt()
        };
        let (kg, kc) = (read_f32(kg).await, read_f32(kc).await);
        assert!(norm_rel(&kg, &kc) < 2e-3, "{init:?} {disc:?} kernel: {}", norm_rel(&kg, &kc));
        let (yg, yc) = (read_f32(yg).await, read_f32(yc).await);
        assert!(norm_rel(&yg, &yc) < 2e-3, "{init:?} {disc:?} output: {}", norm_rel(&yg, &yc));
    }
}
