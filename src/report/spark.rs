//! The spin share per sample as one line of marks, for inputs with more
//! samples than a table should show (a btrace script printing every
//! second for an hour, a capture cut into thousands of windows).

use crate::engine::Analysis;

/// Above this many samples the terminal shows sparklines instead of a row
/// per sample (`--samples all` shows the rows).
pub const SAMPLES_IN_TABLE: usize = 20;

const UNICODE_LEVELS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
const ASCII_LEVELS: [char; 8] = ['_', '.', ':', '-', '=', '+', '*', '#'];

/// One line per input: its label, how many samples each mark stands for,
/// then the marks, from 0 % (lowest) to 100 % (highest) spin share of
/// Running, a blank where a sample has no Running time. At most `width`
/// marks a line; more samples are averaged into each mark.
pub fn spin_sparklines(analysis: &Analysis, width: usize, ascii: bool) -> String {
    let levels = if ascii { ASCII_LEVELS } else { UNICODE_LEVELS };
    let mut out = String::new();
    for (index, input) in analysis.inputs.iter().enumerate() {
        let samples: Vec<Option<f64>> = analysis
            .samples
            .of_input(index)
            .map(|sample| sample.metrics.spin_share)
            .collect();
        let per_mark = samples.len().div_ceil(width.max(1)).max(1);
        let marks: String = samples
            .chunks(per_mark)
            .map(|chunk| mark(chunk, &levels))
            .collect();
        let each = if per_mark == 1 {
            "each mark a sample".to_string()
        } else {
            format!("each mark the mean of {per_mark} samples")
        };
        out.push_str(&format!(
            "{}: spin share of Running in {} samples, {} ({} 0 % .. {} 100 %):\n{}\n",
            input.label,
            samples.len(),
            each,
            levels[0],
            levels[7],
            marks
        ));
    }
    out
}

/// The mark of one share, 0 % lowest and 100 % highest; a blank when
/// unknown.
pub fn share_mark(share: Option<f64>, ascii: bool) -> char {
    mark(
        &[share],
        if ascii {
            &ASCII_LEVELS
        } else {
            &UNICODE_LEVELS
        },
    )
}

/// The mark of the mean spin share of some samples; a blank when none has
/// one.
fn mark(samples: &[Option<f64>], levels: &[char; 8]) -> char {
    let shares: Vec<f64> = samples.iter().flatten().copied().collect();
    if shares.is_empty() {
        return ' ';
    }
    let mean = shares.iter().sum::<f64>() / shares.len() as f64;
    let level = (mean.clamp(0.0, 1.0) * 7.0).round() as usize;
    levels[level]
}
