//! `contend completions` and `contend man`: generated from the command
//! line's definition, checked for every subcommand and its flags.

use crate::util::run;

const SUBCOMMANDS: [&str; 6] = ["report", "export", "diff", "plot", "completions", "man"];

/// A flag of each subcommand that only it has.
const OWN_FLAGS: [(&str, &str); 3] = [
    ("report", "--per-input"),
    ("export", "--output-unit"),
    ("diff", "--fail-above"),
];

fn stdout_of(args: &[&str]) -> String {
    let run = run(args);
    assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
    run.stdout
}

#[test]
fn completions_know_every_subcommand_and_flag() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let script = stdout_of(&["completions", shell]);
        for subcommand in SUBCOMMANDS {
            assert!(script.contains(subcommand), "{shell}: {subcommand}");
        }
        for (_, flag) in OWN_FLAGS {
            let bare = flag.trim_start_matches('-');
            assert!(script.contains(bare), "{shell}: {flag}");
        }
    }
    // Value completions (elvish completes flags only): the input formats.
    for shell in ["bash", "zsh", "fish"] {
        let script = stdout_of(&["completions", shell]);
        assert!(
            script.contains("perf-lock") && script.contains("lockstat"),
            "{shell}"
        );
    }
    let bash = stdout_of(&["completions", "bash"]);
    assert!(bash.starts_with("_contend() {"));
    assert!(bash.contains("complete -F _contend"));
    // `contend man <TAB>` offers the pages.
    assert!(bash.contains(
        "opts=\"-v -q -h -V --verbose --quiet --help --version report export diff plot \
         completions man\""
    ));
    let fish = stdout_of(&["completions", "fish"]);
    assert!(fish.contains("complete -c contend -n \"__fish_contend_using_subcommand diff\""));
    // --spin and --sleep take lock categories, not file names.
    for flag in ["-l spin ", "-l sleep "] {
        let line = fish.lines().find(|line| line.contains(flag)).unwrap();
        assert!(line.ends_with("-r -f"), "{line}");
    }
}

#[test]
fn man_pages_for_contend_and_each_subcommand() {
    let top = stdout_of(&["man"]);
    assert!(top.contains(".TH contend 1"), "{top}");
    assert!(top.contains(".SH SUBCOMMANDS"));
    for subcommand in SUBCOMMANDS {
        assert!(
            top.contains(&format!("contend\\-{subcommand}(1)")),
            "{subcommand}"
        );
        let page = stdout_of(&["man", subcommand]);
        assert!(
            page.contains(&format!(".TH contend\\-{subcommand} 1"))
                || page.contains(&format!(".TH contend-{subcommand} 1")),
            "{subcommand}: {}",
            &page[..200.min(page.len())]
        );
        assert!(page.contains(".SH SYNOPSIS"));
        assert!(
            page.contains(&format!("\\fBcontend {subcommand}\\fR")),
            "{subcommand}"
        );
        // Its examples, under one heading: not "Examples:" again below
        // EXAMPLES.
        assert!(
            page.contains(".SH EXAMPLES\n.nf\n  "),
            "{subcommand} has its examples"
        );
        assert!(!page.contains("Examples:"), "{subcommand}: one heading");
    }
    for (subcommand, flag) in OWN_FLAGS {
        let page = stdout_of(&["man", subcommand]);
        assert!(
            page.contains(&flag.replace('-', "\\-")),
            "{subcommand}: {flag}"
        );
    }
    let report = stdout_of(&["man", "report"]);
    assert!(report.contains("contend report fixtures/openbsd\\-reaper\\-make\\-j32.txt"));
}

