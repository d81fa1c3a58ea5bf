//! Retrieval: from a question to an [`Answer`].
//!
//! [`query`] understands the question (interview framing dropped, typos
//! corrected, acronyms expanded); [`search`] runs the two arms over the index
//! (BM25 and dense), optionally moving each arm's query towards its first
//! pass's best passages ([`feedback`]: RM3, Rocchio), fuses them ([`fuse`])
//! and diversifies ([`mmr`]);
//! [`abstain`] decides whether the notes cover the question; [`closest`]
//! names the note the question is about; [`keypoints`]
//! chooses the sentences shown on top; [`engine`] ties them together and
//! keeps the index fresh; [`answer`] is the result, the `cram.ask` JSON
//! contract every front-end prints.
//!
//! Depends on [`crate::index`] (never the other way round); the front-ends
//! and [`crate::render`] depend on it.
//!
//! [`Answer`]: answer::Answer

pub mod abstain;
pub mod answer;
pub mod closest;
pub mod engine;
pub mod feedback;
pub mod fuse;
pub mod keypoints;
pub mod mmr;
pub mod query;
pub mod search;
