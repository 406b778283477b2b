//! `parse_xlsx` on arbitrary bytes: it must never panic, and every row it
//! accepts must be a valid vendor. Seed the corpus with real workbooks (for
//! example the template) so the fuzzer starts inside the ZIP/XML format.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(parsed) = mamori_formats::parse_xlsx(data) {
        for row in &parsed.rows {
            assert!(
                row.vendor.validate().is_empty(),
                "accepted an invalid vendor"
            );
        }
    }
});
