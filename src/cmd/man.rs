//! `contend man`: manual pages rendered from the command-line definition,
//! the same text `--help` prints, so the manual cannot drift from the
//! program; with the sections a manual has and `--help` does not (EXIT
//! STATUS, ENVIRONMENT, SEE ALSO), and the examples as written.

use anyhow::{Result, bail};
use clap::{Command, CommandFactory};

use crate::cli::{Cli, ManArgs};
use crate::error::Exit;
use crate::output::write_stdout;

/// Writes contend(1), or contend-SUBCOMMAND(1), as roff to stdout.
pub fn run(args: &ManArgs) -> Result<Exit> {
    // `contend help` is clap's, not a page of its own.
    let top = Cli::command().disable_help_subcommand(true);
    let subcommands: Vec<String> = top
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect();
    let command = match args.subcommand.as_deref() {
        None => top,
        Some(name) => {
            // clap already refused other names; kept for a page missing
            // from MAN_PAGES' test.
            let Some(sub) = top.find_subcommand(name).cloned() else {
                bail!(
                    "no subcommand `{name}` (one of: {})",
                    subcommands.join(", ")
                );
            };
            let full = format!("contend-{name}");
            sub.name(full.clone())
                .bin_name(format!("contend {name}"))
                .display_name(full)
                .version(top.get_version().unwrap_or_default().to_string())
        }
    };
    let page = page(&command, args.subcommand.as_deref(), &subcommands)?;
    write_stdout(&page)?;
    Ok(Exit::Ok)
}

/// The page: clap_mangen's sections, then the examples unfilled, then
/// EXIT STATUS, ENVIRONMENT and SEE ALSO.
fn page(command: &Command, subcommand: Option<&str>, subcommands: &[String]) -> Result<String> {
    let man = clap_mangen::Man::new(command.clone());
    let mut out = Vec::new();
    man.render_title(&mut out)?;
    man.render_name_section(&mut out)?;
    man.render_synopsis_section(&mut out)?;
    man.render_description_section(&mut out)?;
    if command.get_arguments().any(|arg| !arg.is_hide_set()) {
        man.render_options_section(&mut out)?;
    }
    if command.has_subcommands() {
        man.render_subcommands_section(&mut out)?;
    }
    let mut page = String::from_utf8(out)?;
    if let Some(examples) = command.get_after_help() {
        page.push_str(".SH EXAMPLES\n.nf\n");
        // The heading says it already: not "Examples:" twice.
        let examples = examples.to_string();
        let examples = examples.strip_prefix("Examples:\n").unwrap_or(&examples);
        page.push_str(&roff_text(examples));
        page.push_str("\n.fi\n");
    }
    page.push_str(EXIT_STATUS);
    page.push_str(ENVIRONMENT);
    page.push_str(&see_also(subcommand, subcommands));
    Ok(page)
}

const EXIT_STATUS: &str = "\
.SH \"EXIT STATUS\"
.TP
0
Success, also when the reader of the output went away (\\fB| head\\fR).
.TP
1
\\fBdiff \\-\\-fail\\-above\\fR found a regression.
.TP
2
Bad usage or input; the message on stderr names the file and line.
";

const ENVIRONMENT: &str = "\
.SH ENVIRONMENT
.TP
COLUMNS
The width tables fit, over the terminal's (\\fB\\-\\-width\\fR comes first).
.TP
NO_COLOR
When set and not empty, no colour (\\fB\\-\\-color always\\fR comes first).
.TP
LC_ALL, LC_CTYPE, LANG
The first one set says whether the terminal takes UTF\\-8; when it does not, tables and bars are drawn in ASCII.
";

/// contend(1) and the other subcommands' pages.
fn see_also(subcommand: Option<&str>, subcommands: &[String]) -> String {
    let mut pages: Vec<String> = Vec::new();
    if subcommand.is_some() {
        pages.push("\\fBcontend\\fR(1)".to_string());
    }
    pages.extend(
        subcommands
            .iter()
            .filter(|name| Some(name.as_str()) != subcommand)
            .map(|name| format!("\\fBcontend\\-{name}\\fR(1)")),
    );
    format!(".SH \"SEE ALSO\"\n{}\n", pages.join(", "))
}

/// Text as roff shows it verbatim: backslashes escaped, hyphens as `\-`
/// (so that they can be searched and copied), a leading `.` or `'` kept
/// from being read as a request.
fn roff_text(text: &str) -> String {
    text.lines()
        .map(|line| {
            let line = line.replace('\\', "\\e").replace('-', "\\-");
            if line.starts_with(['.', '\'']) {
                format!("\\&{line}")
            } else {
                line
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_subcommand_has_a_page_and_completes() {
        let top = Cli::command().disable_help_subcommand(true);
        let names: Vec<&str> = top.get_subcommands().map(|c| c.get_name()).collect();
        assert_eq!(names, crate::cli::MAN_PAGES);
    }
}
