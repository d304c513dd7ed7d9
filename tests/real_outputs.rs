//! Outputs other people produced (fixtures/real: mails, manuals, tools'
//! examples), each read with the figures its producing tool meant. The
//! figures are in `NAME.expected`, written from the fixture's text by a
//! reader that never ran contend (fixtures/real/README.md).

use crate::util::{repo_path, run};

/// What a `.expected` file says.
#[derive(Debug, Default, PartialEq)]
struct Expected {
    refused: bool,
    samples: usize,
    /// Per sample: spin and sleep wait, ns.
    sample_waits: Vec<(u64, u64)>,
    /// class, category, symbol, caller, total, count, max.
    groups: Vec<(String, String, String, String, u64, u64, u64)>,
    hold_rows: u64,
    hold_ns: u64,
    profiling_rows: u64,
}

fn number(field: &str) -> u64 {
    field.parse().expect("a number in .expected")
}

fn parse_expected(text: &str) -> Expected {
    let mut expected = Expected::default();
    for line in text.lines().filter(|line| !line.starts_with('#')) {
        let fields: Vec<&str> = line.split('\t').collect();
        match fields[0] {
            "refused" => expected.refused = true,
            "samples" => expected.samples = number(fields[1]) as usize,
            "sample" => expected
                .sample_waits
                .push((number(fields[2]), number(fields[3]))),
            "group" => expected.groups.push((
                fields[1].to_string(),
                fields[2].to_string(),
                fields[3].to_string(),
                fields[4].to_string(),
                number(fields[5]),
                number(fields[6]),
                number(fields[7]),
            )),
            "set_apart" => {
                expected.hold_rows = number(fields[2]);
                expected.hold_ns = number(fields[3]);
            }
            "skipped" => expected.profiling_rows = number(fields[2]),
            other => panic!("unknown .expected line kind {other:?}"),
        }
    }
    expected
}

/// The same figures, as contend's JSON report gives them.
fn read_by_contend(fixture: &str) -> Expected {
    let run = run(&["report", "--format", "json", "--top", "0", fixture]);
    if run.code == 2 {
        assert!(run.stdout.is_empty(), "{fixture}: refused, yet wrote");
        assert!(run.stderr.starts_with("contend: "), "{}", run.stderr);
        return Expected {
            refused: true,
            ..Expected::default()
        };
    }
    assert_eq!(run.code, 0, "{fixture}: {}", run.stderr);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    let input = &json["inputs"][0];
    let text = |value: &serde_json::Value| value.as_str().expect("a string").to_string();
    let int = |value: &serde_json::Value| value.as_u64().expect("an integer");
    let mut groups: Vec<_> = json["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .map(|group| {
            (
                text(&group["class"]),
                text(&group["category"]),
                text(&group["symbol"]),
                text(&group["caller"]),
                int(&group["total_ns"]),
                int(&group["rows"]),
                int(&group["max_ns"]),
            )
        })
        .collect();
    sort_groups(&mut groups);
    Expected {
        refused: false,
        samples: int(&input["samples"]) as usize,
        sample_waits: json["samples"]
            .as_array()
            .expect("samples")
            .iter()
            .map(|sample| (int(&sample["spin_ns"]), int(&sample["sleep_wait_ns"])))
            .collect(),
        groups,
        hold_rows: int(&input["hold_rows"]),
        hold_ns: int(&input["hold_ns"]),
        profiling_rows: int(&input["profiling_rows"]),
    }
}

type GroupRow = (String, String, String, String, u64, u64, u64);

/// By total, largest first, then by keys: the order `.expected` lists.
fn sort_groups(groups: &mut [GroupRow]) {
    groups.sort_by(|a, b| {
        b.4.cmp(&a.4)
            .then_with(|| (&a.1, &a.2, &a.3).cmp(&(&b.1, &b.2, &b.3)))
    });
}

/// Every fixture of fixtures/real, by name.
fn fixtures() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(repo_path("fixtures/real"))
        .expect("fixtures/real")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .into_string()
                .expect("name")
        })
        .filter(|name| !name.ends_with(".SOURCE") && !name.ends_with(".expected"))
        .filter(|name| name != "README.md")
        .collect();
    names.sort();
    names
}

#[test]
fn every_real_output_gives_the_figures_its_tool_meant() {
    let names = fixtures();
    assert!(names.len() >= 40, "{} real outputs", names.len());
    let mut wrong = Vec::new();
    for name in &names {
        let path = format!("fixtures/real/{name}");
        let expected_text = std::fs::read_to_string(repo_path(&format!("{path}.expected")))
            .unwrap_or_else(|_| panic!("{name} has no .expected"));
        let mut expected = parse_expected(&expected_text);
        sort_groups(&mut expected.groups);
        let got = read_by_contend(&path);
        if got != expected {
            wrong.push(format!(
                "{name}:\n  expected {expected:?}\n  got      {got:?}"
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {}:\n{}",
        wrong.len(),
        names.len(),
        wrong.join("\n")
    );
}
