//! The training session: drives an [`Experiment`] of any lab step by step, evaluates on
//! schedule, keeps the history, and stops on divergence. The CLI, the browser worker and the
//! tests all use it (through the registry's `labs::TrainingSession`, which runs every lab).

use std::fmt;

use burn::tensor::Device;
use web_time::Instant;

use super::metrics::Record;
use super::{Checkpoint, Experiment, ExperimentSummary, RunReport};
use crate::backend::DeviceLimits;
use crate::spec::{RunSpec, SpecError};

/// Why a run cannot go on.
#[derive(Clone, Debug, PartialEq)]
pub enum RunError {
    /// The spec is invalid or does not fit the device.
    Spec(SpecError),
    /// A metric became NaN or infinite; training stops, the history so far is kept.
    Diverged { metric: String, step: u64 },
    /// The device failed (lost GPU, failed readback).
    Device(String),
    /// Input other than the spec was refused (a sequence typed into a view); the message
    /// names it.
    Input(String),
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::Spec(e) => write!(f, "invalid spec: {e}"),
            RunError::Diverged { metric, step } => write!(
                f,
                "training diverged: {metric} became non-finite at step {step} (try a smaller \
                 learning rate); the history up to here is kept"
            ),
            RunError::Device(msg) => write!(f, "device error: {msg}"),
            RunError::Input(msg) => f.write_str(msg),
        }
    }
}

impl std::error::Error for RunError {}

impl From<SpecError> for RunError {
    fn from(e: SpecError) -> Self {
        RunError::Spec(e)
    }
}

/// A run in progress.
pub struct TrainingSession<E: Experiment> {
    spec: E::Spec,
    experiment: E,
    history: Vec<Record<E::Metrics>>,
    report: E::Report,
    wall_ms: f64,
    diverged: Option<RunError>,
}

impl<E: Experiment> TrainingSession<E> {
    /// Validates and builds `spec` on `device`.
    pub fn new(spec: E::Spec, device: &Device, limits: DeviceLimits) -> Result<Self, RunError> {
        let experiment = E::build(&spec, device, limits)?;
        Ok(Self {
            report: experiment.new_report(),
            spec,
            experiment,
            history: Vec::new(),
            wall_ms: 0.0,
            diverged: None,
        })
    }

    /// Continues a saved run: builds its spec on `device`, puts the weights, optimizer state,
    /// RNG and history back. The next step is the one after `checkpoint.state.step`.
    pub fn resume(
        checkpoint: Checkpoint<E::Spec, E::Metrics>,
        device: &Device,
        limits: DeviceLimits,
    ) -> Result<Self, RunError> {
        let Checkpoint { spec, history, wall_ms, state } = checkpoint;
        if history.is_empty() || history.last().is_some_and(|r| r.step > state.step) {
            return Err(RunError::Input(format!(
                "the checkpoint's history does not fit its step ({})",
                state.step
            )));
        }
        let mut session = Self::new(spec, device, limits)?;
        session
            .experiment
            .restore_state(state)
            .map_err(|e| RunError::Input(format!("the checkpoint does not fit its spec: {e}")))?;
        for r in &history {
            session.report.update(r);
        }
        session.history = history;
        session.wall_ms = wall_ms;
        Ok(session)
    }

    /// The run as it stands, for [`TrainingSession::resume`]: after the first evaluation, at
    /// any step. (The evaluation schedule follows the step, so a resumed run evaluates where the
    /// uninterrupted one would; the CLI saves at evaluations, so its history is complete.)
    pub fn checkpoint(&self) -> Result<Checkpoint<E::Spec, E::Metrics>, RunError> {
        if self.history.is_empty() {
            return Err(RunError::Input("a checkpoint is taken after the first evaluation".into()));
        }
        let state = self.experiment.save_state().map_err(RunError::Device)?;
        Ok(Checkpoint {
            spec: self.spec.clone(),
            history: self.history.clone(),
            wall_ms: self.wall_ms,
            state,
        })
    }

    pub fn spec(&self) -> &E::Spec {
        &self.spec
    }

    /// Milliseconds spent training and evaluating so far (a resumed run's included).
    pub fn wall_ms(&self) -> f64 {
        self.wall_ms
    }

