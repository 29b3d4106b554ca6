//! The grokking lab's own worker command: the preview of your own operation's labels as you
//! type it (nothing is loaded).

use serde::{Deserialize, Serialize};

use super::modular::Operation;
use super::spec::PairSet;
use crate::train::lab_command::Reply;

/// Page → worker, for the grokking lab.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Command {
    /// The labels of your own operation over the p × p grid. Answered with
    /// [`Event::OperationPreview`].
    PreviewOperation { expr: String, p: u32 },
}

/// Worker → page, for the grokking lab.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// [`Command::PreviewOperation`]'s answer: row a, column b, `None` where the pair is
    /// excluded; or `error` (a parse error with its column, an overflow with its pair).
    OperationPreview {
        expr: String,
        p: u32,
        labels: Vec<Option<u32>>,
        error: Option<String>,
        /// Pairs in the dataset (not excluded).
        pairs: usize,
        commutative: bool,
    },
}

/// Answers `command` (at once: the preview needs no device).
pub fn handle(command: Command) -> Vec<Reply<Event>> {
    let Command::PreviewOperation { expr, p } = command;
    let event = match Operation::preview(&expr, p) {
        Ok(op) => Event::OperationPreview {
            pairs: op.pairs(PairSet::All).len(),
            commutative: op.is_commutative(),
            labels: op.table().to_vec(),
            error: None,
            expr,
            p,
        },
        Err(e) => Event::OperationPreview {
            expr,
            p,
            labels: Vec::new(),
            error: Some(e.message),
            pairs: 0,
            commutative: false,
        },
    };
    vec![Reply::Event(event)]
}
