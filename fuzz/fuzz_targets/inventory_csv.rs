//! `parse_csv` on arbitrary bytes: it must never panic, and every row it
//! accepts must be a valid vendor listed once.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(parsed) = mamori_formats::parse_csv(data) {
        let mut keys = std::collections::HashSet::new();
        let mut previous_row = 0;
        for row in &parsed.rows {
            assert!(
                row.vendor.validate().is_empty(),
                "accepted an invalid vendor"
            );
            assert!(
                keys.insert(row.vendor.matching_key()),
                "accepted a duplicate"
            );
            assert!(row.row > previous_row, "row numbers must increase");
            previous_row = row.row;
        }
    }
});
