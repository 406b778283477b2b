//! `mamori`: the one binary. Glue only — configuration, terminal output and
//! exit codes; the work is done by the library crates.

mod bench;
mod cli;
mod discover;
mod keys;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use mamori_app::vendors::{ExportFormat, ImportOptions};
use mamori_app::AppError;
use mamori_domain::questionnaire::TemplateFile;
use mamori_domain::risk::{RiskPolicy, RiskPolicyError};
use mamori_domain::{Role, TieringPolicy};
use mamori_formats::FrameworkImport;
use mamori_store::{Actor, NewUser, Store, StoreError, VendorListQuery, VendorScope};

use cli::{
    AdminCommand, Cli, Command, ExportCommand, FrameworksCommand, ImportCommand, PolicyCommand,
    QuestionnairesCommand, RiskPolicyCommand, VendorsCommand,
};

fn main() {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("MAMORI_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            std::process::exit(2);
        }
    };
    if let Err(err) = runtime.block_on(run(cli)) {
        eprintln!("error: {err}");
        for cause in err.chain().skip(1) {
            eprintln!("  caused by: {cause}");
        }
        std::process::exit(2);
    }
}

/// Opens the database the flags name: PostgreSQL or SQLite by URL, else the
/// embedded SQLite file in the data directory.
async fn open_store(cli: &Cli) -> Result<Store> {
    let store = match &cli.database_url {
        Some(url) => Store::connect(url)
            .await
            .context("cannot open the database")?,
        None => Store::open_data_dir(&cli.data_dir)
            .await
            .with_context(|| format!("cannot open the database in {}", cli.data_dir.display()))?,
    };
    Ok(store)
}

async fn start(cli: &Cli) -> Result<(Store, String)> {
    let store = open_store(cli).await?;
    let started = mamori_app::setup::start(&store, mamori_app::setup::DEFAULT_ORGANISATION)
        .await
        .context("start-up failed")?;
    if let Some((email, password)) = &started.first_admin {
        eprintln!();
        eprintln!("  First start: created the administrator account");
        eprintln!("    e-mail:   {email}");
        eprintln!("    password: {password}");
        eprintln!("  This password is shown once. Sign in and change it under My account.");
        eprintln!();
    }
    Ok((store, started.org_id))
}

/// `start`, then makes sure the questionnaires shipped in the binary are
/// stored (new versions are added, existing ones left alone).
async fn start_with_templates(cli: &Cli) -> Result<(Store, String)> {
    let (store, org_id) = start(cli).await?;
    mamori_app::assessments::sync_builtin_templates(&store)
        .await
        .context("storing the built-in questionnaires failed")?;
    Ok((store, org_id))
}

fn cli_actor() -> Actor {
    let user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    Actor::system(&format!("cli ({user})"))
}

async fn run(cli: Cli) -> Result<()> {
    match &cli.command {
        Command::Serve(args) => serve(&cli, args).await,
        Command::Admin { command } => match command {
            AdminCommand::CreateUser { email, role, name } => {
                create_user(&cli, email, role, name.as_deref()).await
            }
        },
        Command::Import { command } => match command {
            ImportCommand::Vendors(args) => import_vendors(&cli, args).await,
            ImportCommand::Chpl {
                file,
                owner,
                output,
            } => import_chpl(&cli, file, owner, output.as_deref()).await,
        },
        Command::Export { command } => match command {
            ExportCommand::Vendors { format, output } => {
                export_vendors(&cli, format, output.as_deref()).await
            }
        },
        Command::Vendors { command } => match command {
            VendorsCommand::List {
                json,
                tier,
                search,
                limit,
            } => list_vendors(&cli, *json, tier.as_deref(), search.as_deref(), *limit).await,
        },
        Command::Policy { command } => policy(&cli, command).await,
        Command::RiskPolicy { command } => risk_policy(&cli, command).await,
        Command::Keys { command } => keys::run(&cli, command).await,
        Command::Frameworks { command } => frameworks(&cli, command).await,
        Command::Questionnaires { command } => questionnaires(&cli, command).await,
        Command::Discover(args) => discover::run(args),
        Command::Bench { command } => bench::run(command).await,
    }
}

