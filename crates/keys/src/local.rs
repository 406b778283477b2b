//! The development default: KEKs in a local key file, each wrapped (AES key
//! wrap with padding, RFC 5649) by a master key derived from a passphrase
//! with Argon2id. The file holds no key in clear; without the passphrase it
//! opens nothing. Destroying a KEK version removes its wrapped key from the
//! file: every DEK wrapped by it, and so every object, is unreadable after.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use aes_kw::KekAes256;
use argon2::{Algorithm, Argon2, Params, Version};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::{Binding, DataKey, Dek, KekRef, KeyError, KeyProvider};

const FILE_FORMAT: u32 = 1;

/// Argon2id cost of the master key (OWASP's minimum recommendation:
/// 19 MiB, 2 passes).
const M_COST_KIB: u32 = 19_456;
const T_COST: u32 = 2;
const P_COST: u32 = 1;

#[derive(Serialize, Deserialize)]
struct KeyFile {
    format: u32,
    kek_id: String,
    kdf: Kdf,
    /// Version → wrapped KEK (base64). A destroyed version is absent.
    versions: BTreeMap<u32, String>,
    /// Versions that existed and were destroyed (kept for the record).
    #[serde(default)]
    destroyed: Vec<u32>,
}

#[derive(Serialize, Deserialize)]
struct Kdf {
    algorithm: String,
    m_cost_kib: u32,
    t_cost: u32,
    p_cost: u32,
    salt: String,
}

/// KEKs in a passphrase-protected local file.
pub struct LocalKeyProvider {
    path: PathBuf,
    kek_id: String,
    master: Zeroizing<[u8; 32]>,
    keks: BTreeMap<u32, Zeroizing<[u8; 32]>>,
    destroyed: Vec<u32>,
    salt: Vec<u8>,
    kdf_params: (u32, u32, u32),
}

impl std::fmt::Debug for LocalKeyProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalKeyProvider")
            .field("path", &self.path)
            .field("kek_id", &self.kek_id)
            .field("versions", &self.keks.keys().collect::<Vec<_>>())
            .field("keys", &"<redacted>")
            .finish()
    }
}

fn derive_master(
    passphrase: &[u8],
    salt: &[u8],
    (m, t, p): (u32, u32, u32),
) -> Result<Zeroizing<[u8; 32]>, KeyError> {
    let params = Params::new(m, t, p, Some(32))
        .map_err(|e| KeyError::Config(format!("key derivation parameters: {e}")))?;
    let mut out = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(passphrase, salt, out.as_mut_slice())
        .map_err(|e| KeyError::Config(format!("key derivation: {e}")))?;
    Ok(out)
}

fn random_key() -> Zeroizing<[u8; 32]> {
    let mut k = Zeroizing::new([0u8; 32]);
    rand::rngs::OsRng.fill_bytes(k.as_mut_slice());
    k
}

fn wrap(kek: &[u8; 32], key: &[u8; 32]) -> Result<Vec<u8>, KeyError> {
    KekAes256::from(*kek)
        .wrap_with_padding_vec(key)
        .map_err(|e| KeyError::Config(format!("key wrap: {e}")))
}

fn unwrap(kek: &[u8; 32], wrapped: &[u8]) -> Result<Dek, KeyError> {
    let plain = Zeroizing::new(
        KekAes256::from(*kek)
            .unwrap_with_padding_vec(wrapped)
            .map_err(|_| KeyError::Unwrap("the wrapped key does not match its KEK".into()))?,
    );
    let key: [u8; 32] = plain
        .as_slice()
        .try_into()
        .map_err(|_| KeyError::Unwrap("the wrapped key has the wrong length".into()))?;
    Ok(Zeroizing::new(key))
}

impl LocalKeyProvider {
    /// Creates a key file with KEK version 1. Refuses to overwrite a file.
    pub fn create(path: &Path, passphrase: &[u8]) -> Result<Self, KeyError> {
        if path.exists() {
            return Err(KeyError::Config(format!(
                "{} exists already; a key file is never overwritten",
                path.display()
            )));
        }
        if passphrase.len() < 12 {
            return Err(KeyError::Config(
                "the passphrase must be at least 12 characters".into(),
            ));
        }
        let mut salt = vec![0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut salt);
        let params = (M_COST_KIB, T_COST, P_COST);
        let master = derive_master(passphrase, &salt, params)?;
        let mut id = [0u8; 8];
        rand::rngs::OsRng.fill_bytes(&mut id);
        let mut provider = Self {
            path: path.to_path_buf(),
            kek_id: format!("local-{}", hex_string(&id)),
            master,
            keks: BTreeMap::new(),
            destroyed: Vec::new(),
            salt,
            kdf_params: params,
        };
        provider.keks.insert(1, random_key());
        provider.save()?;
        Ok(provider)
    }

