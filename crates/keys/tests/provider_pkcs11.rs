//! The conformance suite on a PKCS#11 token (SoftHSM2 in development and
//! CI), and what only an HSM shows: how its key objects are protected.
//!
//! Needs a token: `eval "$(scripts/test-services/softhsm.sh /tmp/hsm-test)"`
//! sets MAMORI_TEST_PKCS11_MODULE, _TOKEN and _PIN (and SOFTHSM2_CONF).
//! Without MAMORI_TEST_PKCS11_MODULE the HSM tests say so and pass.

mod common;

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::types::AuthPin;
use mamori_keys::pkcs11::{Pkcs11Config, Pkcs11KeyProvider};
use mamori_keys::{open, seal, KeyError, KeyProvider};
use zeroize::Zeroizing;

/// A PKCS#11 login holds for the whole process, so a test that checks a
/// wrong PIN must not overlap one that is logged in: the HSM tests take
/// turns.
static HSM: Mutex<()> = Mutex::new(());

fn turn() -> MutexGuard<'static, ()> {
    HSM.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn config() -> Option<Pkcs11Config> {
    let Some(module) = std::env::var_os("MAMORI_TEST_PKCS11_MODULE") else {
        println!(
            "skipped: MAMORI_TEST_PKCS11_MODULE is not set (scripts/test-services/softhsm.sh sets it up)"
        );
        return None;
    };
    let token_label =
        std::env::var("MAMORI_TEST_PKCS11_TOKEN").unwrap_or_else(|_| "mamori-test".into());
    let pin = std::env::var("MAMORI_TEST_PKCS11_PIN")
        .expect("MAMORI_TEST_PKCS11_PIN must be set with MAMORI_TEST_PKCS11_MODULE");
    Some(Pkcs11Config {
        module: PathBuf::from(module),
        token_label,
        pin: Zeroizing::new(pin),
    })
}

fn connect(config: &Pkcs11Config) -> Pkcs11KeyProvider {
    Pkcs11KeyProvider::connect(config.clone()).expect("connect to the PKCS#11 token")
}

/// A session of the test's own on the token, beside the provider's, to see
/// what the HSM holds without going through the provider.
fn inspector(config: &Pkcs11Config, read_write: bool) -> Session {
    let ctx = Pkcs11::new(&config.module).expect("load the module");
    match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(e) => panic!("initialise the module: {e}"),
    }
    let slot = ctx
        .get_slots_with_token()
        .expect("slots")
        .into_iter()
        .find(|s| {
            ctx.get_token_info(*s)
                .map(|i| i.label().trim_end() == config.token_label)
                .unwrap_or(false)
        })
        .expect("the test token");
    let session = if read_write {
        ctx.open_rw_session(slot)
    } else {
        ctx.open_ro_session(slot)
    }
    .expect("open a session");
    match session.login(UserType::User, Some(&AuthPin::from(config.pin.as_str()))) {
        Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {}
        Err(e) => panic!("log in: {e}"),
    }
    session
}

fn label_of(session: &Session, handle: ObjectHandle) -> String {
    session
        .get_attributes(handle, &[AttributeType::Label])
        .expect("label")
        .into_iter()
        .find_map(|a| match a {
            Attribute::Label(l) => Some(String::from_utf8_lossy(&l).into_owned()),
            _ => None,
        })
        .unwrap_or_default()
}

/// Every object on the token (public and private) with its label.
fn all_objects(session: &Session) -> Vec<(ObjectHandle, String)> {
    session
        .find_objects(&[])
        .expect("list objects")
        .into_iter()
        .map(|h| (h, label_of(session, h)))
        .collect()
}

#[test]
fn pkcs11_token_passes_the_provider_suite() {
    let Some(config) = config() else { return };
    let _turn = turn();
    let p = connect(&config);
    assert_eq!(p.name(), "pkcs11");
    common::conformance(
        &p,
        common::Abilities {
            visible_versions: true,
            enforces_destroy: true,
        },
    );
}

#[test]
fn a_wrong_pin_is_refused_without_showing_it() {
    let Some(config) = config() else { return };
    let _turn = turn();
    let wrong = format!("{}-not-it", config.pin.as_str());
    let err = Pkcs11KeyProvider::connect(Pkcs11Config {
        pin: Zeroizing::new(wrong.clone()),
        ..config.clone()
    })
    .expect_err("a wrong PIN was accepted");
    let text = err.to_string();
    println!("wrong PIN: {text}");
    assert!(matches!(err, KeyError::Config(_)), "{err:?}");
    assert!(text.contains("PIN"), "{text}");
    assert!(text.contains(&config.token_label), "{text}");
    assert!(
        text.contains(&config.module.display().to_string()),
        "{text}"
    );
    assert!(
        !text.contains(&wrong),
        "the wrong PIN is in the message: {text}"
    );
    assert!(
        !text.contains(config.pin.as_str()),
        "the PIN is in the message: {text}"
    );
    assert!(!format!("{err:?}").contains(&wrong));
    // The right PIN still works after a refusal.
    connect(&config);
}

