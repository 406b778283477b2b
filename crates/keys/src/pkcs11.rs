//! KEKs in a hardware security module, through PKCS#11.
//!
//! Each KEK version is an AES-256 secret-key object on the token, generated
//! inside the HSM (`CKM_AES_KEY_GEN`), labelled `<kek_id>#v<version>` and
//! with `CKA_ID` = the KEK id (so all versions of a KEK are found in one
//! search). The objects are token objects, private, sensitive and not
//! extractable: the key never leaves the HSM and may only wrap and unwrap.
//!
//! Mechanism: `CKM_AES_KEY_WRAP_PAD` (AES key wrap with padding, RFC 5649),
//! the same construction as the local key file. AES-GCM would be the
//! obvious alternative, but SoftHSM2 (the HSM the tests run against) offers
//! GCM for `C_Encrypt`/`C_Decrypt` only, not for `C_WrapKey`/`C_UnwrapKey`,
//! while it offers key wrap with padding for both; RFC 5649 is
//! authenticated, so a changed wrapped key fails to unwrap. `connect`
//! checks that the token offers both mechanisms.
//!
//! A DEK is made in memory (`OsRng`), imported as an extractable session
//! object, wrapped by the HSM and the session object destroyed. Unwrapping
//! makes an extractable, non-sensitive session object whose value is read
//! back and the object destroyed. (The `cryptoki` crate keeps a short-lived
//! copy of an attribute value while reading it, which it does not zero;
//! every copy this module owns is zeroed.)
//!
//! Destroying a KEK writes a marker first (a private `CKO_DATA` token object
//! labelled `<kek_id>#destroyed`) and then destroys every version: a KEK
//! with a marker is refused for everything and is never created again, and
//! a destruction cut short is finished by calling `destroy_kek` again.
//!
//! PKCS#11 state is per process: the module is loaded and initialised once
//! per path and kept loaded, and a login holds for every session of the
//! process on that token. Each provider logs in once, in `connect`, and uses
//! one read-write session behind a mutex. Two Mamori processes that rotate
//! the same KEK at the same moment could both create the same version; the
//! unwrapping side copes (it tries each object with the label), and
//! wrapping refuses until an operator removes one of them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, OnceLock};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use rand::RngCore;
use zeroize::{Zeroize, Zeroizing};

use crate::{Binding, DataKey, Dek, KekRef, KeyError, KeyProvider};

/// Where the HSM is and how to log in to it.
#[derive(Clone)]
pub struct Pkcs11Config {
    /// The vendor's PKCS#11 library (`libsofthsm2.so`, a Luna or nShield
    /// client library…).
    pub module: PathBuf,
    /// The label of the token (partition) holding Mamori's KEKs.
    pub token_label: String,
    /// The user PIN of the token.
    pub pin: Zeroizing<String>,
}

impl std::fmt::Debug for Pkcs11Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkcs11Config")
            .field("module", &self.module)
            .field("token_label", &self.token_label)
            .field("pin", &"<redacted>")
            .finish()
    }
}

/// KEKs as non-extractable AES-256 objects on a PKCS#11 token.
pub struct Pkcs11KeyProvider {
    module: PathBuf,
    token_label: String,
    session: Mutex<Session>,
}

impl std::fmt::Debug for Pkcs11KeyProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkcs11KeyProvider")
            .field("module", &self.module)
            .field("token_label", &self.token_label)
            .finish()
    }
}

/// The attributes of a KEK object as the HSM reports them (for checks and
/// audits; no key material).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KekObject {
    pub label: String,
    pub version: u32,
    pub token: bool,
    pub private: bool,
    pub sensitive: bool,
    pub extractable: bool,
    pub always_sensitive: bool,
    pub never_extractable: bool,
    pub local: bool,
    pub wrap: bool,
    pub unwrap: bool,
    pub encrypt: bool,
    pub decrypt: bool,
    pub value_len: u64,
}

const DEK_LEN: usize = 32;
const APPLICATION: &[u8] = b"mamori";

/// Loaded modules, by path. A PKCS#11 library is initialised once per
/// process; unloading it while another provider uses it would end that
/// provider's sessions, so it stays loaded.
fn modules() -> &'static Mutex<HashMap<PathBuf, Pkcs11>> {
    static MODULES: OnceLock<Mutex<HashMap<PathBuf, Pkcs11>>> = OnceLock::new();
    MODULES.get_or_init(|| Mutex::new(HashMap::new()))
}

