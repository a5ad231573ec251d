//! Atomic output: write to a temporary file in the target's directory, then
//! rename over the target. A failed or interrupted write leaves the target
//! untouched; the temporary file is removed when dropped without `commit`.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use std::sync::Mutex;

use crate::FormatError;

/// Temporary files being written, so that a signal handler can remove them
/// before the process exits ([`remove_pending`]).
static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn unregister(path: &Path) {
    let mut pending = PENDING.lock().unwrap_or_else(|p| p.into_inner());
    pending.retain(|p| p != path);
}

/// Remove every temporary file still being written, then exit with `code`,
/// holding the registry's lock so that no new temporary file can appear in
/// between. Call it from a SIGINT/SIGTERM handler: an interrupted run then
/// leaves nothing behind. (SIGKILL cannot be caught; a hidden
/// `.NAME.*.tmp` file may then remain, never a file under the target name.)
pub fn remove_pending_and_exit(code: i32) -> ! {
    let pending = PENDING.lock().unwrap_or_else(|p| p.into_inner());
    for path in pending.iter() {
        let _ = std::fs::remove_file(path);
    }
    std::process::exit(code)
}

/// A file being written that appears under its name only on [`commit`].
///
/// [`commit`]: AtomicFile::commit
#[derive(Debug)]
pub struct AtomicFile {
    target: PathBuf,
    temp: tempfile::NamedTempFile,
    _registration: Registration,
}

impl AtomicFile {
    /// Start writing `target`.
    ///
    /// # Errors
    /// When the directory is missing or not writable.
    pub fn create(target: &Path) -> Result<AtomicFile, FormatError> {
        let dir = match target.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // Create and register under the lock, so that a signal handler in
        // `remove_pending_and_exit` sees every temporary file that exists.
        let mut pending = PENDING.lock().unwrap_or_else(|p| p.into_inner());
        let temp = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(".tmp")
            .tempfile_in(&dir)
            .map_err(FormatError::io(format!(
                "cannot create a temporary file in {}",
                dir.display()
            )))?;
        pending.push(temp.path().to_path_buf());
        drop(pending);
        Ok(AtomicFile {
            target: target.to_path_buf(),
            _registration: Registration(temp.path().to_path_buf()),
            temp,
        })
    }

    /// The file to write to.
    pub fn file(&mut self) -> &mut File {
        self.temp.as_file_mut()
    }

    /// A buffered writer over the file.
    pub fn writer(&mut self) -> BufWriter<&mut File> {
        BufWriter::with_capacity(1 << 16, self.temp.as_file_mut())
    }

    /// Flush to disk and rename onto the target.
    ///
    /// # Errors
    /// When syncing or renaming fails; the temporary file is then removed.
    pub fn commit(mut self) -> Result<(), FormatError> {
        let target = self.target.clone();
        self.temp
            .as_file_mut()
            .flush()
            .and_then(|()| self.temp.as_file().sync_all())
            .map_err(FormatError::io(format!(
                "cannot write {}",
                target.display()
            )))?;
        self.temp.persist(&target).map_err(|e| FormatError::Io {
            context: format!(
                "cannot rename the output into place at {}",
                target.display()
            ),
            source: e.error,
        })?;
        Ok(())
    }
}

/// Keeps a temporary file in [`PENDING`] while it lives.
#[derive(Debug)]
struct Registration(PathBuf);

impl Drop for Registration {
    fn drop(&mut self) {
        unregister(&self.0);
    }
}

/// Write `bytes` to `target` atomically.
///
/// # Errors
/// As [`AtomicFile::create`] and [`AtomicFile::commit`].
pub fn write_atomic(target: &Path, bytes: &[u8]) -> Result<(), FormatError> {
    let mut file = AtomicFile::create(target)?;
    file.file()
        .write_all(bytes)
        .map_err(FormatError::io(format!(
            "cannot write {}",
            target.display()
        )))?;
    file.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_visible_until_commit() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.txt");
        {
            let mut f = AtomicFile::create(&target).unwrap();
            f.file().write_all(b"partial").unwrap();
            assert!(!target.exists());
        }
        assert!(!target.exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        write_atomic(&target, b"whole").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"whole");
    }
}
