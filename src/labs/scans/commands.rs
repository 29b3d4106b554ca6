//! The scans lab's own worker commands: the kernel explorer (one S4D channel's kernel and
//! eigenvalues as its settings change) and the scan race (time per forward+backward against
//! length, one measurement per worker turn so Cancel is honoured between them).

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use super::race::{self, RaceEntry, RaceTarget};
use super::ssm::s4d::{self, Discretization, S4dInit};
use crate::backend::{self, Backend, BackendKind};
use crate::train::lab_command::Reply;

/// Page → worker, for the scans lab.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Command {
    /// The kernel K_ℓ and the eigenvalues Ā of one S4D channel with these settings (the live
    /// kernel view; computed on the CPU, independent of the loaded run).
    S4dKernel {
        init: S4dInit,
        discretization: Discretization,
        d_state: usize,
        log_dt: f64,
        len: usize,
    },
    /// Pause training and time forward+backward of each target at each length on the active
    /// backend, shortest first; a length slower than `cap_ms` ends that target's row. Results
    /// stream back as [`Event::Race`]; [`Command::CancelRace`] stops it.
    ScanRace {
        lengths: Vec<usize>,
        targets: Vec<RaceTarget>,
        cap_ms: f64,
    },
    CancelRace,
}

/// Worker → page, for the scans lab.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// [`Command::S4dKernel`]'s answer: `kernel[ℓ]`, and Ā of each mode as `[re, im]`.
    Kernel { kernel: Vec<f32>, eigenvalues: Vec<[f32; 2]> },
    /// One measurement of a scan race (`entry.ms` is `None` when the target was skipped at
    /// this length), or with `done` the end of the race.
    Race { entry: Option<RaceEntry>, done: bool, device: String },
}

/// The scans lab's work between worker turns: a scan race in progress.
#[derive(Default)]
pub struct Jobs {
    race: Option<Race>,
}

/// The measurements a scan race still owes.
struct Race {
    jobs: VecDeque<(RaceTarget, usize)>,
    cap_ms: f64,
    /// Targets that passed the cap: their longer lengths are skipped.
    capped: Vec<RaceTarget>,
}

fn race_event(entry: Option<RaceEntry>, done: bool, backend: Option<&Backend>) -> Reply<Event> {
    let device = backend.map_or(String::new(), |b| b.label.clone());
    Reply::Event(Event::Race { entry, done, device })
}

impl Jobs {
    /// Whether a race still owes measurements.
    pub fn busy(&self) -> bool {
        self.race.is_some()
    }

    /// Answers `command`; `backend`: the worker's active one, if any.
    pub async fn handle(
        &mut self,
        command: Command,
        backend: Option<&Backend>,
    ) -> Vec<Reply<Event>> {
        match command {
            Command::S4dKernel { init, discretization, d_state, log_dt, len } => {
                match s4d::single_channel_view(init, discretization, d_state, log_dt, len).await {
                    Ok((kernel, eigenvalues)) => {
                        vec![Reply::Event(Event::Kernel { kernel, eigenvalues })]
                    }
                    Err(e) => vec![Reply::Error(e)],
                }
            }
            Command::ScanRace { mut lengths, targets, cap_ms } => {
                lengths.sort_unstable();
                lengths.dedup();
                let jobs =
                    lengths.iter().flat_map(|&l| targets.iter().map(move |&t| (t, l))).collect();
                self.race = Some(Race { jobs, cap_ms: cap_ms.max(1.0), capped: Vec::new() });
                vec![Reply::PauseTraining]
            }
            Command::CancelRace => match self.race.take() {
                Some(_) => vec![race_event(None, true, backend)],
                None => Vec::new(),
            },
        }
    }

    /// Measures the race's next (target, length); `pause`: a short wait (~50 ms) that lets the
    /// GPU's dispatch counter settle.
    pub async fn step(
        &mut self,
        backend: Option<&Backend>,
        pause: impl AsyncFn(),
    ) -> Vec<Reply<Event>> {
        let Some(race) = self.race.as_mut() else { return Vec::new() };
        let Some((target, len)) = race.jobs.pop_front() else {
            self.race = None;
            return vec![race_event(None, true, backend)];
        };
        if race.capped.contains(&target) {
            let note = Some("a shorter length already passed the time cap".to_string());
            let entry = RaceEntry { target, len, ms: None, dispatches: None, note };
            return vec![race_event(Some(entry), false, backend)];
        }
        let cap_ms = race.cap_ms;
        let Some(backend) = backend else { return Vec::new() };
        let gpu = backend.kind == BackendKind::Wgpu;
        let count = || if gpu { backend::gpu_dispatches() } else { None };
        let result =
            race::measure(target, len, &backend.device, backend.limits, cap_ms, count, pause).await;
        match result {
            Ok(entry) => {
                if entry.ms.is_some_and(|ms| ms > cap_ms)
                    && let Some(race) = self.race.as_mut()
                {
                    race.capped.push(target);
                }
                vec![race_event(Some(entry), false, Some(backend))]
            }
            Err(e) => {
                self.race = None;
                vec![Reply::Error(format!("scan race: {e}")), race_event(None, true, Some(backend))]
            }
        }
    }
}
