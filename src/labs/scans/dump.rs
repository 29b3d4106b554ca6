//! The scans lab's numbers as plain JSON, so anyone can check them with their own code.
//!
//! `gradscope inspect init` of a scans spec ([`init_dump`]): every model's weights by name
//! and the batch the next step trains on, which `scripts/reference/scans_net_torch.py` loads
//! into its own float64 models to make the fixture `tests/native/scans_reference.rs` compares
//! against:
//! ```text
//! {"spec": {...}, "step": 0,
//!  "models": [{"name", "mixer", "params": [{"name", "shape", "values"}]}],
//!  "batch": {"n", "len", "answer_len", "tokens": [n][len], "answers": [n][answer_len]}}
//! ```
//! Weights keep gradscope's layout: a linear layer's weight is `[d_in, d_out]` (y = x W).
//!
//! `gradscope inspect ssm` ([`ssm_dump`]), checked by `scripts/reference/scans_torch.py check`
//! in PyTorch/float64. Format (every array a nested JSON list, row-major):
//! ```text
//! {"spec": {...},
//!  "scan": {"u": [b][d][l], "delta": [b][d][l], "A": [d][n], "B": [b][n][l], "C": [b][n][l],
//!           "D": [d], "delta_bias": [d], "delta_softplus": true,
//!           "out_sequential": [b][d][l], "out_parallel": [b][d][l], "out_chunked": [b][d][l],
//!           "out_fused": [b][d][l]},
//!  "s4d": {"discretization": "zoh" | "bilinear", "init": "lin" | "inv" | "real",
//!          "A_re": [h][N/2], "A_im": [h][N/2], "C_re": [h][N/2], "C_im": [h][N/2],
//!          "log_dt": [h], "D": [h], "u": [h][l], "kernel": [h][l],
//!          "out_conv": [h][l], "out_recurrence": [h][l]}}
//! ```
//! `scan` holds the arguments of mamba's `selective_scan_ref` (state-spaces/mamba,
//! `mamba_ssm/ops/selective_scan_interface.py`) in its layout, drawn as in mamba's own test
//! (batch 2, d 4, A = −0.5·U, Δ = 0.5·U, Δ-bias 0.5·U, the rest N(0, 1)) with the spec's first
//! model's d_state, and the outputs of gradscope's three scans. `s4d` is an S4D layer of 4
//! channels with the spec's first model's init, discretization, d_state and Δ range.

use burn::tensor::{Device, Tensor, TensorData};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use serde_json::{Value, json};

use super::experiment::ScansExperiment;
use super::spec::ScansSpec;
use crate::labs::scans::ssm::s4d::S4dConfig;
use crate::labs::scans::ssm::scan::{ScanMethod, SelectiveScanInputs, selective_scan};
use crate::nn::params::named_tensors;

/// Channels of the dumped S4D layer and of the dumped scan (mamba's test uses d = 4).
const CHANNELS: usize = 4;
const BATCH: usize = 2;

/// `values` (row-major) as nested JSON lists of `shape`.
pub fn nested(values: &[f32], shape: &[usize]) -> Value {
    match shape {
        [] => json!(values.first().copied().unwrap_or(0.0)),
        [n] => Value::Array(values[..*n].iter().map(|&v| json!(v)).collect()),
        [n, rest @ ..] => {
            let stride: usize = rest.iter().product();
            Value::Array(
                (0..*n).map(|i| nested(&values[i * stride..(i + 1) * stride], rest)).collect(),
            )
        }
    }
}

async fn read<const D: usize>(t: Tensor<D>) -> Result<(Vec<f32>, Vec<usize>), String> {
    let shape = t.dims().to_vec();
    let data = t.into_data_async().await.map_err(|e| format!("{e:?}"))?;
    Ok((data.convert::<f32>().try_to_vec::<f32>().map_err(|e| format!("{e:?}"))?, shape))
}

async fn json_of<const D: usize>(t: Tensor<D>) -> Result<Value, String> {
    let (v, shape) = read(t).await?;
    Ok(nested(&v, &shape))
}

