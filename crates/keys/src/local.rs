//! The development default: KEKs in a local key file, each wrapped (AES key
//! wrap with padding, RFC 5649) by a master key derived from a passphrase
//! with Argon2id. The file holds no key in clear; without the passphrase it
//! opens nothing. Destroying a KEK version removes its wrapped key from the
//! file: every DEK wrapped by it, and so every object, is unreadable after.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::RwLock;

use aes_kw::KekAes256;
use argon2::{Algorithm, Argon2, Params, Version};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::{Binding, DataKey, Dek, KekRef, KeyError, KeyProvider, DEFAULT_KEK};

/// Format 1 held one KEK; format 2 holds named KEKs (one per vendor).
const FILE_FORMAT: u32 = 2;

/// Argon2id cost of the master key (OWASP's minimum recommendation:
/// 19 MiB, 2 passes).
const M_COST_KIB: u32 = 19_456;
const T_COST: u32 = 2;
const P_COST: u32 = 1;

#[derive(Serialize, Deserialize)]
struct KeyFile {
    format: u32,
    kdf: Kdf,
    /// KEK name → its versions. Format 1 files have `kek_id` and `versions`
    /// instead; they are read as the default KEK.
    #[serde(default)]
    keks: BTreeMap<String, KekEntry>,
    #[serde(default, skip_serializing)]
    kek_id: Option<String>,
    #[serde(default, skip_serializing)]
    versions: BTreeMap<u32, String>,
    #[serde(default, skip_serializing)]
    destroyed: Vec<u32>,
}

#[derive(Serialize, Deserialize, Default)]
struct KekEntry {
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

#[derive(Default, Clone)]
struct Kek {
    versions: BTreeMap<u32, Zeroizing<[u8; 32]>>,
    destroyed: Vec<u32>,
}

type Keks = BTreeMap<String, Kek>;

/// What identifies the file's content on disk: changed by any writer
/// (another Mamori process rotating or shredding), so a reader reloads.
type Stamp = Option<(std::time::SystemTime, u64)>;

struct State {
    keks: Keks,
    stamp: Stamp,
}

/// KEKs in a passphrase-protected local file. Several Mamori processes may
/// use one file (`serve` and the `keys` commands): every change takes an
/// exclusive lock on `<file>.lock`, rereads the file, and writes it
/// through a temporary name; every use first rereads the file if it
/// changed on disk, so a KEK destroyed by one process is gone for all.
pub struct LocalKeyProvider {
    path: PathBuf,
    master: Zeroizing<[u8; 32]>,
    state: RwLock<State>,
    salt: Vec<u8>,
    kdf_params: (u32, u32, u32),
}

impl std::fmt::Debug for LocalKeyProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<String> = self
            .state
            .read()
            .map(|s| s.keks.keys().cloned().collect())
            .unwrap_or_default();
        f.debug_struct("LocalKeyProvider")
            .field("path", &self.path)
            .field("keks", &names)
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

fn stamp_of(path: &Path) -> Stamp {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

fn poisoned() -> KeyError {
    KeyError::Unavailable("the key file's lock is poisoned".into())
}

/// Reads the key file's KEKs with the master key. A format-1 file's single
/// KEK keeps its old id (its envelopes name it); the default KEK is
/// created afresh on first use, so no key is held under two names.
fn load_keks(path: &Path, master: &[u8; 32]) -> Result<(Keks, KeyFile), KeyError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| KeyError::Config(format!("{}: {e}", path.display())))?;
    let mut file: KeyFile = serde_json::from_str(&text)
        .map_err(|e| KeyError::Config(format!("{}: {e}", path.display())))?;
    if !(1..=FILE_FORMAT).contains(&file.format) || file.kdf.algorithm != "argon2id" {
        return Err(KeyError::Config(format!(
            "{}: unsupported key file format",
            path.display()
        )));
    }
    if let Some(old_id) = file.kek_id.take() {
        let entry = KekEntry {
            versions: std::mem::take(&mut file.versions),
            destroyed: std::mem::take(&mut file.destroyed),
        };
        file.keks.insert(old_id, entry);
    }
    let mut keks = BTreeMap::new();
    for (name, entry) in &file.keks {
        let mut kek = Kek {
            versions: BTreeMap::new(),
            destroyed: entry.destroyed.clone(),
        };
        for (version, wrapped) in &entry.versions {
            let wrapped = B64
                .decode(wrapped)
                .map_err(|_| KeyError::Config("key file: bad wrapped key".into()))?;
            let key = unwrap(master, &wrapped).map_err(|_| {
                KeyError::Config("the passphrase does not open this key file".into())
            })?;
            kek.versions.insert(*version, key);
        }
        keks.insert(name.clone(), kek);
    }
    Ok((keks, file))
}

