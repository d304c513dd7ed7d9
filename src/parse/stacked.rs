//! Rows whose call stack follows them, a frame a line (perf lock `-v`,
//! klockstat `-s`): a sink between the parser and the real one holds each
//! row until its stack is read, then passes it on with the stack folded.

use super::SinkError;
use super::{Row, RowWaits, Sink, State};
use crate::holders::HolderShare;

/// A row held back, its text owned.
#[derive(Debug)]
struct Held {
    line: u64,
    dur_ns: u64,
    count: u64,
    max_ns: u64,
    keys: [String; 4],
    waits: RowWaits<'static>,
}

/// The sink that gives each row the frames printed under it.
pub struct StackedRows<'s> {
    sink: &'s mut dyn Sink,
    held: Option<Held>,
    /// The held row's frames, innermost first, as printed.
    frames: Vec<String>,
    /// Frames read now are the held row's: no other line came between.
    in_stack: bool,
}

impl<'s> StackedRows<'s> {
    /// Rows go to `sink`, each once its stack is read.
    pub fn new(sink: &'s mut dyn Sink) -> Self {
        StackedRows {
            sink,
            held: None,
            frames: Vec::new(),
            in_stack: false,
        }
    }

    /// Passes the held row on, with its stack folded outermost first.
    pub fn flush(&mut self) -> Result<(), SinkError> {
        let Some(held) = self.held.take() else {
            return Ok(());
        };
        let stack = fold(&self.frames);
        self.frames.clear();
        let [category, symbol, caller, holder] = &held.keys;
        self.sink.row(&Row {
            line: held.line,
            dur_ns: held.dur_ns,
            count: held.count,
            max_ns: held.max_ns,
            category,
            symbol,
            caller,
            key_text: "",
            key_layout: 0,
            waits: held.waits,
            stack: &stack,
            holder,
        })
    }
}

/// Frames printed innermost first as a folded stack: outermost first,
/// joined by `;` (a `;` in a frame becomes `:`).
pub fn fold(frames: &[String]) -> String {
    let mut folded = String::new();
    for frame in frames.iter().rev() {
        if !folded.is_empty() {
            folded.push(';');
        }
        folded.extend(frame.chars().map(|c| if c == ';' { ':' } else { c }));
    }
    folded
}

impl Sink for StackedRows<'_> {
    fn sample(&mut self, states: Vec<State>) -> Result<(), crate::parse::SinkError> {
        self.flush()?;
        self.sink.sample(states)
    }

    fn row(&mut self, row: &Row<'_>) -> Result<(), crate::parse::SinkError> {
        self.flush()?;
        let waits = match row.waits {
            // Only captures read single waits; pasted tables never do.
            RowWaits::Each(_) => return self.sink.row(row),
            RowWaits::Unknown => RowWaits::Unknown,
            RowWaits::Counted => RowWaits::Counted,
            RowWaits::Untimed => RowWaits::Untimed,
            RowWaits::One => RowWaits::One,
        };
        self.in_stack = true;
        self.held = Some(Held {
            line: row.line,
            dur_ns: row.dur_ns,
            count: row.count,
            max_ns: row.max_ns,
            keys: [row.category, row.symbol, row.caller, row.holder].map(str::to_string),
            waits,
        });
        Ok(())
    }

    fn holder(&mut self, share: HolderShare) -> Result<(), crate::parse::SinkError> {
        self.flush()?;
        self.sink.holder(share)
    }

    /// A frame of the held row's stack (innermost first); ignored once
    /// another line came after the row's stack (the stack of a row set
    /// apart, a lock owner's).
    fn frame(&mut self, frame: Option<&str>) {
        match frame {
            Some(frame) if self.in_stack && self.held.is_some() && !frame.is_empty() => {
                self.frames.push(frame.to_string());
            }
            Some(_) => {}
            None => self.in_stack = false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::testing::Collect;

    /// Folds stacks as the facts do, to see them.
    #[derive(Default)]
    struct Stacks(Vec<(String, String)>);

    impl Sink for Stacks {
        fn sample(&mut self, _states: Vec<State>) -> Result<(), crate::parse::SinkError> {
            Ok(())
        }
        fn row(&mut self, row: &Row<'_>) -> Result<(), crate::parse::SinkError> {
            self.0.push((row.caller.to_string(), row.stack.to_string()));
            Ok(())
        }
    }

    #[test]
    fn each_row_gets_the_frames_under_it() {
        let mut seen = Stacks::default();
        let mut stacked = StackedRows::new(&mut seen);
        let mut row = Row::new(1);
        row.caller = "do_exit";
        stacked.row(&row).unwrap();
        for frame in ["_raw_spin_lock", "do_exit", "do_group_exit"] {
            stacked.frame(Some(frame));
        }
        // A row set apart, then its stack: not the held row's.
        stacked.frame(None);
        stacked.frame(Some("set_apart_frame"));
        let mut next = Row::new(5);
        next.caller = "f";
        stacked.row(&next).unwrap();
        stacked.flush().unwrap();
        assert_eq!(
            seen.0,
            [
                (
                    "do_exit".to_string(),
                    "do_group_exit;do_exit;_raw_spin_lock".to_string()
                ),
                ("f".to_string(), String::new()),
            ]
        );
        // Frames with no row held (a lock owner's stack) go nowhere.
        let mut collect = Collect::default();
        let mut stacked = StackedRows::new(&mut collect);
        stacked.frame(Some("owner_frame"));
        stacked.flush().unwrap();
        assert!(collect.samples.is_empty());
    }
}
