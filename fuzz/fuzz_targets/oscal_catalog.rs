//! `parse_oscal_catalog` on arbitrary bytes (XML or JSON by first byte): it
//! must never panic or overflow the stack, and an accepted catalog must have
//! unique ids whose parents come earlier in the list. Seed the corpus with a
//! small XML and JSON catalog (see crates/formats/tests/frameworks) so the
//! fuzzer starts inside the format.
#![no_main]

use std::collections::HashSet;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(framework) = mamori_formats::parse_oscal_catalog("fuzz", data) {
        assert!(!framework.elements.is_empty(), "accepted an empty catalog");
        let mut seen = HashSet::new();
        for element in &framework.elements {
            if let Some(parent) = &element.parent {
                assert!(seen.contains(parent.as_str()), "parent listed after child");
            }
            assert!(seen.insert(element.id.as_str()), "duplicate id accepted");
        }
    }
});
