//! Where output goes: stdout, or a file written atomically (a temporary
//! file in the same folder, renamed over the target only when complete), so
//! a failed run never leaves half a file nor clobbers a good one.

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use tempfile::NamedTempFile;

const WRITE_BUFFER: usize = 256 * 1024;

/// An output being written.
pub enum Destination {
    /// Standard output.
    Stdout(BufWriter<io::Stdout>),
    /// A temporary file that becomes `target` on [`Destination::commit`].
    File {
        /// The temporary file, removed if dropped before commit.
        temp: BufWriter<NamedTempFile>,
        /// Where it goes.
        target: PathBuf,
    },
}

impl Destination {
    /// Stdout, or a temporary file beside `path`.
    pub fn open(path: Option<&Path>) -> Result<Destination> {
        let Some(target) = path else {
            return Ok(Destination::Stdout(BufWriter::with_capacity(
                WRITE_BUFFER,
                io::stdout(),
            )));
        };
        let folder = match target.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        let mut builder = tempfile::Builder::new();
        builder.prefix(".contend-").suffix(".partial");
        // Temporary files are private (0600); the output is an ordinary
        // file, so ask for 0666 and let the umask decide, as `>` would.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(std::fs::Permissions::from_mode(0o666));
        }
        let temp = builder
            .tempfile_in(folder)
            .with_context(|| format!("cannot write to {}", folder.display()))?;
        Ok(Destination::File {
            temp: BufWriter::with_capacity(WRITE_BUFFER, temp),
            target: target.to_path_buf(),
        })
    }

    /// Flushes, and for a file renames it over the target.
    pub fn commit(self) -> Result<()> {
        match self {
            Destination::Stdout(mut out) => Ok(out.flush()?),
            Destination::File { temp, target } => {
                let temp = temp
                    .into_inner()
                    .map_err(|err| err.into_error())
                    .with_context(|| format!("writing {}", target.display()))?;
                temp.as_file()
                    .sync_all()
                    .with_context(|| format!("writing {}", target.display()))?;
                temp.persist(&target)
                    .map_err(|err| err.error)
                    .with_context(|| format!("cannot write {}", target.display()))?;
                Ok(())
            }
        }
    }
}

impl Write for Destination {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Destination::Stdout(out) => out.write(buf),
            Destination::File { temp, .. } => temp.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Destination::Stdout(out) => out.flush(),
            Destination::File { temp, .. } => temp.flush(),
        }
    }
}

/// Writes the whole output to stdout at once and flushes it.
pub fn write_stdout(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_appears_only_on_commit() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.csv");
        std::fs::write(&target, "good old data\n").unwrap();

        let mut failed = Destination::open(Some(&target)).unwrap();
        failed.write_all(b"half of a new").unwrap();
        drop(failed);
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "good old data\n");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "temp file left"
        );

        let mut done = Destination::open(Some(&target)).unwrap();
        done.write_all(b"new data\n").unwrap();
        done.commit().unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new data\n");
    }
}
