//! Fuzzes the whole `report` path on arbitrary bytes: detection, the
//! detected format's parser, the engine and every renderer.
#![no_main]

mod common;

use contend::engine::{self, AnalysisOptions};
use contend::parse::detect;
use contend::report::{self, ReportFormat, Style};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(format) = detect::detect(data, true) else {
        return;
    };
    let Some(facts) = common::parse_both_ways(data, format) else {
        return;
    };
    let options = AnalysisOptions {
        by: common::FUZZ_BY.to_vec(),
        ..AnalysisOptions::default()
    };
    let Ok(analysis) = engine::analyze(&[facts], &options) else {
        return;
    };
    for format in [ReportFormat::Table, ReportFormat::Json, ReportFormat::Csv, ReportFormat::Markdown] {
        let style = Style {
            width: Some(80),
            ..Style::default()
        };
        let _ = report::render(&analysis, format, &style);
    }
});
