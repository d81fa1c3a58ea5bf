//! Study: the spaced-repetition drill over the interview questions.
//!
//! [`drill`] builds the deck, plans a sitting, and keeps the progress file
//! (locked, written atomically); [`schedule`] is the scheduler; [`status`]
//! reports the index and the drill for `cram status`. The CLI, MCP and web
//! front-ends share this code, so progress made in one is seen by the others.

pub mod drill;
pub mod schedule;
pub mod status;
