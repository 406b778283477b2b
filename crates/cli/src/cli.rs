//! Command-line flags, declared once; `mamori --help` is generated from them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "mamori",
    version,
    about = "Third-party vendor risk management for healthcare",
    propagate_version = true
)]
pub struct Cli {
    /// Directory of the embedded SQLite database.
    #[arg(
        long,
        global = true,
        env = "MAMORI_DATA_DIR",
        default_value = "./mamori-data"
    )]
    pub data_dir: PathBuf,

    /// postgres://… (production) or sqlite://… ; overrides --data-dir.
    #[arg(
        long,
        global = true,
        env = "MAMORI_DATABASE_URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the web UI and JSON API.
    Serve(ServeArgs),
    /// Manage accounts.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Import vendor inventories.
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// Export vendors with tiers and scores.
    Export {
        #[command(subcommand)]
        command: ExportCommand,
    },
    /// Look at vendors.
    Vendors {
        #[command(subcommand)]
        command: VendorsCommand,
    },
    /// Validate, apply or show the tiering policy.
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// Validate, apply or show the risk policy (matrix, threshold, deadlines, acceptance).
    RiskPolicy {
        #[command(subcommand)]
        command: RiskPolicyCommand,
    },
    /// Customer-held keys: set up the key manager, status, rotation, rewrap, verification, shredding.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Import and list control frameworks (NIST CSF, SP 800-53, …) and mappings.
    Frameworks {
        #[command(subcommand)]
        command: FrameworksCommand,
    },
    /// Check, import and list questionnaire templates; write answer sheets.
    Questionnaires {
        #[command(subcommand)]
        command: QuestionnairesCommand,
    },
    /// Find the cloud apps people use, from proxy, firewall and DNS logs
    /// (works without a database).
    Discover(DiscoverArgs),
    /// Measure Mamori's speed on generated data (prints throughput).
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
}

#[derive(Args, Debug)]
pub struct DiscoverArgs {
    /// Log files (plain, .gz, .zst), directories (every file beneath), or
    /// `-` for standard input (with --format).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// The log format; `auto` detects it per file from its first lines.
    #[arg(long, default_value = "auto")]
    pub format: String,
    /// Columns (CSV) or keys (JSON lines) for `--format csv|jsonl`, e.g.
    /// `ts=time,user=login,src_ip=client,host=hostname,bytes_down=resp_bytes`.
    #[arg(long, value_name = "FIELD=COLUMN,…")]
    pub map: Option<String>,
    /// Your own catalog file(s) (same format as the shipped one); an app
    /// with the id of a shipped app replaces it.
    #[arg(long, value_name = "FILE")]
    pub catalog: Vec<PathBuf>,
    /// Print JSON (apps, unknown destinations, files, malformed lines).
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// Print the apps as CSV.
    #[arg(long)]
    pub csv: bool,
    /// Count only events at or after this time (2026-12-01 or RFC 3339).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Count only events before this time.
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Worker threads (default: one per core).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Rows shown per table in the text output.
    #[arg(long, default_value_t = 50)]
    pub top: usize,
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "MAMORI_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Load the demo hospital (about 150 vendors) when the database has no vendors.
    #[arg(long)]
    pub demo: bool,
    /// Mark cookies Secure: set this when Mamori is reached over HTTPS.
    #[arg(long, env = "MAMORI_SECURE_COOKIES")]
    pub secure_cookies: bool,
}

#[derive(Subcommand, Debug)]
pub enum AdminCommand {
    /// Create a user; the password is read from standard input.
    CreateUser {
        #[arg(long)]
        email: String,
        /// administrator, risk_manager, acceptance_authority, relationship_owner, auditor, vendor_contact
        #[arg(long)]
        role: String,
        #[arg(long)]
        name: Option<String>,
    },
}