async fn serve(cli: &Cli, args: &cli::ServeArgs) -> Result<()> {
    let (store, org_id) = start(cli).await?;
    let policy = mamori_app::policy::current_policy(&store, &org_id)
        .await
        .context("the stored tiering policy is invalid")?;
    let risk_policy = mamori_app::risks::current_risk_policy(&store, &org_id)
        .await
        .context("the stored risk policy is invalid")?;
    // Acceptances that ran out while the server was down need a new decision
    // before anyone looks at the register.
    let reopened =
        mamori_app::risks::expire_acceptances(&store, &org_id, &risk_policy, chrono::Utc::now())
            .await
            .context("reopening risks whose acceptance expired failed")?;
    if reopened.is_empty() {
        tracing::debug!("no risk acceptance has expired");
    } else {
        tracing::info!(
            risks = reopened.len(),
            "reopened risks whose acceptance has expired"
        );
    }
    if args.demo {
        let added = mamori_app::setup::load_demo(&store, &org_id, &policy)
            .await
            .context("loading the demo data failed")?;
        if added > 0 {
            tracing::info!(vendors = added, "loaded the demo organisation");
        }
    }
    let config = mamori_web::WebConfig {
        secure_cookies: args.secure_cookies,
        ..Default::default()
    };
    // Evidence files live beside the embedded database (also with PostgreSQL:
    // the data directory holds the files, the database their records).
    let evidence_dir = cli.data_dir.join("evidence");
    let files: std::sync::Arc<dyn mamori_store::blob::BlobStore> = std::sync::Arc::new(
        mamori_store::blob::FsBlobStore::open(&evidence_dir).with_context(|| {
            format!(
                "cannot open the evidence store in {}",
                evidence_dir.display()
            )
        })?,
    );
    // Evidence is encrypted under the customer's key before it is written.
    let keys = keys::open_provider(&cli.data_dir)?;
    tracing::info!(provider = %keys.description, "key manager");
    let blobs: std::sync::Arc<dyn mamori_store::blob::BlobStore> = std::sync::Arc::new(
        mamori_store::blob::SealedBlobStore::new(files, keys.provider.clone(), &org_id)
            .with_per_vendor_keys(keys.config.per_vendor_keys),
    );
    let swept = mamori_app::assessments::sweep_orphan_blobs(&store, &blobs)
        .await
        .context("checking the evidence store failed")?;
    if swept > 0 {
        tracing::warn!(
            files = swept,
            "removed evidence files that had no record (left by an interrupted upload)"
        );
    }
    // Sensitive database fields (answers marked sensitive) are sealed too.
    let store = store.with_field_sealer(mamori_store::sealed_fields::FieldSealer::new(
        keys.provider.clone(),
        &org_id,
        keys.config.per_vendor_keys,
    ));
    // The customer's kill switch (a refused key) goes in the audit log.
    mamori_app::keys::audit_key_refusals(
        store.clone(),
        &keys.provider,
        tokio::runtime::Handle::current(),
    );
    let state = mamori_web::AppState::new(store, org_id, policy, config)
        .with_blob_store(blobs)
        .with_key_provider(keys.provider.clone(), keys.config.per_vendor_keys);
    *state.risk_policy.write().await = risk_policy;
    let app = mamori_web::build_router(state);
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    tracing::info!("Mamori is listening on http://{addr}");
    eprintln!("Mamori is running at http://{addr}  (Ctrl-C to stop)");
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
    .context("the server stopped with an error")?;
    Ok(())
}

async fn create_user(cli: &Cli, email: &str, role: &str, name: Option<&str>) -> Result<()> {
    let role = Role::parse(role).map_err(anyhow::Error::msg)?;
    mamori_domain::validate_email(email).map_err(|r| anyhow::anyhow!("--email {r}"))?;
    let mut password = String::new();
    std::io::stdin()
        .read_to_string(&mut password)
        .context("reading the password from standard input")?;
    let password = password.trim_end_matches(['\n', '\r']).to_string();
    let hash = mamori_app::password::hash_password(&password)?;
    let (store, org_id) = start(cli).await?;
    let user = store
        .create_user(
            &org_id,
            NewUser {
                email: email.into(),
                display_name: name.unwrap_or(email).into(),
                role,
                password_hash: Some(hash),
                locale: None,
            },
            &cli_actor(),
        )
        .await?;
    println!("created {} ({})", user.email, user.role);
    Ok(())
}

