//! Evidence files encrypted under the customer's key: nothing readable on
//! disk, nothing readable after the key is destroyed.

use std::sync::Arc;

use mamori_keys::envelope::Header;
use mamori_keys::local::LocalKeyProvider;
use mamori_keys::{vendor_kek, KeyProvider, DEFAULT_KEK};
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
    let provider = Arc::new(
        LocalKeyProvider::create(&keys.path().join("keys.json"), b"a long enough passphrase")
            .unwrap(),
    );
    let fs: Arc<dyn BlobStore> = Arc::new(FsBlobStore::open(&files).unwrap());
    let sealed = SealedBlobStore::new(fs.clone(), provider.clone(), "org-1");
    sealed.put("report-1", DOC).unwrap();
    assert_eq!(sealed.get("report-1").unwrap(), DOC);
    // On disk: no plaintext.
    assert!(!files_contain(&files, b"penetration test summary"));
    // Copied to another name, it does not open.
    let raw = fs.get("report-1").unwrap();
    fs.put("report-2", &raw).unwrap();
    assert!(matches!(sealed.get("report-2"), Err(BlobError::Key { .. })));
    // Another tenant's view of the same files opens nothing.
    let other = SealedBlobStore::new(fs.clone(), provider.clone(), "org-2");
    assert!(other.get("report-1").is_err());
    // Shredding: destroy the KEK version after rotating.
    provider.rotate_kek(DEFAULT_KEK).unwrap();
    provider.destroy_version(DEFAULT_KEK, 1).unwrap();
    let reopened =
        LocalKeyProvider::open(&keys.path().join("keys.json"), b"a long enough passphrase")
            .unwrap();
    let after = SealedBlobStore::new(fs, Arc::new(reopened), "org-1");
    assert!(matches!(after.get("report-1"), Err(BlobError::Key { .. })));
}

#[test]
fn shredding_one_vendor_leaves_the_others_readable() {
    let dir = tempfile::tempdir().unwrap();
    let keys = tempfile::tempdir().unwrap();
    let key_file = keys.path().join("keys.json");
    let provider =
        Arc::new(LocalKeyProvider::create(&key_file, b"a long enough passphrase").unwrap());
    let fs: Arc<dyn BlobStore> = Arc::new(FsBlobStore::open(dir.path()).unwrap());
    let sealed =
        SealedBlobStore::new(fs.clone(), provider.clone(), "org-1").with_per_vendor_keys(true);
    sealed.put_for_vendor("a-1", "vendor-a", DOC).unwrap();
    sealed.put_for_vendor("b-1", "vendor-b", DOC).unwrap();
    sealed.put("shared-1", DOC).unwrap();
    let kek_of = |key: &str| Header::parse(&fs.get(key).unwrap()).unwrap().0.kek.id;
    assert_eq!(kek_of("a-1"), vendor_kek("vendor-a"));
    assert_eq!(kek_of("b-1"), vendor_kek("vendor-b"));
    assert_eq!(kek_of("shared-1"), DEFAULT_KEK);
    provider.destroy_kek(&vendor_kek("vendor-a")).unwrap();
    assert!(matches!(sealed.get("a-1"), Err(BlobError::Key { .. })));
    assert_eq!(sealed.get("b-1").unwrap(), DOC);
    assert_eq!(sealed.get("shared-1").unwrap(), DOC);
    // No key Mamori still holds opens it: not the reopened key file, not
    // the installation's KEK, and a new upload does not bring the KEK back.
    let reopened =
        Arc::new(LocalKeyProvider::open(&key_file, b"a long enough passphrase").unwrap());
    let after = SealedBlobStore::new(fs.clone(), reopened, "org-1").with_per_vendor_keys(true);
    assert!(after.get("a-1").is_err());
    assert!(after.put_for_vendor("a-2", "vendor-a", DOC).is_err());
    let raw = fs.get("a-1").unwrap();
    let (mut header, body) = Header::parse(&raw).unwrap();
    header.kek = mamori_keys::KekRef {
        id: DEFAULT_KEK.into(),
        version: 1,
    };
    let mut moved = header.encode().unwrap();
    moved.extend_from_slice(body);
    fs.put("a-1", &moved).unwrap();
    assert!(after.get("a-1").is_err());
}