    /// Opens a key file with its passphrase. A wrong passphrase is an error
    /// here, not later.
    pub fn open(path: &Path, passphrase: &[u8]) -> Result<Self, KeyError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| KeyError::Config(format!("{}: {e}", path.display())))?;
        let file: KeyFile = serde_json::from_str(&text)
            .map_err(|e| KeyError::Config(format!("{}: {e}", path.display())))?;
        if file.format != FILE_FORMAT || file.kdf.algorithm != "argon2id" {
            return Err(KeyError::Config(format!(
                "{}: unsupported key file format",
                path.display()
            )));
        }
        let salt = B64
            .decode(&file.kdf.salt)
            .map_err(|_| KeyError::Config("key file: bad salt".into()))?;
        let params = (file.kdf.m_cost_kib, file.kdf.t_cost, file.kdf.p_cost);
        let master = derive_master(passphrase, &salt, params)?;
        let mut keks = BTreeMap::new();
        for (version, wrapped) in &file.versions {
            let wrapped = B64
                .decode(wrapped)
                .map_err(|_| KeyError::Config("key file: bad wrapped key".into()))?;
            let kek = unwrap(&master, &wrapped).map_err(|_| {
                KeyError::Config("the passphrase does not open this key file".into())
            })?;
            keks.insert(*version, kek);
        }
        Ok(Self {
            path: path.to_path_buf(),
            kek_id: file.kek_id,
            master,
            keks,
            destroyed: file.destroyed,
            salt,
            kdf_params: params,
        })
    }

    /// Writes the file through a temporary name, so a crash leaves the old
    /// or the new file, never half of one.
    fn save(&self) -> Result<(), KeyError> {
        let mut versions = BTreeMap::new();
        for (v, kek) in &self.keks {
            versions.insert(*v, B64.encode(wrap(&self.master, kek)?));
        }
        let file = KeyFile {
            format: FILE_FORMAT,
            kek_id: self.kek_id.clone(),
            kdf: Kdf {
                algorithm: "argon2id".into(),
                m_cost_kib: self.kdf_params.0,
                t_cost: self.kdf_params.1,
                p_cost: self.kdf_params.2,
                salt: B64.encode(&self.salt),
            },
            versions,
            destroyed: self.destroyed.clone(),
        };
        let text = serde_json::to_string_pretty(&file)
            .map_err(|e| KeyError::Config(format!("key file: {e}")))?;
        let tmp = self.path.with_extension("tmp");
        std::fs::write(&tmp, text)
            .and_then(|_| std::fs::rename(&tmp, &self.path))
            .map_err(|e| KeyError::Config(format!("{}: {e}", self.path.display())))
    }

    /// The KEK version new data keys are wrapped with.
    pub fn current(&self) -> Result<KekRef, KeyError> {
        let version = self
            .keks
            .keys()
            .next_back()
            .copied()
            .ok_or_else(|| KeyError::Unavailable("every KEK version was destroyed".into()))?;
        Ok(KekRef {
            id: self.kek_id.clone(),
            version,
        })
    }

    /// Adds a new KEK version; new data keys use it. Existing envelopes stay
    /// readable until rewrapped (`crate::rewrap`).
    pub fn rotate(&mut self) -> Result<KekRef, KeyError> {
        let next = self
            .keks
            .keys()
            .chain(self.destroyed.iter())
            .max()
            .copied()
            .unwrap_or(0)
            + 1;
        self.keks.insert(next, random_key());
        self.save()?;
        self.current()
    }

    /// Destroys a KEK version (crypto-shredding): everything wrapped by it
    /// becomes unreadable with any key this provider still holds.
    pub fn destroy(&mut self, version: u32) -> Result<(), KeyError> {
        if self.keks.remove(&version).is_none() {
            return Err(KeyError::Config(format!("no KEK version {version}")));
        }
        self.destroyed.push(version);
        self.save()
    }

    pub fn versions(&self) -> Vec<u32> {
        self.keks.keys().copied().collect()
    }

    fn kek(&self, kek: &KekRef) -> Result<&Zeroizing<[u8; 32]>, KeyError> {
        if kek.id != self.kek_id {
            return Err(KeyError::Unwrap(format!(
                "the data key was wrapped by KEK '{}', not by this key file's '{}'",
                kek.id, self.kek_id
            )));
        }
        self.keks.get(&kek.version).ok_or_else(|| {
            if self.destroyed.contains(&kek.version) {
                KeyError::Unwrap(format!("KEK version {} was destroyed", kek.version))
            } else {
                KeyError::Unwrap(format!("no KEK version {}", kek.version))
            }
        })
    }
}

fn hex_string(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl KeyProvider for LocalKeyProvider {
    fn name(&self) -> &str {
        "local"
    }

    fn generate_data_key(&self, _binding: &Binding<'_>) -> Result<DataKey, KeyError> {
        let kek_ref = self.current()?;
        let kek = self.kek(&kek_ref)?;
        let dek = random_key();
        let wrapped = wrap(kek, &dek)?;
        Ok(DataKey {
            plaintext: dek,
            wrapped,
            kek: kek_ref,
        })
    }

    fn unwrap_data_key(
        &self,
        kek: &KekRef,
        wrapped: &[u8],
        _binding: &Binding<'_>,
    ) -> Result<Dek, KeyError> {
        unwrap(self.kek(kek)?, wrapped)
    }

    fn rewrap_data_key(
        &self,
        kek: &KekRef,
        wrapped: &[u8],
        binding: &Binding<'_>,
    ) -> Result<(KekRef, Vec<u8>), KeyError> {
        let current = self.current()?;
        if *kek == current {
            return Ok((kek.clone(), wrapped.to_vec()));
        }
        let dek = self.unwrap_data_key(kek, wrapped, binding)?;
        Ok((current.clone(), wrap(self.kek(&current)?, &dek)?))
    }
}
