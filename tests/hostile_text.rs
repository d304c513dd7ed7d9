//! Hostile paths, round three (issue 35), the text side: what came from
//! an input (keys, labels, file names, quoted lines) never reaches a
//! terminal, a Markdown table or a spreadsheet as something that acts:
//! shown escaped where people read it, kept exact where scripts do.

use crate::util::{SEED, run, scratch_dir};

/// btrace maps whose keys hold a carriage return, an 8-bit CSI (U+009B),
/// a right-to-left override (U+202E), a zero width space (U+200B), a
/// Markdown cell end and an HTML tag.
const HOSTILE_KEYS: &str = "@wait[kernel, kernel_lock\rEVIL, reaper]: 1751151\n\
    @wait[mutex, a\u{9b}31m, z\u{200b}w]: 3000\n\
    @wait[mutex, sched\u{202e}4321, x|y<img src=1>]: 2000\n";

/// The characters that must never reach a reader as they are.
const RAW: [char; 4] = ['\r', '\u{9b}', '\u{202e}', '\u{200b}'];

fn hostile_file(test: &str, name: &str, text: &str) -> String {
    let path = scratch_dir(test).join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn keys_are_shown_escaped_in_every_human_output() {
    let path = hostile_file("text_keys", "hostile.bt", HOSTILE_KEYS);
    // The same keys with every wait doubled: diff lists them as rises.
    let doubled = HOSTILE_KEYS
        .replace(": 1751151", ": 3502302")
        .replace(": 3000", ": 6000")
        .replace(": 2000", ": 4000");
    let after = hostile_file("text_keys_after", "after.bt", &doubled);
    for args in [
        vec!["report", &path],
        vec!["report", "--ascii", &path],
        vec!["report", "--format", "markdown", &path],
        vec!["diff", &path, &after],
        vec!["diff", "--format", "markdown", &path, &after],
    ] {
        let run = run(&args);
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        for raw in RAW {
            assert!(
                !run.stdout.contains(raw),
                "{args:?}: {raw:?} in\n{}",
                run.stdout
            );
        }
        for shown in [
            "kernel_lock\\rEVIL",
            "a\\u{9b}31m",
            "sched\\u{202e}4321",
            "z\\u{200b}w",
        ] {
            assert!(
                run.stdout.contains(shown),
                "{args:?}: {shown} in\n{}",
                run.stdout
            );
        }
    }
    // Markdown: `|` would end the cell and the tag would be HTML.
    let markdown = run(&["report", "--format", "markdown", &path]);
    assert!(
        markdown.stdout.contains("| x\\|y&lt;img src=1> |"),
        "{}",
        markdown.stdout
    );
    // Every row of the Markdown table has the header's number of cells.
    let cells = |line: &str| line.replace("\\|", "").matches('|').count();
    let table: Vec<&str> = markdown
        .stdout
        .lines()
        .skip_while(|line| !line.starts_with("| # "))
        .take_while(|line| line.starts_with('|'))
        .collect();
    assert_eq!(table.len(), 5, "{}", markdown.stdout);
    assert!(table.iter().all(|line| cells(line) == cells(table[0])));
    // Machine outputs keep the exact text.
    let json = run(&["report", "--format", "json", &path]);
    let report: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let symbols: Vec<&str> = report["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["symbol"].as_str().unwrap())
        .collect();
    assert!(symbols.contains(&"kernel_lock\rEVIL"), "{symbols:?}");
    assert!(symbols.contains(&"sched\u{202e}4321"), "{symbols:?}");
}

#[test]
fn a_quoted_line_cannot_print_over_the_error() {
    // A btrace value holding a carriage return and a forged message: the
    // error quotes it, escaped, on one line.
    let path = hostile_file(
        "text_error",
        "forged.bt",
        "@wait[kernel, kernel_lock, reaper]: 5\n\
         @wait[kernel, kernel_lock, reaper]: 12\rcontend: all fine, exit 0\n",
    );
    let run = run(&["report", &path]);
    assert_eq!(run.code, 2);
    assert!(!run.stderr.contains('\r'), "{:?}", run.stderr);
    assert!(
        run.stderr.contains("12\\rcontend: all fine"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
}

#[test]
fn a_file_name_cannot_set_the_terminal_title() {
    // `ESC ] 0;pwned BEL` in a file name becomes the label: the verdict
    // line, the notes and the diff's title show it escaped.
    let dir = scratch_dir("text_file_name");
    let name = dir.join("evil\u{1b}]0;pwned\u{7}.txt");
    std::fs::copy(crate::util::repo_path(SEED), &name).unwrap();
    let name = name.to_str().unwrap();
    for args in [vec!["report", name], vec!["diff", name, SEED]] {
        let run = run(&args);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let all = format!("{}{}", run.stdout, run.stderr);
        assert!(
            !all.contains('\u{1b}') && !all.contains('\u{7}'),
            "{args:?}: {all:?}"
        );
        assert!(all.contains("evil\\u{1b}]0;pwned\\u{7}"), "{args:?}: {all}");
    }
    let diff = run(&["diff", "--label-before", "a\u{202e}b", SEED, SEED]);
    assert!(
        diff.stdout.starts_with("a\\u{202e}b (5 samples) ->"),
        "{}",
        diff.stdout
    );
}

#[test]
fn csv_for_spreadsheets_neutralises_formulas_unless_asked_for_raw_text() {
    let keys = "@wait[mutex, =HYPERLINK(\"http://x\"), @SUM(1+1)*cmd|' /C calc'!A0]: 1000\n\
        @wait[mutex, -2+3, +cmd]: 500\n\
        @wait[mutex, -, plain]: 250\n";
    let path = hostile_file("text_csv", "formulas.bt", keys);
    let export = run(&["export", "--what", "groups", &path]);
    assert_eq!(export.code, 0, "{}", export.stderr);
    let mut reader = csv::Reader::from_reader(export.stdout.as_bytes());
    let header = reader.headers().unwrap().clone();
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (symbol, caller) = (column("symbol"), column("caller"));
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let pairs: Vec<(String, String)> = records
        .iter()
        .map(|r| (r[symbol].to_string(), r[caller].to_string()))
        .collect();
    assert!(pairs.contains(&(
        "'=HYPERLINK(\"http://x\")".to_string(),
        "'@SUM(1+1)*cmd|' /C calc'!A0".to_string()
    )));
    assert!(pairs.contains(&("'-2+3".to_string(), "'+cmd".to_string())));
    // A lone `-` is no formula.
    assert!(
        pairs.contains(&("-".to_string(), "plain".to_string())),
        "{pairs:?}"
    );
    // The rows, report's CSV and diff's CSV alike.
    for args in [
        vec!["export", &path],
        vec!["report", "--format", "csv", &path],
        vec!["diff", "--format", "csv", &path, &path],
    ] {
        let run = run(&args);
        assert!(
            run.stdout.contains("'=HYPERLINK"),
            "{args:?}: {}",
            run.stdout
        );
        assert!(!run.stdout.contains(",=HYPERLINK"), "{args:?}");
    }
    // --raw-text, TSV and JSON keep the exact text.
    let raw = run(&["export", "--raw-text", &path]);
    assert!(
        raw.stdout.contains(",\"=HYPERLINK(\"\"http://x\"\")\","),
        "{}",
        raw.stdout
    );
    let tsv = run(&["export", "--format", "tsv", &path]);
    assert!(tsv.stdout.contains("\t\"=HYPERLINK("), "{}", tsv.stdout);
    assert!(!tsv.stdout.contains("'="), "{}", tsv.stdout);
}

#[test]
fn an_error_quoting_a_huge_name_is_one_short_line() {
    // Two rows of a 500 000-character lock name whose total overflows.
    let name = "L".repeat(500_000);
    let rows =
        format!("@wait[mutex, {name}, c]: 18446744073709551615\n@wait[mutex, {name}, c]: 1\n");
    let path = hostile_file("text_huge_name", "huge.bt", &rows);
    let run = run(&["report", "--input-format", "btrace", &path]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.len() < 400, "{} bytes", run.stderr.len());
    assert!(
        run.stderr.contains(&format!(
            "the total wait of mutex {}... c overflows 64-bit nanoseconds",
            "L".repeat(60)
        )),
        "{}",
        run.stderr
    );
}