#[test]
fn a_missing_token_or_module_is_named_in_the_error() {
    let Some(config) = config() else { return };
    let _turn = turn();
    let err = Pkcs11KeyProvider::connect(Pkcs11Config {
        token_label: "no-such-token".into(),
        ..config.clone()
    })
    .expect_err("a missing token was accepted");
    let text = err.to_string();
    println!("missing token: {text}");
    assert!(matches!(err, KeyError::Unavailable(_)), "{err:?}");
    assert!(text.contains("no-such-token"), "{text}");
    assert!(!text.contains(config.pin.as_str()), "{text}");

    let missing = config.module.with_file_name("libno-such-pkcs11-module.so");
    let err = Pkcs11KeyProvider::connect(Pkcs11Config {
        module: missing.clone(),
        ..config.clone()
    })
    .expect_err("a missing module was accepted");
    let text = err.to_string();
    println!("missing module: {text}");
    assert!(matches!(err, KeyError::Config(_)), "{err:?}");
    assert!(text.contains(&missing.display().to_string()), "{text}");
    assert!(!text.contains(config.pin.as_str()), "{text}");

    // A file that is not a PKCS#11 library.
    let err = Pkcs11KeyProvider::connect(Pkcs11Config {
        module: PathBuf::from("/etc/hostname"),
        ..config.clone()
    })
    .expect_err("a file that is not a module was accepted");
    println!("not a module: {err}");
    assert!(matches!(err, KeyError::Config(_)), "{err:?}");
    assert!(err.to_string().contains("/etc/hostname"), "{err}");
}

#[test]
fn kek_objects_are_sensitive_and_never_leave_the_hsm() {
    let Some(config) = config() else { return };
    let _turn = turn();
    let p = connect(&config);
    let kek = common::fresh_kek("attrs");
    p.ensure_kek(&kek).expect("create KEK");
    p.rotate_kek(&kek).expect("rotate KEK");

    let session = inspector(&config, false);
    for version in [1, 2] {
        let label = format!("{kek}#v{version}");
        let found = session
            .find_objects(&[Attribute::Label(label.clone().into_bytes())])
            .expect("find the KEK object");
        assert_eq!(found.len(), 1, "{label}: {} objects", found.len());
        let attrs = session
            .get_attributes(
                found[0],
                &[
                    AttributeType::Class,
                    AttributeType::KeyType,
                    AttributeType::ValueLen,
                    AttributeType::Token,
                    AttributeType::Private,
                    AttributeType::Sensitive,
                    AttributeType::Extractable,
                    AttributeType::AlwaysSensitive,
                    AttributeType::NeverExtractable,
                    AttributeType::Local,
                    AttributeType::Wrap,
                    AttributeType::Unwrap,
                    AttributeType::Encrypt,
                    AttributeType::Decrypt,
                    AttributeType::Id,
                ],
            )
            .expect("read the attributes back");
        let mut seen = 0;
        for attr in &attrs {
            seen += 1;
            match attr {
                Attribute::Class(c) => assert_eq!(*c, ObjectClass::SECRET_KEY),
                Attribute::KeyType(k) => assert_eq!(*k, KeyType::AES),
                Attribute::ValueLen(n) => assert_eq!(u64::from(*n), 32, "AES-256"),
                Attribute::Token(b) => assert!(*b, "{label}: not a token object"),
                Attribute::Private(b) => assert!(*b, "{label}: not private"),
                Attribute::Sensitive(b) => assert!(*b, "{label}: CKA_SENSITIVE is false"),
                Attribute::Extractable(b) => assert!(!*b, "{label}: CKA_EXTRACTABLE is true"),
                Attribute::AlwaysSensitive(b) => assert!(*b, "{label}: was not always sensitive"),
                Attribute::NeverExtractable(b) => {
                    assert!(*b, "{label}: was extractable at some time")
                }
                Attribute::Local(b) => assert!(*b, "{label}: not generated inside the HSM"),
                Attribute::Wrap(b) => assert!(*b, "{label}: cannot wrap"),
                Attribute::Unwrap(b) => assert!(*b, "{label}: cannot unwrap"),
                Attribute::Encrypt(b) => assert!(!*b, "{label}: may encrypt data"),
                Attribute::Decrypt(b) => assert!(!*b, "{label}: may decrypt data"),
                Attribute::Id(id) => assert_eq!(id.as_slice(), kek.as_bytes()),
                other => panic!("unexpected attribute {other:?}"),
            }
        }
        assert_eq!(seen, 15, "{label}: some attributes were not reported");

        // The value is not readable, and the key cannot be wrapped out.
        let value = session
            .get_attributes(found[0], &[AttributeType::Value])
            .expect("ask for the value");
        assert!(
            value.iter().all(|a| !matches!(a, Attribute::Value(_))),
            "{label}: the KEK's value was readable"
        );
    }

    // The provider reports the same.
    let objects = p.kek_objects(&kek).expect("KEK objects");
    assert_eq!(
        objects.iter().map(|o| o.version).collect::<Vec<_>>(),
        [1, 2]
    );
    for o in &objects {
        assert!(
            o.token && o.private && o.sensitive && !o.extractable,
            "{o:?}"
        );
        assert!(
            o.always_sensitive && o.never_extractable && o.local,
            "{o:?}"
        );
        assert!(o.wrap && o.unwrap && !o.encrypt && !o.decrypt, "{o:?}");
        assert_eq!(o.value_len, 32);
    }

    // Wrapping a KEK out with a key of our own is refused by the HSM.
    let rw = inspector(&config, true);
    let exporter = rw
        .generate_key(
            &Mechanism::AesKeyGen,
            &[
                Attribute::Class(ObjectClass::SECRET_KEY),
                Attribute::KeyType(KeyType::AES),
                Attribute::ValueLen(32u64.into()),
                Attribute::Token(false),
                Attribute::Wrap(true),
            ],
        )
        .expect("a session wrapping key");
    let kek_v1 = rw
        .find_objects(&[Attribute::Label(format!("{kek}#v1").into_bytes())])
        .expect("find v1")[0];
    let exported = rw.wrap_key(&Mechanism::AesKeyWrapPad, exporter, kek_v1);
    assert!(exported.is_err(), "the HSM let a KEK be wrapped out");
    println!("wrapping a KEK out: {}", exported.unwrap_err());
}

