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
