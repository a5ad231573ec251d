//! `zicht audit`.

use super::{CmdResult, Failure};

/// Arguments of `zicht audit`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Run `zicht audit`.
pub fn run(_args: Args) -> CmdResult {
    Err(Failure::work_msg("zicht audit is not implemented yet"))
}