#[test]
fn destroying_a_kek_leaves_no_key_object_on_the_token() {
    let Some(config) = config() else { return };
    let _turn = turn();
    let kek = common::fresh_kek("shred");
    let other = common::fresh_kek("keep");
    let (sealed, kept) = {
        let p = connect(&config);
        p.ensure_kek(&kek).expect("create KEK");
        p.ensure_kek(&other).expect("create other KEK");
        let first = seal(&p, &kek, &common::binding("e1"), common::DOC).expect("seal");
        p.rotate_kek(&kek).expect("rotate");
        p.rotate_kek(&kek).expect("rotate again");
        assert_eq!(p.current_version(&kek).expect("current"), 3);
        let kept = seal(&p, &other, &common::binding("e2"), common::DOC).expect("seal other");

        let session = inspector(&config, false);
        let before: Vec<String> = all_objects(&session)
            .into_iter()
            .map(|(_, l)| l)
            .filter(|l| l.starts_with(&format!("{kek}#")))
            .collect();
        assert_eq!(before.len(), 3, "{before:?}");

        p.destroy_kek(&kek).expect("destroy");
        let after: Vec<(ObjectHandle, String)> = all_objects(&session)
            .into_iter()
            .filter(|(_, l)| l.starts_with(&format!("{kek}#")))
            .collect();
        let keys: Vec<&String> = after
            .iter()
            .filter(|(_, l)| l.starts_with(&format!("{kek}#v")))
            .map(|(_, l)| l)
            .collect();
        assert!(
            keys.is_empty(),
            "key objects remain after destroy_kek: {keys:?}"
        );
        // Only the marker that keeps the KEK from coming back, and it
        // holds no key.
        assert_eq!(after.len(), 1, "{after:?}");
        assert_eq!(after[0].1, format!("{kek}#destroyed"));
        let class = session
            .get_attributes(after[0].0, &[AttributeType::Class])
            .expect("class");
        assert!(matches!(class.as_slice(), [Attribute::Class(c)] if *c == ObjectClass::DATA));
        let all_keys = session
            .find_objects(&[
                Attribute::Class(ObjectClass::SECRET_KEY),
                Attribute::Id(kek.as_bytes().to_vec()),
            ])
            .expect("find keys by id");
        assert!(
            all_keys.is_empty(),
            "{} key objects keep the KEK id",
            all_keys.len()
        );

        // Destroying again finishes nothing new and does not fail.
        p.destroy_kek(&kek).expect("destroy again");
        (first, kept)
    };

    // A new connection (a restart) still refuses the shredded KEK.
    let p = connect(&config);
    let result = open(&p, &common::binding("e1"), &sealed);
    assert!(matches!(result, Err(KeyError::Unwrap(_))), "{result:?}");
    println!("after shredding: {}", result.unwrap_err());
    assert!(matches!(p.current_version(&kek), Err(KeyError::Unwrap(_))));
    assert!(p.ensure_kek(&kek).is_err(), "a destroyed KEK came back");
    assert!(
        p.rotate_kek(&kek).is_err(),
        "a destroyed KEK got a new version"
    );
    assert!(p.generate_data_key(&kek, &common::binding("e3")).is_err());
    assert_eq!(
        open(&p, &common::binding("e2"), &kept).expect("the other KEK still opens"),
        common::DOC
    );
}

