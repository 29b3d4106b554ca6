//! A run split over workers: the labs that train several models side by side (scans: S4D,
//! gated S4D and Mamba; gradient flow: one stack per norm placement) can train each model in
//! a worker of its own, and join the parts back into the one run.
//!
//! Why a share trains exactly as its models would in the whole run, bit for bit on the CPU
//! backend: each model draws its initial weights from its own stream of the run's seed (not
//! from one stream shared in model order), every model trains on the same batch of each step
//! drawn from the run's one data stream, and nothing in a step couples two models. So the run
//! whose spec keeps only some of the models draws the same batches, builds those models with
//! the same weights, and records the same series for them. `tests/native/team.rs` checks it
//! on both labs, from step 0 and from a checkpoint split mid-run.
//!
//! - [`ExperimentSpec::model_names`], [`ExperimentSpec::with_models`]: a share's spec.
//! - [`plan_shares`]: which models go to which worker, balanced by a cost estimate.
//! - [`share_of`], [`merge_checkpoints`]: a saved run cut into shares, and shares joined
//!   back into the whole run (weights, optimizer state, per-model lab state, history).
//! - [`merge_records`]: the evaluations of the shares at one step, as the whole run's.

use std::collections::BTreeMap;

use super::{Checkpoint, ExperimentSpec, LabMetrics, MetricsRecord, gradient_flow, scans};
use crate::spec::SpecError;
use crate::train::ExperimentState;
use crate::train::metrics::SeriesMetrics;

impl ExperimentSpec {
    /// The models the run trains side by side, in its order (the order of its checkpoints'
    /// weights and of its views); empty for a lab that trains one model.
    pub fn model_names(&self) -> Vec<String> {
        match self {
            ExperimentSpec::Grokking(_) => Vec::new(),
            ExperimentSpec::Scans(s) => s.models.keys().cloned().collect(),
            ExperimentSpec::GradientFlow(s) => s.models.keys().cloned().collect(),
        }
    }

    /// This run with only the models `names` (a worker's share), validated. Every name must be
    /// one of the run's models.
    pub fn with_models(&self, names: &[String]) -> Result<ExperimentSpec, SpecError> {
        fn keep<M: Clone>(
            models: &BTreeMap<String, M>,
            names: &[String],
            field: &str,
        ) -> Result<BTreeMap<String, M>, SpecError> {
            let mut kept = BTreeMap::new();
            for name in names {
                let m = models.get(name).ok_or_else(|| {
                    SpecError::new(field, format!("the run has no model named `{name}`"))
                })?;
                kept.insert(name.clone(), m.clone());
            }
            if kept.is_empty() {
                return Err(SpecError::new(field, "a share needs at least one model"));
            }
            Ok(kept)
        }
        let mut share = self.clone();
        match &mut share {
            ExperimentSpec::Grokking(_) => {
                return Err(SpecError::new(
                    "grokking",
                    "the grokking lab trains one model; its run cannot be split",
                ));
            }
            ExperimentSpec::Scans(s) => s.models = keep(&s.models, names, "scans.models")?,
            ExperimentSpec::GradientFlow(s) => {
                s.models = keep(&s.models, names, "gradient_flow.models")?
            }
        }
        share.validate()?;
        Ok(share)
    }

    /// The fields of a checkpoint's lab state (`ExperimentState::extra`) that hold one entry
    /// per model, in model order: a share keeps its models' entries.
    fn per_model_state(&self) -> &'static [&'static str] {
        match self {
            ExperimentSpec::GradientFlow(_) => gradient_flow::experiment::PER_MODEL_STATE,
            ExperimentSpec::Grokking(_) | ExperimentSpec::Scans(_) => &[],
        }
    }

    /// A rough cost of one training step of model `name`, to balance shares: the largest
    /// activation the lab's own memory estimate finds for it (times the layers it repeats in).
    fn model_cost(&self, name: &str) -> u64 {
        match self {
            ExperimentSpec::Grokking(_) => 1,
            ExperimentSpec::Scans(s) => s.models.get(name).map_or(1, |m| {
                let bytes = scans::experiment::largest_tensor_bytes(
                    m,
                    s.task.vocab_size(),
                    s.training.batch_size,
                    s.task.len,
                    true,
                );
                bytes * m.layers as u64
            }),
            ExperimentSpec::GradientFlow(s) => s.models.get(name).map_or(1, |m| {
                gradient_flow::experiment::estimated_bytes(s, m, s.training.batch_size)
            }),
        }
    }
}

