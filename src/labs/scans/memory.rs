//! Synthetic memory tasks of the Mamba paper (Gu & Dao 2023, arXiv 2312.00752, §4.1).
//!
//! Both put the answer at the end of the sequence, so a batch is `tokens: [b, len]` plus
//! `answers: [b, k]`, the targets of the last `k` positions.
//!
//! - **Selective copying**: `data_tokens` tokens drawn from `vocab` data symbols are scattered at
//!   random positions among noise tokens in a context of `len − data_tokens`; then
//!   `data_tokens` answer slots follow, where the model must output the data tokens in order.
//!   Where the tokens sit changes per example, so a time-invariant convolution cannot know
//!   which inputs to keep: LTI models fail, selective ones solve it (S4 18.3%, Mamba 99.8%).
//! - **Induction heads**: random tokens; somewhere a trigger token is followed by a value;
//!   the last token is the trigger again, and the answer is that value. Trained at one length,
//!   evaluated at longer ones (Mamba extrapolates to 2²⁰ from 256).

use rand::Rng;
use rand::seq::index::sample;
use rand_chacha::ChaCha8Rng;

/// Token 0: noise (selective copying) or the trigger (induction heads).
pub const NOISE: u32 = 0;
/// Token 1 in selective copying: an answer slot ("output the next data token here").
pub const ANSWER_SLOT: u32 = 1;
/// The trigger of induction heads.
pub const TRIGGER: u32 = 0;

/// Which memory task.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    SelectiveCopying,
    InductionHeads,
}

/// A memory task's shape. A struct rather than an enum of shapes, so its fields have one
/// path each in the URL hash and the form (`scans.task.len`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MemoryTask {
    pub kind: TaskKind,
    /// Sequence length in training (selective copying: context + answer slots).
    pub len: usize,
    /// Data symbols (selective copying) or value symbols (induction heads); the vocabulary
    /// adds noise and the answer slot, or the trigger.
    pub vocab: usize,
    /// Selective copying: data tokens to copy (ignored by induction heads).
    pub data_tokens: usize,
}

impl Default for MemoryTask {
    /// Selective copying at browser scale: 8 tokens of 8 symbols in 64 positions.
    fn default() -> Self {
        Self { kind: TaskKind::SelectiveCopying, len: 64, vocab: 8, data_tokens: 8 }
    }
}

/// A batch: `tokens` row-major `[batch, len]`, `answers` row-major `[batch, answer_len]`
/// (the targets of the last `answer_len` positions).
#[derive(Clone, Debug, PartialEq)]
pub struct SequenceBatch {
    pub batch: usize,
    pub len: usize,
    pub answer_len: usize,
    pub tokens: Vec<u32>,
    pub answers: Vec<u32>,
}

impl SequenceBatch {
    /// Sequences `start..start + count` as a batch of their own.
    pub fn rows(&self, start: usize, count: usize) -> SequenceBatch {
        SequenceBatch {
            batch: count,
            len: self.len,
            answer_len: self.answer_len,
            tokens: self.tokens[start * self.len..(start + count) * self.len].to_vec(),
            answers: self.answers[start * self.answer_len..(start + count) * self.answer_len]
                .to_vec(),
        }
    }
}

#[allow(clippy::len_without_is_empty)]
impl MemoryTask {
    /// Tokens the model embeds and predicts.
    pub fn vocab_size(&self) -> usize {
        match self.kind {
            TaskKind::SelectiveCopying => self.vocab + 2,
            TaskKind::InductionHeads => self.vocab + 1,
        }
    }

    /// Training sequence length.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Answer positions at the end of each sequence.
    pub fn answer_len(&self) -> usize {
        match self.kind {
            TaskKind::SelectiveCopying => self.data_tokens,
            TaskKind::InductionHeads => 1,
        }
    }

    /// The same task at another sequence length (induction heads' extrapolation).
    pub fn at_len(&self, len: usize) -> MemoryTask {
        MemoryTask { len, ..*self }
    }