impl LocalKeyProvider {
    /// Creates a key file with version 1 of the default KEK. Refuses to
    /// overwrite a file.
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
        let mut keks = BTreeMap::new();
        let mut first = Kek::default();
        first.versions.insert(1, random_key());
        keks.insert(DEFAULT_KEK.to_string(), first);
        let provider = Self {
            path: path.to_path_buf(),
            master,
            state: RwLock::new(State {
                keks: BTreeMap::new(),
                stamp: None,
            }),
            salt,
            kdf_params: params,
        };
        provider.save(&keks)?;
        {
            let mut state = provider.state.write().map_err(|_| poisoned())?;
            state.keks = keks;
            state.stamp = stamp_of(path);
        }
        Ok(provider)
    }

    /// Opens a key file with its passphrase. A wrong passphrase is an error
    /// here, not later.
    pub fn open(path: &Path, passphrase: &[u8]) -> Result<Self, KeyError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| KeyError::Config(format!("{}: {e}", path.display())))?;
        let file: KeyFile = serde_json::from_str(&text)
            .map_err(|e| KeyError::Config(format!("{}: {e}", path.display())))?;
        let salt = B64
            .decode(&file.kdf.salt)
            .map_err(|_| KeyError::Config("key file: bad salt".into()))?;
        let params = (file.kdf.m_cost_kib, file.kdf.t_cost, file.kdf.p_cost);
        let master = derive_master(passphrase, &salt, params)?;
        let stamp = stamp_of(path);
        let (keks, _) = load_keks(path, &master)?;
        Ok(Self {
            path: path.to_path_buf(),
            master,
            state: RwLock::new(State { keks, stamp }),
            salt,
            kdf_params: params,
        })
    }

    /// Rereads the file when another process changed it.
    fn refresh(&self) -> Result<(), KeyError> {
        let on_disk = stamp_of(&self.path);
        {
            let state = self.state.read().map_err(|_| poisoned())?;
            if state.stamp == on_disk {
                return Ok(());
            }
        }
        let (keks, _) = load_keks(&self.path, &self.master)?;
        let mut state = self.state.write().map_err(|_| poisoned())?;
        state.keks = keks;
        state.stamp = on_disk;
        Ok(())
    }

    fn read(&self) -> Result<std::sync::RwLockReadGuard<'_, State>, KeyError> {
        self.refresh()?;
        self.state.read().map_err(|_| poisoned())
    }

    /// Changes the KEKs: under the file lock, on what is on disk now, and
    /// in memory only once the file is written.
    fn change<T>(&self, f: impl FnOnce(&mut Keks) -> Result<T, KeyError>) -> Result<T, KeyError> {
        let lock_path = self.path.with_extension("lock");
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| KeyError::Config(format!("{}: {e}", lock_path.display())))?;
        lock.lock()
            .map_err(|e| KeyError::Config(format!("{}: {e}", lock_path.display())))?;
        let mut state = self.state.write().map_err(|_| poisoned())?;
        let (mut next, _) = load_keks(&self.path, &self.master)?;
        let out = f(&mut next)?;
        self.save(&next)?;
        state.keks = next;
        state.stamp = stamp_of(&self.path);
        drop(lock);
        Ok(out)
    }

    /// Writes the file (owner-only) through a temporary name and syncs it,
    /// so a crash leaves the old or the new file, never half of one.
    fn save(&self, keks: &Keks) -> Result<(), KeyError> {
        use std::io::Write;
        let mut entries = BTreeMap::new();
        for (name, kek) in keks {
            let mut versions = BTreeMap::new();
            for (v, key) in &kek.versions {
                versions.insert(*v, B64.encode(wrap(&self.master, key)?));
            }
            entries.insert(
                name.clone(),
                KekEntry {
                    versions,
                    destroyed: kek.destroyed.clone(),
                },
            );
        }
        let file = KeyFile {
            format: FILE_FORMAT,
            kdf: Kdf {
                algorithm: "argon2id".into(),
                m_cost_kib: self.kdf_params.0,
                t_cost: self.kdf_params.1,
                p_cost: self.kdf_params.2,
                salt: B64.encode(&self.salt),
            },
            keks: entries,
            kek_id: None,
            versions: BTreeMap::new(),
            destroyed: Vec::new(),
        };
        let text = serde_json::to_string_pretty(&file)
            .map_err(|e| KeyError::Config(format!("key file: {e}")))?;
        let tmp = self.path.with_extension("tmp");
        let io = |e: std::io::Error| KeyError::Config(format!("{}: {e}", self.path.display()));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut out = options.open(&tmp).map_err(io)?;
        out.write_all(text.as_bytes()).map_err(io)?;
        out.sync_all().map_err(io)?;
        drop(out);
        std::fs::rename(&tmp, &self.path).map_err(io)?;
        if let Some(dir) = self.path.parent() {
            if let Ok(d) = std::fs::File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    }

    /// Destroys one version of a KEK: everything wrapped by that version
    /// becomes unreadable with any key this provider still holds.
    pub fn destroy_version(&self, kek_id: &str, version: u32) -> Result<(), KeyError> {
        self.change(|keks| {
            let kek = keks
                .get_mut(kek_id)
                .ok_or_else(|| KeyError::Config(format!("no KEK '{kek_id}'")))?;
            if kek.versions.remove(&version).is_none() {
                return Err(KeyError::Config(format!("no KEK version {version}")));
            }
            kek.destroyed.push(version);
            Ok(())
        })
    }

    /// Names of the KEKs in the file, with their live versions.
    pub fn keks(&self) -> Result<Vec<(String, Vec<u32>)>, KeyError> {
        Ok(self
            .read()?
            .keks
            .iter()
            .map(|(name, kek)| (name.clone(), kek.versions.keys().copied().collect()))
            .collect())
    }

    fn with_key<T>(
        &self,
        kek: &KekRef,
        f: impl FnOnce(&Zeroizing<[u8; 32]>) -> Result<T, KeyError>,
    ) -> Result<T, KeyError> {
        let state = self.read()?;
        let entry = state.keks.get(&kek.id).ok_or_else(|| {
            KeyError::Unwrap(format!("there is no KEK '{}' in the key file", kek.id))
        })?;
        let key = entry.versions.get(&kek.version).ok_or_else(|| {
            if entry.destroyed.contains(&kek.version) {
                KeyError::Unwrap(format!(
                    "KEK '{}' version {} was destroyed",
                    kek.id, kek.version
                ))
            } else {
                KeyError::Unwrap(format!("KEK '{}' has no version {}", kek.id, kek.version))
            }
        })?;
        f(key)
    }
}

