use std::process::ExitCode;

use contend::error::{Exit, is_broken_pipe};

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
