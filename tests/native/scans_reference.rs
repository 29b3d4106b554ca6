//! The scans lab's three networks (S4D, gated S4D, Mamba: every block, its inits, the model
//! around them, the loss) against an independent float64 PyTorch implementation written from
//! s4d.py and mamba_simple.py (`scripts/reference/scans_net_torch.py`): the same weights (from
//! `gradscope inspect init`, which the script checks against those sources' inits) and batch,
//! compared on logits, loss, accuracy and every parameter's gradient, entry by entry. The
//! fixture is committed (CI needs no PyTorch); `scripts/make-fixtures.sh` regenerates it.
#![cfg(not(target_arch = "wasm32"))]

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::{Device, Int, Tensor, TensorData};
use gradscope::backend::{self, DeviceLimits};
use gradscope::labs::scans::ScansExperiment;
use gradscope::labs::scans::dump::init_dump;
use gradscope::labs::scans::experiment::{batch_loss, net_config};
use gradscope::labs::scans::memory::SequenceBatch;
use gradscope::labs::scans::spec::MixerKind;
use gradscope::labs::scans::ssm::fused_scan::has_fused_kernel;
use gradscope::labs::scans::ssm::net::SsmNet;
use gradscope::labs::scans::ssm::scan::ScanMethod;
use gradscope::labs::{ExperimentSpec, scans::ScansSpec};
use gradscope::nn::params::param_names;
use gradscope::train::Experiment;
use pollster::block_on;
use serde_json::Value;

/// Selective copying, L = 16, 4 data tokens; per model 2 layers, d_model 8, N = 4: an S4D-Lin
/// (ZOH), a gated S4D-Inv (bilinear) and a Mamba.
const FIXTURE: &str = include_str!("../fixtures/scans-tiny.json");

/// Logits within 1e-5 of the largest |logit|, the loss within 1e-5 relative: float32 against
/// float64 through two layers and a scan of 16 steps (measured: under 1e-6).
const LOGIT_TOL: f64 = 1e-5;
/// Each gradient entry within 2e-5 of its tensor's largest |entry| plus 2e-4 relative: the
/// backward of a float32 model. Measured worst: 0.06 of this (the gated S4D's log Δ); the test
/// prints it per model. Planted bugs fail by far more: the gated S4D ignoring its
/// discretization (logits off by 4e-2), the GLU's halves swapped (1.5), the Δ bias dropped
/// (9e-4), a convolution that sees one step ahead (2e-2).
const GRAD_ATOL: f64 = 2e-5;
const GRAD_RTOL: f64 = 2e-4;

fn fixture() -> Value {
    serde_json::from_str(FIXTURE).expect("the fixture is JSON")
}

fn spec_of(fixture: &Value) -> ScansSpec {
    match ExperimentSpec::from_value(fixture["init"]["spec"].clone()).expect("the fixture's spec") {
        ExperimentSpec::Scans(s) => s,
        _ => panic!("a scans spec"),
    }
}

fn floats(v: &Value) -> Vec<f64> {
    match v {
        Value::Array(items) => items.iter().flat_map(floats).collect(),
        v => vec![v.as_f64().expect("a number")],
    }
}

fn ints(v: &Value) -> Vec<u32> {
    floats(v).into_iter().map(|x| x as u32).collect()
}

fn batch_of(fixture: &Value) -> SequenceBatch {
    let b = &fixture["init"]["batch"];
    let n = |k: &str| b[k].as_u64().expect("a count") as usize;
    SequenceBatch {
        batch: n("n"),
        len: n("len"),
        answer_len: n("answer_len"),
        tokens: ints(&b["tokens"]),
        answers: ints(&b["answers"]),
    }
}

fn read<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    let n = t.shape().num_elements();
    t.reshape([n]).into_data().convert::<f64>().try_to_vec().expect("floats")
}

/// Every parameter's gradient in [`param_names`]' order (zeros where none reached it).
struct Grads<'a> {
    grads: &'a GradientsParams,
    out: Vec<Vec<f64>>,
}

impl ModuleVisitor for Grads<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.out.push(match self.grads.get::<D>(param.id) {
            Some(g) => read(g),
            None => vec![0.0; param.shape().num_elements()],
        });
    }
}

fn gradients(net: &SsmNet, grads: &GradientsParams) -> Vec<(String, Vec<f64>)> {
    let mut v = Grads { grads, out: Vec::new() };
    net.visit(&mut v);
    param_names(net).into_iter().zip(v.out).collect()
}

/// `got` against `want` entry by entry: |g − w| ≤ atol + rtol·|w|; the worst excess on error.
fn within(got: &[f64], want: &[f64], atol: f64, rtol: f64) -> Result<f64, String> {
    if got.len() != want.len() {
        return Err(format!("{} values, want {}", got.len(), want.len()));
    }
    let mut worst = 0f64;
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let err = (g - w).abs();
        // Negated, so that a NaN fails.
        if !(err <= atol + rtol * w.abs()) {
            return Err(format!("entry {i}: {g} vs {w} (|Δ| {err:.3e} > {atol:.1e} + {rtol}·|w|)"));
        }
        worst = worst.max(err / (atol + rtol * w.abs()));
    }
    Ok(worst)
}

