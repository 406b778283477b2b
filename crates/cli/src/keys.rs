//! `mamori keys …` and the key provider `serve` uses: `keys.toml` in the
//! data directory chooses the key manager; without it, the local key file.

use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use mamori_keys::config::{KeyConfig, SecretSource};
use mamori_keys::envelope::{Header, MAGIC};
use mamori_keys::local::LocalKeyProvider;
use mamori_keys::managed::ManagedProvider;
use mamori_keys::{Binding, KeyProvider, DEFAULT_KEK};
use mamori_store::blob::{BlobStore, FsBlobStore};

use crate::cli::{Cli, KeysCommand, KeysInitArgs};

pub const CONFIG_FILE: &str = "keys.toml";

/// The configured key manager behind retries and the read cache.
pub struct OpenedKeys {
    pub provider: Arc<ManagedProvider>,
    pub config: KeyConfig,
    /// For logs and `keys status`: provider and where it is (no secrets).
    pub description: String,
}

/// Opens the key manager `keys.toml` names (the local key file when there
/// is none).
pub fn open_provider(data_dir: &Path) -> Result<OpenedKeys> {
    let path = data_dir.join(CONFIG_FILE);
    let config = if path.exists() {
        KeyConfig::load(&path)?
    } else {
        KeyConfig::local_default()
    };
    let (inner, description) = build_inner(&config, data_dir)?;
    let provider = Arc::new(ManagedProvider::new(
        inner,
        config.retry_policy(),
        config.cache_policy(),
    ));
    Ok(OpenedKeys {
        provider,
        config,
        description,
    })
}

fn build_inner(config: &KeyConfig, data_dir: &Path) -> Result<(Box<dyn KeyProvider>, String)> {
    match config.provider.as_str() {
        "local" => {
            let section = config.local.clone().unwrap_or_else(|| {
                KeyConfig::local_default()
                    .local
                    .expect("the default has a local section")
            });
            let file = data_dir.join(&section.file);
            let provider = open_local_keys(&file, section.passphrase.as_ref(), data_dir)?;
            Ok((
                Box::new(provider),
                format!("local key file {}", file.display()),
            ))
        }
        _ => Ok(config
            .connect_remote(data_dir)
            .with_context(|| format!("cannot connect to the {} key manager", config.provider))?),
    }
}

/// The local key file (created on first start). The passphrase comes from
/// the configured source, else `MAMORI_KEY_PASSPHRASE`, else the file
/// `passphrase` beside the key file, which a first start without either
/// generates: convenient for a demo, but a passphrase beside the data
/// protects nothing, so production sets one (or uses a key manager).
fn open_local_keys(
    key_file: &Path,
    source: Option<&SecretSource>,
    data_dir: &Path,
) -> Result<LocalKeyProvider> {
    let keys_dir = key_file
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| data_dir.to_path_buf());
    std::fs::create_dir_all(&keys_dir)
        .with_context(|| format!("cannot create {}", keys_dir.display()))?;
    let passphrase_file = keys_dir.join("passphrase");
    let passphrase: zeroize::Zeroizing<String> = match (
        source,
        std::env::var("MAMORI_KEY_PASSPHRASE"),
    ) {
        (Some(source), _) => source.read("the key file's passphrase", data_dir)?,
        (None, Ok(p)) if !p.is_empty() => zeroize::Zeroizing::new(p),
        _ if passphrase_file.exists() => zeroize::Zeroizing::new(
            std::fs::read_to_string(&passphrase_file)
                .with_context(|| format!("cannot read {}", passphrase_file.display()))?
                .trim()
                .to_string(),
        ),
        _ if !key_file.exists() => {
            let mut bytes = [0u8; 32];
            rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
            let generated = zeroize::Zeroizing::new(base64::Engine::encode(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                bytes,
            ));
            crate::write_private(&passphrase_file, generated.as_bytes())?;
            tracing::warn!(
                file = %passphrase_file.display(),
                "generated a key passphrase beside the data (development only): set MAMORI_KEY_PASSPHRASE in production"
            );
            generated
        }
        _ => bail!(
            "the key file {} needs its passphrase: set MAMORI_KEY_PASSPHRASE",
            key_file.display()
        ),
    };
    let provider = if key_file.exists() {
        LocalKeyProvider::open(key_file, passphrase.as_bytes())
    } else {
        LocalKeyProvider::create(key_file, passphrase.as_bytes())
    }
    .with_context(|| format!("cannot open the key file {}", key_file.display()))?;
    Ok(provider)
}

