//! Front-ends other than the command line: thin layers over the same
//! [`crate::Engine`] and [`crate::Answer`] that `cram ask` uses.
//!
//! [`mcp`] serves the notes to AI assistants over the Model Context Protocol;
//! [`serve`] puts answers, notes (math as MathML) and the drill on a local
//! web page. Both keep their engine fresh with [`live`].

pub mod live;
pub mod mcp;
pub mod serve;
