//! Renderers: the [`Analysis`] in, text out. They format; they never
//! compute. Each returns the whole output as a string, so a failure never
//! leaves half a report behind and every format is testable without I/O.

pub mod boxes;
pub mod cells;
pub mod csv;
pub mod diff;
pub mod flame;
pub mod fleet;
pub mod histogram;
pub mod holders;
pub mod human;
pub mod live;
pub mod over_time;
pub mod plot;
pub mod spark;
pub mod text;
pub mod verdict;

use crate::error::Result;

use crate::engine::Analysis;
use crate::export::writer::CsvOptions;

/// The output formats of `report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReportFormat {
    /// Verdict and tables for the terminal.
    #[default]
    Table,
    /// The ranking as CSV.
    Csv,
    /// Everything, as the JSON contract of docs/report.md.
    Json,
    /// Verdict and tables as Markdown, for a mail or a README.
    Markdown,
}

/// How the terminal report looks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Style {
    /// Use ANSI colour and bold.
    pub color: bool,
    /// Fit the tables to this many columns (None: as wide as they need).
    pub width: Option<u16>,
    /// ASCII only: table borders and bars without box-drawing characters.
    pub ascii: bool,
    /// A row per sample however many (`--samples all`); otherwise more
    /// than [`spark::SAMPLES_IN_TABLE`] samples are a sparkline.
    pub all_samples: bool,
    /// How `--format csv` looks (`--delimiter`, ...).
    pub csv: CsvOptions,
}

/// Renders the analysis in the given format.
pub fn render(analysis: &Analysis, format: ReportFormat, style: &Style) -> Result<String> {
    match format {
        ReportFormat::Table => Ok(text::terminal(analysis, style)),
        ReportFormat::Markdown => Ok(text::markdown(analysis)),
        ReportFormat::Csv => csv::groups(analysis, style.csv),
        ReportFormat::Json => json(analysis),
    }
}

/// The JSON contract: `inputs`, `samples`, `total`, `groups`.
fn json(analysis: &Analysis) -> Result<String> {
    let mut text = serde_json::to_string_pretty(analysis)?;
    text.push('\n');
    Ok(text)
}