/// The run's models dealt to at most `workers` workers, the costliest first, each to the
/// worker with the least cost so far (longest-processing-time first); each share in the run's
/// model order, empty shares left out. None for a one-model lab: there is nothing to split.
pub fn plan_shares(spec: &ExperimentSpec, workers: usize) -> Vec<Vec<String>> {
    let names = spec.model_names();
    let workers = workers.clamp(1, names.len().max(1));
    let mut by_cost: Vec<(u64, usize)> =
        names.iter().enumerate().map(|(i, n)| (spec.model_cost(n), i)).collect();
    by_cost.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut load = vec![0u64; workers];
    let mut shares: Vec<Vec<usize>> = vec![Vec::new(); workers];
    for (cost, i) in by_cost {
        let w = (0..workers).min_by_key(|&w| (load[w], w)).expect("at least one worker");
        load[w] += cost;
        shares[w].push(i);
    }
    shares
        .into_iter()
        .filter(|s| !s.is_empty())
        .map(|mut s| {
            s.sort_unstable();
            s.into_iter().map(|i| names[i].clone()).collect()
        })
        .collect()
}

/// Whether series `key` belongs to model `name` (`<model>.<metric>`).
fn of_model(key: &str, name: &str) -> bool {
    key.strip_prefix(name).is_some_and(|rest| rest.starts_with('.'))
}

/// `record` with only the series of the models `names`.
fn record_share(record: &MetricsRecord, names: &[String]) -> Result<MetricsRecord, String> {
    let series = record.series_metrics().ok_or("a one-model run's history cannot be split")?;
    let kept = series
        .series
        .iter()
        .filter(|(k, _)| names.iter().any(|n| of_model(k, n)))
        .map(|(k, v)| (k.clone(), *v))
        .collect();
    Ok(record.with(LabMetrics::Series(SeriesMetrics { series: kept })))
}

/// The evaluations of every share at one step, as the whole run's: the union of their series.
/// The wall time is the longest share's (the shares train at once). Refuses records of
/// different steps, of a one-model lab, or sharing a series.
pub fn merge_records(parts: &[MetricsRecord]) -> Result<MetricsRecord, String> {
    let first = parts.first().ok_or("no records to join")?;
    let mut series = BTreeMap::new();
    let mut wall_ms: f64 = 0.0;
    for r in parts {
        if r.step != first.step {
            return Err(format!(
                "the shares' evaluations are at different steps ({} and {})",
                first.step, r.step
            ));
        }
        let s = r.series_metrics().ok_or("a one-model run's records cannot be joined")?;
        for (k, v) in &s.series {
            if series.insert(k.clone(), *v).is_some() {
                return Err(format!("two shares both record the series `{k}`"));
            }
        }
        wall_ms = wall_ms.max(r.wall_ms);
    }
    Ok(MetricsRecord {
        step: first.step,
        wall_ms,
        lab: LabMetrics::Series(SeriesMetrics { series }),
    })
}

