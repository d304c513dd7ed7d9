//! "Who held it": under the ranking, for each input whose capture records
//! holders, the most waited-on locks and the threads that held them while
//! the input's thread waited, with what they were doing; and the clause
//! the verdict gains for the top spin lock.

use super::human::{duration, percent};
use crate::engine::{Analysis, InputSummary, LockClass};
use crate::holders::{HolderSummary, lock_wait_of};
use crate::parse::fxt::holders::MAX_HOLDERS_AT_ONCE;
use crate::printable::printable;

/// Locks shown per input.
const LOCKS_SHOWN: usize = 3;
/// Holders shown per lock.
const HOLDERS_SHOWN: usize = 4;
/// Doings shown per holder.
const DOINGS_SHOWN: usize = 3;

/// The section, or None when no input records holders.
pub fn section(analysis: &Analysis) -> Option<String> {
    let inputs: Vec<&InputSummary> = analysis
        .inputs
        .iter()
        .filter(|input| input.holders.is_some())
        .collect();
    if inputs.is_empty() {
        return None;
    }
    let mut out = String::from(
        "Who held it: each lock wait split over the threads holding the lock meanwhile\n",
    );
    // Locks in the ranking's order (spin locks by share of Running first),
    // then any the ranking cut.
    let ranked: Vec<(&str, &str)> = analysis
        .groups
        .iter()
        .filter_map(|g| Some((g.keys.category.as_deref()?, g.keys.symbol.as_deref()?)))
        .collect();
    for input in inputs {
        out.push_str(&input_lines(input, &ranked));
    }
    Some(out)
}

fn input_lines(input: &InputSummary, ranked: &[(&str, &str)]) -> String {
    let summaries = input.holders.as_deref().unwrap_or_default();
    let unknown_types = input.holders_unknown_for.as_deref().unwrap_or_default();
    let mut out = format!("{}:\n", printable(&input.label));
    let mut locks: Vec<(&str, &str)> = Vec::new();
    // Locks of a type whose releases are not recorded have no holders to
    // list: the line at the end says so once.
    let listed = summaries
        .iter()
        .filter(|s| !unknown_types.contains(&s.category));
    // A lock's summaries come one after the other (summarize sorts them
    // by lock).
    for summary in listed {
        let lock = (summary.category.as_str(), summary.symbol.as_str());
        if locks.last() != Some(&lock) {
            locks.push(lock);
        }
    }
    let rank = |lock: &(&str, &str)| ranked.iter().position(|r| r == lock).unwrap_or(usize::MAX);
    // Stable: locks the ranking does not show keep their order by wait.
    locks.sort_by_key(rank);
    for &(category, symbol) in locks.iter().take(LOCKS_SHOWN) {
        let holders: Vec<&HolderSummary> = summaries
            .iter()
            .filter(|s| s.category == category && s.symbol == symbol)
            .collect();
        let total = lock_wait_of(summaries, category, symbol);
        out.push_str(&format!(
            "  {}, {} waited:\n",
            lock_name(category, symbol),
            duration(total)
        ));
        for holder in holders.iter().take(HOLDERS_SHOWN) {
            out.push_str(&holder_line(holder, total));
        }
        if holders.len() > HOLDERS_SHOWN {
            let more = holders.len() - HOLDERS_SHOWN;
            out.push_str(&format!(
                "    ... and {more} more {} (--format json lists all)\n",
                if more == 1 { "holder" } else { "holders" }
            ));
        }
    }
    if locks.len() > LOCKS_SHOWN {
        let more = locks.len() - LOCKS_SHOWN;
        out.push_str(&format!(
            "  ... and {more} more {} (--format json lists all)\n",
            if more == 1 { "lock" } else { "locks" }
        ));
    }
    if !unknown_types.is_empty() {
        out.push_str(&format!(
            "  holders not known for {} locks: the capture records no releases of them, \
             so who held them would be a guess\n",
            printable(&unknown_types.join(", "))
        ));
    }
    if let Some(crowded) = input.holders_crowded.as_ref().filter(|c| !c.is_empty()) {
        out.push_str(&format!(
            "  holders of {} not told apart while more than {MAX_HOLDERS_AT_ONCE} threads held \
             it at once: counted as unknown\n",
            printable(&crowded.join(", "))
        ));
    }
    if unknown_types.is_empty() && locks.is_empty() {
        out.push_str("  no lock waits to split\n");
    }
    out
}

