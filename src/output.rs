//! Where output goes: stdout, or a file written atomically (a temporary
//! file in the same folder, renamed over the target only when complete), so
//! a failed run never leaves half a file nor clobbers a good one.
//!
//! Only a regular file is replaced that way, keeping its mode. A device or
//! a FIFO (`-o /dev/null`) is written into, `-o -` is stdout, a symlink is
//! followed to its target, a file with other hard links is written in
//! place once the output is complete (so that the links still share it),
//! and a read-only file is refused.

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use tempfile::NamedTempFile;

const WRITE_BUFFER: usize = 256 * 1024;

/// An output being written.
pub enum Destination {
    /// Standard output.
    Stdout(BufWriter<io::Stdout>),
    /// A device or FIFO, written into as the output comes.
    Device(BufWriter<std::fs::File>),
    /// A temporary file that becomes `target` on [`Destination::commit`].
    File {
        /// The temporary file, removed if dropped before commit.
        temp: BufWriter<NamedTempFile>,
        /// Where it goes.
        target: PathBuf,
        /// How the target is replaced.
        replace: Replace,
    },
}

/// How a complete temporary file takes the target's place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replace {
    /// Renamed over it (a new file, or one with a single link), with the
    /// mode of the file it replaces, if any.
    Rename(Option<u32>),
    /// Copied into it: the target has other hard links that must keep
    /// sharing it.
    CopyInto,
}

/// What is at an output path, and so how to write it.
enum Target {
    Stdout,
    Device(PathBuf),
    File(PathBuf, Replace),
}

/// Where `-o PATH` writes, or why it will not.
fn target_of(path: &Path) -> Result<Target> {
    if path.as_os_str() == "-" {
        return Ok(Target::Stdout);
    }
    let shown = path.display();
    let ends_in_separator = path.as_os_str().to_string_lossy().ends_with('/');
    if ends_in_separator || path.is_dir() {
        anyhow::bail!("-o {shown}: is a directory; -o takes a file name");
    }
    let link = std::fs::symlink_metadata(path).ok();
    let real = match &link {
        Some(meta) if meta.file_type().is_symlink() => std::fs::canonicalize(path)
            .with_context(|| format!("-o {shown}: cannot follow the symlink"))?,
        _ => path.to_path_buf(),
    };
    let Ok(meta) = std::fs::metadata(&real) else {
        return Ok(Target::File(real, Replace::Rename(None)));
    };
    if meta.is_dir() {
        anyhow::bail!("-o {shown}: is a directory; -o takes a file name");
    }
    if !meta.is_file() {
        return Ok(Target::Device(real));
    }
    if meta.permissions().readonly() {
        anyhow::bail!("-o {shown}: the file is read-only; contend will not replace it");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        if meta.nlink() > 1 {
            return Ok(Target::File(real, Replace::CopyInto));
        }
        Ok(Target::File(
            real,
            Replace::Rename(Some(meta.permissions().mode())),
        ))
    }
    #[cfg(not(unix))]
    Ok(Target::File(real, Replace::Rename(None)))
}

impl Destination {
    /// Stdout, a device, or a temporary file beside the file `path` names.
    pub fn open(path: Option<&Path>) -> Result<Destination> {
        let stdout = || Destination::Stdout(BufWriter::with_capacity(WRITE_BUFFER, io::stdout()));
        let Some(path) = path else {
            return Ok(stdout());
        };
        let (target, replace) = match target_of(path)? {
            Target::Stdout => return Ok(stdout()),
            Target::Device(device) => {
                let file = std::fs::OpenOptions::new()
                    .write(true)
                    .open(&device)
                    .with_context(|| format!("cannot write to {}", path.display()))?;
                return Ok(Destination::Device(BufWriter::with_capacity(
                    WRITE_BUFFER,
                    file,
                )));
            }
            Target::File(file, replace) => (file, replace),
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
        // Watching before the file exists: no signal can find it unwatched.
        partial::watch();
        let temp = builder
            .tempfile_in(folder)
            .with_context(|| format!("cannot write to {}", folder.display()))?;
        partial::remember(temp.path());
        Ok(Destination::File {
            temp: BufWriter::with_capacity(WRITE_BUFFER, temp),
            target,
            replace,
        })
    }

    /// Flushes, and for a file renames it over the target.
    pub fn commit(self) -> Result<()> {
        match self {
            Destination::Stdout(mut out) => Ok(out.flush()?),
            Destination::Device(mut out) => Ok(out.flush()?),
            Destination::File {
                temp,
                target,
                replace,
            } => {
                let writing = || format!("writing {}", target.display());
                let temp = temp
                    .into_inner()
                    .map_err(|err| err.into_error())
                    .with_context(writing)?;
                partial::forget();
                temp.as_file().sync_all().with_context(writing)?;
                match replace {
                    Replace::CopyInto => {
                        std::fs::copy(temp.path(), &target).with_context(writing)?;
                    }
                    Replace::Rename(mode) => {
                        #[cfg(unix)]
                        if let Some(mode) = mode {
                            use std::os::unix::fs::PermissionsExt;
                            let permissions = std::fs::Permissions::from_mode(mode);
                            temp.as_file()
                                .set_permissions(permissions)
                                .with_context(writing)?;
                        }
                        temp.persist(&target)
                            .map_err(|err| err.error)
                            .with_context(|| format!("cannot write {}", target.display()))?;
                    }
                }
                Ok(())
            }
        }
    }
}

impl Write for Destination {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Destination::Stdout(out) => out.write(buf),
            Destination::Device(out) => out.write(buf),
            Destination::File { temp, .. } => temp.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Destination::Stdout(out) => out.flush(),
            Destination::Device(out) => out.flush(),
            Destination::File { temp, .. } => temp.flush(),
        }
    }
}

/// The temporary file of an output being written, removed when a signal
/// (INT, TERM, HUP) ends the run: a process killed that way runs no
/// destructors, and a half-written file of hundreds of megabytes would
/// stay behind.
mod partial {
    use std::path::{Path, PathBuf};
    use std::sync::{Mutex, Once};

    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    use signal_hook::iterator::Signals;

    static PARTIAL: Mutex<Option<PathBuf>> = Mutex::new(None);

    /// Removes `path` if a signal comes before [`forget`].
    pub fn remember(path: &Path) {
        if let Ok(mut partial) = PARTIAL.lock() {
            *partial = Some(path.to_path_buf());
        }
    }

    /// From now on INT, TERM and HUP remove the file remembered, then end
    /// the run.
    pub fn watch() {
        static WATCH: Once = Once::new();
        WATCH.call_once(|| {
            let Ok(mut signals) = Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
                return;
            };
            std::thread::spawn(move || {
                if let Some(signal) = signals.forever().next() {
                    if let Some(path) = PARTIAL.lock().ok().and_then(|mut p| p.take()) {
                        let _ = std::fs::remove_file(path);
                    }
                    // As a shell reports a process a signal ended.
                    std::process::exit(128 + signal);
                }
            });
        });
    }

    /// The output is complete: a signal from now on leaves it be.
    pub fn forget() {
        if let Ok(mut partial) = PARTIAL.lock() {
            *partial = None;
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
