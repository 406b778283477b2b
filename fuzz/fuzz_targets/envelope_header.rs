//! `Header::parse` on arbitrary bytes: never panics, and a header it
//! accepts is written back byte for byte.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mamori_keys::envelope::Header;

fuzz_target!(|data: &[u8]| {
    if let Ok((header, rest)) = Header::parse(data) {
        let mut again = header.encode().expect("a parsed header encodes");
        again.extend_from_slice(rest);
        assert_eq!(again, data);
    }
});