#[test]
fn unknown_keks_and_versions_are_unwrap_errors() {
    let Some(config) = config() else { return };
    let _turn = turn();
    let p = connect(&config);
    let kek = common::fresh_kek("versions");
    let missing = p.current_version(&kek);
    assert!(matches!(missing, Err(KeyError::Unwrap(_))), "{missing:?}");
    p.ensure_kek(&kek).expect("create KEK");
    let key = p
        .generate_data_key(&kek, &common::binding("e1"))
        .expect("data key");
    let mut later = key.kek.clone();
    later.version = 7;
    let result = p.unwrap_data_key(&later, &key.wrapped, &common::binding("e1"));
    let err = result.expect_err("an absent version unwrapped");
    assert!(matches!(err, KeyError::Unwrap(_)), "{err:?}");
    assert!(err.to_string().contains("no version 7"), "{err}");
    let mut unknown = key.kek.clone();
    unknown.id = common::fresh_kek("never-made");
    let err = p
        .unwrap_data_key(&unknown, &key.wrapped, &common::binding("e1"))
        .expect_err("an unknown KEK unwrapped");
    assert!(matches!(err, KeyError::Unwrap(_)), "{err:?}");
    // The right KEK gives the same DEK back.
    let dek = p
        .unwrap_data_key(&key.kek, &key.wrapped, &common::binding("e1"))
        .expect("unwrap");
    assert_eq!(*dek, *key.plaintext);
    // RFC 5649: a 32-byte key wraps to 40 bytes.
    assert_eq!(key.wrapped.len(), 40);
    // No data key stays behind in the HSM as a session object; the test's
    // own sessions see the provider's session objects (one application).
    let session = inspector(&config, false);
    let leftovers = session
        .find_objects(&[Attribute::Token(false)])
        .expect("session objects");
    assert!(
        leftovers.is_empty(),
        "{} session objects remain",
        leftovers.len()
    );
    // A changed wrapped key is refused by the HSM.
    let mut bad = key.wrapped.clone();
    bad[3] ^= 0x40;
    let err = p
        .unwrap_data_key(&key.kek, &bad, &common::binding("e1"))
        .expect_err("a changed wrapped key unwrapped");
    assert!(matches!(err, KeyError::Unwrap(_)), "{err:?}");
    println!("changed wrapped key: {err}");
}

#[test]
fn the_provider_works_from_many_threads() {
    let Some(config) = config() else { return };
    let _turn = turn();
    let p = connect(&config);
    let kek = common::fresh_kek("threads");
    p.ensure_kek(&kek).expect("create KEK");
    std::thread::scope(|s| {
        for t in 0..4 {
            let p = &p;
            let kek = &kek;
            s.spawn(move || {
                for i in 0..10 {
                    let id = format!("t{t}-{i}");
                    let sealed = seal(p, kek, &common::binding(&id), common::DOC).expect("seal");
                    assert_eq!(
                        open(p, &common::binding(&id), &sealed).expect("open"),
                        common::DOC
                    );
                }
            });
        }
    });
}

#[test]
fn debug_output_never_shows_the_pin() {
    let config = Pkcs11Config {
        module: PathBuf::from("/usr/lib/softhsm/libsofthsm2.so"),
        token_label: "mamori-test".into(),
        pin: Zeroizing::new("pin-5150-do-not-print".into()),
    };
    let shown = format!("{config:?} {config:#?}");
    assert!(!shown.contains("pin-5150-do-not-print"), "{shown}");
    assert!(shown.contains("mamori-test"), "{shown}");
    if let Some(config) = self::config() {
        let _turn = turn();
        let p = connect(&config);
        let shown = format!("{p:?}");
        assert!(!shown.contains(config.pin.as_str()), "{shown}");
    }
}
