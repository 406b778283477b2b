//! Every log format's detection and parser on arbitrary text: never
//! panics, and every event names a host.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mamori_discovery::formats::{detect, FormatKind, Mapping, Parser};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let lines: Vec<&str> = text.split('\n').collect();
    let _ = detect(&lines);
    // The first line doubles as a column mapping for the generic formats.
    let mapping = Mapping::parse(lines.first().copied().unwrap_or_default()).unwrap_or_default();
    for &kind in FormatKind::ALL {
        let mut parser = Parser::with_mapping(kind, mapping.clone());
        for line in &lines {
            if let Ok(Some(event)) = parser.parse(line) {
                assert!(
                    !event.host.trim().is_empty(),
                    "{}: empty host from {line:?}",
                    kind.name()
                );
            }
        }
    }
});
