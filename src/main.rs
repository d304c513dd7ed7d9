use std::process::ExitCode;

use contend::error::{Exit, is_broken_pipe};

/// The system's allocator, with running out of memory an error that names
/// the input (exit 2), not an abort.
#[global_allocator]
static ALLOCATOR: contend::memory::Allocator = contend::memory::Allocator;

fn main() -> ExitCode {
    match contend::run() {
        Ok(exit) => ExitCode::from(exit as u8),
        // The reader went away (`contend report | head -1`): not a failure.
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            contend::notes::say(format_args!("contend: {err:#}"));
            ExitCode::from(Exit::BadInput as u8)
        }
    }
}