/// The dump of `spec` at sequence length `len` on `device`.
pub async fn ssm_dump(spec: &ScansSpec, len: usize, device: &Device) -> Result<Value, String> {
    let model = spec.models.values().next().ok_or("the spec has no model")?;
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
    let (b, d, n, l) = (BATCH, CHANNELS, model.d_state, len);
    let mut unif = |k: usize, s: f32| (0..k).map(|_| s * rng.random::<f32>()).collect::<Vec<_>>();
    let a = unif(d * n, -0.5);
    let delta = unif(b * d * l, 0.5);
    let bias = unif(d, 0.5);
    let mut normal =
        |k: usize| (0..k).map(|_| StandardNormal.sample(&mut rng)).collect::<Vec<f32>>();
    let (u, bm, cm, dskip) = (normal(b * d * l), normal(b * n * l), normal(b * n * l), normal(d));
    let t = |v: &[f32], shape: Vec<usize>| TensorData::new(v.to_vec(), shape);
    let inputs = SelectiveScanInputs {
        u: Tensor::from_data(t(&u, vec![b, d, l]), device),
        delta: Tensor::from_data(t(&delta, vec![b, d, l]), device),
        a: Tensor::from_data(t(&a, vec![d, n]), device),
        b: Tensor::from_data(t(&bm, vec![b, n, l]), device),
        c: Tensor::from_data(t(&cm, vec![b, n, l]), device),
        d: Tensor::from_data(t(&dskip, vec![d]), device),
        delta_bias: Some(Tensor::from_data(t(&bias, vec![d]), device)),
        delta_softplus: true,
    };
    let mut scan = json!({
        "u": nested(&u, &[b, d, l]),
        "delta": nested(&delta, &[b, d, l]),
        "A": nested(&a, &[d, n]),
        "B": nested(&bm, &[b, n, l]),
        "C": nested(&cm, &[b, n, l]),
        "D": nested(&dskip, &[d]),
        "delta_bias": nested(&bias, &[d]),
        "delta_softplus": true,
    });
    for method in ScanMethod::ALL {
        let out = selective_scan(inputs.clone(), method);
        scan[format!("out_{}", method.name())] = json_of(out).await?;
    }

    let even_state = model.d_state + model.d_state % 2;
    let layer = S4dConfig::new(CHANNELS)
        .with_d_state(even_state.max(2))
        .with_init(model.s4d_init)
        .with_discretization(model.discretization)
        .with_dt_min(model.dt_min)
        .with_dt_max(model.dt_max)
        .with_seed(spec.seed)
        .init(device);
    let u = normal(CHANNELS * l);
    let ut = Tensor::<3>::from_data(t(&u, vec![1, CHANNELS, l]), device);
    let (a_re, a_im) = layer.a();
    let s4d = json!({
        "discretization": model.discretization.name(),
        "init": model.s4d_init.name(),
        "A_re": json_of(a_re).await?,
        "A_im": json_of(a_im).await?,
        "C_re": json_of(layer.c_re.val()).await?,
        "C_im": json_of(layer.c_im.val()).await?,
        "log_dt": json_of(layer.log_dt.val()).await?,
        "D": json_of(layer.d.val()).await?,
        "u": nested(&u, &[CHANNELS, l]),
        "kernel": json_of(layer.kernel(l)).await?,
        "out_conv": json_of(layer.forward(ut.clone()).reshape([CHANNELS, l])).await?,
        "out_recurrence": json_of(layer.recurrence(ut).reshape([CHANNELS, l])).await?,
    });
    Ok(json!({ "scan": scan, "s4d": s4d }))
}

/// The weights of every model of `experiment` and the batch its next step trains on (format
/// above).
pub async fn init_dump(experiment: &ScansExperiment) -> Result<Value, String> {
    let mut models = Vec::new();
    for ((name, net), spec) in experiment.models().zip(experiment.spec().models.values()) {
        let params = named_tensors(net).await?;
        models.push(json!({ "name": name, "mixer": spec.mixer.name(), "params": params }));
    }
    let batch = experiment.next_batch();
    let ints = |v: &[u32], width: usize| -> Value {
        Value::Array(v.chunks(width.max(1)).map(|row| json!(row)).collect())
    };
    Ok(json!({
        "step": crate::train::Experiment::step(experiment),
        "models": models,
        "batch": {
            "n": batch.batch,
            "len": batch.len,
            "answer_len": batch.answer_len,
            "tokens": ints(&batch.tokens, batch.len),
            "answers": ints(&batch.answers, batch.answer_len),
        },
    }))
}
