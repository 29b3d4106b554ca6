//! "Did it grok?" — a run's history classified, after the PAIR explorable's sweep
//! (`PAIR-code/ai-explorables` `source/grokking/sweep-mod/init.js`), but on accuracy rather than
//! loss so that it means the same for MSE, cross-entropy and StableMax runs:
//!
//! - **no learning**: train accuracy never reached 99%;
//! - **memorized**: train accuracy reached 99%, test accuracy never did;
//! - **generalized**: both reached 99%, and when train accuracy first did, test accuracy was
//!   already at least [`MEMORIZATION_GAP`] (train and test rose together);
//! - **grokked**: both reached 99%, but test accuracy was still below [`MEMORIZATION_GAP`] when
//!   train accuracy did — a memorizing phase came first.
//!
//! PAIR's own loss statistic, max over the history of test loss / train loss (their threshold
//! for "grokking" is 5·10⁴ on cross-entropy / p), is reported beside it.

use serde::{Deserialize, Serialize};

use super::super::metrics::{GrokkingMetrics, GrokkingRecord};
use crate::train::RunReport;
use crate::train::metrics::reached_step;

/// Accuracy counted as "reached".
pub const SUCCESS_ACC: f64 = 0.99;
/// Test accuracy below which the model is memorizing when train accuracy reaches 99%.
pub const MEMORIZATION_GAP: f64 = 0.9;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    NoLearning,
    Memorized,
    Generalized,
    Grokked,
}

/// The verdict and the numbers behind it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GrokReport {
    pub verdict: Verdict,
    /// First evaluated step with train accuracy ≥ 99%.
    pub train_step: Option<u64>,
    /// First evaluated step with test accuracy ≥ 99%.
    pub test_step: Option<u64>,
    /// Test accuracy at `train_step`.
    pub test_acc_at_fit: Option<f64>,
    /// PAIR's statistic: max over evaluations of test loss / train loss.
    pub max_loss_ratio: Option<f64>,
}

impl Default for GrokReport {
    fn default() -> Self {
        GrokReport {
            verdict: Verdict::NoLearning,
            train_step: None,
            test_step: None,
            test_acc_at_fit: None,
            max_loss_ratio: None,
        }
    }
}

impl GrokReport {
    /// Classifies `history` (evaluations in step order).
    pub fn from_history(history: &[GrokkingRecord]) -> Self {
        let mut report = GrokReport::default();
        for r in history {
            report.update(r);
        }
        report
    }

    /// Folds in the next evaluation (O(1), so a long run's report stays cheap).
    pub fn update(&mut self, record: &GrokkingRecord) {
        let r = &record.lab;
        if self.train_step.is_none() && r.train_acc >= SUCCESS_ACC {
            self.train_step = Some(record.step);
            self.test_acc_at_fit = Some(r.test_acc);
        }
        if self.test_step.is_none() && r.test_acc >= SUCCESS_ACC {
            self.test_step = Some(record.step);
        }
        if r.train_loss > 0.0 && r.test_loss.is_finite() {
            let ratio = r.test_loss / r.train_loss;
            self.max_loss_ratio = Some(self.max_loss_ratio.map_or(ratio, |m| m.max(ratio)));
        }
        self.verdict = match (self.test_acc_at_fit, self.test_step) {
            (None, _) => Verdict::NoLearning,
            (Some(_), None) => Verdict::Memorized,
            (Some(acc), Some(_)) if acc < MEMORIZATION_GAP => Verdict::Grokked,
            (Some(_), Some(_)) => Verdict::Generalized,
        };
    }
}

impl RunReport<GrokkingMetrics> for GrokReport {
    fn update(&mut self, record: &GrokkingRecord) {
        GrokReport::update(self, record)
    }
}

/// Whether a sweep table shows this field of the grokking verdict (the rest are in the JSON
/// lines), and in which place among those it shows.
pub fn headline_field(key: &str) -> Option<usize> {
    ["verdict", "train_step_99", "test_step_99", "final_test_acc"].iter().position(|k| *k == key)
}

impl GrokReport {
    /// The grokking lab's sweep verdict: the verdict, the steps at which train and test
    /// accuracy first reached 99% (or null: never), the final accuracies and losses, the largest
    /// softmax-collapse fraction seen (Prieto et al. 2025) and PAIR's loss ratio.
    pub fn sweep_fields(&self, history: &[GrokkingRecord]) -> Vec<(String, serde_json::Value)> {
        let last = history.last().map(|r| &r.lab);
        let max_collapse = history
            .iter()
            .map(|r| r.softmax_collapse)
            .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))));
        let verdict = serde_json::to_value(self.verdict).expect("verdicts serialize");
        vec![
            ("verdict".into(), verdict),
            ("train_step_99".into(), reached_step(self.train_step)),
            ("test_step_99".into(), reached_step(self.test_step)),
            ("final_train_acc".into(), last.map(|m| m.train_acc).into()),
            ("final_test_acc".into(), last.map(|m| m.test_acc).into()),
            ("final_train_loss".into(), last.map(|m| m.train_loss).into()),
            ("final_test_loss".into(), last.map(|m| m.test_loss).into()),
            ("max_softmax_collapse".into(), max_collapse.into()),
            ("max_loss_ratio".into(), self.max_loss_ratio.into()),
        ]
    }
}

/// What `gradscope run` prints when a grokking run ends: the final metrics, the verdict and
/// its steps, and (given the analysis of the final weights) the key frequencies.
pub fn outcome_lines(
    report: &GrokReport,
    history: &[GrokkingRecord],
    analysis: Option<&super::Analysis>,
) -> Vec<String> {
    let Some(last) = history.last() else { return Vec::new() };
    let show = |s: Option<u64>| s.map_or("never".to_string(), |s| format!("step {s}"));
    let perfect = history.iter().find(|r| r.test_acc >= 1.0).map(|r| r.step);
    let mut lines = vec![
        format!(
            "final: train acc {:.4}, test acc {:.4}, train loss {:.3e}, test loss {:.3e}, |w| \
             {:.2}, softmax collapse {:.3}, {:.1} s",
            last.train_acc,
            last.test_acc,
            last.train_loss,
            last.test_loss,
            last.weight_norm,
            last.softmax_collapse,
            last.wall_ms / 1e3
        ),
        format!(
            "verdict: {:?} | train acc ≥ 0.99: {} | test acc ≥ 0.99: {} | test acc = 1: {}",
            report.verdict,
            show(report.train_step),
            show(report.test_step),
            show(perfect),
        ),
    ];
    if let Some(a) = analysis {
        lines.push(format!(
            "key frequencies: {:?} ({:.0}% of the non-constant Fourier energy); median IPR {:.3}",
            a.spectrum.key_freqs,
            100.0 * a.spectrum.key_share,
            median(&a.ipr)
        ));
    }
    lines
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}
