//! Subcommands: one module each, holding its clap arguments and its `run`.
//!
//! Every `run` returns [`CmdResult`]. A [`Failure`] says whether the input or
//! the usage was bad (exit code 2) or the work itself failed (exit code 1).
//! Messages never contain a personal value: library errors name the row and
//! the field, never the cell.

pub mod audit;
pub mod demo;
pub mod encode;
pub mod estimate;
pub mod eval;
pub mod inspect;
pub mod keygen;
pub mod link;
pub mod synth;

use std::fmt::Display;

/// Why a subcommand failed, and so which exit code it gets.
#[derive(Debug)]
pub enum Failure {
    /// Bad usage or bad input: exit code 2.
    BadInput(anyhow::Error),
    /// The work failed (I/O, an impossible fit, ...): exit code 1.
    Work(anyhow::Error),
}

impl Failure {
    /// A bad-input failure from anything printable.
    pub fn input(error: impl Into<anyhow::Error>) -> Failure {
        Failure::BadInput(error.into())
    }

    /// A failure of the work from anything printable.
    pub fn work(error: impl Into<anyhow::Error>) -> Failure {
        Failure::Work(error.into())
    }

    /// A bad-input failure with a message.
    pub fn input_msg(message: impl Display) -> Failure {
        Failure::BadInput(anyhow::anyhow!("{message}"))
    }

    /// A work failure with a message.
    pub fn work_msg(message: impl Display) -> Failure {
        Failure::Work(anyhow::anyhow!("{message}"))
    }
}

/// What every subcommand returns.
pub type CmdResult = Result<(), Failure>;

/// Attach a context to an error and classify it.
pub trait Classify<T> {
    /// The error is the input's fault (exit code 2).
    fn bad_input(self, context: impl Display) -> Result<T, Failure>;
    /// The error is the work's failure (exit code 1).
    fn work_failed(self, context: impl Display) -> Result<T, Failure>;
}

impl<T, E: Into<anyhow::Error>> Classify<T> for Result<T, E> {
    fn bad_input(self, context: impl Display) -> Result<T, Failure> {
        self.map_err(|e| Failure::BadInput(e.into().context(context.to_string())))
    }

    fn work_failed(self, context: impl Display) -> Result<T, Failure> {
        self.map_err(|e| Failure::Work(e.into().context(context.to_string())))
    }
}

/// Run `work` on a rayon pool of `threads` threads (all cores when `None`).
///
/// # Errors
/// When the pool cannot be built.
pub fn with_threads<T: Send>(
    threads: Option<usize>,
    work: impl FnOnce() -> T + Send,
) -> Result<T, Failure> {
    if threads == Some(0) {
        return Err(Failure::input_msg("--threads must be at least 1"));
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.unwrap_or(0))
        .build()
        .work_failed("cannot start the worker threads")?;
    Ok(pool.install(work))
}

/// A progress bar on stderr when it is a terminal, hidden otherwise.
pub fn progress_bar(total: Option<u64>, what: &str) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = match total {
        Some(total) => indicatif::ProgressBar::new(total),
        None => indicatif::ProgressBar::new_spinner(),
    };
    let template = match total {
        Some(_) => format!("{{spinner}} {what} [{{bar:30}}] {{pos}}/{{len}} ({{per_sec}})"),
        None => format!("{{spinner}} {what} {{pos}} ({{per_sec}})"),
    };
    if let Ok(style) = indicatif::ProgressStyle::with_template(&template) {
        bar.set_style(style);
    }
    bar
}

/// Refuse a path that is a directory or does not exist, as bad input.
pub fn input_file(path: &std::path::Path, what: &str) -> Result<(), Failure> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => Err(Failure::input_msg(format!(
            "{what} {} is a directory, not a file",
            path.display()
        ))),
        Ok(_) => Ok(()),
        Err(error) => Err(Failure::BadInput(
            anyhow::Error::new(error).context(format!("cannot read {what} {}", path.display())),
        )),
    }
}

/// Read a source profile from `path`, or the default profile when `None`.
///
/// # Errors
/// A missing or unreadable file, or an invalid profile (bad input).
pub fn read_profile(path: Option<&std::path::Path>) -> Result<zicht_encoder::Profile, Failure> {
    let Some(path) = path else {
        return Ok(zicht_encoder::Profile::default());
    };
    input_file(path, "the profile")?;
    let text = std::fs::read_to_string(path)
        .bad_input(format!("cannot read the profile {}", path.display()))?;
    zicht_encoder::Profile::from_toml(&text).bad_input(format!("in {}", path.display()))
}
