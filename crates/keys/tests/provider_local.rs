//! The conformance suite on the local key file.

mod common;

use mamori_keys::local::LocalKeyProvider;

#[test]
fn local_key_file_passes_the_provider_suite() {
    let dir = tempfile::tempdir().expect("temp dir");
    let p = LocalKeyProvider::create(
        &dir.path().join("keys.json"),
        b"correct horse battery staple",
    )
    .expect("key file");
    common::conformance(
        &p,
        common::Abilities {
            visible_versions: true,
            enforces_destroy: true,
        },
    );
}