fn blob_binding<'a>(org: &'a str, key: &'a str) -> Binding<'a> {
    Binding {
        tenant: org,
        kind: "blob",
        object_id: key,
    }
}

fn secret_source(args: &KeysInitArgs, what: &str) -> Result<SecretSource> {
    match (&args.secret_env, &args.secret_file) {
        (Some(env), None) => Ok(SecretSource {
            env: Some(env.clone()),
            file: None,
        }),
        (None, Some(file)) => Ok(SecretSource {
            env: None,
            file: Some(file.clone()),
        }),
        _ => bail!(
            "{what}: give --secret-env VARIABLE or --secret-file FILE (never the secret itself on the command line)"
        ),
    }
}

fn init_config(args: &KeysInitArgs) -> Result<KeyConfig> {
    use mamori_keys::config::{AwsKmsSection, OpenBaoSection, Pkcs11Section};
    let mut config = KeyConfig::local_default();
    config.provider = args.provider.clone();
    config.per_vendor_keys = !args.no_per_vendor_keys;
    config.cache.max_age_seconds = args.cache_seconds;
    match args.provider.as_str() {
        "local" => {}
        "pkcs11" => {
            config.local = None;
            config.pkcs11 = Some(Pkcs11Section {
                module: args
                    .module
                    .clone()
                    .context("pkcs11 needs --module (the HSM's PKCS#11 library)")?,
                token_label: args
                    .token_label
                    .clone()
                    .context("pkcs11 needs --token-label")?,
                pin: secret_source(args, "the HSM user PIN")?,
            });
        }
        "openbao" => {
            config.local = None;
            config.openbao = Some(OpenBaoSection {
                addr: args
                    .addr
                    .clone()
                    .context("openbao needs --addr (e.g. https://bao.example:8200)")?,
                mount: args.mount.clone(),
                namespace: None,
                token: secret_source(args, "the OpenBao token")?,
                timeout_seconds: 10,
            });
        }
        "aws-kms" => {
            config.local = None;
            config.aws_kms = Some(AwsKmsSection {
                endpoint: args
                    .addr
                    .clone()
                    .unwrap_or_else(|| format!("https://kms.{}.amazonaws.com", args.region)),
                region: args.region.clone(),
                access_key_id: SecretSource {
                    env: Some(args.access_key_id_env.clone()),
                    file: None,
                },
                secret_access_key: secret_source(args, "the AWS secret access key")?,
                session_token: None,
                timeout_seconds: 10,
            });
        }
        other => bail!("provider '{other}' is unknown (local, pkcs11, openbao or aws-kms)"),
    }
    config.check()?;
    Ok(config)
}

