//! A CSV values file (any bytes) read as `keel import values.csv` reads it. Whatever the input:
//! no panic; the strict and the lenient reader agree; every number that passes is canonical; and
//! every problem is reported briefly (no 10 MB cell repeated) and harmlessly (no terminal
//! escape played back).

#![no_main]

use keel::domain::Num;
use keel::io::csv::{parse_values, read_values};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (rows, problems) = read_values(text);
    match parse_values(text) {
        Ok(r) => assert!(problems.is_empty() && r == rows, "the strict reader accepts what the lenient one faults"),
        Err(p) => assert!(!p.is_empty() && p == problems, "the readers disagree on the problems"),
    }
    for p in &problems {
        let shown = p.to_string();
        assert!(shown.len() <= 1_000, "a problem message of {} bytes", shown.len());
        assert!(!shown.contains('\u{1b}'), "a terminal escape in a problem message: {shown:?}");
    }
    for r in &rows {
        for (field, value) in &r.cells {
            if *field != "comment" {
                let n = Num::parse(value).expect("a checked number parses again");
                assert_eq!(&n.to_string(), value, "numbers are written canonically");
            }
        }
    }
});