fn current_of(keks: &Keks, kek_id: &str) -> Result<u32, KeyError> {
    let kek = keks
        .get(kek_id)
        .ok_or_else(|| KeyError::Unwrap(format!("there is no KEK '{kek_id}' in the key file")))?;
    kek.versions
        .keys()
        .next_back()
        .copied()
        .ok_or_else(|| KeyError::Unwrap(format!("every version of KEK '{kek_id}' was destroyed")))
}

impl KeyProvider for LocalKeyProvider {
    fn name(&self) -> &str {
        "local"
    }

    fn generate_data_key(&self, kek_id: &str, _binding: &Binding<'_>) -> Result<DataKey, KeyError> {
        let kek_ref = KekRef {
            id: kek_id.to_string(),
            version: self.current_version(kek_id)?,
        };
        let dek = random_key();
        let wrapped = self.with_key(&kek_ref, |kek| wrap(kek, &dek))?;
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
        self.with_key(kek, |key| unwrap(key, wrapped))
    }

    fn rewrap_data_key(
        &self,
        kek: &KekRef,
        wrapped: &[u8],
        binding: &Binding<'_>,
    ) -> Result<(KekRef, Vec<u8>), KeyError> {
        let current = KekRef {
            id: kek.id.clone(),
            version: self.current_version(&kek.id)?,
        };
        if *kek == current {
            return Ok((kek.clone(), wrapped.to_vec()));
        }
        let dek = self.unwrap_data_key(kek, wrapped, binding)?;
        let rewrapped = self.with_key(&current, |key| wrap(key, &dek))?;
        Ok((current, rewrapped))
    }

    fn current_version(&self, kek_id: &str) -> Result<u32, KeyError> {
        current_of(&self.read()?.keks, kek_id)
    }

    fn ensure_kek(&self, kek_id: &str) -> Result<KekRef, KeyError> {
        if let Ok(version) = self.current_version(kek_id) {
            return Ok(KekRef {
                id: kek_id.to_string(),
                version,
            });
        }
        // Checked again under the file lock: two first uses of a new KEK
        // must not each create (and overwrite) version 1.
        self.change(|keks| {
            if let Ok(version) = current_of(keks, kek_id) {
                return Ok(KekRef {
                    id: kek_id.to_string(),
                    version,
                });
            }
            if keks.get(kek_id).is_some_and(|k| !k.destroyed.is_empty()) {
                return Err(KeyError::Unwrap(format!(
                    "KEK '{kek_id}' was destroyed; it is not created again"
                )));
            }
            let entry = keks.entry(kek_id.to_string()).or_default();
            entry.versions.insert(1, random_key());
            Ok(KekRef {
                id: kek_id.to_string(),
                version: 1,
            })
        })
    }

    fn rotate_kek(&self, kek_id: &str) -> Result<KekRef, KeyError> {
        self.change(|keks| {
            let kek = keks
                .get_mut(kek_id)
                .ok_or_else(|| KeyError::Config(format!("no KEK '{kek_id}'")))?;
            if kek.versions.is_empty() {
                return Err(KeyError::Unwrap(format!(
                    "KEK '{kek_id}' was destroyed; it is not rotated back to life"
                )));
            }
            let next = kek
                .versions
                .keys()
                .chain(kek.destroyed.iter())
                .max()
                .copied()
                .unwrap_or(0)
                + 1;
            kek.versions.insert(next, random_key());
            Ok(KekRef {
                id: kek_id.to_string(),
                version: next,
            })
        })
    }

    fn destroy_kek(&self, kek_id: &str) -> Result<(), KeyError> {
        self.change(|keks| {
            let kek = keks
                .get_mut(kek_id)
                .ok_or_else(|| KeyError::Config(format!("no KEK '{kek_id}'")))?;
            let versions: Vec<u32> = kek.versions.keys().copied().collect();
            kek.versions.clear();
            kek.destroyed.extend(versions);
            Ok(())
        })
    }
}