fn progress_bar(total: u64) -> ProgressBar {
    if std::env::var_os("CI").is_some() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} {msg} [{bar:40}] {pos}/{len} rows ({per_sec}, {eta})",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

fn print_row_errors(errors: &[mamori_formats::inventory::RowError], file: &str) {
    const SHOWN: usize = 50;
    for e in errors.iter().take(SHOWN) {
        eprintln!("  {file}: {e}");
    }
    if errors.len() > SHOWN {
        eprintln!("  … and {} more", errors.len() - SHOWN);
    }
}

async fn import_vendors(cli: &Cli, args: &cli::ImportVendorsArgs) -> Result<()> {
    if args.template {
        let format = args.format.as_deref().unwrap_or("csv");
        let bytes = match format {
            "csv" => mamori_formats::inventory::template_csv(),
            "xlsx" => mamori_formats::inventory::template_xlsx()?,
            other => bail!("unknown template format '{other}': use csv or xlsx"),
        };
        return write_output(
            args.output.as_deref(),
            &bytes,
            &format!("mamori-vendor-template.{format}"),
        );
    }
    let Some(file) = &args.file else {
        bail!("name the file to import (or use --template to write the template)");
    };
    let bytes = read_input(file)?;
    let file_name = file
        .file_name()
        .map(|f| f.to_string_lossy().to_string())
        .unwrap_or_else(|| "stdin.csv".into());
    let options = ImportOptions {
        skip_invalid: args.skip_invalid,
        dry_run: args.dry_run,
    };
    import_bytes(
        cli,
        &file.display().to_string(),
        &file_name,
        &bytes,
        options,
    )
    .await
}

/// Imports an inventory already in memory; `display` names it in messages.
async fn import_bytes(
    cli: &Cli,
    display: &str,
    file_name: &str,
    bytes: &[u8],
    options: ImportOptions,
) -> Result<()> {
    let (store, org_id) = start(cli).await?;
    let policy = mamori_app::policy::current_policy(&store, &org_id).await?;
    let bar = progress_bar(0);
    bar.set_message("importing");
    let progress_bar = bar.clone();
    let progress = move |p: mamori_store::ImportProgress| {
        progress_bar.set_length(p.total as u64);
        progress_bar.set_position(p.done as u64);
    };
    let started = Instant::now();
    let result = mamori_app::vendors::import_file(
        &store,
        &org_id,
        &policy,
        mamori_app::vendors::Upload {
            file_name,
            bytes,
            options,
        },
        &cli_actor(),
        &progress,
    )
    .await;
    bar.finish_and_clear();
    match result {
        Ok(report) => {
            if !report.errors.is_empty() {
                eprintln!("skipped {} invalid row(s):", report.errors.len());
                print_row_errors(&report.errors, display);
            }
            match report.outcome {
                Some(o) => println!(
                    "{display}: {} rows read, {} created, {} updated, {} unchanged, {} skipped in {:.2} s",
                    report.rows_read, o.created, o.updated, o.unchanged, report.errors.len(), started.elapsed().as_secs_f64()
                ),
                None => println!("{display}: dry run, {} valid rows, {} invalid; nothing was changed", report.valid_rows, report.errors.len()),
            }
            Ok(())
        }
        Err(AppError::RowsRejected(errors)) => {
            print_row_errors(&errors, display);
            bail!("{display}: {} row error(s); nothing was imported (use --skip-invalid to import the valid rows)", errors.len())
        }
        Err(AppError::Inventory(e)) => bail!("{display}: {e}"),
        Err(e) => Err(e.into()),
    }
}

async fn import_chpl(cli: &Cli, file: &Path, owner: &str, output: Option<&Path>) -> Result<()> {
    mamori_domain::validate_email(owner).map_err(|r| anyhow::anyhow!("--owner {r}"))?;
    let bytes = read_input(file)?;
    let csv = mamori_formats::chpl_to_inventory_csv(&bytes, owner)
        .with_context(|| format!("{} is not a CHPL product list", file.display()))?;
    if let Some(out) = output {
        return write_output(Some(out), &csv, "");
    }
    let display = file.display().to_string();
    import_bytes(
        cli,
        &display,
        "chpl-vendors.csv",
        &csv,
        ImportOptions::default(),
    )
    .await
}

