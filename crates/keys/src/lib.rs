//! Envelope encryption under keys the customer holds.
//!
//! Key hierarchy: the key manager's master key protects key-encryption keys
//! (KEKs) that never leave it; each protected object gets a fresh 256-bit
//! data-encryption key (DEK), used once for AES-256-GCM and kept only
//! wrapped by a KEK. Mamori sees a plaintext DEK briefly, in memory that is
//! zeroed when dropped.
//!
//! Invariant: no custom cryptographic primitives (`aws-lc-rs` for the
//! payload's AES-256-GCM, the same assembly as OpenSSL's; RustCrypto
//! `aes-kw` and `argon2` for the local key file); no plaintext DEK in logs,
//! `Debug` output or on disk.
//! The format is documented in `envelope.rs` and `docs/security/keys.md`.

pub mod aws_kms;
pub mod config;
pub mod envelope;
pub mod local;
pub mod managed;
pub mod openbao;
pub mod pkcs11;
pub mod threaded;

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
use rand::RngCore;
use thiserror::Error;
use zeroize::Zeroizing;

pub use envelope::{Binding, Header, HeaderError, KekRef};

/// A 256-bit data-encryption key, zeroed when dropped.
pub type Dek = Zeroizing<[u8; 32]>;

/// A fresh DEK and the same key wrapped by the current KEK.
pub struct DataKey {
    pub plaintext: Dek,
    pub wrapped: Vec<u8>,
    pub kek: KekRef,
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataKey")
            .field("plaintext", &"<redacted>")
            .field("wrapped_len", &self.wrapped.len())
            .field("kek", &self.kek)
            .finish()
    }
}

#[derive(Debug, Error)]
pub enum KeyError {
    #[error(transparent)]
    Header(#[from] HeaderError),
    /// The payload, its binding or its nonce was changed, or the object was
    /// moved to another record: nothing is returned.
    #[error("the protected data failed authentication (changed, or moved to another record)")]
    Authentication,
    /// The key manager refused or could not unwrap the DEK: wrong or
    /// changed wrapped key, a KEK version that no longer exists (shredded),
    /// or a revoked KEK.
    #[error("the key manager could not unwrap the data key: {0}")]
    Unwrap(String),
    /// The key manager cannot be reached or answered with an error; nothing
    /// was written.
    #[error("the key manager is unavailable: {0}")]
    Unavailable(String),
    #[error("key configuration: {0}")]
    Config(String),
}

/// A customer's key manager. Implementations hold the KEKs (or handles to
/// them) and never hand them out. A KEK is named by Mamori (`mamori` for
/// the installation, `mamori-vendor-<id>` for one vendor's data) and each
/// provider maps the name to its own objects (a Transit key, a KMS alias, an
/// HSM object label). Calls may block (network, HSM); async callers run them
/// on a blocking thread.
pub trait KeyProvider: Send + Sync {
    /// A short name for messages (`local`, `pkcs11`, `openbao`, `aws-kms`).
    fn name(&self) -> &str;

