//! Training-speed measurement shared by `gradscope bench` and the page's benchmark button.

use burn::tensor::Device;
use serde::{Deserialize, Serialize};
use web_time::Instant;

use super::{Experiment, RunError, TrainingSession};
use crate::backend::DeviceLimits;
use crate::spec::RunSpec;

/// Steps per second of one spec on one device, measured in one run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Speed {
    /// Timed steps per measurement.
    pub steps: u64,
    /// Steps/s with no readback between steps (one at the end, which waits for the queue).
    pub train_steps_per_sec: f64,
    /// Steps/s with an evaluation (one readback of every metric) after each step.
    pub eval_steps_per_sec: f64,
    /// Steps/s with the lab's per-step instrumentation on every step (the gradient-flow lab's
    /// per-block metrics, the grokking lab's gradient statistics), and no readback.
    #[serde(default)]
    pub instrumented_steps_per_sec: f64,
    /// The gradient-flow lab: steps/s without even its per-step divergence flag (plain
    /// training; `train_steps_per_sec` includes the flag).
    #[serde(default)]
    pub bare_steps_per_sec: Option<f64>,
    /// Milliseconds of the first step (shader compilation, autotuning, allocation).
    pub first_step_ms: f64,
    /// GPU kernel launches per training step, where counted ([`dispatches_per_step`]).
    #[serde(default)]
    pub gpu_dispatches_per_step: Option<f64>,
}

impl Speed {
    /// How much slower training gets when every step is read back.
    pub fn readback_overhead(&self) -> f64 {
        self.train_steps_per_sec / self.eval_steps_per_sec
    }

    /// How much slower a step gets with the lab's instrumentation on it.
    pub fn instrumentation_overhead(&self) -> f64 {
        self.train_steps_per_sec / self.instrumented_steps_per_sec
    }
}

/// Measures `spec`'s training speed on `device`: one warm-up step, `steps` steps with no
/// readback, `steps` instrumented steps (and for the gradient-flow lab `steps` bare ones),
/// then `steps` steps each followed by an evaluation; then, if `count` counts this device's
/// kernel launches, the launches per step ([`dispatches_per_step`]).
pub async fn measure<E: Experiment>(
    spec: &E::Spec,
    device: &Device,
    limits: DeviceLimits,
    steps: u64,
    count: impl Fn() -> Option<u64>,
    pause: impl AsyncFn(),
) -> Result<Speed, RunError> {
    let steps = steps.max(1);
    let mut session = TrainingSession::<E>::new(with_budget(spec, 4 * steps + 1), device, limits)?;
    session.advance(1).await?; // step-0 evaluation
    let t = Instant::now();
    session.advance(1).await?; // warm-up step and its evaluation
    let first_step_ms = t.elapsed().as_secs_f64() * 1e3;

    let t = Instant::now();
    for _ in 0..steps {
        session.experiment_mut().train_step(false);
    }
    session.evaluate().await?; // the readback waits for every queued step
    let train = t.elapsed().as_secs_f64();

    let timed = async |session: &mut TrainingSession<E>, measure: bool| {
        let t = Instant::now();
        for _ in 0..steps {
            session.experiment_mut().train_step(measure);
        }
        session.evaluate().await?;
        Ok::<_, RunError>(t.elapsed().as_secs_f64())
    };
    let instrumented = timed(&mut session, true).await?;
    let bare = if session.experiment_mut().set_divergence_flag(false) {
        let secs = timed(&mut session, false).await?;
        session.experiment_mut().set_divergence_flag(true);
        Some(secs)
    } else {
        None
    };

    let t = Instant::now();
    for _ in 0..steps {
        session.advance(1).await?; // one step, then its evaluation
    }
    let eval = t.elapsed().as_secs_f64();
    Ok(Speed {
        steps,
        train_steps_per_sec: steps as f64 / train,
        eval_steps_per_sec: steps as f64 / eval,
        instrumented_steps_per_sec: steps as f64 / instrumented,
        bare_steps_per_sec: bare.map(|secs| steps as f64 / secs),
        first_step_ms,
        gpu_dispatches_per_step: dispatches_per_step::<E>(
            spec, device, limits, steps, count, pause,
        )
        .await?,
    })
}

/// `spec` evaluated every step, with a budget of `steps` steps.
fn with_budget<S: RunSpec>(spec: &S, steps: u64) -> S {
    let mut spec = spec.clone();
    let training = spec.training_mut();
    training.steps = steps;
    training.eval_every = 1;
    spec
}

/// `count()` once it has been still for one `pause()`: the runtime logs each kernel launch from
/// its own task, a little after submitting it. `None` when `count` counts nothing.
pub async fn settled_count(count: impl Fn() -> Option<u64>, pause: impl AsyncFn()) -> Option<u64> {
    let mut seen = count()?;
    loop {
        pause().await;
        let now = count()?;
        if now == seen {
            return Some(now);
        }
        seen = now;
    }
}

/// GPU dispatches (kernel launches) per training step, given `count`, a counter of the launches
/// so far (`backend::gpu_dispatches`; `None` where nothing is counted, e.g. on the CPU), and
/// `pause`, a short wait (~50 ms): the launches of `steps` steps and the evaluation that waits
/// for them, less those of one more evaluation alone. Counted after a warm-up step, so
/// compilation and autotuning launches stay out.
pub async fn dispatches_per_step<E: Experiment>(
    spec: &E::Spec,
    device: &Device,
    limits: DeviceLimits,
    steps: u64,
    count: impl Fn() -> Option<u64>,
    pause: impl AsyncFn(),
) -> Result<Option<f64>, RunError> {
    if count().is_none() {
        return Ok(None);
    }
    let settled = async || settled_count(&count, &pause).await;
    let steps = steps.max(1);
    let mut session = TrainingSession::<E>::new(with_budget(spec, steps + 1), device, limits)?;
    session.advance(1).await?; // step-0 evaluation
    session.advance(1).await?; // warm-up step and its evaluation
    let Some(start) = settled().await else { return Ok(None) };
    for _ in 0..steps {
        session.experiment_mut().train_step(false);
    }
    session.evaluate().await?;
    let Some(trained) = settled().await else { return Ok(None) };
    session.evaluate().await?;
    let Some(evaluated) = settled().await else { return Ok(None) };
    let one_evaluation = evaluated - trained;
    Ok(Some((trained - start).saturating_sub(one_evaluation) as f64 / steps as f64))
}