    pub fn name(&self) -> &'static str {
        match self.kind {
            TaskKind::SelectiveCopying => "selective_copying",
            TaskKind::InductionHeads => "induction_heads",
        }
    }

    /// A sequence the user typed, as a batch of one, with the answers the task's rule gives
    /// (the scans lab's "your sequence" view). `max_len` bounds its length. Errors say what is
    /// wrong with the sequence, by position.
    ///
    /// Selective copying: the sequence ends with answer slots (token 1), one per data token
    /// (≥ 2) before them; the answers are those data tokens in order. Induction heads: the
    /// sequence ends with the trigger (token 0) and an earlier trigger is followed by a value;
    /// the answer is the value after the last such trigger.
    pub fn typed(&self, tokens: &[u32], max_len: usize) -> Result<SequenceBatch, String> {
        let len = tokens.len();
        if len < 2 || len > max_len {
            return Err(format!(
                "your sequence has {len} tokens; it needs between 2 and {max_len} (the longest \
                 length this run evaluates)"
            ));
        }
        let vocab = self.vocab_size() as u32;
        if let Some((i, t)) = tokens.iter().enumerate().find(|(_, t)| **t >= vocab) {
            return Err(format!(
                "your sequence: token {t} at position {i} is outside the vocabulary 0…{}",
                vocab - 1
            ));
        }
        let answers = match self.kind {
            TaskKind::SelectiveCopying => {
                let slots = tokens.iter().rev().take_while(|t| **t == ANSWER_SLOT).count();
                let data: Vec<u32> =
                    tokens[..len - slots].iter().copied().filter(|t| *t >= 2).collect();
                if slots == 0 || data.len() != slots {
                    return Err(format!(
                        "your sequence has {} data tokens (2…{}) and ends with {slots} answer \
                         slots (1); selective copying needs one slot per data token, at the end",
                        data.len(),
                        vocab - 1
                    ));
                }
                data
            }
            TaskKind::InductionHeads => {
                let value = (tokens[len - 1] == TRIGGER)
                    .then(|| (0..len - 2).rev().find(|&p| tokens[p] == TRIGGER))
                    .flatten()
                    .map(|p| tokens[p + 1])
                    .filter(|&v| v != TRIGGER);
                let Some(value) = value else {
                    return Err("your sequence: induction heads needs the trigger (0) last, and \
                                an earlier trigger followed by a value (1…) to recall"
                        .into());
                };
                vec![value]
            }
        };
        Ok(SequenceBatch {
            batch: 1,
            len,
            answer_len: answers.len(),
            tokens: tokens.to_vec(),
            answers,
        })
    }

    /// `batch` fresh examples from `rng`. The task must be valid (see `spec::ScansSpec`).
    pub fn sample(&self, batch: usize, rng: &mut ChaCha8Rng) -> SequenceBatch {
        let (len, answer_len) = (self.len(), self.answer_len());
        let mut tokens = Vec::with_capacity(batch * len);
        let mut answers = Vec::with_capacity(batch * answer_len);
        for _ in 0..batch {
            let (vocab, data_tokens) = (self.vocab, self.data_tokens);
            match self.kind {
                TaskKind::SelectiveCopying => {
                    let context = len - data_tokens;
                    let mut row = vec![NOISE; len];
                    let mut positions = sample(rng, context, data_tokens).into_vec();
                    positions.sort_unstable();
                    for &p in &positions {
                        let token = 2 + rng.random_range(0..vocab as u32);
                        row[p] = token;
                        answers.push(token);
                    }
                    row[context..].fill(ANSWER_SLOT);
                    tokens.extend(row);
                }
                TaskKind::InductionHeads => {
                    let mut row: Vec<u32> =
                        (0..len).map(|_| 1 + rng.random_range(0..vocab as u32)).collect();
                    // The trigger at p < len − 2, its value at p + 1, the trigger again last.
                    let p = rng.random_range(0..len - 2);
                    let value = 1 + rng.random_range(0..vocab as u32);
                    row[p] = TRIGGER;
                    row[p + 1] = value;
                    row[len - 1] = TRIGGER;
                    answers.push(value);
                    tokens.extend(row);
                }
            }
        }
        SequenceBatch { batch, len, answer_len, tokens, answers }
    }
}
