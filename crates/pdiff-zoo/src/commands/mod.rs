//! One module per subcommand.

pub mod collect;
pub mod data;
pub mod list;
pub mod train;
