//! One module per subcommand.

pub mod collect;
pub mod data;
pub mod ensemble;
pub mod export;
pub mod fit;
pub mod import;
pub mod list;
pub mod merge;
pub mod report;
pub mod run;
pub mod sample;
pub mod train;
pub mod verify;