/// `mamori keys …` on the data directory's evidence files.
pub async fn run(cli: &Cli, command: &KeysCommand) -> Result<()> {
    if let KeysCommand::Init(args) = command {
        return init(&cli.data_dir, args);
    }
    let (store, org_id) = crate::start(cli).await?;
    let keys = open_provider(&cli.data_dir)?;
    let provider = keys.provider.as_ref();
    let evidence_dir = cli.data_dir.join("evidence");
    let files = FsBlobStore::open(&evidence_dir)
        .with_context(|| format!("cannot open {}", evidence_dir.display()))?;
    let stored = files.keys()?;
    match command {
        KeysCommand::Init(_) => Ok(()),
        KeysCommand::Status => status(&keys, &files, &stored),
        KeysCommand::Rotate { kek } => {
            let names: Vec<String> = match kek {
                Some(k) => vec![k.clone()],
                None => keks_in_use(&files, &stored)?,
            };
            for name in &names {
                let v = provider
                    .rotate_kek(name)
                    .with_context(|| format!("rotating KEK {name}"))?;
                println!("new KEK version: {} v{}", v.id, v.version);
            }
            rewrap_all(provider, &files, &stored, &org_id)
        }
        KeysCommand::Rewrap => rewrap_all(provider, &files, &stored, &org_id),
        KeysCommand::Verify { sample } => verify(provider, &files, &stored, &org_id, *sample),
        KeysCommand::Shred { vendor, confirm } => {
            let actor = crate::cli_actor();
            let outcome = mamori_app::keys::shred_vendor_data(
                &store, provider, &files, &org_id, vendor, confirm, &actor,
            )
            .await?;
            println!(
                "destroyed KEK {} in {}; {} evidence file(s) of '{}' can no longer be decrypted ({} file(s) removed from the data directory)",
                outcome.kek,
                provider.name(),
                outcome.evidence,
                outcome.vendor_name,
                outcome.files_removed
            );
            println!(
                "Copies outside Mamori's reach (backups of the data directory, database replicas) hold only ciphertext; they stay unreadable as long as the KEK stays destroyed."
            );
            Ok(())
        }
    }
}

fn init(data_dir: &Path, args: &KeysInitArgs) -> Result<()> {
    let path = data_dir.join(CONFIG_FILE);
    if path.exists() && !args.force {
        bail!(
            "{} exists already; `mamori keys status` shows the key manager it names (use --force to replace it: files sealed under another key manager would no longer open)",
            path.display()
        );
    }
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create {}", data_dir.display()))?;
    let config = init_config(args)?;
    let (inner, description) = build_inner(&config, data_dir)?;
    let kek = inner
        .ensure_kek(DEFAULT_KEK)
        .with_context(|| format!("creating the installation's KEK in {description}"))?;
    let text = config.to_toml()?;
    let tmp = path.with_extension("toml.tmp");
    std::fs::write(&tmp, text)
        .and_then(|_| std::fs::rename(&tmp, &path))
        .with_context(|| format!("cannot write {}", path.display()))?;
    println!("key manager: {description}");
    println!("KEK: {} version {}", kek.id, kek.version);
    println!(
        "per-vendor KEKs: {}",
        if config.per_vendor_keys { "on" } else { "off" }
    );
    println!("wrote {}", path.display());
    Ok(())
}

fn keks_in_use(files: &FsBlobStore, stored: &[String]) -> Result<Vec<String>> {
    let mut names = std::collections::BTreeSet::new();
    names.insert(DEFAULT_KEK.to_string());
    for key in stored {
        let raw = files.get(key)?;
        if let Ok((h, _)) = Header::parse(&raw) {
            names.insert(h.kek.id);
        }
    }
    Ok(names.into_iter().collect())
}

