//! The labs' own worker commands (beside the run commands every lab answers), dispatched to
//! the lab that owns them: [`LabCommand`] in, [`LabEvent`] out, [`LabJobs`] for the work a
//! lab keeps between worker turns. Both enums are untagged over the labs' own internally
//! tagged enums, so a message reads `{"type": "scan_race", …}` whichever lab answers it.

use serde::{Deserialize, Serialize};

use super::{grokking, scans};
use crate::backend::Backend;
use crate::train::lab_command::Reply;

/// A lab's own command, as the page sends it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum LabCommand {
    Grokking(grokking::commands::Command),
    Scans(scans::commands::Command),
}

/// A lab's own answer, as the page receives it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum LabEvent {
    Grokking(grokking::commands::Event),
    Scans(scans::commands::Event),
}

/// What the labs are doing between worker turns (a scan race in progress).
#[derive(Default)]
pub struct LabJobs {
    scans: scans::commands::Jobs,
}

impl LabJobs {
    /// Whether a lab still has work queued: the worker calls [`LabJobs::step`] each turn.
    pub fn busy(&self) -> bool {
        self.scans.busy()
    }

    /// Hands `command` to its lab; `backend`: the worker's active one, if any.
    pub async fn handle(
        &mut self,
        command: LabCommand,
        backend: Option<&Backend>,
    ) -> Vec<Reply<LabEvent>> {
        match command {
            LabCommand::Grokking(c) => wrap(grokking::commands::handle(c), LabEvent::Grokking),
            LabCommand::Scans(c) => wrap(self.scans.handle(c, backend).await, LabEvent::Scans),
        }
    }

    /// One unit of queued work (one measurement of a race); `pause`: a short wait.
    pub async fn step(
        &mut self,
        backend: Option<&Backend>,
        pause: impl AsyncFn(),
    ) -> Vec<Reply<LabEvent>> {
        wrap(self.scans.step(backend, pause).await, LabEvent::Scans)
    }
}

fn wrap<E>(replies: Vec<Reply<E>>, tag: fn(E) -> LabEvent) -> Vec<Reply<LabEvent>> {
    replies.into_iter().map(|r| r.map(tag)).collect()
}
