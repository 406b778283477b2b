//! `TemplateFile::parse` on arbitrary UTF-8: it must never panic, and every
//! template of an accepted file (one per depth) must pass `validate`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mamori_domain::questionnaire::TemplateFile;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(file) = TemplateFile::parse(text) {
        for template in file.templates() {
            assert!(
                template.validate().is_ok(),
                "accepted file yields an invalid template"
            );
        }
    }
});
