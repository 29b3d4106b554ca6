//! What a lab's own commands answer (the scans lab's kernel explorer and scan race, the
//! grokking lab's operation preview): the front end that received the command posts or prints
//! each reply, without knowing the lab.

/// One answer of a lab's command, in order.
#[derive(Clone, Debug, PartialEq)]
pub enum Reply<E> {
    /// A lab event for the page (its own message type).
    Event(E),
    /// Something the user must see.
    Error(String),
    /// The command needs the device to itself: training pauses first.
    PauseTraining,
}

impl<E> Reply<E> {
    /// The same reply with its event wrapped (a lab's event tagged by the registry).
    pub fn map<F>(self, wrap: impl FnOnce(E) -> F) -> Reply<F> {
        match self {
            Reply::Event(e) => Reply::Event(wrap(e)),
            Reply::Error(m) => Reply::Error(m),
            Reply::PauseTraining => Reply::PauseTraining,
        }
    }
}

/// Why a lab's command did nothing: bad input (the CLI exits with 2) or a failure (1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CommandError {
    Input(String),
    Failed(String),
}

impl std::fmt::Display for CommandError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CommandError::Input(m) | CommandError::Failed(m) => f.write_str(m),
        }
    }
}