/// `kernel_lock (kernel)`; an owner table names no lock: `every lock`.
fn lock_name(category: &str, symbol: &str) -> String {
    match (category, symbol) {
        ("", "") => "every lock of the table".to_string(),
        (category, "") => format!("{} locks", printable(category)),
        ("", symbol) => printable(symbol).into_owned(),
        (category, symbol) => format!("{} ({})", printable(symbol), printable(category)),
    }
}

/// `    71.0 %  cc (tid 100040, pid 40), took it in sys_read: running in
/// syscall read 40.0 %, waiting on bufq held by softnet (tid 20) 26.7 %`.
fn holder_line(holder: &HolderSummary, lock_total: u64) -> String {
    let share = |ns: u64| percent((lock_total > 0).then(|| ns as f64 / lock_total as f64));
    let stacks = holder.doings.iter().any(|d| !d.stack.is_empty());
    let who = match &holder.holder {
        Some(thread) => printable(&thread.describe()).into_owned(),
        // perf lock -o -v: the owners' stacks, not who they were.
        None if stacks => "owners not named".to_string(),
        None => "unknown (no holder recorded)".to_string(),
    };
    let taken = if holder.taken_in.is_empty() {
        String::new()
    } else {
        format!(", took it in {}", printable(&holder.taken_in))
    };
    let partial = if holder.partial {
        " (some holds began before the capture or outlived it)"
    } else {
        ""
    };
    let mut doings: Vec<String> = holder
        .doings
        .iter()
        .filter(|d| {
            (holder.holder.is_some() && d.holding_state != "unknown") || !d.stack.is_empty()
        })
        .take(DOINGS_SHOWN)
        .map(|d| format!("{} {}", printable(&d.doing), share(d.wait_ns)))
        .collect();
    if !doings.is_empty() && holder.doings.len() > DOINGS_SHOWN {
        doings.push(format!("{} more", holder.doings.len() - DOINGS_SHOWN));
    }
    let doings = if doings.is_empty() {
        String::new()
    } else {
        format!(": {}", doings.join(", "))
    };
    let holds = holder.holds.as_ref().map_or(String::new(), |holds| {
        let median = holds
            .p50_ns
            .map_or(String::new(), |p50| format!(", p50 {}", duration(p50)));
        format!(
            "; its holds: {} in all, {}{median}, max {}",
            holds.count,
            duration(holds.total_ns),
            duration(holds.max_ns)
        )
    });
    format!(
        "    {:>7}  {who}{taken}{doings}{partial}{holds}\n",
        share(holder.wait_ns)
    )
}

/// The verdict's clause on the top spin lock's top holder, when known:
/// `; kernel_lock held by cc (tid 100040, pid 40) for 71.0 % of the wait,
/// running in syscall read`.
pub fn verdict_clause(input: &InputSummary, class_of: fn(&str) -> LockClass) -> Option<String> {
    let summaries = input.holders.as_deref()?;
    // Summaries come by lock, largest lock first.
    let top_spin = summaries
        .iter()
        .find(|s| class_of(&s.category) == LockClass::Spin)?;
    let total = lock_wait_of(summaries, &top_spin.category, &top_spin.symbol);
    let holder = top_spin.holder.as_ref()?;
    let share = percent((total > 0).then(|| top_spin.wait_ns as f64 / total as f64));
    let off_cpu = if top_spin.holding_state == "off_cpu" {
        " (off-CPU while holding a spin lock)"
    } else {
        ""
    };
    Some(format!(
        "; {} held by {} for {share} of the wait, {}{off_cpu}",
        printable(&top_spin.symbol),
        printable(&holder.describe()),
        printable(&top_spin.doing),
    ))
}
