//! Every `console` example in the README and docs/ shows the real output of
//! its command (stdout, then stderr's notes), so the docs cannot drift.

use crate::util::{read, run};

/// The documents whose examples are checked: the README and every page
/// of docs/.
fn documents() -> Vec<String> {
    let pages = crate::util::files_in("docs")
        .into_iter()
        .filter(|name| name.ends_with(".md"))
        .map(|name| format!("docs/{name}"));
    std::iter::once("README.md".to_string())
        .chain(pages)
        .collect()
}

/// (command arguments, output shown) of each ```console block whose first
/// line is `$ contend ...` (which may end in `| head -N`).
fn console_examples(text: &str) -> Vec<(Vec<String>, String)> {
    let mut examples = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("```console\n$ contend ") {
        let block = &rest[start + "```console\n$ contend ".len()..];
        let end = block.find("```").expect("the block is closed");
        let (command, shown) = block[..end].split_once('\n').expect("output follows");
        let args = command.split_whitespace().map(String::from).collect();
        examples.push((args, shown.to_string()));
        rest = &block[end..];
    }
    examples
}

#[test]
fn examples_show_real_output() {
    let mut checked = 0;
    for document in documents() {
        let document = document.as_str();
        for (args, shown) in console_examples(&read(document)) {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            // `... | head -N`: the first N lines of stdout only.
            let (args, head) = match args.as_slice() {
                [command @ .., "|", "head", lines] => {
                    let lines = lines.trim_start_matches('-').parse().expect("head -N");
                    (command.to_vec(), Some(lines))
                }
                _ => (args, None),
            };
            let mut run = run(&args);
            if let Some(lines) = head {
                run.stdout = run.stdout.split_inclusive('\n').take(lines).collect();
                run.stderr.clear();
            }
            // A documented regression exits 1; anything else must succeed.
            let gate = args.contains(&"--fail-above");
            assert!(
                run.code == 0 || (gate && run.code == 1),
                "{document}: contend {args:?}: {}",
                run.stderr
            );
            assert_eq!(
                shown,
                format!("{}{}", run.stdout, run.stderr),
                "{document}: contend {}",
                args.join(" ")
            );
            checked += 1;
        }
    }
    // The seed report and the diff in the README, the diff and its
    // one-line summary in docs/diff.md, the filters, the wait
    // distributions, the three holders examples (the last ranks by
    // holder) and the followed trace in docs/report.md.
    assert_eq!(checked, 10);
}