#[derive(Args, Debug, Clone)]
pub struct ImportVendorsArgs {
    /// CSV or XLSX file ('-' for standard input).
    pub file: Option<PathBuf>,
    /// Write the import template instead of importing.
    #[arg(long)]
    pub template: bool,
    /// Template format: csv or xlsx.
    #[arg(long, requires = "template")]
    pub format: Option<String>,
    /// Where to write the template.
    #[arg(short, long, requires = "template")]
    pub output: Option<PathBuf>,
    /// Import the valid rows and report the invalid ones.
    #[arg(long)]
    pub skip_invalid: bool,
    /// Validate only; change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Subcommand, Debug)]
pub enum ImportCommand {
    /// Import a vendor inventory (CSV or XLSX).
    Vendors(ImportVendorsArgs),
    /// Import the ONC CHPL certified health-IT product list as vendor candidates.
    Chpl {
        /// The CHPL products JSON file.
        file: PathBuf,
        /// Relationship owner e-mail for the imported vendors.
        #[arg(long)]
        owner: String,
        /// Only convert: write the vendor CSV here instead of importing.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
pub enum ExportCommand {
    /// Export every vendor.
    Vendors {
        /// csv, xlsx or json
        #[arg(long, default_value = "csv")]
        format: String,
        /// Output file ('-' or none for standard output).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
pub enum VendorsCommand {
    /// List vendors, highest tier first.
    List {
        #[arg(long)]
        json: bool,
        #[arg(long)]
        tier: Option<String>,
        #[arg(long)]
        search: Option<String>,
        /// At most this many (0 = all).
        #[arg(long, default_value_t = 0)]
        limit: u32,
    },
}

#[derive(Subcommand, Debug)]
pub enum PolicyCommand {
    /// Validate a policy file without applying it.
    Check { file: PathBuf },
    /// Apply a policy file and re-tier every vendor.
    Apply { file: PathBuf },
    /// Print the policy in force.
    Show,
}

#[derive(Subcommand, Debug)]
pub enum RiskPolicyCommand {
    /// Print the risk policy in force (the one applied last, else the shipped default).
    Show,
    /// Validate a risk policy file without applying it.
    Check { file: PathBuf },
    /// Apply a risk policy file and re-evaluate every risk's threshold.
    Apply { file: PathBuf },
}

#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Choose the key manager, create or reference the installation's KEK,
    /// and write `keys.toml` in the data directory.
    Init(KeysInitArgs),
    /// Key manager, reachability, KEKs and versions, and how many files each version protects.
    Status,
    /// Create a new KEK version (of every KEK, or of one), then rewrap every
    /// file's data key under it.
    Rotate {
        /// Rotate only this KEK (e.g. `mamori` or `mamori-vendor-<id>`).
        #[arg(long)]
        kek: Option<String>,
    },
    /// Rewrap the data keys not yet under the current KEK version (resumable;
    /// also seals files stored before encryption was enabled).
    Rewrap,
    /// Decrypt-check the evidence files (all, or a random sample); exit 2 if any fails.
    Verify {
        /// Check only this many files, picked at random.
        #[arg(long)]
        sample: Option<usize>,
    },
    /// Crypto-shred a terminated vendor's files: destroy the vendor's KEK
    /// in the key manager, so no key Mamori can reach opens them again.
    Shred {
        /// The vendor's id.
        #[arg(long)]
        vendor: String,
        /// The vendor's name, typed again to confirm.
        #[arg(long)]
        confirm: String,
    },
}

#[derive(Args, Debug)]
pub struct KeysInitArgs {
    /// local, pkcs11, openbao or aws-kms.
    #[arg(long, default_value = "local")]
    pub provider: String,
    /// Overwrite an existing keys.toml (objects already sealed under another
    /// key manager become unreadable to this installation).
    #[arg(long)]
    pub force: bool,
    /// One KEK for the whole installation instead of one per vendor.
    #[arg(long)]
    pub no_per_vendor_keys: bool,
    /// Keep unwrapped data keys for reads up to this many seconds (0 = no cache).
    #[arg(long, default_value_t = 0)]
    pub cache_seconds: u64,
    /// PKCS#11 module (the HSM's library).
    #[arg(long)]
    pub module: Option<PathBuf>,
    /// PKCS#11 token label.
    #[arg(long)]
    pub token_label: Option<String>,
    /// OpenBao / Vault address, or the AWS KMS endpoint.
    #[arg(long)]
    pub addr: Option<String>,
    /// Transit mount (OpenBao / Vault).
    #[arg(long, default_value = "transit")]
    pub mount: String,
    /// AWS region.
    #[arg(long, default_value = "us-east-1")]
    pub region: String,
    /// Environment variable holding the secret (HSM PIN, OpenBao token, AWS secret access key).
    #[arg(long)]
    pub secret_env: Option<String>,
    /// File holding the secret instead.
    #[arg(long)]
    pub secret_file: Option<PathBuf>,
    /// Environment variable holding the AWS access key id.
    #[arg(long, default_value = "AWS_ACCESS_KEY_ID")]
    pub access_key_id_env: String,
}

#[derive(Subcommand, Debug)]
pub enum FrameworksCommand {
    /// Import an OSCAL catalog (XML or JSON), a CSF core CSV or a mapping CSV.
    Import { file: PathBuf },
    /// List stored frameworks, the built-in CSF 2.0 index and mapping sets.
    List,
}

#[derive(Subcommand, Debug)]
pub enum QuestionnairesCommand {
    /// List questionnaire templates (newest version of each).
    List,
    /// Validate a TOML template file without importing it.
    Check { file: PathBuf },
    /// Import a TOML template file (or a Google VSAQ JSON questionnaire).
    Import { file: PathBuf },
    /// Write the blank answer sheet (CSV) of a template.
    Sheet {
        /// Template key, e.g. healthcare-baseline/standard (newest version).
        key: String,
        /// Language of the question texts.
        #[arg(long, default_value = "en", value_parser = ["en", "ja"])]
        lang: String,
        /// Output file ('-' or none for standard output).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
pub enum BenchCommand {
    /// Import N generated vendor rows into a fresh database.
    Import {
        #[arg(long, default_value_t = 100_000)]
        rows: usize,
        /// Benchmark against this database URL instead of a temporary SQLite file.
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Re-tier N vendors after a policy change.
    Retier {
        #[arg(long, default_value_t = 10_000)]
        vendors: usize,
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Time the dashboard queries over N vendors and M completed assessments.
    Dashboard {
        #[arg(long, default_value_t = 10_000)]
        vendors: usize,
        #[arg(long, default_value_t = 50_000)]
        assessments: usize,
        /// Times each query set is run.
        #[arg(long, default_value_t = 500)]
        repeat: usize,
        /// Keep the SQLite database afterwards (its directory is printed).
        #[arg(long)]
        keep: bool,
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Envelope encryption: AES-256-GCM throughput on one core, a 10 MB
    /// evidence file through the sealed file store (local key file, and each
    /// key manager given with --keys-config), the key manager's round trip,
    /// and rewrapping N data keys.
    Keys {
        /// Megabytes sealed and opened for the throughput figure.
        #[arg(long, default_value_t = 256)]
        megabytes: usize,
        /// Data keys rewrapped (local key file; OpenBao with `rewrap_batch`).
        #[arg(long, default_value_t = 100_000)]
        rewraps: usize,
        /// A `keys.toml` naming a key manager to measure as well (repeatable).
        /// Secrets come from the sources it names; relative secret files are
        /// resolved beside it. The KEKs it creates (`mamori-vendor-bench-<pid>`,
        /// `mamori-bench-rewrap-<pid>`) are destroyed at the end.
        #[arg(long = "keys-config", value_name = "FILE")]
        keys_configs: Vec<std::path::PathBuf>,
        /// Upload + download runs of the 10 MB file per key manager (after
        /// one warm-up run).
        #[arg(long, default_value_t = 20)]
        runs: usize,
    },
    /// Shadow SaaS discovery over a generated Squid native log: MB/s on one
    /// core and on all, against `wc -l` and (when installed) DuckDB.
    Discover {
        /// Size of the generated log in MB.
        #[arg(long, default_value_t = 1024)]
        megabytes: u64,
        /// Keep the generated log (its path is printed).
        #[arg(long)]
        keep: bool,
    },
    /// Re-evaluate the threshold of N risks after a risk policy change.
    RiskThreshold {
        #[arg(long, default_value_t = 100_000)]
        risks: usize,
        /// Vendors the risks are spread over.
        #[arg(long, default_value_t = 2_000)]
        vendors: usize,
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Time the heat-map page's queries (heat map and first page) over N risks.
    RiskHeatmap {
        #[arg(long, default_value_t = 100_000)]
        risks: usize,
        #[arg(long, default_value_t = 2_000)]
        vendors: usize,
        /// Times the query pair is run.
        #[arg(long, default_value_t = 200)]
        repeat: usize,
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Fill a data directory with N generated vendors (for load tests of serve).
    Seed {
        #[arg(long, default_value_t = 10_000)]
        vendors: usize,
    },
}