fn load_module(path: &Path) -> Result<Pkcs11, KeyError> {
    if !path.is_file() {
        return Err(KeyError::Config(format!(
            "PKCS#11 module {} does not exist or is not a file",
            path.display()
        )));
    }
    let key = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    let mut loaded = modules()
        .lock()
        .map_err(|_| KeyError::Unavailable("the PKCS#11 module table's lock is poisoned".into()))?;
    if let Some(ctx) = loaded.get(&key) {
        return Ok(ctx.clone());
    }
    let ctx = Pkcs11::new(&key).map_err(|e| {
        KeyError::Config(format!(
            "PKCS#11 module {} could not be loaded: {}",
            path.display(),
            describe(&e)
        ))
    })?;
    match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        // Another part of the process initialised it already: that is fine.
        Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(e) => {
            return Err(KeyError::Unavailable(format!(
                "PKCS#11 module {} failed to initialise: {}",
                path.display(),
                describe(&e)
            )))
        }
    }
    loaded.insert(key, ctx.clone());
    Ok(ctx)
}

/// A short description of a PKCS#11 error (`C_UnwrapKey: WrappedKeyInvalid`).
fn describe(e: &CkError) -> String {
    match e {
        CkError::Pkcs11(rv, function) => format!("C_{function:?}: {rv:?}"),
        other => other.to_string(),
    }
}

/// Errors that mean the HSM or the session is gone, whatever was asked.
fn is_unreachable(e: &CkError) -> bool {
    match e {
        CkError::Pkcs11(rv, _) => matches!(
            rv,
            RvError::DeviceError
                | RvError::DeviceMemory
                | RvError::DeviceRemoved
                | RvError::HostMemory
                | RvError::TokenNotPresent
                | RvError::TokenNotRecognized
                | RvError::SessionClosed
                | RvError::SessionHandleInvalid
                | RvError::SessionCount
                | RvError::CryptokiNotInitialized
                | RvError::UserNotLoggedIn
                | RvError::SlotIdInvalid
        ),
        CkError::LibraryLoading(_) | CkError::NullFunctionPointer | CkError::MissingSymbol(_) => {
            true
        }
        _ => false,
    }
}

fn find_token(ctx: &Pkcs11, module: &Path, label: &str) -> Result<Slot, KeyError> {
    let slots = ctx.get_slots_with_token().map_err(|e| {
        KeyError::Unavailable(format!(
            "PKCS#11 module {} could not list its tokens: {}",
            module.display(),
            describe(&e)
        ))
    })?;
    let mut found = Vec::new();
    let mut present = Vec::new();
    for slot in slots {
        let Ok(info) = ctx.get_token_info(slot) else {
            continue;
        };
        let this = info.label().trim_end();
        if this == label && info.token_initialized() {
            found.push(slot);
        } else if info.token_initialized() {
            present.push(format!("'{this}'"));
        }
    }
    match found.as_slice() {
        [slot] => Ok(*slot),
        [] => Err(KeyError::Unavailable(format!(
            "PKCS#11 module {} has no token labelled '{label}' (tokens present: {})",
            module.display(),
            if present.is_empty() {
                "none".to_string()
            } else {
                present.join(", ")
            }
        ))),
        _ => Err(KeyError::Config(format!(
            "PKCS#11 module {} has {} tokens labelled '{label}'; the label must be unique",
            module.display(),
            found.len()
        ))),
    }
}

fn check_mechanisms(ctx: &Pkcs11, slot: Slot, module: &Path, label: &str) -> Result<(), KeyError> {
    let missing = |what: &str| {
        KeyError::Config(format!(
            "token '{label}' of PKCS#11 module {} does not offer {what}, which the HSM key provider needs",
            module.display()
        ))
    };
    let list = ctx.get_mechanism_list(slot).map_err(|e| {
        KeyError::Unavailable(format!(
            "token '{label}' of PKCS#11 module {}: {}",
            module.display(),
            describe(&e)
        ))
    })?;
    if !list.contains(&MechanismType::AES_KEY_GEN) {
        return Err(missing("CKM_AES_KEY_GEN (AES key generation)"));
    }
    if !list.contains(&MechanismType::AES_KEY_WRAP_PAD) {
        return Err(missing(
            "CKM_AES_KEY_WRAP_PAD (AES key wrap with padding, RFC 5649)",
        ));
    }
    let info = ctx
        .get_mechanism_info(slot, MechanismType::AES_KEY_WRAP_PAD)
        .map_err(|e| {
            KeyError::Unavailable(format!(
                "token '{label}' of PKCS#11 module {}: {}",
                module.display(),
                describe(&e)
            ))
        })?;
    if !info.wrap() || !info.unwrap() {
        return Err(missing(
            "CKM_AES_KEY_WRAP_PAD for both C_WrapKey and C_UnwrapKey",
        ));
    }
    Ok(())
}