async fn export_vendors(cli: &Cli, format: &str, output: Option<&Path>) -> Result<()> {
    let format = ExportFormat::parse(format)
        .with_context(|| format!("unknown format '{format}': use csv, xlsx or json"))?;
    let (store, org_id) = start(cli).await?;
    let bytes =
        mamori_app::vendors::export_vendors(&store, &org_id, &VendorScope::All, format).await?;
    write_output(output, &bytes, "")
}

async fn list_vendors(
    cli: &Cli,
    json: bool,
    tier: Option<&str>,
    search: Option<&str>,
    limit: u32,
) -> Result<()> {
    let (store, org_id) = start(cli).await?;
    let tier = tier
        .map(mamori_domain::Tier::parse)
        .transpose()
        .map_err(anyhow::Error::msg)?;
    let mut query = VendorListQuery {
        tier,
        search: search.map(str::to_string),
        sort: mamori_store::SortKey::Tier,
        descending: true,
        per_page: 500,
        page: 1,
        ..Default::default()
    };
    let mut all = Vec::new();
    loop {
        let page = store
            .list_vendors(&org_id, &query, &VendorScope::All)
            .await?;
        let done = page.vendors.is_empty() || all.len() + page.vendors.len() >= page.total as usize;
        all.extend(page.vendors);
        if done || (limit > 0 && all.len() >= limit as usize) {
            break;
        }
        query.page += 1;
    }
    if limit > 0 {
        all.truncate(limit as usize);
    }
    if json {
        let out: Vec<_> = all
            .iter()
            .map(|v| {
                let scores: serde_json::Map<String, serde_json::Value> =
                    v.scores.iter().map(|(c, s)| (c.as_str().to_string(), s.into())).collect();
                serde_json::json!({
                    "id": v.id, "legal_name": v.legal_name, "vendor_type": v.vendor_type, "status": v.status,
                    "owner_email": v.owner_email, "tier": v.tier, "scores": scores, "top_score": v.score_max,
                    "data_classes": v.data_classes, "policy_version": v.policy_version,
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "{:<9} {:>5}  {:<16} {:<12} NAME",
            "TIER", "SCORE", "TYPE", "STATUS"
        )?;
        for v in &all {
            writeln!(
                out,
                "{:<9} {:>5}  {:<16} {:<12} {}",
                v.tier, v.score_max, v.vendor_type, v.status, v.legal_name
            )?;
        }
    }
    Ok(())
}

async fn policy(cli: &Cli, command: &PolicyCommand) -> Result<()> {
    match command {
        PolicyCommand::Check { file } => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let policy = TieringPolicy::from_toml(&text)
                .with_context(|| format!("{} is not a valid tiering policy", file.display()))?;
            println!(
                "{}: valid tiering policy {} ({} factors, {} floors)",
                file.display(),
                policy.version,
                policy.factors.len(),
                policy.floors.len()
            );
            Ok(())
        }
        PolicyCommand::Apply { file } => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            TieringPolicy::from_toml(&text)
                .with_context(|| format!("{} is not a valid tiering policy", file.display()))?;
            let (store, org_id) = start(cli).await?;
            let started = Instant::now();
            let (policy, outcome) =
                mamori_app::policy::apply_policy(&store, &org_id, &text, &cli_actor()).await?;
            println!(
                "applied {}: {} vendors re-tiered, {} tier changes, in {:.2} s",
                policy.version,
                outcome.vendors,
                outcome.tier_changes,
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        PolicyCommand::Show => {
            let (store, org_id) = start(cli).await?;
            match store.active_policy(&org_id).await? {
                Some(p) => print!("{}", p.content),
                None => print!("{}", mamori_domain::DEFAULT_POLICY_TOML),
            }
            Ok(())
        }
    }
}

/// Reads and validates a risk policy file; every problem is printed on its
/// own line, so a policy author can fix them all in one go.
fn read_risk_policy(file: &Path) -> Result<(String, RiskPolicy)> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    match RiskPolicy::parse(&text) {
        Ok(policy) => Ok((text, policy)),
        Err(RiskPolicyError::Invalid(problems)) => {
            for p in &problems {
                eprintln!("  {}: {p}", file.display());
            }
            bail!(
                "{} is not a valid risk policy: {} problem(s)",
                file.display(),
                problems.len()
            )
        }
        // Shown once: the TOML error is also the error's source.
        Err(e) => bail!("{}: {e}", file.display()),
    }
}

async fn risk_policy(cli: &Cli, command: &RiskPolicyCommand) -> Result<()> {
    match command {
        RiskPolicyCommand::Show => {
            let (store, org_id) = start(cli).await?;
            match store.active_risk_policy(&org_id).await? {
                Some((_, content)) => print!("{content}"),
                None => print!("{}", mamori_domain::risk::DEFAULT_RISK_POLICY_TOML),
            }
            Ok(())
        }
        RiskPolicyCommand::Check { file } => {
            let (_, policy) = read_risk_policy(file)?;
            println!(
                "{}: valid risk policy {} ({}×{} matrix, threshold at residual {}, acceptances up to {} months)",
                file.display(),
                policy.version,
                policy.matrix.likelihood_steps(),
                policy.matrix.impact_steps(),
                policy.threshold.residual_score_at_least,
                policy.acceptance.max_months
            );
            Ok(())
        }
        RiskPolicyCommand::Apply { file } => {
            let (text, _) = read_risk_policy(file)?;
            let (store, org_id) = start(cli).await?;
            let started = Instant::now();
            let outcome =
                mamori_app::risks::apply_risk_policy(&store, &org_id, &text, &cli_actor())
                    .await
                    .with_context(|| format!("cannot apply {}", file.display()))?;
            println!(
                "applied risk policy {}: {} risks evaluated, {} threshold changes ({} of them now above threshold), in {:.2} s",
                outcome.version,
                outcome.evaluated,
                outcome.changed,
                outcome.now_above,
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
    }
}

/// The file's name for format detection and messages ("stdin" for '-').
fn file_name_of(path: &Path) -> String {
    path.file_name()
        .map(|f| f.to_string_lossy().to_string())
        .unwrap_or_else(|| "stdin".into())
}

async fn frameworks(cli: &Cli, command: &FrameworksCommand) -> Result<()> {
    match command {
        FrameworksCommand::Import { file } => {
            let display = file.display().to_string();
            let bytes = read_input(file)?;
            let parsed = mamori_formats::detect_and_parse_framework(&file_name_of(file), &bytes)
                .with_context(|| format!("cannot import {display}"))?;
            let (store, _) = start_with_templates(cli).await?;
            match parsed {
                FrameworkImport::Framework(framework) => {
                    store
                        .upsert_framework(&framework)
                        .await
                        .with_context(|| format!("{display}: storing the framework failed"))?;
                    let withdrawn = framework.elements.iter().filter(|e| e.withdrawn).count();
                    println!(
                        "{display}: imported framework {} version {} \"{}\": {} elements ({}){}",
                        framework.key,
                        framework.version,
                        framework.name,
                        framework.elements.len(),
                        element_kind_counts(&framework),
                        if withdrawn > 0 {
                            format!(", {withdrawn} withdrawn")
                        } else {
                            String::new()
                        }
                    );
                }
                FrameworkImport::Mapping(mappings) => {
                    let written = store
                        .replace_mappings(&mappings)
                        .await
                        .with_context(|| format!("{display}: storing the mappings failed"))?;
                    let mut sets: Vec<(&str, &str, usize)> = Vec::new();
                    for m in &mappings {
                        let pair = (m.source_framework.as_str(), m.target_framework.as_str());
                        match sets.iter_mut().find(|(s, t, _)| (*s, *t) == pair) {
                            Some(set) => set.2 += 1,
                            None => sets.push((pair.0, pair.1, 1)),
                        }
                    }
                    let mut relationships: Vec<(&str, usize)> = Vec::new();
                    for m in &mappings {
                        match relationships.iter_mut().find(|(r, _)| *r == m.relationship) {
                            Some(r) => r.1 += 1,
                            None => relationships.push((m.relationship.as_str(), 1)),
                        }
                    }
                    let sets = sets
                        .iter()
                        .map(|(s, t, n)| format!("{s} → {t} ({n})"))
                        .collect::<Vec<_>>()
                        .join(", ");
                    let relationships = relationships
                        .iter()
                        .map(|(r, n)| format!("{r} {n}"))
                        .collect::<Vec<_>>()
                        .join(", ");
                    println!(
                        "{display}: imported {written} mappings {sets}; relationships: {relationships}{}",
                        if written < mappings.len() {
                            format!(" ({} duplicate rows ignored)", mappings.len() - written)
                        } else {
                            String::new()
                        }
                    );
                }
            }
            Ok(())
        }
        FrameworksCommand::List => {
            let (store, _) = start_with_templates(cli).await?;
            let stored = store.list_frameworks().await?;
            let mappings = store.mapping_counts().await?;
            let builtin = &mamori_domain::framework::csf2().framework;
            let mut out = std::io::stdout().lock();
            writeln!(
                out,
                "{:<40} {:<12} {:>8}  NAME",
                "KEY", "VERSION", "ELEMENTS"
            )?;
            writeln!(
                out,
                "{:<40} {:<12} {:>8}  {} (built in)",
                builtin.key,
                builtin.version,
                builtin.elements.len(),
                builtin.name
            )?;
            for f in &stored {
                writeln!(
                    out,
                    "{:<40} {:<12} {:>8}  {}",
                    f.framework_key, f.version, f.element_count, f.name
                )?;
            }
            writeln!(out)?;
            if mappings.is_empty() {
                writeln!(out, "no framework mappings imported")?;
            } else {
                writeln!(out, "{:<40} {:<27} {:>8}", "MAPPING FROM", "TO", "MAPPINGS")?;
                for (source, target, n) in &mappings {
                    writeln!(out, "{source:<40} {target:<27} {n:>8}")?;
                }
            }
            Ok(())
        }
    }
}

/// "6 function, 22 category, 106 subcategory" in the order kinds first appear.
fn element_kind_counts(framework: &mamori_domain::framework::Framework) -> String {
    let mut counts: Vec<(mamori_domain::framework::ElementKind, usize)> = Vec::new();
    for e in &framework.elements {
        match counts.iter_mut().find(|(k, _)| *k == e.kind) {
            Some(c) => c.1 += 1,
            None => counts.push((e.kind, 1)),
        }
    }
    counts
        .iter()
        .map(|(k, n)| format!("{n} {}", k.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Checks a TOML questionnaire template file read from `file`.
fn parse_template_file(file: &Path, bytes: Vec<u8>) -> Result<(String, TemplateFile)> {
    let text = String::from_utf8(bytes)
        .with_context(|| format!("{} is not UTF-8 text", file.display()))?;
    let parsed = TemplateFile::parse(&text)
        .with_context(|| format!("{} is not a valid questionnaire template", file.display()))?;
    Ok((text, parsed))
}

/// Is this a Google VSAQ questionnaire (JSON, possibly opening with `//`
/// licence lines) rather than a TOML template?
fn is_vsaq(file: &Path, bytes: &[u8]) -> bool {
    let json_name = file
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let first = bytes
        .split(|b| *b == b'\n')
        .map(|line| line.trim_ascii())
        .find(|line| !line.is_empty() && !line.starts_with(b"//"));
    json_name || first.is_some_and(|line| line.starts_with(b"{"))
}

/// Reads a VSAQ questionnaire, printing what could not be carried over.
fn read_vsaq(file: &Path, bytes: &[u8]) -> Result<mamori_formats::VsaqImport> {
    let parsed = mamori_formats::parse_vsaq_questionnaire(&file_name_of(file), bytes)
        .with_context(|| {
            format!(
                "{} is not a VSAQ questionnaire Mamori can read",
                file.display()
            )
        })?;
    const SHOWN: usize = 20;
    for w in parsed.warnings.iter().take(SHOWN) {
        eprintln!("  {}: {w}", file.display());
    }
    if parsed.warnings.len() > SHOWN {
        eprintln!("  … and {} more", parsed.warnings.len() - SHOWN);
    }
    Ok(parsed)
}

fn vsaq_stats(s: &mamori_formats::VsaqStats) -> String {
    format!(
        "{} questions in {} sections, {} scored ({} of {} warning tips became pass rules), \
         {} conditional ({} exact, {} partial, {} always shown)",
        s.questions,
        s.sections,
        s.scored,
        s.warning_tips_mapped,
        s.warning_tips,
        s.conditional,
        s.conditions_exact,
        s.conditions_partial,
        s.conditions_dropped
    )
}

async fn questionnaires(cli: &Cli, command: &QuestionnairesCommand) -> Result<()> {
    match command {
        QuestionnairesCommand::List => {
            let (store, _) = start_with_templates(cli).await?;
            let templates = store.list_templates().await?;
            let mut out = std::io::stdout().lock();
            writeln!(
                out,
                "{:<40} {:<14} {:<8} {:>9}  TITLE",
                "KEY", "VERSION", "ORIGIN", "QUESTIONS"
            )?;
            for t in &templates {
                writeln!(
                    out,
                    "{:<40} {:<14} {:<8} {:>9}  {}",
                    t.template_key, t.version, t.origin, t.question_count, t.title
                )?;
            }
            Ok(())
        }
        QuestionnairesCommand::Check { file } => {
            let bytes = read_input(file)?;
            if is_vsaq(file, &bytes) {
                let parsed = read_vsaq(file, &bytes)?;
                println!(
                    "{}: valid VSAQ questionnaire, imports as {} version {}: {}",
                    file.display(),
                    parsed.template.key,
                    parsed.template.version,
                    vsaq_stats(&parsed.stats)
                );
                return Ok(());
            }
            let (_, parsed) = parse_template_file(file, bytes)?;
            let templates = parsed.templates();
            let depths = if parsed.depths.is_empty() {
                format!("{} questions", parsed.questions.len())
            } else {
                templates
                    .iter()
                    .map(|t| {
                        format!(
                            "{} {}",
                            t.depth.as_deref().unwrap_or("-"),
                            t.questions.len()
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let scored = parsed.questions.iter().filter(|q| q.is_scored()).count();
            let gated = parsed
                .questions
                .iter()
                .filter(|q| q.show_if.is_some())
                .count();
            println!(
                "{}: valid questionnaire {} version {} ({} questions, {scored} scored, {gated} conditional, {} sections); questions per depth: {depths}",
                file.display(),
                parsed.key,
                parsed.version,
                parsed.questions.len(),
                parsed.sections.len(),
            );
            Ok(())
        }
        QuestionnairesCommand::Import { file } => {
            let display = file.display().to_string();
            let bytes = read_input(file)?;
            if is_vsaq(file, &bytes) {
                let parsed = read_vsaq(file, &bytes)?;
                let (store, _) = start_with_templates(cli).await?;
                let (_, added) =
                    mamori_app::assessments::store_template(&store, &parsed.template, "vsaq")
                        .await
                        .with_context(|| format!("cannot import {display}"))?;
                println!(
                    "{display}: {} VSAQ questionnaire {} {}: {}",
                    if added { "imported" } else { "already had" },
                    parsed.template.key,
                    parsed.template.version,
                    vsaq_stats(&parsed.stats)
                );
                return Ok(());
            }
            let (text, _) = parse_template_file(file, bytes)?;
            let (store, _) = start_with_templates(cli).await?;
            let keys = mamori_app::assessments::import_template_toml(&store, &text)
                .await
                .with_context(|| format!("cannot import {display}"))?;
            println!("{display}: imported {}", keys.join(", "));
            Ok(())
        }
        QuestionnairesCommand::Sheet { key, lang, output } => {
            let (store, _) = start_with_templates(cli).await?;
            let record = match store.template_by_key(key).await {
                Ok(r) => r,
                Err(StoreError::NotFound(_)) => {
                    bail!("no questionnaire template '{key}' (see `mamori questionnaires list`)")
                }
                Err(e) => return Err(e.into()),
            };
            let template = mamori_app::assessments::load_template(&store, &record.id)
                .await
                .with_context(|| format!("cannot read questionnaire template '{key}'"))?;
            let csv = mamori_formats::answer_sheet::answer_sheet_csv(&template, lang);
            write_output(output.as_deref(), &csv, "")
        }
    }
}

fn read_input(path: &Path) -> Result<Vec<u8>> {
    if path.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .context("reading standard input")?;
        return Ok(buf);
    }
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

fn write_output(output: Option<&Path>, bytes: &[u8], default_name: &str) -> Result<()> {
    match output {
        Some(path) if path.as_os_str() != "-" => {
            std::fs::write(path, bytes)
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!("wrote {} ({} bytes)", path.display(), bytes.len());
        }
        _ if !default_name.is_empty() && output.is_none() => {
            let path = PathBuf::from(default_name);
            std::fs::write(&path, bytes)
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!("wrote {} ({} bytes)", path.display(), bytes.len());
        }
        _ => std::io::stdout()
            .write_all(bytes)
            .context("writing standard output")?,
    }
    Ok(())
}

/// Writes a file only its owner can read.
pub(crate) fn write_private(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(bytes)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
