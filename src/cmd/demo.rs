//! `zicht demo`.

use super::{CmdResult, Failure};

/// Arguments of `zicht demo`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Run `zicht demo`.
pub fn run(_args: Args) -> CmdResult {
    Err(Failure::work_msg("zicht demo is not implemented yet"))
}