fn login(session: &Session, module: &Path, label: &str, pin: &str) -> Result<(), KeyError> {
    let pin = AuthPin::from(pin);
    match session.login(UserType::User, Some(&pin)) {
        // The login of a process covers all its sessions on the token:
        // another provider of this process logged in already.
        Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok(()),
        Err(e) => {
            let place = format!("token '{label}' of PKCS#11 module {}", module.display());
            Err(match &e {
                CkError::Pkcs11(RvError::PinIncorrect, _) => {
                    KeyError::Config(format!("{place} refused the PIN (wrong PIN)"))
                }
                CkError::Pkcs11(RvError::PinLocked, _) => KeyError::Config(format!(
                    "{place}: the user PIN is locked (too many wrong PINs); the security officer must reset it"
                )),
                CkError::Pkcs11(RvError::PinExpired, _) => {
                    KeyError::Config(format!("{place}: the user PIN has expired"))
                }
                CkError::Pkcs11(RvError::PinInvalid | RvError::PinLenRange, _) => {
                    KeyError::Config(format!("{place} refused the PIN (invalid length or characters)"))
                }
                CkError::Pkcs11(RvError::UserPinNotInitialized, _) => {
                    KeyError::Config(format!("{place} has no user PIN set"))
                }
                CkError::Pkcs11(RvError::UserAnotherAlreadyLoggedIn, _) => KeyError::Config(format!(
                    "{place}: the security officer is logged in in this process; the user cannot log in"
                )),
                other if is_unreachable(other) => {
                    KeyError::Unavailable(format!("{place}: login failed: {}", describe(other)))
                }
                other => KeyError::Config(format!("{place}: login failed: {}", describe(other))),
            })
        }
    }
}

fn version_label(kek_id: &str, version: u32) -> String {
    format!("{kek_id}#v{version}")
}

fn marker_label(kek_id: &str) -> String {
    format!("{kek_id}#destroyed")
}

/// The version a KEK object's label names, when it is one of `kek_id`'s.
fn parse_version(kek_id: &str, label: &str) -> Option<u32> {
    let digits = label.strip_prefix(kek_id)?.strip_prefix("#v")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.starts_with('0') {
        return None;
    }
    digits.parse().ok().filter(|v| *v > 0)
}

fn check_kek_id(kek_id: &str) -> Result<(), KeyError> {
    if kek_id.is_empty() || kek_id.len() > crate::envelope::MAX_KEK_ID_LEN || kek_id.contains('#') {
        return Err(KeyError::Config(format!(
            "'{kek_id}' is not a valid KEK id (1 to {} bytes, no '#')",
            crate::envelope::MAX_KEK_ID_LEN
        )));
    }
    Ok(())
}

fn random_dek() -> Dek {
    let mut k = Zeroizing::new([0u8; DEK_LEN]);
    rand::rngs::OsRng.fill_bytes(k.as_mut_slice());
    k
}

/// A session object that is destroyed when dropped, on every path.
struct TempKey<'s> {
    session: &'s Session,
    handle: ObjectHandle,
}

impl Drop for TempKey<'_> {
    fn drop(&mut self) {
        // A session object also goes when the session ends; a failure here
        // leaves nothing on the token.
        let _ = self.session.destroy_object(self.handle);
    }
}

fn secret_key_template() -> Vec<Attribute> {
    vec![
        Attribute::Class(ObjectClass::SECRET_KEY),
        Attribute::KeyType(KeyType::AES),
    ]
}

