//! The gradient-flow lab's report: per stack, the loss so far, and where gradients are
//! weakest and strongest through depth at the latest evaluation.

use serde::{Deserialize, Serialize};

use crate::train::RunReport;
use crate::train::metrics::{Record, SeriesMetrics};

/// Per stack, folded from its records.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FlowReport {
    pub stacks: Vec<StackReport>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StackReport {
    pub name: String,
    /// Held-out loss at the first evaluation (step 0: the initial weights).
    pub initial_loss: f64,
    pub last_loss: f64,
    pub best_loss: f64,
    pub best_step: u64,
    /// At the latest evaluation: ‖∂L/∂W_l‖ of the last block over the first (> 1: gradients
    /// grow towards the output, as under Post-LN; < 1: they shrink, as under Pre-LN). NaN
    /// (`null` in JSON) where it is undefined: the first block's gradient is exactly 0, as every
    /// block's is under SkipInit before its first step (its branch scale α starts at 0, so no
    /// gradient reaches the branch's weights).
    pub last_over_first: f64,
    /// Transformer stacks: the largest attention logit over blocks at the latest evaluation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_logit: Option<f64>,
}

impl FlowReport {
    /// Folds in the next evaluation: every `<stack>.test_loss` and its per-block gradient norms.
    pub fn update(&mut self, record: &Record<SeriesMetrics>) {
        let s = &record.lab;
        for (key, &loss) in &s.series {
            let Some(name) = key.strip_suffix(".test_loss") else { continue };
            let i = match self.stacks.iter().position(|m| m.name == name) {
                Some(i) => i,
                None => {
                    self.stacks.push(StackReport {
                        name: name.to_string(),
                        initial_loss: loss,
                        last_loss: loss,
                        best_loss: f64::INFINITY,
                        best_step: record.step,
                        last_over_first: f64::NAN,
                        max_logit: None,
                    });
                    self.stacks.len() - 1
                }
            };
            let m = &mut self.stacks[i];
            m.last_loss = loss;
            if loss < m.best_loss {
                m.best_loss = loss;
                m.best_step = record.step;
            }
            let prefix = format!("{name}.grad_norm.");
            let norms: Vec<f64> = s
                .series
                .range(prefix.clone()..)
                .take_while(|(k, _)| k.starts_with(&prefix))
                .map(|(_, &v)| v)
                .collect();
            if let (Some(first), Some(last)) = (norms.first(), norms.last()) {
                m.last_over_first = if *first > 0.0 { last / first } else { f64::NAN };
            }
            let prefix = format!("{name}.max_logit.");
            m.max_logit = s
                .series
                .range(prefix.clone()..)
                .take_while(|(k, _)| k.starts_with(&prefix))
                .map(|(_, &v)| v)
                .reduce(f64::max);
        }
    }
}

impl FlowReport {
    /// The gradient-flow lab's sweep verdict, per stack: held-out loss at the start, at the
    /// end and at best, and the last block's gradient norm over the first's at the end.
    pub fn sweep_fields(&self) -> Vec<(String, serde_json::Value)> {
        let mut out = Vec::new();
        for m in &self.stacks {
            out.push((format!("{}.initial_loss", m.name), m.initial_loss.into()));
            out.push((format!("{}.final_loss", m.name), m.last_loss.into()));
            out.push((format!("{}.best_loss", m.name), m.best_loss.into()));
            out.push((format!("{}.last_over_first", m.name), m.last_over_first.into()));
            if let Some(l) = m.max_logit {
                out.push((format!("{}.max_logit", m.name), l.into()));
            }
        }
        out
    }
}

impl FlowReport {
    /// What `gradscope run` prints when a run ends: per stack, its loss from first to last
    /// and at best, and the gradient ratio through depth.
    pub fn outcome_lines(&self, last: Option<&Record<SeriesMetrics>>) -> Vec<String> {
        let mut lines: Vec<String> = self
            .stacks
            .iter()
            .map(|m| {
                let logit = m
                    .max_logit
                    .map(|l| format!("; max attention logit {l:.3}"))
                    .unwrap_or_default();
                let ratio = if m.last_over_first.is_finite() {
                    format!("{:.3}", m.last_over_first)
                } else {
                    "undefined (the first block's gradient is 0, as under SkipInit before its \
                     first step)"
                        .to_string()
                };
                format!(
                    "{:<12} held-out loss {:.4} → {:.4} (best {:.4} at step {}); last/first \
                     block gradient norm {ratio}{logit}",
                    m.name, m.initial_loss, m.last_loss, m.best_loss, m.best_step,
                )
            })
            .collect();
        lines.extend(last.map(|r| format!("{:.1} s of training", r.wall_ms / 1e3)));
        lines
    }
}

/// Whether series are the gradient-flow lab's (they carry per-block gradient norms).
pub fn is_flow_record(series: &SeriesMetrics) -> bool {
    series.series.keys().any(|k| k.contains(".grad_norm."))
}

impl RunReport<SeriesMetrics> for FlowReport {
    fn update(&mut self, record: &Record<SeriesMetrics>) {
        FlowReport::update(self, record)
    }
}

/// Whether a sweep table shows this field of the gradient-flow lab's verdict (the rest are in
/// the JSON lines), and in which place among those it shows.
pub fn headline_field(key: &str) -> Option<usize> {
    key.ends_with(".final_loss").then_some(0)
}
