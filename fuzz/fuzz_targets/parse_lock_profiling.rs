//! Fuzzes the `LOCK_PROFILING` parser on arbitrary bytes.
#![no_main]

mod common;

use contend::parse::InputFormat;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    common::parse_both_ways(data, InputFormat::LockProfiling);
});
