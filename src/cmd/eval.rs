//! `zicht eval`.

use super::{CmdResult, Failure};

/// Arguments of `zicht eval`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Run `zicht eval`.
pub fn run(_args: Args) -> CmdResult {
    Err(Failure::work_msg("zicht eval is not implemented yet"))
}
