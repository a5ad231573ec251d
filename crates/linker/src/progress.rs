//! Progress reporting: a trait the caller implements (the binary draws bars
//! with it when stderr is a terminal); the library never prints.

/// A phase of a linkage run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Phase {
    /// Reading and checking the inputs.
    Load,
    /// Comparing filters (the kernel); counted in target tiles.
    Compare,
    /// Sorting candidate pairs and building clusters.
    Solve,
    /// Writing the outputs.
    Write,
}

impl Phase {
    /// A short lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Load => "load",
            Phase::Compare => "compare",
            Phase::Solve => "solve",
            Phase::Write => "write",
        }
    }
}

/// Receives progress. Calls may come from several threads at once.
pub trait Progress: Sync {
    /// A phase starts with `total` units of work (0 when unknown).
    fn start(&self, phase: Phase, total: u64) {
        let _ = (phase, total);
    }

    /// `done` units of the phase are finished (not necessarily increasing
    /// between threads).
    fn advance(&self, phase: Phase, done: u64) {
        let _ = (phase, done);
    }

    /// The phase is over.
    fn finish(&self, phase: Phase) {
        let _ = phase;
    }
}

/// Progress that goes nowhere.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoProgress;

impl Progress for NoProgress {}
