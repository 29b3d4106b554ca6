//! The one error type for bad specs: a field path and a sentence about what is allowed.

use std::fmt;

/// A spec that cannot run. `field` is the dotted JSON path (`task.p`), `message` says what is
/// allowed and what was given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpecError {
    pub field: String,
    pub message: String,
}

impl SpecError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }

    pub(crate) fn from_serde<E: fmt::Display>(err: serde_path_to_error::Error<E>) -> Self {
        let path = err.path().to_string();
        let field = if path == "." || path.is_empty() { "(spec)".to_string() } else { path };
        // serde_json appends " at line L column C", which is noise next to a field path.
        let inner = err.inner().to_string();
        let message = match inner.find(" at line ") {
            Some(i) => inner[..i].to_string(),
            None => inner,
        };
        Self { field, message }
    }
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for SpecError {}