impl Pkcs11KeyProvider {
    /// Loads the module, finds the token by its label, checks that it
    /// offers the mechanisms needed and logs in with the user PIN. Errors
    /// name the module and the token, never the PIN.
    pub fn connect(config: Pkcs11Config) -> Result<Self, KeyError> {
        let Pkcs11Config {
            module,
            token_label,
            pin,
        } = config;
        let ctx = load_module(&module)?;
        let slot = find_token(&ctx, &module, &token_label)?;
        check_mechanisms(&ctx, slot, &module, &token_label)?;
        let session = ctx.open_rw_session(slot).map_err(|e| {
            KeyError::Unavailable(format!(
                "token '{token_label}' of PKCS#11 module {}: could not open a session: {}",
                module.display(),
                describe(&e)
            ))
        })?;
        login(&session, &module, &token_label, pin.as_str())?;
        drop(pin);
        Ok(Self {
            module,
            token_label,
            session: Mutex::new(session),
        })
    }

    /// The token's label.
    pub fn token_label(&self) -> &str {
        &self.token_label
    }

    /// The KEK objects of `kek_id` on the token, lowest version first, with
    /// the attributes that say how they are protected.
    pub fn kek_objects(&self, kek_id: &str) -> Result<Vec<KekObject>, KeyError> {
        check_kek_id(kek_id)?;
        let session = self.session()?;
        let mut out = Vec::new();
        for (version, handle) in self.versions(&session, kek_id)? {
            let attrs = session
                .get_attributes(
                    handle,
                    &[
                        AttributeType::Label,
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
                        AttributeType::ValueLen,
                    ],
                )
                .map_err(|e| self.unavailable("reading a KEK's attributes", &e))?;
            let mut obj = KekObject {
                label: String::new(),
                version,
                token: false,
                private: false,
                sensitive: false,
                extractable: true,
                always_sensitive: false,
                never_extractable: false,
                local: false,
                wrap: false,
                unwrap: false,
                encrypt: false,
                decrypt: false,
                value_len: 0,
            };
            for attr in attrs {
                match attr {
                    Attribute::Label(l) => obj.label = String::from_utf8_lossy(&l).into_owned(),
                    Attribute::Token(b) => obj.token = b,
                    Attribute::Private(b) => obj.private = b,
                    Attribute::Sensitive(b) => obj.sensitive = b,
                    Attribute::Extractable(b) => obj.extractable = b,
                    Attribute::AlwaysSensitive(b) => obj.always_sensitive = b,
                    Attribute::NeverExtractable(b) => obj.never_extractable = b,
                    Attribute::Local(b) => obj.local = b,
                    Attribute::Wrap(b) => obj.wrap = b,
                    Attribute::Unwrap(b) => obj.unwrap = b,
                    Attribute::Encrypt(b) => obj.encrypt = b,
                    Attribute::Decrypt(b) => obj.decrypt = b,
                    Attribute::ValueLen(n) => obj.value_len = u64::from(n),
                    _ => {}
                }
            }
            out.push(obj);
        }
        Ok(out)
    }

