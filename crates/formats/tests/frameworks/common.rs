//! Locating the shared reference data, which CI lays beside the repository.

use std::path::PathBuf;

/// `<repo>/../shared/data/<rel>`, or `None` (with a note on stderr) when the
/// data is not there, so the tests that need it skip instead of failing.
pub fn shared_data(rel: &str) -> Option<Vec<u8>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(rel);
    match std::fs::read(&path) {
        Ok(bytes) => Some(bytes),
        Err(err) => {
            eprintln!(
                "SKIPPED: reference file {} is not available ({err}); \
                 this test needs the shared data beside the repository",
                path.display()
            );
            None
        }
    }
}
