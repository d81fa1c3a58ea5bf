//! Front-ends other than the command line: thin layers over the same
//! [`crate::Engine`] and [`crate::Answer`] that `cram ask` uses.
//!
//! [`mcp`] serves the notes to AI assistants over the Model Context Protocol.

pub mod mcp;