    fn session(&self) -> Result<MutexGuard<'_, Session>, KeyError> {
        self.session
            .lock()
            .map_err(|_| KeyError::Unavailable("the PKCS#11 session's lock is poisoned".into()))
    }

    fn place(&self) -> String {
        format!(
            "token '{}' of PKCS#11 module {}",
            self.token_label,
            self.module.display()
        )
    }

    fn unavailable(&self, doing: &str, e: &CkError) -> KeyError {
        KeyError::Unavailable(format!("{}: {doing}: {}", self.place(), describe(e)))
    }

    /// An HSM refusal while unwrapping: `Unwrap`, unless the HSM is gone.
    fn refused(&self, doing: &str, e: &CkError) -> KeyError {
        if is_unreachable(e) {
            self.unavailable(doing, e)
        } else {
            KeyError::Unwrap(format!("{}: {doing}: {}", self.place(), describe(e)))
        }
    }

    fn is_destroyed(&self, session: &Session, kek_id: &str) -> Result<bool, KeyError> {
        let found = session
            .find_objects(&[
                Attribute::Class(ObjectClass::DATA),
                Attribute::Token(true),
                Attribute::Label(marker_label(kek_id).into_bytes()),
            ])
            .map_err(|e| self.unavailable("looking for a destruction marker", &e))?;
        Ok(!found.is_empty())
    }

    /// Every KEK object of `kek_id` with its version, lowest first.
    fn versions(
        &self,
        session: &Session,
        kek_id: &str,
    ) -> Result<Vec<(u32, ObjectHandle)>, KeyError> {
        let mut template = secret_key_template();
        template.push(Attribute::Token(true));
        template.push(Attribute::Id(kek_id.as_bytes().to_vec()));
        let handles = session
            .find_objects(&template)
            .map_err(|e| self.unavailable("looking for KEK objects", &e))?;
        let mut out = Vec::new();
        for handle in handles {
            let attrs = session
                .get_attributes(handle, &[AttributeType::Label])
                .map_err(|e| self.unavailable("reading a KEK's label", &e))?;
            for attr in attrs {
                if let Attribute::Label(label) = attr {
                    if let Some(v) = std::str::from_utf8(&label)
                        .ok()
                        .and_then(|l| parse_version(kek_id, l))
                    {
                        out.push((v, handle));
                    }
                }
            }
        }
        out.sort_by_key(|(v, _)| *v);
        Ok(out)
    }

    /// The objects of one KEK version (normally exactly one); `Unwrap` when
    /// there is none or the KEK was destroyed.
    fn version_objects(
        &self,
        session: &Session,
        kek: &KekRef,
    ) -> Result<Vec<ObjectHandle>, KeyError> {
        check_kek_id(&kek.id)?;
        if self.is_destroyed(session, &kek.id)? {
            return Err(KeyError::Unwrap(format!(
                "KEK '{}' was destroyed on {}",
                kek.id,
                self.place()
            )));
        }
        let mut template = secret_key_template();
        template.push(Attribute::Token(true));
        template.push(Attribute::Id(kek.id.as_bytes().to_vec()));
        template.push(Attribute::Label(
            version_label(&kek.id, kek.version).into_bytes(),
        ));
        let found = session
            .find_objects(&template)
            .map_err(|e| self.unavailable("looking for a KEK object", &e))?;
        if found.is_empty() {
            let any = !self.versions(session, &kek.id)?.is_empty();
            return Err(KeyError::Unwrap(if any {
                format!(
                    "KEK '{}' has no version {} on {}",
                    kek.id,
                    kek.version,
                    self.place()
                )
            } else {
                format!("there is no KEK '{}' on {}", kek.id, self.place())
            }));
        }
        Ok(found)
    }

    fn current(&self, session: &Session, kek_id: &str) -> Result<KekRef, KeyError> {
        check_kek_id(kek_id)?;
        if self.is_destroyed(session, kek_id)? {
            return Err(KeyError::Unwrap(format!(
                "every version of KEK '{kek_id}' was destroyed on {}",
                self.place()
            )));
        }
        match self.versions(session, kek_id)?.last() {
            Some((version, _)) => Ok(KekRef {
                id: kek_id.to_string(),
                version: *version,
            }),
            None => Err(KeyError::Unwrap(format!(
                "there is no KEK '{kek_id}' on {}",
                self.place()
            ))),
        }
    }

    /// Generates version `version` of `kek_id` inside the HSM.
    fn generate_kek(&self, session: &Session, kek_id: &str, version: u32) -> Result<(), KeyError> {
        let mut template = secret_key_template();
        template.extend([
            Attribute::ValueLen(32u64.into()),
            Attribute::Token(true),
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Extractable(false),
            Attribute::Modifiable(false),
            Attribute::Wrap(true),
            Attribute::Unwrap(true),
            Attribute::Encrypt(false),
            Attribute::Decrypt(false),
            Attribute::Sign(false),
            Attribute::Verify(false),
            Attribute::Derive(false),
            Attribute::Label(version_label(kek_id, version).into_bytes()),
            Attribute::Id(kek_id.as_bytes().to_vec()),
        ]);
        session
            .generate_key(&Mechanism::AesKeyGen, &template)
            .map_err(|e| self.unavailable("generating a KEK", &e))?;
        Ok(())
    }

    /// Wraps `dek` under the one object of `kek`.
    fn wrap(&self, session: &Session, kek: &KekRef, dek: &Dek) -> Result<Vec<u8>, KeyError> {
        let objects = self.version_objects(session, kek)?;
        let [wrapping_key] = objects.as_slice() else {
            return Err(KeyError::Config(format!(
                "{} holds {} objects labelled '{}'; remove all but one before wrapping with it",
                self.place(),
                objects.len(),
                version_label(&kek.id, kek.version)
            )));
        };
        let mut template = secret_key_template();
        template.extend([
            Attribute::Token(false),
            Attribute::Private(true),
            Attribute::Sensitive(false),
            Attribute::Extractable(true),
            Attribute::Value(dek.to_vec()),
        ]);
        let created = session.create_object(&template);
        for attr in template.iter_mut() {
            if let Attribute::Value(v) = attr {
                v.zeroize();
            }
        }
        let handle = created.map_err(|e| self.unavailable("importing the data key", &e))?;
        let temp = TempKey { session, handle };
        session
            .wrap_key(&Mechanism::AesKeyWrapPad, *wrapping_key, temp.handle)
            .map_err(|e| self.unavailable("wrapping the data key", &e))
    }

    /// Unwraps `wrapped` with the object(s) of `kek`.
    fn unwrap(&self, session: &Session, kek: &KekRef, wrapped: &[u8]) -> Result<Dek, KeyError> {
        let objects = self.version_objects(session, kek)?;
        let mut last = None;
        for key in objects {
            match self.unwrap_with(session, key, wrapped) {
                Ok(dek) => return Ok(dek),
                Err(e @ KeyError::Unavailable(_)) => return Err(e),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| KeyError::Unwrap("no KEK object to unwrap with".into())))
    }

    fn unwrap_with(
        &self,
        session: &Session,
        key: ObjectHandle,
        wrapped: &[u8],
    ) -> Result<Dek, KeyError> {
        let mut template = secret_key_template();
        template.extend([
            Attribute::Token(false),
            Attribute::Private(true),
            Attribute::Sensitive(false),
            Attribute::Extractable(true),
        ]);
        let handle = session
            .unwrap_key(&Mechanism::AesKeyWrapPad, key, wrapped, &template)
            .map_err(|e| {
                self.refused(
                    "the HSM refused to unwrap the data key (changed, or not wrapped by this KEK version)",
                    &e,
                )
            })?;
        let temp = TempKey { session, handle };
        let attrs = session
            .get_attributes(temp.handle, &[AttributeType::Value])
            .map_err(|e| self.unavailable("reading the unwrapped data key", &e))?;
        let mut dek = Zeroizing::new([0u8; DEK_LEN]);
        let mut ok = false;
        for mut attr in attrs {
            if let Attribute::Value(v) = &mut attr {
                if v.len() == DEK_LEN {
                    dek.copy_from_slice(v);
                    ok = true;
                }
                v.zeroize();
            }
        }
        if !ok {
            return Err(KeyError::Unwrap(format!(
                "{}: the unwrapped data key is not {DEK_LEN} bytes long",
                self.place()
            )));
        }
        Ok(dek)
    }
}

