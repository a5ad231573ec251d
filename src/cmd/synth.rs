//! `zicht synth`.

use super::{CmdResult, Failure};

/// Arguments of `zicht synth`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Run `zicht synth`.
pub fn run(_args: Args) -> CmdResult {
    Err(Failure::work_msg("zicht synth is not implemented yet"))
}