fn largest(v: &[f64]) -> f64 {
    v.iter().fold(0.0f64, |m, x| m.max(x.abs()))
}

/// One network against its fixture entry: logits, loss, accuracy, every gradient.
fn matches_the_reference(
    net: &SsmNet,
    want: &Value,
    batch: &SequenceBatch,
    vocab: usize,
    what: &str,
) {
    let device = net.embed.val().device();
    let ids: Vec<i32> = batch.tokens.iter().map(|&t| t as i32).collect();
    let tokens =
        Tensor::<2, Int>::from_data(TensorData::new(ids, [batch.batch, batch.len]), &device);
    let logits = read(net.forward(tokens));
    let want_logits = floats(&want["logits"]);
    let scale = largest(&want_logits);
    let logit_ratio = within(&logits, &want_logits, LOGIT_TOL * scale, 0.0)
        .unwrap_or_else(|e| panic!("{what}: logits: {e}"));

    let (loss, accuracy) = batch_loss(net, batch, vocab, &device);
    let loss_value = read(loss.clone())[0];
    let want_loss = want["loss"].as_f64().unwrap();
    assert!(
        (loss_value - want_loss).abs() <= LOGIT_TOL * want_loss.abs(),
        "{what}: loss {loss_value} vs PyTorch {want_loss}"
    );
    assert_eq!(read(accuracy)[0], want["accuracy"].as_f64().unwrap(), "{what}: accuracy");

    let grads = GradientsParams::from_grads(loss.backward(), net);
    let ours = gradients(net, &grads);
    let theirs = want["grads"].as_array().expect("grads");
    assert_eq!(ours.len(), theirs.len(), "{what}: one gradient per parameter");
    let mut worst = (0f64, String::new());
    for ((name, got), reference) in ours.iter().zip(theirs) {
        assert_eq!(name, reference["name"].as_str().unwrap(), "{what}: parameter order");
        let want = floats(&reference["values"]);
        assert!(largest(&want) > 0.0, "{what}: {name}'s reference gradient is all zero");
        let ratio = within(got, &want, GRAD_ATOL * largest(&want), GRAD_RTOL)
            .unwrap_or_else(|e| panic!("{what}: ∂loss/∂{name}: {e}"));
        if ratio > worst.0 {
            worst = (ratio, name.clone());
        }
    }
    eprintln!(
        "{what}: worst logit at {logit_ratio:.2} of its tolerance, worst gradient at {:.2} ({})",
        worst.0, worst.1
    );
}

/// The weights gradscope draws and the batch it trains on first are the ones the fixture was
/// made from (a change to either, on purpose, means regenerating the fixture).
#[test]
fn the_fixture_starts_from_gradscopes_init_and_first_batch() {
    let fixture = fixture();
    let device = backend::cpu().device;
    let e = ScansExperiment::build(&spec_of(&fixture), &device, DeviceLimits::CPU).expect("valid");
    let ours = block_on(init_dump(&e)).expect("dump");
    for key in ["models", "batch"] {
        assert_eq!(
            ours[key], fixture["init"][key],
            "gradscope's initial {key} differ from the fixture's; if the init or the data changed \
             on purpose, regenerate with scripts/make-fixtures.sh"
        );
    }
    let mixers: Vec<&str> =
        ours["models"].as_array().unwrap().iter().map(|m| m["mixer"].as_str().unwrap()).collect();
    for kind in MixerKind::ALL {
        assert!(mixers.contains(&kind.name()), "no {} in the fixture", kind.name());
    }
}

/// Every network, with every scan method for Mamba (the fused CPU kernel included: asserted
/// present, so it is the kernel that runs), against PyTorch in float64.
#[test]
fn every_scans_network_matches_pytorch_in_outputs_and_gradients() {
    let fixture = fixture();
    let spec = spec_of(&fixture);
    let batch = batch_of(&fixture);
    let device: Device = backend::cpu().device.autodiff();
    assert!(has_fused_kernel(&device), "the fused CPU kernel is what `fused` runs here");
    let vocab = spec.task.vocab_size();
    let models = fixture["models"].as_array().expect("models");
    assert_eq!(models.len(), spec.models.len());
    for ((name, model), want) in spec.models.iter().zip(models) {
        assert_eq!(name, want["name"].as_str().unwrap());
        let methods: &[ScanMethod] =
            if model.mixer.is_selective() { &ScanMethod::ALL } else { &[ScanMethod::Fused] };
        for &method in methods {
            let mut m = model.clone();
            m.scan = method;
            let net = net_config(&m, &spec.task, spec.seed).init(&device);
            let what = format!("{name} ({}, {} scan)", m.mixer.name(), method.name());
            matches_the_reference(&net, want, &batch, vocab, &what);
        }
    }
}