impl KeyProvider for Pkcs11KeyProvider {
    fn name(&self) -> &str {
        "pkcs11"
    }

    fn generate_data_key(&self, kek_id: &str, _binding: &Binding<'_>) -> Result<DataKey, KeyError> {
        let session = self.session()?;
        let kek = self.current(&session, kek_id)?;
        let dek = random_dek();
        let wrapped = self.wrap(&session, &kek, &dek)?;
        Ok(DataKey {
            plaintext: dek,
            wrapped,
            kek,
        })
    }

    fn unwrap_data_key(
        &self,
        kek: &KekRef,
        wrapped: &[u8],
        _binding: &Binding<'_>,
    ) -> Result<Dek, KeyError> {
        let session = self.session()?;
        self.unwrap(&session, kek, wrapped)
    }

    fn rewrap_data_key(
        &self,
        kek: &KekRef,
        wrapped: &[u8],
        _binding: &Binding<'_>,
    ) -> Result<(KekRef, Vec<u8>), KeyError> {
        let session = self.session()?;
        let current = self.current(&session, &kek.id)?;
        if *kek == current {
            return Ok((kek.clone(), wrapped.to_vec()));
        }
        let dek = self.unwrap(&session, kek, wrapped)?;
        let rewrapped = self.wrap(&session, &current, &dek)?;
        Ok((current, rewrapped))
    }

    fn current_version(&self, kek_id: &str) -> Result<u32, KeyError> {
        let session = self.session()?;
        Ok(self.current(&session, kek_id)?.version)
    }

