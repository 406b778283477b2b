//! `mamori`: the one binary. Glue only — configuration, terminal output and
//! exit codes; the work is done by the library crates.

mod bench;
mod cli;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use mamori_app::vendors::{ExportFormat, ImportOptions};
use mamori_app::AppError;
use mamori_domain::{Role, TieringPolicy};
use mamori_store::{Actor, NewUser, Store, VendorListQuery, VendorScope};

use cli::{
    AdminCommand, Cli, Command, ExportCommand, ImportCommand, PolicyCommand, VendorsCommand,
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
        Command::Bench { command } => bench::run(command).await,
    }
}

async fn serve(cli: &Cli, args: &cli::ServeArgs) -> Result<()> {
    let (store, org_id) = start(cli).await?;
    let policy = mamori_app::policy::current_policy(&store, &org_id)
        .await
        .context("the stored tiering policy is invalid")?;
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
    let state = mamori_web::AppState::new(store, org_id, policy, config);
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
