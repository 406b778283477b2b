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

use mamori_keys::{open, seal, KeyProvider, DEFAULT_KEK};

const PASSPHRASE: &[u8] = b"correct horse battery staple";

#[test]
fn two_processes_on_one_key_file_see_each_others_changes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("keys.json");
    let server = LocalKeyProvider::create(&path, PASSPHRASE).expect("key file");
    let cli = LocalKeyProvider::open(&path, PASSPHRASE).expect("second opener");
    // A vendor KEK created by one is used, not overwritten, by the other.
    let b = common::binding("e1");
    server.ensure_kek("mamori-vendor-a").expect("create");
    let sealed = seal(&server, "mamori-vendor-a", &b, common::DOC).expect("seal");
    assert_eq!(
        cli.ensure_kek("mamori-vendor-a").expect("ensure").version,
        1
    );
    assert_eq!(open(&cli, &b, &sealed).expect("open"), common::DOC);
    // A rotation by one is seen by the other.
    cli.rotate_kek(DEFAULT_KEK).expect("rotate");
    assert_eq!(server.current_version(DEFAULT_KEK).expect("current"), 2);
    // A KEK destroyed by the command line is gone for the server too, and
    // neither brings it back.
    cli.destroy_kek("mamori-vendor-a").expect("destroy");
    assert!(open(&server, &b, &sealed).is_err());
    assert!(server.ensure_kek("mamori-vendor-a").is_err());
    assert!(server.rotate_kek("mamori-vendor-a").is_err());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(
            mode & 0o077,
            0,
            "the key file is readable by its owner only"
        );
    }
}

#[test]
fn a_format_1_key_file_keeps_its_kek_under_one_name() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("keys.json");
    // Write a format-1 file: one KEK under a generated id.
    let p = LocalKeyProvider::create(&path, PASSPHRASE).expect("key file");
    let b = common::binding("old-1");
    let sealed = seal(&p, DEFAULT_KEK, &b, common::DOC).expect("seal");
    drop(p);
    let text = std::fs::read_to_string(&path).expect("read");
    let mut v: serde_json::Value = serde_json::from_str(&text).expect("json");
    let versions = v["keks"][DEFAULT_KEK]["versions"].clone();
    v["format"] = 1.into();
    v["kek_id"] = "local-0011223344556677".into();
    v["versions"] = versions;
    v["keks"] = serde_json::json!({});
    std::fs::write(&path, v.to_string()).expect("write");
    // An envelope written under the old id.
    let (mut header, body) = mamori_keys::envelope::Header::parse(&sealed).expect("header");
    header.kek.id = "local-0011223344556677".into();
    let mut old = header.encode().expect("encode");
    old.extend_from_slice(body);

    let p = LocalKeyProvider::open(&path, PASSPHRASE).expect("open format 1");
    assert_eq!(open(&p, &b, &old).expect("old envelope opens"), common::DOC);
    // The default KEK is a new key, not a copy of the old one.
    let names: Vec<String> = p
        .keks()
        .expect("keks")
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(names, vec!["local-0011223344556677".to_string()]);
    assert!(
        open(&p, &b, &sealed).is_err(),
        "no second name for the old key"
    );
    p.ensure_kek(DEFAULT_KEK).expect("default KEK");
    let fresh = seal(&p, DEFAULT_KEK, &b, common::DOC).expect("seal");
    assert_eq!(open(&p, &b, &fresh).expect("open"), common::DOC);
    // Destroying the old KEK shreds the old envelope.
    p.destroy_kek("local-0011223344556677").expect("destroy");
    assert!(open(&p, &b, &old).is_err());
}