    fn ensure_kek(&self, kek_id: &str) -> Result<KekRef, KeyError> {
        check_kek_id(kek_id)?;
        let session = self.session()?;
        if self.is_destroyed(&session, kek_id)? {
            return Err(KeyError::Unwrap(format!(
                "KEK '{kek_id}' was destroyed on {}; it is not created again",
                self.place()
            )));
        }
        if let Some((version, _)) = self.versions(&session, kek_id)?.last() {
            return Ok(KekRef {
                id: kek_id.to_string(),
                version: *version,
            });
        }
        self.generate_kek(&session, kek_id, 1)?;
        Ok(KekRef {
            id: kek_id.to_string(),
            version: 1,
        })
    }

    fn rotate_kek(&self, kek_id: &str) -> Result<KekRef, KeyError> {
        let session = self.session()?;
        let current = self.current(&session, kek_id)?;
        let next = current.version.checked_add(1).ok_or_else(|| {
            KeyError::Config(format!(
                "KEK '{kek_id}' has no version after {}",
                current.version
            ))
        })?;
        self.generate_kek(&session, kek_id, next)?;
        Ok(KekRef {
            id: kek_id.to_string(),
            version: next,
        })
    }

    fn destroy_kek(&self, kek_id: &str) -> Result<(), KeyError> {
        check_kek_id(kek_id)?;
        let session = self.session()?;
        let versions = self.versions(&session, kek_id)?;
        let destroyed = self.is_destroyed(&session, kek_id)?;
        if versions.is_empty() && !destroyed {
            return Err(KeyError::Config(format!(
                "there is no KEK '{kek_id}' on {}",
                self.place()
            )));
        }
        if !destroyed {
            // The marker first: from here on the KEK is refused, even if
            // destroying the key objects is cut short.
            session
                .create_object(&[
                    Attribute::Class(ObjectClass::DATA),
                    Attribute::Token(true),
                    Attribute::Private(true),
                    Attribute::Modifiable(false),
                    Attribute::Label(marker_label(kek_id).into_bytes()),
                    Attribute::Application(APPLICATION.to_vec()),
                    Attribute::Value(b"destroyed".to_vec()),
                ])
                .map_err(|e| self.unavailable("writing the destruction marker", &e))?;
        }
        for (version, handle) in versions {
            session.destroy_object(handle).map_err(|e| {
                self.unavailable(
                    &format!("destroying version {version} of KEK '{kek_id}'"),
                    &e,
                )
            })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_read_from_labels() {
        assert_eq!(parse_version("mamori", "mamori#v1"), Some(1));
        assert_eq!(parse_version("mamori", "mamori#v12"), Some(12));
        assert_eq!(parse_version("mamori", "mamori#v0"), None);
        assert_eq!(parse_version("mamori", "mamori#v01"), None);
        assert_eq!(parse_version("mamori", "mamori#v"), None);
        assert_eq!(parse_version("mamori", "mamori#v+1"), None);
        assert_eq!(parse_version("mamori", "mamori#destroyed"), None);
        assert_eq!(parse_version("mamori", "mamori-vendor-1#v1"), None);
        assert_eq!(parse_version("mamori", "mamori#v99999999999"), None);
    }

    #[test]
    fn kek_ids_with_the_separator_are_refused() {
        assert!(check_kek_id("mamori").is_ok());
        assert!(check_kek_id("").is_err());
        assert!(check_kek_id("a#v1").is_err());
        assert!(check_kek_id(&"x".repeat(256)).is_err());
    }

    #[test]
    fn debug_of_the_config_hides_the_pin() {
        let config = Pkcs11Config {
            module: PathBuf::from("/usr/lib/softhsm/libsofthsm2.so"),
            token_label: "mamori".into(),
            pin: Zeroizing::new("s3cret-pin-771".into()),
        };
        let shown = format!("{config:?}");
        assert!(!shown.contains("s3cret-pin-771"), "{shown}");
        assert!(shown.contains("<redacted>"));
    }

    #[test]
    fn a_missing_module_is_a_configuration_error() {
        let err = Pkcs11KeyProvider::connect(Pkcs11Config {
            module: PathBuf::from("/nonexistent/libpkcs11-nothing.so"),
            token_label: "mamori".into(),
            pin: Zeroizing::new("s3cret-pin-771".into()),
        })
        .unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, KeyError::Config(_)), "{err:?}");
        assert!(text.contains("/nonexistent/libpkcs11-nothing.so"), "{text}");
        assert!(!text.contains("s3cret-pin-771"), "{text}");
    }
}
