//! `zicht keygen`: a new project secret.

use std::io::Write;
use std::path::PathBuf;

use zicht_encoder::Secret;

use super::{Classify, CmdResult, Failure};

/// Arguments of `zicht keygen`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The new secret file (must not exist; created with mode 0600).
    #[arg(long)]
    pub out: PathBuf,
}

/// Run `zicht keygen`.
pub fn run(args: Args) -> CmdResult {
    if args.out.exists() {
        return Err(Failure::input_msg(format!(
            "{} already exists; refusing to overwrite a secret",
            args.out.display()
        )));
    }
    let secret = Secret::generate().work_failed("cannot generate a secret")?;
    write_secret(&args.out, &secret).work_failed(format!("cannot write {}", args.out.display()))?;
    eprintln!(
        "zicht: wrote a new {}-bit secret to {} (mode 0600). Share it with the agencies only, never with the third party.",
        secret.bits(),
        args.out.display()
    );
    Ok(())
}

/// Write a secret to a new file with mode 0600, atomically.
pub fn write_secret(path: &std::path::Path, secret: &Secret) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut temp = tempfile::Builder::new()
        .prefix(".zicht-secret.")
        .tempfile_in(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        temp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    let mut text = zeroize::Zeroizing::new(secret.to_file_text());
    temp.write_all(text.as_bytes())?;
    temp.as_file().sync_all()?;
    zeroize::Zeroize::zeroize(&mut *text);
    temp.persist_noclobber(path).map_err(|e| e.error)?;
    Ok(())
}
