//! Evidence files encrypted under the customer's key: nothing readable on
//! disk, nothing readable after the key is destroyed.

use std::sync::Arc;

use mamori_keys::local::LocalKeyProvider;
use mamori_store::blob::{BlobError, BlobStore, FsBlobStore, SealedBlobStore};

const DOC: &[u8] = b"%PDF-1.4 penetration test summary: 3 critical findings in the PACS gateway";

fn files_contain(dir: &std::path::Path, needle: &[u8]) -> bool {
    std::fs::read_dir(dir).unwrap().any(|entry| {
        let path = entry.unwrap().path();
        path.is_file()
            && std::fs::read(&path)
                .unwrap()
                .windows(needle.len())
                .any(|w| w == needle)
    })
}

#[test]
fn evidence_is_stored_sealed_and_opens_only_with_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let files = dir.path().join("evidence");
    let keys = tempfile::tempdir().unwrap();
    let mut provider =
        LocalKeyProvider::create(&keys.path().join("keys.json"), b"a long enough passphrase")
            .unwrap();
    let fs: Arc<dyn BlobStore> = Arc::new(FsBlobStore::open(&files).unwrap());
    let sealed = SealedBlobStore::new(fs.clone(), Arc::new(provider_clone(&keys)), "org-1");
    sealed.put("report-1", DOC).unwrap();
    assert_eq!(sealed.get("report-1").unwrap(), DOC);
    // On disk: no plaintext.
    assert!(!files_contain(&files, b"penetration test summary"));
    // Copied to another name, it does not open.
    let raw = fs.get("report-1").unwrap();
    fs.put("report-2", &raw).unwrap();
    assert!(matches!(sealed.get("report-2"), Err(BlobError::Key { .. })));
    // Another tenant's view of the same files opens nothing.
    let other = SealedBlobStore::new(fs.clone(), Arc::new(provider_clone(&keys)), "org-2");
    assert!(other.get("report-1").is_err());
    // Shredding: destroy the KEK version after rotating.
    provider.rotate().unwrap();
    provider.destroy(1).unwrap();
    let after = SealedBlobStore::new(fs, Arc::new(provider), "org-1");
    assert!(matches!(after.get("report-1"), Err(BlobError::Key { .. })));
}

fn provider_clone(keys: &tempfile::TempDir) -> LocalKeyProvider {
    LocalKeyProvider::open(&keys.path().join("keys.json"), b"a long enough passphrase").unwrap()
}