/// The part of a saved run that trains the models `names`: its spec, their weights and
/// optimizer state, their per-model lab state, their series in the history, and the run's
/// data stream position (every share draws the same batches).
pub fn share_of(whole: &Checkpoint, names: &[String]) -> Result<Checkpoint, String> {
    let spec = whole.spec.with_models(names).map_err(|e| e.to_string())?;
    let all = whole.spec.model_names();
    // The share's models in the whole run's order, which is the order `with_models` keeps.
    let mut index: Vec<usize> = names
        .iter()
        .map(|n| all.iter().position(|a| a == n).expect("with_models checked the names"))
        .collect();
    index.sort_unstable();
    index.dedup();
    if index.len() != names.len() {
        return Err("a share names a model twice".into());
    }
    let s = &whole.state;
    if s.models.len() != all.len() || s.optimizers.len() != all.len() {
        return Err(format!(
            "the checkpoint holds {} models; its spec names {}",
            s.models.len(),
            all.len()
        ));
    }
    let mut extra = s.extra.clone();
    for key in whole.spec.per_model_state() {
        let entries = extra.get(*key).and_then(|v| v.as_array()).ok_or_else(|| {
            format!("the checkpoint's `{key}` is missing or not one entry per model")
        })?;
        if entries.len() != all.len() {
            return Err(format!("the checkpoint's `{key}` is not one entry per model"));
        }
        let kept: Vec<_> = index.iter().map(|&i| entries[i].clone()).collect();
        extra[*key] = serde_json::Value::Array(kept);
    }
    let history =
        whole.history.iter().map(|r| record_share(r, names)).collect::<Result<Vec<_>, _>>()?;
    Ok(Checkpoint {
        spec,
        history,
        wall_ms: whole.wall_ms,
        state: ExperimentState {
            step: s.step,
            models: index.iter().map(|&i| s.models[i].clone()).collect(),
            optimizers: index.iter().map(|&i| s.optimizers[i].clone()).collect(),
            rng: s.rng.clone(),
            extra,
        },
    })
}

/// The shares of the run `whole` (its spec), saved at one step, joined back into the whole
/// run. Refuses shares that are not the whole run's (another spec or seed), that overlap or
/// leave a model out, or that stand at different steps or data stream positions.
pub fn merge_checkpoints(
    whole: &ExperimentSpec,
    shares: &[Checkpoint],
) -> Result<Checkpoint, String> {
    let first = shares.first().ok_or("no shares to join")?;
    let all = whole.model_names();
    if all.is_empty() {
        return Err("the grokking lab trains one model; its run is never split".into());
    }
    let mut owner: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for (i, share) in shares.iter().enumerate() {
        let names = share.spec.model_names();
        let expected = whole.with_models(&names).map_err(|e| format!("share {i}: {e}"))?;
        if share.spec != expected {
            return Err(format!("share {i} is a part of another run (its spec differs)"));
        }
        if share.state.step != first.state.step {
            return Err(format!(
                "the shares stand at different steps ({} and {})",
                first.state.step, share.state.step
            ));
        }
        if share.state.rng != first.state.rng {
            return Err(format!(
                "share {i} drew other batches than share 0 (its data stream differs)"
            ));
        }
        if share.history.len() != first.history.len() {
            return Err(format!("share {i}'s history has another length than share 0's"));
        }
        if share.state.models.len() != names.len() || share.state.optimizers.len() != names.len() {
            return Err(format!("share {i} holds weights for another number of models"));
        }
        for (j, n) in names.iter().enumerate() {
            if owner.insert(all.iter().find(|a| *a == n).expect("checked"), (i, j)).is_some() {
                return Err(format!("the model `{n}` is in two shares"));
            }
        }
    }
    if let Some(missing) = all.iter().find(|n| !owner.contains_key(n.as_str())) {
        return Err(format!("no share holds the model `{missing}`"));
    }
    let pick = |f: &dyn Fn(&ExperimentState) -> &Vec<Vec<u8>>| -> Vec<Vec<u8>> {
        all.iter()
            .map(|n| {
                let (i, j) = owner[n.as_str()];
                f(&shares[i].state)[j].clone()
            })
            .collect()
    };
    let mut extra = first.state.extra.clone();
    for key in whole.per_model_state() {
        let mut joined = Vec::new();
        for n in &all {
            let (i, j) = owner[n.as_str()];
            let entry =
                shares[i].state.extra.get(*key).and_then(|v| v.get(j)).ok_or_else(|| {
                    format!("share {i}'s `{key}` has no entry for the model `{n}`")
                })?;
            joined.push(entry.clone());
        }
        extra[*key] = serde_json::Value::Array(joined);
    }
    let history = (0..first.history.len())
        .map(|k| merge_records(&shares.iter().map(|s| s.history[k].clone()).collect::<Vec<_>>()))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Checkpoint {
        spec: whole.clone(),
        history,
        wall_ms: shares.iter().map(|s| s.wall_ms).fold(0.0, f64::max),
        state: ExperimentState {
            step: first.state.step,
            models: pick(&|s| &s.models),
            optimizers: pick(&|s| &s.optimizers),
            rng: first.state.rng.clone(),
            extra,
        },
    })
}