fn status(keys: &OpenedKeys, files: &FsBlobStore, stored: &[String]) -> Result<()> {
    let provider = keys.provider.as_ref();
    println!("key manager: {}", keys.description);
    println!(
        "per-vendor KEKs: {}; read cache: {}",
        if keys.config.per_vendor_keys {
            "on"
        } else {
            "off"
        },
        match keys.config.cache_policy() {
            Some(c) => format!(
                "{} s, {} uses (revocation takes effect within {} s)",
                c.max_age.as_secs(),
                c.max_uses,
                c.max_age.as_secs()
            ),
            None => "off (every read asks the key manager)".into(),
        }
    );
    let mut per_version: std::collections::BTreeMap<(String, u32), usize> = Default::default();
    let (mut clear, mut unreadable) = (0usize, 0usize);
    for key in stored {
        let raw = files.get(key)?;
        if !raw.starts_with(MAGIC) {
            clear += 1;
            continue;
        }
        match Header::parse(&raw) {
            Ok((h, _)) => *per_version.entry((h.kek.id, h.kek.version)).or_default() += 1,
            Err(_) => unreadable += 1,
        }
    }
    match provider.current_version(DEFAULT_KEK) {
        Ok(v) => println!("reachable: yes; KEK {DEFAULT_KEK} is at version {v}"),
        Err(e) => println!("reachable: NO — {e}"),
    }
    println!("evidence files: {}", stored.len());
    let mut kek_names: Vec<&String> = per_version.keys().map(|(k, _)| k).collect();
    kek_names.dedup();
    for name in kek_names {
        let current = match provider.current_version(name) {
            Ok(v) => format!("current v{v}"),
            Err(e) => format!("unusable: {e}"),
        };
        println!("  KEK {name} ({current})");
        for ((_, version), n) in per_version.iter().filter(|((k, _), _)| k == name) {
            println!("    v{version}: {n} file(s)");
        }
    }
    if clear > 0 {
        println!("  not yet encrypted: {clear} (run `mamori keys rewrap`)");
    }
    if unreadable > 0 {
        println!("  unreadable header: {unreadable}");
    }
    Ok(())
}

fn rewrap_all(
    provider: &dyn KeyProvider,
    files: &FsBlobStore,
    stored: &[String],
    org_id: &str,
) -> Result<()> {
    let bar = crate::progress_bar(stored.len() as u64);
    let (mut moved, mut sealed, mut current, mut shredded) = (0usize, 0usize, 0usize, 0usize);
    for key in stored {
        let raw = files.get(key)?;
        if raw.starts_with(MAGIC) {
            match mamori_keys::rewrap(provider, &blob_binding(org_id, key), &raw) {
                // Written through a temporary name and renamed: an
                // interruption leaves the old or the new file, so a rerun
                // picks up where this one stopped.
                Ok(Some(new)) => {
                    files.put(key, &new)?;
                    moved += 1;
                }
                Ok(None) => current += 1,
                // A shredded vendor's files stay as they are: unreadable.
                Err(mamori_keys::KeyError::Unwrap(_)) => shredded += 1,
                Err(e) => return Err(e).with_context(|| format!("evidence file {key}")),
            }
        } else {
            let new = mamori_keys::seal(provider, DEFAULT_KEK, &blob_binding(org_id, key), &raw)
                .with_context(|| format!("evidence file {key}"))?;
            files.put(key, &new)?;
            sealed += 1;
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    println!(
        "rewrapped {moved} file(s), sealed {sealed} unencrypted file(s), {current} already under the current version"
    );
    if shredded > 0 {
        println!(
            "{shredded} file(s) could not be unwrapped (shredded or revoked KEK): left as they are"
        );
    }
    Ok(())
}

fn verify(
    provider: &dyn KeyProvider,
    files: &FsBlobStore,
    stored: &[String],
    org_id: &str,
    sample: Option<usize>,
) -> Result<()> {
    let picked: Vec<&String> = match sample {
        Some(n) if n < stored.len() => {
            use rand::seq::SliceRandom;
            let mut all: Vec<&String> = stored.iter().collect();
            all.shuffle(&mut rand::thread_rng());
            all.truncate(n);
            all
        }
        _ => stored.iter().collect(),
    };
    let bar = crate::progress_bar(picked.len() as u64);
    let mut failed = Vec::new();
    for key in &picked {
        let raw = files.get(key)?;
        if !raw.starts_with(MAGIC) {
            failed.push(format!("{key}: not encrypted"));
        } else if let Err(e) = mamori_keys::open(provider, &blob_binding(org_id, key), &raw) {
            failed.push(format!("{key}: {e}"));
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    println!("{} file(s) checked, {} failed", picked.len(), failed.len());
    for f in &failed {
        println!("  {f}");
    }
    if failed.is_empty() {
        Ok(())
    } else {
        bail!("{} evidence file(s) do not decrypt", failed.len())
    }
}