    pub fn summary(&self) -> ExperimentSummary {
        self.experiment.summary()
    }

    pub fn experiment(&self) -> &E {
        &self.experiment
    }

    /// The experiment, to drive steps by hand (benchmarks). Steps taken this way are not
    /// evaluated until [`TrainingSession::evaluate`] is called.
    pub fn experiment_mut(&mut self) -> &mut E {
        &mut self.experiment
    }

    /// Optimizer steps taken.
    pub fn step(&self) -> u64 {
        self.experiment.step()
    }

    /// Every evaluation so far, oldest first (step 0 is the initial weights).
    pub fn history(&self) -> &[Record<E::Metrics>] {
        &self.history
    }

    /// The step budget is spent, or the run diverged.
    pub fn is_finished(&self) -> bool {
        self.diverged.is_some() || self.step() >= self.spec.steps()
    }

    /// Reads the current metrics back (one async transfer), records and returns them.
    pub async fn evaluate(&mut self) -> Result<Record<E::Metrics>, RunError> {
        let started = Instant::now();
        let (tensor, layout) = self.experiment.metrics_tensor();
        let data =
            tensor.into_data_async().await.map_err(|e| RunError::Device(format!("{e:?}")))?;
        let v: Vec<f32> = data.try_to_vec().map_err(|e| RunError::Device(format!("{e:?}")))?;
        self.wall_ms += started.elapsed().as_secs_f64() * 1e3;
        let record = self.experiment.record(&layout, &v, self.wall_ms);
        self.report.update(&record);
        self.history.push(record.clone());
        if let Some((metric, step)) = record.divergence() {
            let err = RunError::Diverged { metric, step };
            self.diverged = Some(err.clone());
            return Err(err);
        }
        Ok(record)
    }

    /// Trains until the next evaluation point, the end of the budget, or `max_steps` steps,
    /// whichever comes first; evaluates when it lands on an evaluation point or the end.
    /// The first call evaluates the initial weights (step 0) before training.
    ///
    /// Returns the new record, if one was taken. After divergence every call returns the error.
    pub async fn advance(
        &mut self,
        max_steps: u64,
    ) -> Result<Option<Record<E::Metrics>>, RunError> {
        if let Some(err) = &self.diverged {
            return Err(err.clone());
        }
        if self.history.is_empty() {
            return self.evaluate().await.map(Some);
        }
        let budget = self.spec.steps();
        let every = self.spec.training().eval_every;
        let started = Instant::now();
        let mut taken = 0;
        while taken < max_steps && self.step() < budget {
            // The gradient statistics are only kept for a step an evaluation may follow.
            let next = self.step() + 1;
            let last = next % every == 0 || next >= budget || taken + 1 == max_steps;
            self.experiment.train_step(last);
            taken += 1;
            if self.step() % every == 0 {
                break;
            }
        }
        self.wall_ms += started.elapsed().as_secs_f64() * 1e3;
        let at_eval_point = self.step() % every == 0 || self.step() >= budget;
        let already = self.history.last().map(|r| r.step) == Some(self.step());
        if taken > 0 && at_eval_point && !already {
            return self.evaluate().await.map(Some);
        }
        Ok(None)
    }

    /// The lab's heavier views on the current weights; `final_views` adds the costly ones
    /// (grokking: the pruning curve).
    pub async fn analyse(
        &self,
        final_views: bool,
        example: Option<&[u32]>,
    ) -> Result<E::Analysis, RunError> {
        self.experiment.analyse(final_views, example).await
    }

    /// Checks a sequence for [`TrainingSession::analyse`]'s `example`; nothing runs.
    pub fn check_example(&self, tokens: &[u32]) -> Result<(), RunError> {
        self.experiment.check_example(tokens)
    }

    /// The lab's report of the history so far ("did it grok?", "which model solved it?").
    pub fn report(&self) -> E::Report {
        self.report.clone()
    }

    /// Runs to the end of the budget, calling `on_record` after each evaluation.
    pub async fn run_to_end(
        &mut self,
        mut on_record: impl FnMut(&Record<E::Metrics>),
    ) -> Result<(), RunError> {
        while !self.is_finished() {
            if let Some(record) = self.advance(u64::MAX).await? {
                on_record(&record);
            }
        }
        Ok(())
    }
}
