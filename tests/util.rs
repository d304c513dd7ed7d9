//! Running the built `contend` binary in a clean environment.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The seed fixture: the reaper samplings as posted to tech@.
pub const SEED: &str = "fixtures/openbsd-reaper-make-j32.txt";
/// The whole tech@ mail the samplings came in.
pub const SEED_MAIL: &str = "fixtures/openbsd-tech-reaper-mail.txt";

/// A path inside the repository.
pub fn repo_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// The names of the files in a repository directory, sorted.
pub fn files_in(relative: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(repo_path(relative))
        .expect("a directory of the repository")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .into_string()
                .expect("name")
        })
        .collect();
    names.sort();
    names
}

/// The text of a repository file.
pub fn read(relative: &str) -> String {
    std::fs::read_to_string(repo_path(relative)).expect("fixture is readable")
}

/// `contend` with an empty environment (no NO_COLOR, COLUMNS, ...) and the
/// repository as working directory, so results do not depend on the shell.
pub fn contend() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_contend"));
    command.env_clear().current_dir(env!("CARGO_MANIFEST_DIR"));
    command
}

/// What a run left behind, as text.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(output: Output) -> Self {
        Run {
            code: output.status.code().expect("exited, not killed"),
            stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
        }
    }
}

/// Runs `contend ARGS` with `stdin` as standard input.
pub fn run_with_stdin(args: &[&str], stdin: &[u8]) -> Run {
    let mut child = contend()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("contend starts");
    let mut input = child.stdin.take().expect("stdin is piped");
    // A run that fails early may close stdin first; that is not our test's error.
    let _ = input.write_all(stdin);
    drop(input);
    child.wait_with_output().expect("contend runs").into()
}

/// Runs `contend ARGS` with empty standard input.
pub fn run(args: &[&str]) -> Run {
    run_with_stdin(args, b"")
}

/// A scratch directory for one test, emptied first.
pub fn scratch_dir(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(test);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// The JSON report of `contend report --format json ARGS` on `stdin`.
pub fn json_report(args: &[&str], stdin: &[u8]) -> serde_json::Value {
    let mut all = vec!["report", "--format", "json"];
    all.extend(args);
    let run = run_with_stdin(&all, stdin);
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    serde_json::from_str(&run.stdout).expect("report --format json is JSON")
}

/// Per-sample spin shares of a JSON report, in percent with one decimal.
pub fn spin_shares(report: &serde_json::Value) -> Vec<String> {
    report["samples"]
        .as_array()
        .expect("samples array")
        .iter()
        .map(|s| format!("{:.1}", s["spin_share"].as_f64().expect("share") * 100.0))
        .collect()
}

/// A pseudo-terminal pair: (controller, the terminal side a process reads).
pub fn pseudo_terminal() -> (std::fs::File, std::os::fd::OwnedFd) {
    use std::os::fd::FromRawFd;
    let (mut controller, mut terminal) = (0, 0);
    // SAFETY: openpty writes two descriptors it opened into the integers
    // given; no name, termios or window size is passed.
    let opened = unsafe {
        libc::openpty(
            &mut controller,
            &mut terminal,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(opened, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors are open and owned by nothing else.
    unsafe {
        (
            std::fs::File::from_raw_fd(controller),
            std::os::fd::OwnedFd::from_raw_fd(terminal),
        )
    }
}

/// The tests' generator (xorshift): the same draws on every run.
pub use contend::draws::Draws;
