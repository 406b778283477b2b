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
use mamori_store::sealed_fields::FieldSealer;

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
    let answers = store
        .sealed_answers()
        .await
        .context("reading the sealed answers")?;
    let sealer = FieldSealer::new(keys.provider.clone(), &org_id, keys.config.per_vendor_keys);
    let per_vendor = keys.config.per_vendor_keys;
    let owners: FileOwners = store
        .evidence_files()
        .await
        .context("reading the evidence records")?
        .into_iter()
        .map(|(key, vendor, shredded)| (key, (vendor, shredded)))
        .collect();
    // Files of shredded vendors are not looked at again.
    let stored: Vec<String> = stored
        .into_iter()
        .filter(|k| !owners.get(k).is_some_and(|(_, shredded)| *shredded))
        .collect();
    match command {
        KeysCommand::Init(_) => Ok(()),
        KeysCommand::Status => status(&keys, &files, &stored, &answers),
        KeysCommand::Rotate { kek } => {
            let names: Vec<String> = match kek {
                Some(k) => vec![k.clone()],
                None => keks_in_use(&files, &stored, &answers)?,
            };
            for name in &names {
                let v = provider
                    .rotate_kek(name)
                    .with_context(|| format!("rotating KEK {name}"))?;
                println!("new KEK version: {} v{}", v.id, v.version);
            }
            rewrap_all(provider, &files, &stored, &owners, per_vendor, &org_id)?;
            rewrap_answers(&store, &sealer, &answers).await
        }
        KeysCommand::Rewrap => {
            rewrap_all(provider, &files, &stored, &owners, per_vendor, &org_id)?;
            rewrap_answers(&store, &sealer, &answers).await
        }
        KeysCommand::Verify { sample } => {
            let files_result = verify(provider, &files, &stored, &org_id, *sample);
            let mut failed = 0usize;
            for (assessment, question, value) in &answers {
                let object = mamori_app::assessments::answer_object(assessment, question);
                if let Err(e) = sealer.open("answer", &object, value) {
                    println!("  answer {object}: {e}");
                    failed += 1;
                }
            }
            println!(
                "{} sealed answer(s) checked, {failed} failed",
                answers.len()
            );
            files_result?;
            if failed > 0 {
                bail!("{failed} sealed answer(s) do not decrypt");
            }
            Ok(())
        }
        KeysCommand::Shred { vendor, confirm } => {
            let actor = crate::cli_actor();
            // The same sealed views `serve` uses, so anything of the vendor's
            // not yet under its KEK is sealed again under it first.
            let raw: Arc<dyn BlobStore> = Arc::new(
                FsBlobStore::open(&evidence_dir)
                    .with_context(|| format!("cannot open {}", evidence_dir.display()))?,
            );
            let sealed_files =
                mamori_store::blob::SealedBlobStore::new(raw, keys.provider.clone(), &org_id)
                    .with_per_vendor_keys(keys.config.per_vendor_keys);
            let store = store.with_field_sealer(FieldSealer::new(
                keys.provider.clone(),
                &org_id,
                keys.config.per_vendor_keys,
            ));
            let outcome = mamori_app::keys::shred_vendor_data(
                &store,
                provider,
                &sealed_files,
                &org_id,
                vendor,
                confirm,
                keys.config.per_vendor_keys,
                &actor,
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
    let local_file = data_dir.join("keys/local.json");
    let evidence_dir = data_dir.join("evidence");
    let has_evidence = std::fs::read_dir(&evidence_dir)
        .map(|mut d| d.next().is_some())
        .unwrap_or(false);
    if args.provider != "local" && (local_file.exists() || has_evidence) && !args.force {
        bail!(
            "this data directory already holds data sealed under the local key file ({}): moving it to another key manager is not automatic yet. Use a new data directory, or --force to accept that what is sealed now can no longer be opened",
            local_file.display()
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

type SealedAnswer = (String, String, String);

fn keks_in_use(
    files: &FsBlobStore,
    stored: &[String],
    answers: &[SealedAnswer],
) -> Result<Vec<String>> {
    let mut names = std::collections::BTreeSet::new();
    names.insert(DEFAULT_KEK.to_string());
    for key in stored {
        let raw = files.get(key)?;
        if let Ok((h, _)) = Header::parse(&raw) {
            names.insert(h.kek.id);
        }
    }
    for (_, _, value) in answers {
        if let Some(envelope) = FieldSealer::envelope(value) {
            if let Ok((h, _)) = Header::parse(&envelope) {
                names.insert(h.kek.id);
            }
        }
    }
    Ok(names.into_iter().collect())
}

/// Rewraps the sealed answers in the database; an answer edited meanwhile
/// is left as the edit wrote it. Resumable like the files.
async fn rewrap_answers(
    store: &mamori_store::Store,
    sealer: &FieldSealer,
    answers: &[SealedAnswer],
) -> Result<()> {
    let (mut moved, mut current) = (0usize, 0usize);
    let mut failed = Vec::new();
    for (assessment, question, value) in answers {
        let object = mamori_app::assessments::answer_object(assessment, question);
        match sealer.rewrap("answer", &object, value) {
            Ok(Some(new)) => {
                if store
                    .replace_sealed_answer(assessment, question, value, &new)
                    .await?
                {
                    moved += 1;
                }
            }
            Ok(None) => current += 1,
            Err(e) => failed.push(format!("answer {object}: {e}")),
        }
    }
    println!("rewrapped {moved} sealed answer(s), {current} already under the current version");
    if !failed.is_empty() {
        for f in &failed {
            println!("  {f}");
        }
        bail!(
            "{} sealed answer(s) could not be rewrapped (their key was refused or is unreachable)",
            failed.len()
        );
    }
    Ok(())
}

fn status(
    keys: &OpenedKeys,
    files: &FsBlobStore,
    stored: &[String],
    answers: &[SealedAnswer],
) -> Result<()> {
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
    let mut answer_versions: std::collections::BTreeMap<(String, u32), usize> = Default::default();
    for (_, _, value) in answers {
        if let Some((h, _)) = FieldSealer::envelope(value)
            .as_deref()
            .and_then(|e| Header::parse(e).ok())
        {
            *answer_versions
                .entry((h.kek.id, h.kek.version))
                .or_default() += 1;
        }
    }
    println!("sealed answers: {}", answers.len());
    for ((kek, version), n) in &answer_versions {
        println!("  KEK {kek} v{version}: {n}");
    }
    if unreadable > 0 {
        println!("  unreadable header: {unreadable}");
    }
    Ok(())
}

/// What the database says of each evidence file: its vendor, and whether
/// that vendor's data was shredded.
type FileOwners = std::collections::HashMap<String, (String, bool)>;

fn rewrap_all(
    provider: &dyn KeyProvider,
    files: &FsBlobStore,
    stored: &[String],
    owners: &FileOwners,
    per_vendor_keys: bool,
    org_id: &str,
) -> Result<()> {
    let bar = crate::progress_bar(stored.len() as u64);
    let (mut moved, mut sealed, mut current, mut skipped) = (0usize, 0usize, 0usize, 0usize);
    let mut failed = Vec::new();
    for key in stored {
        let owner = owners.get(key);
        if owner.is_some_and(|(_, shredded)| *shredded) {
            // A shredded vendor's file stays as it is: unreadable.
            skipped += 1;
            bar.inc(1);
            continue;
        }
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
                Err(e) => failed.push(format!("{key}: {e}")),
            }
        } else {
            // Stored before encryption: sealed under its vendor's KEK.
            let kek = match owner {
                Some((vendor, _)) if per_vendor_keys => mamori_keys::vendor_kek(vendor),
                _ => DEFAULT_KEK.to_string(),
            };
            provider
                .ensure_kek(&kek)
                .with_context(|| format!("evidence file {key}: KEK {kek}"))?;
            let new = mamori_keys::seal(provider, &kek, &blob_binding(org_id, key), &raw)
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
    if skipped > 0 {
        println!("{skipped} file(s) of shredded vendors left as they are");
    }
    if !failed.is_empty() {
        for f in &failed {
            println!("  {f}");
        }
        bail!(
            "{} file(s) could not be rewrapped (their key was refused or is unreachable); a rerun continues where this one stopped",
            failed.len()
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