    /// A new DEK for an object, wrapped by the current version of `kek_id`.
    fn generate_data_key(&self, kek_id: &str, binding: &Binding<'_>) -> Result<DataKey, KeyError>;

    /// The DEK of an object, from its wrapped form.
    fn unwrap_data_key(
        &self,
        kek: &KekRef,
        wrapped: &[u8],
        binding: &Binding<'_>,
    ) -> Result<Dek, KeyError>;

    /// The DEK wrapped again under the current version of its KEK
    /// (rotation): unchanged when it is under that version already. Key
    /// managers with a rewrap operation do it without showing Mamori the DEK.
    fn rewrap_data_key(
        &self,
        kek: &KekRef,
        wrapped: &[u8],
        binding: &Binding<'_>,
    ) -> Result<(KekRef, Vec<u8>), KeyError>;

    /// The version new data keys under `kek_id` are wrapped with; an error
    /// when the KEK does not exist, was destroyed or is revoked.
    fn current_version(&self, kek_id: &str) -> Result<u32, KeyError>;

    /// Creates the KEK when it does not exist yet; its current reference.
    fn ensure_kek(&self, kek_id: &str) -> Result<KekRef, KeyError>;

    /// A new version of the KEK; new data keys use it, old versions still
    /// unwrap until everything is rewrapped.
    fn rotate_kek(&self, kek_id: &str) -> Result<KekRef, KeyError>;

    /// Destroys every version of the KEK (crypto-shredding): what it wrapped
    /// can no longer be unwrapped with any key Mamori can reach.
    fn destroy_kek(&self, kek_id: &str) -> Result<(), KeyError>;
}

/// The KEK of the installation, for objects that belong to no vendor.
pub const DEFAULT_KEK: &str = "mamori";

/// The KEK of one vendor's objects: destroying it shreds that vendor's data
/// and nothing else.
pub fn vendor_kek(vendor_id: &str) -> String {
    let clean: String = vendor_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    format!("mamori-vendor-{clean}")
}

/// Encrypts `plaintext` for the record `binding` names: a fresh DEK from the
/// provider under KEK `kek_id`, a random 96-bit nonce, AES-256-GCM with the envelope's
/// associated data. Returns the whole envelope.
pub fn seal(
    provider: &dyn KeyProvider,
    kek_id: &str,
    binding: &Binding<'_>,
    plaintext: &[u8],
) -> Result<Vec<u8>, KeyError> {
    let key = provider.generate_data_key(kek_id, binding)?;
    let mut nonce = [0u8; envelope::NONCE_LEN];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let header = Header {
        kek: key.kek.clone(),
        wrapped_dek: key.wrapped.clone(),
        nonce,
    };
    let mut out = header.encode()?;
    let header_len = out.len();
    let cipher = payload_cipher(key.plaintext.as_slice())?;
    let aad = envelope::associated_data(&nonce, binding);
    // Ciphertext then the 16-byte tag, encrypted in place after the header.
    out.reserve_exact(plaintext.len() + TAG_LEN);
    out.extend_from_slice(plaintext);
    let tag = cipher
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad.as_slice()),
            &mut out[header_len..],
        )
        .map_err(|_| KeyError::Config("encryption failed".into()))?;
    out.extend_from_slice(tag.as_ref());
    Ok(out)
}

/// Length of the AES-GCM authentication tag that ends every envelope.
const TAG_LEN: usize = 16;

/// The payload cipher under one data key.
fn payload_cipher(dek: &[u8]) -> Result<LessSafeKey, KeyError> {
    let key = UnboundKey::new(&AES_256_GCM, dek)
        .map_err(|_| KeyError::Config("data key of the wrong length".into()))?;
    Ok(LessSafeKey::new(key))
}

/// Decrypts an envelope of the record `binding` names.
pub fn open(
    provider: &dyn KeyProvider,
    binding: &Binding<'_>,
    envelope: &[u8],
) -> Result<Vec<u8>, KeyError> {
    let (header, sealed) = Header::parse(envelope)?;
    let dek = provider.unwrap_data_key(&header.kek, &header.wrapped_dek, binding)?;
    let cipher = payload_cipher(dek.as_slice())?;
    let aad = envelope::associated_data(&header.nonce, binding);
    let mut buffer = sealed.to_vec();
    let opened_len = cipher
        .open_in_place(
            Nonce::assume_unique_for_key(header.nonce),
            Aad::from(aad.as_slice()),
            &mut buffer,
        )
        .map_err(|_| KeyError::Authentication)?
        .len();
    buffer.truncate(opened_len);
    Ok(buffer)
}

/// Rewraps an envelope's DEK under the provider's current KEK version; the
/// payload is not touched (rotation). Returns the new envelope, or `None`
/// when it is already under the current version.
pub fn rewrap(
    provider: &dyn KeyProvider,
    binding: &Binding<'_>,
    envelope: &[u8],
) -> Result<Option<Vec<u8>>, KeyError> {
    let (header, sealed) = Header::parse(envelope)?;
    let (kek, wrapped) = provider.rewrap_data_key(&header.kek, &header.wrapped_dek, binding)?;
    if kek == header.kek && wrapped == header.wrapped_dek {
        return Ok(None);
    }
    let mut out = Header {
        kek,
        wrapped_dek: wrapped,
        nonce: header.nonce,
    }
    .encode()?;
    out.extend_from_slice(sealed);
    Ok(Some(out))
}
