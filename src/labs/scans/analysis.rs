//! The scans lab's report (which model solved the task, and when) and the types of its
//! analysis snapshot.

use serde::{Deserialize, Serialize};

use crate::labs::scans::ssm::net::MixerKind;
use crate::train::RunReport;
use crate::train::metrics::{Record, SeriesMetrics, reached_step};

/// Held-out accuracy counted as "solved".
pub const SOLVED_ACC: f64 = 0.9;

/// Per model: the best held-out accuracy so far and the first step it reached [`SOLVED_ACC`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ScansReport {
    pub models: Vec<ModelReport>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelReport {
    pub name: String,
    pub best_acc: f64,
    pub best_step: u64,
    pub solved_step: Option<u64>,
}

impl ScansReport {
    /// Folds in the next evaluation: every `<model>.test_acc` series.
    pub fn update(&mut self, record: &Record<SeriesMetrics>) {
        let s = &record.lab;
        for (key, &acc) in &s.series {
            let Some(name) = key.strip_suffix(".test_acc") else { continue };
            let i = match self.models.iter().position(|m| m.name == name) {
                Some(i) => i,
                None => {
                    self.models.push(ModelReport {
                        name: name.to_string(),
                        best_acc: f64::NEG_INFINITY,
                        best_step: record.step,
                        solved_step: None,
                    });
                    self.models.len() - 1
                }
            };
            let m = &mut self.models[i];
            if acc > m.best_acc {
                m.best_acc = acc;
                m.best_step = record.step;
            }
            if m.solved_step.is_none() && acc >= SOLVED_ACC {
                m.solved_step = Some(record.step);
            }
        }
    }
}

impl ScansReport {
    /// The scans lab's sweep verdict, per model: its final and best held-out accuracy and the
    /// step at which it first solved the task (accuracy ≥ [`SOLVED_ACC`]), null if never.
    pub fn sweep_fields(
        &self,
        history: &[Record<SeriesMetrics>],
    ) -> Vec<(String, serde_json::Value)> {
        let last = history.last();
        let mut out = Vec::new();
        for m in &self.models {
            let final_acc = last.and_then(|r| r.get(&format!("{}.test_acc", m.name)));
            out.push((format!("{}.final_test_acc", m.name), final_acc.into()));
            out.push((format!("{}.best_acc", m.name), m.best_acc.into()));
            out.push((format!("{}.solved_step", m.name), reached_step(m.solved_step)));
        }
        out
    }
}

impl RunReport<SeriesMetrics> for ScansReport {
    fn update(&mut self, record: &Record<SeriesMetrics>) {
        ScansReport::update(self, record)
    }
}

impl ScansReport {
    /// What `gradscope run` prints when a run ends: per model, its held-out accuracy now and
    /// at best, and when it solved the task.
    pub fn outcome_lines(&self, last: Option<&Record<SeriesMetrics>>) -> Vec<String> {
        let mut lines: Vec<String> = self
            .models
            .iter()
            .map(|m| {
                let now = last.and_then(|r| r.get(&format!("{}.test_acc", m.name)));
                format!(
                    "{:<12} held-out accuracy {:.4} (best {:.4} at step {}); ≥ {SOLVED_ACC}: {}",
                    m.name,
                    now.unwrap_or(f64::NAN),
                    m.best_acc,
                    m.best_step,
                    m.solved_step.map_or("never".to_string(), |s| format!("step {s}")),
                )
            })
            .collect();
        lines.extend(last.map(|r| format!("{:.1} s of training", r.wall_ms / 1e3)));
        lines
    }
}

/// Whether a sweep table shows this field of the scans lab's verdict (the rest are in the
/// JSON lines), and in which place among those it shows.
pub fn headline_field(key: &str) -> Option<usize> {
    key.ends_with(".final_test_acc").then_some(0)
}

/// A `rows × cols` grid of values, row-major.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Heatmap {
    pub rows: usize,
    pub cols: usize,
    pub values: Vec<f32>,
}

/// One held-out sequence, shown with every model's prediction.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Example {
    pub tokens: Vec<u32>,
    pub answers: Vec<u32>,
    /// Position of the first answer.
    pub answer_start: usize,
}

/// One model's views.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelViews {
    pub name: String,
    pub mixer: MixerKind,
    /// Its answers on the example.
    pub prediction: Vec<u32>,
    /// First S4D layer: the kernel K_ℓ of its first channels (impulse responses).
    pub kernels: Vec<Vec<f32>>,
    /// First S4D layer: Ā of its first channels' modes, `[re, im]` (inside the unit circle
    /// when stable).
    pub eigenvalues: Vec<[f32; 2]>,
    /// First selective layer: Δ_t on the example, averaged over channels.
    pub delta: Option<Vec<f32>>,
    /// First selective layer: |h_t| averaged over channels, time × state.
    pub states: Option<Heatmap>,
    /// ‖∂y_T/∂u_t‖_F (exact) for ℓ = T − t = 0, 1, …
    pub memory_decay: Vec<f64>,
    /// `[length, held-out accuracy, its standard error over the sequences]` at L, 2L, 4L, …
    pub extrapolation: Vec<[f64; 3]>,
}

/// The scans lab's snapshot at one step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScansAnalysis {
    pub step: u64,
    /// `selective_copying` or `induction_heads`.
    pub task: String,
    /// The example's length (the training length, unless the user typed the sequence).
    pub len: usize,
    /// The first held-out sequence, or the one the user typed.
    pub example: Example,
    pub models: Vec<ModelViews>,
}
