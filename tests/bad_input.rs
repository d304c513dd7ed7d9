//! The bad-input corpus, file by file: `fixtures/bad/NAME` is run as the
//! first line of `fixtures/bad/NAME.expect` says (`{}` is the file) and must
//! exit 2 with exactly the rest of that file on stderr and nothing on
//! stdout. `CONTEND_WRITE_FIXTURES=1` rewrites the expectations from the
//! current messages (review the diff before committing it).

use std::path::Path;

use crate::util::{contend, repo_path};

const CORPUS: &str = "fixtures/bad";

#[test]
fn every_bad_input_exits_2_with_its_message() {
    let dir = repo_path(CORPUS);
    let mut checked = 0;
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("corpus directory")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .into_string()
                .expect("UTF-8 name")
        })
        .filter(|name| !name.ends_with(".expect") && name != "README.md")
        .collect();
    names.sort();
    for name in names {
        let input = format!("{CORPUS}/{name}");
        let expect_path = dir.join(format!("{name}.expect"));
        let expectation = std::fs::read_to_string(&expect_path)
            .unwrap_or_else(|_| format!("report {{}}\n(no {name}.expect yet)\n"));
        let (args_line, expected) = expectation.split_once('\n').expect("args line");
        let args: Vec<String> = args_line
            .split_whitespace()
            .map(|arg| arg.replace("{}", &input))
            .collect();
        let output = contend().args(&args).output().expect("contend runs");
        let stderr = String::from_utf8(output.stderr).expect("UTF-8 stderr");
        if std::env::var_os("CONTEND_WRITE_FIXTURES").is_some() {
            std::fs::write(&expect_path, format!("{args_line}\n{stderr}")).expect("written");
            continue;
        }
        assert_eq!(output.status.code(), Some(2), "{name}: {stderr}");
        assert!(output.stdout.is_empty(), "{name}: printed something");
        assert_eq!(stderr, expected, "{name}");
        checked += 1;
    }
    assert!(
        checked >= 20 || std::env::var_os("CONTEND_WRITE_FIXTURES").is_some(),
        "the corpus has {checked} cases"
    );
}

#[test]
fn every_expectation_has_its_input() {
    for entry in std::fs::read_dir(repo_path(CORPUS)).expect("corpus directory") {
        let name = entry
            .expect("entry")
            .file_name()
            .into_string()
            .expect("UTF-8");
        if let Some(input) = name.strip_suffix(".expect") {
            assert!(
                Path::new(&repo_path(CORPUS)).join(input).exists(),
                "{name} has no input"
            );
        }
    }
}

/// The message of an expectation without its place (`contend: FILE:LINE:`
/// or `contend: LABEL:`), up to the first quoted text or number, which
/// docs/errors.md writes as placeholders.
fn documented_part(message: &str) -> String {
    let message = message.strip_prefix("contend: ").unwrap_or(message);
    let after_place = match message.split_once(": ") {
        Some((place, rest)) if !place.contains(' ') => rest,
        _ => message,
    };
    // A count that opens the message (`3 threads x ...`) is a placeholder too.
    let after_place = after_place.trim_start_matches(|c: char| c.is_ascii_digit() || c == ' ');
    let lead: String = after_place
        .chars()
        .take_while(|c| *c != '"' && !c.is_ascii_digit())
        .collect();
    let lead = lead.trim();
    if lead.chars().count() >= 8 {
        lead.to_string()
    } else {
        after_place.chars().take(25).collect()
    }
}

#[test]
fn every_corpus_message_is_in_the_errors_page() {
    let page = crate::util::read("docs/errors.md");
    let dir = repo_path(CORPUS);
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).expect("corpus directory") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|ext| ext != "expect") {
            continue;
        }
        let expectation = std::fs::read_to_string(&path).expect("expectation");
        let message = expectation.lines().nth(1).expect("a message line");
        let part = documented_part(message);
        assert!(
            page.contains(&part),
            "{}: docs/errors.md does not have \"{part}\"",
            path.display()
        );
        checked += 1;
    }
    assert!(checked >= 30, "{checked} expectations");
}