#[test]
fn unknown_pages_and_shells_are_usage_errors() {
    let run = run(&["man", "chart"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains(
            "invalid value 'chart' for '[SUBCOMMAND]'\n  [possible values: report, export, diff, \
             plot, completions, man]"
        ),
        "{}",
        run.stderr
    );
    let run = crate::util::run(&["completions", "tcsh"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("invalid value 'tcsh'"),
        "{}",
        run.stderr
    );
}

#[test]
fn every_help_ends_with_examples() {
    for subcommand in SUBCOMMANDS {
        let help = stdout_of(&[subcommand, "--help"]);
        let examples = help
            .rfind("Examples:")
            .unwrap_or_else(|| panic!("{subcommand}"));
        let commands = help[examples..]
            .lines()
            .filter(|line| line.trim_start().starts_with("contend "))
            .count();
        assert!(
            (2..=4).contains(&commands),
            "{subcommand}: {commands} examples"
        );
    }
}

/// Runs `contend ARGS`, reads one line of its output, closes the pipe
/// (as `| head -1` does) and returns the exit code and stderr.
fn closed_after_one_line(args: &[&str]) -> (Option<i32>, String) {
    use std::io::{BufRead, Read};
    let mut child = crate::util::contend()
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    drop(stdout);
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    (child.wait().unwrap().code(), stderr)
}

#[test]
fn a_closed_pipe_is_success_in_every_command_and_format() {
    // Large enough that the writer meets the closed pipe.
    let dir = crate::util::scratch_dir("shell_pipe");
    let big = dir.join("big.txt");
    let seed = crate::util::read(crate::util::SEED);
    std::fs::write(&big, format!("{seed}\n").repeat(300)).unwrap();
    let big = big.to_str().unwrap();
    let mut cases: Vec<Vec<&str>> = Vec::new();
    for format in ["csv", "tsv", "json", "ndjson", "folded"] {
        cases.push(vec!["export", "--format", format, big]);
    }
    for what in ["groups", "samples"] {
        for format in ["csv", "tsv", "json", "ndjson"] {
            cases.push(vec!["export", "--what", what, "--format", format, big]);
        }
    }
    for format in ["table", "csv", "json", "markdown"] {
        cases.push(vec!["report", "--top", "0", "--format", format, big]);
    }
    for args in cases {
        let (code, stderr) = closed_after_one_line(&args);
        assert_eq!(code, Some(0), "{args:?}: {stderr}");
        assert!(!stderr.contains("Broken pipe"), "{args:?}: {stderr}");
    }
}

#[test]
fn man_pages_have_the_sections_of_a_manual() {
    for page in ["", "report", "diff", "plot"] {
        let args: Vec<&str> = if page.is_empty() {
            vec!["man"]
        } else {
            vec!["man", page]
        };
        let roff = stdout_of(&args);
        for section in [".SH \"EXIT STATUS\"", ".SH ENVIRONMENT", ".SH \"SEE ALSO\""] {
            assert!(roff.contains(section), "{page}: {section}");
        }
        assert!(
            roff.contains("NO_COLOR") && roff.contains("COLUMNS"),
            "{page}"
        );
        // Examples as written, not reflowed.
        assert!(roff.contains(".SH EXAMPLES\n.nf\n"), "{page}");
    }
    // contend(1) lists no page that `contend man` cannot give.
    let top = stdout_of(&["man"]);
    assert!(!top.contains("contend\\-help"), "{top}");
    let see_also = &top[top.find(".SH \"SEE ALSO\"").unwrap()..];
    for subcommand in SUBCOMMANDS {
        assert!(
            see_also.contains(&format!("contend\\-{subcommand}\\fR(1)")),
            "{subcommand}"
        );
        stdout_of(&["man", subcommand]);
    }
    // The install loop of `contend man --help` writes every page.
    let help = stdout_of(&["man", "--help"]);
    assert!(help.contains("for page in \"\" report export diff plot completions man; do"));
}

#[test]
fn report_help_groups_its_flags_output_first() {
    let help = stdout_of(&["report", "--help"]);
    let at = |heading: &str| {
        help.find(&format!("\n{heading}:\n"))
            .unwrap_or_else(|| panic!("{heading}: {help}"))
    };
    let order = [
        at("Output"),
        at("Ranking"),
        at("Input"),
        at("Captures (FXT)"),
        at("Examples"),
    ];
    assert!(order.windows(2).all(|pair| pair[0] < pair[1]), "{order:?}");
    assert!(help[at("Input")..at("Captures (FXT)")].contains("[INPUT]..."));
}
