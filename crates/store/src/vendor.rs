//! Vendors and their services and data flows.

use std::collections::HashMap;

use mamori_domain::{
    fold_name, CategoryScores, Connectivity, DataAction, DataClass, DataFlow, Deployment,
    LifecycleStatus, Rating, RevenueDependency, RiskCategory, Service, Tenancy, Tier, VendorDraft,
    VendorSource, VendorType,
};
use serde::Serialize;
use sqlx::Row;

use crate::audit::{insert_audit, NewAudit};
use crate::error::{json_list, StoreError};
use crate::{new_id, now, on_pool, Actor, Store};

/// Which vendors a person may see: everything, or only those they own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VendorScope {
    All,
    OwnedBy(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SortKey {
    #[default]
    Name,
    Tier,
    Type,
    Status,
    Owner,
    Score,
    Updated,
}

impl SortKey {
    pub const ALL: &'static [SortKey] = &[
        SortKey::Name,
        SortKey::Tier,
        SortKey::Type,
        SortKey::Status,
        SortKey::Owner,
        SortKey::Score,
        SortKey::Updated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SortKey::Name => "name",
            SortKey::Tier => "tier",
            SortKey::Type => "type",
            SortKey::Status => "status",
            SortKey::Owner => "owner",
            SortKey::Score => "score",
            SortKey::Updated => "updated",
        }
    }

    pub fn parse(raw: &str) -> Option<SortKey> {
        SortKey::ALL.iter().copied().find(|k| k.as_str() == raw)
    }

    fn order_by(self, descending: bool) -> &'static str {
        match (self, descending) {
            (SortKey::Name, false) => "sort_name ASC, id ASC",
            (SortKey::Name, true) => "sort_name DESC, id DESC",
            (SortKey::Tier, false) => "tier_rank ASC, score_max ASC, sort_name ASC, id ASC",
            (SortKey::Tier, true) => "tier_rank DESC, score_max DESC, sort_name ASC, id ASC",
            (SortKey::Type, false) => "vendor_type ASC, sort_name ASC, id ASC",
            (SortKey::Type, true) => "vendor_type DESC, sort_name ASC, id ASC",
            (SortKey::Status, false) => "status ASC, sort_name ASC, id ASC",
            (SortKey::Status, true) => "status DESC, sort_name ASC, id ASC",
            (SortKey::Owner, false) => "owner_email ASC, sort_name ASC, id ASC",
            (SortKey::Owner, true) => "owner_email DESC, sort_name ASC, id ASC",
            (SortKey::Score, false) => "score_max ASC, sort_name ASC, id ASC",
            (SortKey::Score, true) => "score_max DESC, sort_name ASC, id ASC",
            (SortKey::Updated, false) => "updated_at ASC, id ASC",
            (SortKey::Updated, true) => "updated_at DESC, id DESC",
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct VendorListQuery {
    pub search: Option<String>,
    pub tier: Option<Tier>,
    pub vendor_type: Option<VendorType>,
    pub status: Option<LifecycleStatus>,
    pub owner: Option<String>,
    pub data_class: Option<DataClass>,
    pub sort: SortKey,
    pub descending: bool,
    pub page: u32,
    pub per_page: u32,
}

/// One line of the vendor list.
#[derive(Debug, Clone, Serialize)]
pub struct VendorSummary {
    pub id: String,
    pub legal_name: String,
    pub vendor_type: VendorType,
    pub status: LifecycleStatus,
    pub owner_email: String,
    pub owner_name: Option<String>,
    pub tier: Tier,
    pub scores: CategoryScores,
    pub score_max: u32,
    pub data_classes: Vec<DataClass>,
    pub domains: Vec<String>,
    pub policy_version: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct VendorPage {
    pub vendors: Vec<VendorSummary>,
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
}

impl VendorPage {
    pub fn page_count(&self) -> u32 {
        let per = i64::from(self.per_page.max(1));
        u32::try_from((self.total + per - 1) / per)
            .unwrap_or(u32::MAX)
            .max(1)
    }
}

/// Everything about one vendor.
#[derive(Debug, Clone, Serialize)]
pub struct VendorRecord {
    pub id: String,
    pub draft: VendorDraft,
    /// Tier, scores and the policy version that produced them; the
    /// explanation is `assess(policy, &draft)` under that policy.
    pub rating: Rating,
    pub created_at: String,
    pub updated_at: String,
    pub tier_history: Vec<TierChange>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TierChange {
    pub from_tier: Option<Tier>,
    pub to_tier: Tier,
    pub policy_version: String,
    pub cause: String,
    pub changed_at: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportOutcome {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
}

#[derive(Debug, Clone, Copy)]
pub struct ImportProgress {
    pub done: usize,
    pub total: usize,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct RetierOutcome {
    pub vendors: usize,
    pub tier_changes: usize,
    pub score_changes: usize,
}

/// Imports at least this big rebuild `vendors_dashboard` after loading.
const BULK_INDEX_REBUILD_ROWS: usize = 5_000;

/// The dashboard's covering index, exactly as migration 0002 creates it
/// (a test compares the two).
pub const VENDORS_DASHBOARD_INDEX: &str = "CREATE INDEX vendors_dashboard ON vendors(org_id, tier, status, score_cybersecurity, score_reputational, \
    score_compliance, score_privacy, score_operational, score_strategic, score_financial, next_assessment_due,
    last_assessed_on, assessment_score, open_findings_critical, open_findings_high, open_findings_medium, open_findings_low)";

/// What the dashboard counts.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DashboardCounts {
    pub total: i64,
    /// Indexed Low, Moderate, High, Critical.
    pub by_tier: [i64; 4],
    /// Indexed as `LifecycleStatus::ALL`.
    pub by_status: [i64; 5],
    /// Per category (as `RiskCategory::ALL`), vendors per band Low..Critical.
    pub category_bands: [[i64; 4]; 7],
}

fn tier_rank(tier: Tier) -> i64 {
    match tier {
        Tier::Low => 0,
        Tier::Moderate => 1,
        Tier::High => 2,
        Tier::Critical => 3,
    }
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "[]".into())
}

/// Change detection for re-imports (FNV-1a over the canonical JSON; not a
/// security control).
pub fn content_hash(draft: &VendorDraft) -> String {
    /// Hashes what it is written, so the JSON is never held in memory.
    struct Fnv(u64);
    impl std::io::Write for Fnv {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            for byte in bytes {
                self.0 ^= u64::from(*byte);
                self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
            }
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut hasher = Fnv(0xcbf2_9ce4_8422_2325);
    // Writing into a hasher cannot fail; a draft always serialises.
    let _ = serde_json::to_writer(&mut hasher, draft);
    format!("{:016x}", hasher.0)
}

/// The vendors-table values derived from a draft and its risk.
struct VendorRow {
    matching_key: String,
    external_id: Option<String>,
    legal_name: String,
    sort_name: String,
    search_text: String,
    aliases: String,
    domains: String,
    vendor_type: &'static str,
    deployment: &'static str,
    tenancy: &'static str,
    status: &'static str,
    source: &'static str,
    owner_email: String,
    owner_name: Option<String>,
    notes: Option<String>,
    data_classes: String,
    tier: &'static str,
    tier_rank: i64,
    scores: [i64; 7],
    score_max: i64,
    policy_version: String,
    content_hash: String,
}

impl VendorRow {
    fn new(draft: &VendorDraft, risk: &Rating) -> Self {
        Self::with_hash(draft, risk, content_hash(draft))
    }

    fn with_hash(draft: &VendorDraft, risk: &Rating, content_hash: String) -> Self {
        let sort_name = fold_name(&draft.legal_name);
        let mut search = sort_name.clone();
        for extra in draft
            .aliases
            .iter()
            .chain(draft.domains.iter())
            .chain(draft.external_id.iter())
        {
            search.push(' ');
            search.push_str(&extra.to_lowercase());
        }
        search.push(' ');
        search.push_str(&draft.owner_email.to_lowercase());
        let mut classes: Vec<&str> = draft
            .data_flows
            .iter()
            .map(|f| f.data_class.as_str())
            .collect();
        classes.sort_unstable();
        classes.dedup();
        let mut scores = [0i64; 7];
        for (i, s) in risk.scores.0.iter().enumerate() {
            scores[i] = i64::from(*s);
        }
        VendorRow {
            matching_key: draft.matching_key(),
            external_id: draft.external_id.clone().filter(|s| !s.trim().is_empty()),
            legal_name: draft.legal_name.trim().to_string(),
            sort_name,
            search_text: search,
            aliases: json(&draft.aliases),
            domains: json(&draft.domains),
            vendor_type: draft.vendor_type.as_str(),
            deployment: draft.deployment.as_str(),
            tenancy: draft.tenancy.as_str(),
            status: draft.status.as_str(),
            source: draft.source.as_str(),
            owner_email: draft.owner_email.trim().to_lowercase(),
            owner_name: draft.owner_name.clone().filter(|s| !s.trim().is_empty()),
            notes: draft.notes.clone().filter(|s| !s.trim().is_empty()),
            data_classes: format!(",{},", classes.join(",")),
            tier: risk.tier.as_str(),
            tier_rank: tier_rank(risk.tier),
            scores,
            score_max: i64::from(risk.scores.highest().1),
            policy_version: risk.policy_version.clone(),
            content_hash,
        }
    }
}

const VENDOR_INSERT: &str = "INSERT INTO vendors (id, org_id, matching_key, external_id, legal_name, sort_name, search_text, aliases, domains, \
     vendor_type, deployment, tenancy, status, source, owner_email, owner_name, notes, data_classes, tier, tier_rank, \
     score_cybersecurity, score_reputational, score_compliance, score_privacy, score_operational, score_strategic, score_financial, \
     score_max, policy_version, content_hash, created_at, updated_at) ";

const VENDOR_UPDATE: &str = "UPDATE vendors SET matching_key = $1, external_id = $2, legal_name = $3, sort_name = $4, search_text = $5, \
     aliases = $6, domains = $7, vendor_type = $8, deployment = $9, tenancy = $10, status = $11, source = $12, owner_email = $13, \
     owner_name = $14, notes = $15, data_classes = $16, tier = $17, tier_rank = $18, score_cybersecurity = $19, score_reputational = $20, \
     score_compliance = $21, score_privacy = $22, score_operational = $23, score_strategic = $24, score_financial = $25, score_max = $26, \
     policy_version = $27, content_hash = $28, updated_at = $29 WHERE id = $30 AND org_id = $31";

const SUMMARY_COLUMNS: &str = "id, legal_name, vendor_type, status, owner_email, owner_name, tier, score_cybersecurity, score_reputational, \
     score_compliance, score_privacy, score_operational, score_strategic, score_financial, score_max, data_classes, domains, policy_version, updated_at";

/// Refuses a rating computed under a policy other than the one in force
/// (another instance may have applied a new one meanwhile).
macro_rules! check_policy_version {
    ($tx:expr, $org:expr, $version:expr) => {{
        let active: Option<String> = sqlx::query_scalar(
            "SELECT version FROM policies WHERE org_id = $1 ORDER BY applied_at DESC LIMIT 1",
        )
        .bind($org)
        .fetch_optional(&mut *$tx)
        .await?;
        if let Some(active) = active {
            if active != $version {
                return Err(StoreError::PolicyChanged(active));
            }
        }
    }};
}

/// Rows per multi-row INSERT: keeps every statement under SQLite's limit of
/// 32,766 bound parameters (33 columns × 400 rows).
const BATCH: usize = 400;

/// Binds vendor rows into a multi-row insert, moving their values (no copies).
macro_rules! push_vendor_values {
    ($builder:expr, $rows:expr, $org:expr, $at:expr) => {
        $builder.push_values($rows, |mut b, (id, row): (String, VendorRow)| {
            b.push_bind(id)
                .push_bind($org.to_string())
                .push_bind(row.matching_key)
                .push_bind(row.external_id)
                .push_bind(row.legal_name)
                .push_bind(row.sort_name)
                .push_bind(row.search_text)
                .push_bind(row.aliases)
                .push_bind(row.domains)
                .push_bind(row.vendor_type)
                .push_bind(row.deployment)
                .push_bind(row.tenancy)
                .push_bind(row.status)
                .push_bind(row.source)
                .push_bind(row.owner_email)
                .push_bind(row.owner_name)
                .push_bind(row.notes)
                .push_bind(row.data_classes)
                .push_bind(row.tier)
                .push_bind(row.tier_rank)
                .push_bind(row.scores[0])
                .push_bind(row.scores[1])
                .push_bind(row.scores[2])
                .push_bind(row.scores[3])
                .push_bind(row.scores[4])
                .push_bind(row.scores[5])
                .push_bind(row.scores[6])
                .push_bind(row.score_max)
                .push_bind(row.policy_version)
                .push_bind(row.content_hash)
                .push_bind($at.to_string())
                .push_bind($at.to_string());
        })
    };
}

/// Inserts the services and data flows of many vendors, batched.
macro_rules! insert_children {
    ($tx:expr, $org:expr, $items:expr) => {{
        let services: Vec<(&String, usize, &Service)> = $items
            .iter()
            .flat_map(|(id, d): &(&String, &VendorDraft)| d.services.iter().enumerate().map(move |(i, s)| (*id, i, s)))
            .collect();
        for chunk in services.chunks(BATCH) {
            let mut b = sqlx::QueryBuilder::new(
                "INSERT INTO services (id, org_id, vendor_id, position, name, max_downtime_hours, business_processes, patient_care_impact, patients_affected, records_affected, revenue_dependency) ",
            );
            b.push_values(chunk, |mut v, (vendor_id, pos, s)| {
                v.push_bind(new_id())
                    .push_bind($org.to_string())
                    .push_bind((*vendor_id).clone())
                    .push_bind(*pos as i64)
                    .push_bind(s.name.clone())
                    .push_bind(s.max_tolerable_downtime_hours.map(i64::from))
                    .push_bind(json(&s.business_processes))
                    .push_bind(s.patient_care_impact)
                    .push_bind(s.patients_affected.map(to_i64))
                    .push_bind(s.records_affected.map(to_i64))
                    .push_bind(s.revenue_dependency.as_str());
            });
            b.build().execute(&mut *$tx).await?;
        }
        let flows: Vec<(&String, usize, &DataFlow)> = $items
            .iter()
            .flat_map(|(id, d): &(&String, &VendorDraft)| d.data_flows.iter().enumerate().map(move |(i, f)| (*id, i, f)))
            .collect();
        for chunk in flows.chunks(BATCH) {
            let mut b = sqlx::QueryBuilder::new(
                "INSERT INTO data_flows (id, org_id, vendor_id, position, data_class, actions, record_count, locations, connectivity, subprocessors) ",
            );
            b.push_values(chunk, |mut v, (vendor_id, pos, f)| {
                v.push_bind(new_id())
                    .push_bind($org.to_string())
                    .push_bind((*vendor_id).clone())
                    .push_bind(*pos as i64)
                    .push_bind(f.data_class.as_str())
                    .push_bind(json(&f.actions))
                    .push_bind(to_i64(f.record_count))
                    .push_bind(json(&f.locations))
                    .push_bind(json(&f.connectivity))
                    .push_bind(json(&f.subprocessors));
            });
            b.build().execute(&mut *$tx).await?;
        }
    }};
}

macro_rules! bind_vendor_update {
    ($query:expr, $row:expr, $at:expr, $id:expr, $org:expr) => {
        $query
            .bind(&$row.matching_key)
            .bind(&$row.external_id)
            .bind(&$row.legal_name)
            .bind(&$row.sort_name)
            .bind(&$row.search_text)
            .bind(&$row.aliases)
            .bind(&$row.domains)
            .bind($row.vendor_type)
            .bind($row.deployment)
            .bind($row.tenancy)
            .bind($row.status)
            .bind($row.source)
            .bind(&$row.owner_email)
            .bind(&$row.owner_name)
            .bind(&$row.notes)
            .bind(&$row.data_classes)
            .bind($row.tier)
            .bind($row.tier_rank)
            .bind($row.scores[0])
            .bind($row.scores[1])
            .bind($row.scores[2])
            .bind($row.scores[3])
            .bind($row.scores[4])
            .bind($row.scores[5])
            .bind($row.scores[6])
            .bind($row.score_max)
            .bind(&$row.policy_version)
            .bind(&$row.content_hash)
            .bind($at)
            .bind($id)
            .bind($org)
    };
}

macro_rules! insert_tier_change {
    ($tx:expr, $org:expr, $vendor:expr, $from:expr, $to:expr, $version:expr, $cause:expr, $at:expr) => {
        sqlx::query("INSERT INTO tier_changes (id, org_id, vendor_id, from_tier, to_tier, policy_version, cause, changed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
            .bind(new_id())
            .bind($org)
            .bind($vendor)
            .bind($from.map(|t: Tier| t.as_str()))
            .bind($to.as_str())
            .bind($version)
            .bind($cause)
            .bind($at)
            .execute(&mut *$tx)
            .await?
    };
}

fn parse_label<T>(
    raw: &str,
    parse: fn(&str) -> Result<T, mamori_domain::ParseLabelError>,
    what: &'static str,
) -> Result<T, StoreError> {
    parse(raw).map_err(|e| StoreError::corrupt(what, e))
}

fn rating_from_row<R: Row>(row: &R) -> Result<Rating, StoreError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let mut scores = CategoryScores::default();
    for category in RiskCategory::ALL {
        let v: i64 = row.try_get(format!("score_{}", category.as_str()).as_str())?;
        scores.0[category.index()] = u32::try_from(v).unwrap_or(0);
    }
    Ok(Rating {
        tier: parse_label(&row.try_get::<String, _>("tier")?, Tier::parse, "tier")?,
        scores,
        policy_version: row.try_get("policy_version")?,
    })
}

fn summary_from_row<R: Row>(row: &R) -> Result<VendorSummary, StoreError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<String>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let mut scores = CategoryScores::default();
    for category in RiskCategory::ALL {
        let v: i64 = row.try_get(format!("score_{}", category.as_str()).as_str())?;
        scores.0[category.index()] = u32::try_from(v).unwrap_or(0);
    }
    let classes: String = row.try_get("data_classes")?;
    let data_classes = classes
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| parse_label(s, DataClass::parse, "data class"))
        .collect::<Result<_, _>>()?;
    let domains: String = row.try_get("domains")?;
    let max: i64 = row.try_get("score_max")?;
    Ok(VendorSummary {
        id: row.try_get("id")?,
        legal_name: row.try_get("legal_name")?,
        vendor_type: parse_label(
            &row.try_get::<String, _>("vendor_type")?,
            VendorType::parse,
            "vendor type",
        )?,
        status: parse_label(
            &row.try_get::<String, _>("status")?,
            LifecycleStatus::parse,
            "status",
        )?,
        owner_email: row.try_get("owner_email")?,
        owner_name: row.try_get("owner_name")?,
        tier: parse_label(&row.try_get::<String, _>("tier")?, Tier::parse, "tier")?,
        scores,
        score_max: u32::try_from(max).unwrap_or(0),
        data_classes,
        domains: json_list(&domains, "domains")?,
        policy_version: row.try_get("policy_version")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// Builds the draft from a vendors row; services and flows are added after.
fn draft_from_row<R: Row>(row: &R) -> Result<VendorDraft, StoreError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<String>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    Ok(VendorDraft {
        external_id: row.try_get("external_id")?,
        legal_name: row.try_get("legal_name")?,
        aliases: json_list(&row.try_get::<String, _>("aliases")?, "aliases")?,
        domains: json_list(&row.try_get::<String, _>("domains")?, "domains")?,
        vendor_type: parse_label(
            &row.try_get::<String, _>("vendor_type")?,
            VendorType::parse,
            "vendor type",
        )?,
        deployment: parse_label(
            &row.try_get::<String, _>("deployment")?,
            Deployment::parse,
            "deployment",
        )?,
        tenancy: parse_label(
            &row.try_get::<String, _>("tenancy")?,
            Tenancy::parse,
            "tenancy",
        )?,
        status: parse_label(
            &row.try_get::<String, _>("status")?,
            LifecycleStatus::parse,
            "status",
        )?,
        source: parse_label(
            &row.try_get::<String, _>("source")?,
            VendorSource::parse,
            "source",
        )?,
        owner_email: row.try_get("owner_email")?,
        owner_name: row.try_get("owner_name")?,
        notes: row.try_get("notes")?,
        services: Vec::new(),
        data_flows: Vec::new(),
    })
}

fn service_from_row<R: Row>(row: &R) -> Result<(String, Service), StoreError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<i64>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> bool: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let to_u64 = |v: Option<i64>| v.map(|n| u64::try_from(n).unwrap_or(0));
    Ok((
        row.try_get("vendor_id")?,
        Service {
            name: row.try_get("name")?,
            max_tolerable_downtime_hours: row
                .try_get::<Option<i64>, _>("max_downtime_hours")?
                .map(|n| u32::try_from(n).unwrap_or(u32::MAX)),
            business_processes: json_list(
                &row.try_get::<String, _>("business_processes")?,
                "business processes",
            )?,
            patient_care_impact: row.try_get("patient_care_impact")?,
            patients_affected: to_u64(row.try_get("patients_affected")?),
            records_affected: to_u64(row.try_get("records_affected")?),
            revenue_dependency: parse_label(
                &row.try_get::<String, _>("revenue_dependency")?,
                RevenueDependency::parse,
                "revenue dependency",
            )?,
        },
    ))
}

fn flow_from_row<R: Row>(row: &R) -> Result<(String, DataFlow), StoreError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let actions: Vec<DataAction> = serde_json::from_str(&row.try_get::<String, _>("actions")?)
        .map_err(|e| StoreError::corrupt("data actions", e))?;
    let connectivity: Vec<Connectivity> =
        serde_json::from_str(&row.try_get::<String, _>("connectivity")?)
            .map_err(|e| StoreError::corrupt("connectivity", e))?;
    Ok((
        row.try_get("vendor_id")?,
        DataFlow {
            data_class: parse_label(
                &row.try_get::<String, _>("data_class")?,
                DataClass::parse,
                "data class",
            )?,
            actions,
            record_count: u64::try_from(row.try_get::<i64, _>("record_count")?).unwrap_or(0),
            locations: json_list(&row.try_get::<String, _>("locations")?, "locations")?,
            connectivity,
            subprocessors: json_list(
                &row.try_get::<String, _>("subprocessors")?,
                "sub-processors",
            )?,
        },
    ))
}

pub(crate) fn escape_like(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len() + 2);
    out.push('%');
    for c in raw.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

impl Store {
    /// Registers one vendor. Fails with `Conflict` when a vendor with the same
    /// matching key (external id, or folded legal name) exists.
    pub async fn create_vendor(
        &self,
        org_id: &str,
        draft: &VendorDraft,
        risk: &Rating,
        actor: &Actor,
    ) -> Result<String, StoreError> {
        let id = new_id();
        let at = now();
        let row = VendorRow::new(draft, risk);
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            check_policy_version!(tx, org_id, risk.policy_version.as_str());
            let mut b = sqlx::QueryBuilder::new(VENDOR_INSERT);
            push_vendor_values!(b, std::iter::once((id.clone(), row)), org_id, at);
            b.build().execute(&mut *tx).await.map_err(|e| match StoreError::from(e) {
                StoreError::Conflict(_) => StoreError::Conflict(format!(
                    "a vendor named '{}' (or with the same external id) is already registered", draft.legal_name.trim()
                )),
                other => other,
            })?;
            let items = [(&id, draft)];
            insert_children!(tx, org_id, items);
            insert_tier_change!(tx, org_id, &id, None::<Tier>, risk.tier, &risk.policy_version, "registered", &at);
            insert_audit(&mut *tx, org_id, actor, NewAudit {
                action: "vendor.create",
                entity_kind: "vendor",
                entity_id: Some(&id),
                summary: format!("registered vendor {} ({})", draft.legal_name.trim(), risk.tier),
                before: None,
                after: Some(serde_json::to_value(draft).unwrap_or_default()),
            }).await?;
            tx.commit().await?;
            Ok::<(), StoreError>(())
        })?;
        Ok(id)
    }

    /// Replaces a vendor's fields, services and data flows.
    pub async fn update_vendor(
        &self,
        org_id: &str,
        id: &str,
        draft: &VendorDraft,
        risk: &Rating,
        scope: &VendorScope,
        actor: &Actor,
    ) -> Result<(), StoreError> {
        let before = self.get_vendor(org_id, id, scope).await?;
        let at = now();
        let row = VendorRow::new(draft, risk);
        let id_owned = id.to_string();
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            check_policy_version!(tx, org_id, risk.policy_version.as_str());
            bind_vendor_update!(sqlx::query(VENDOR_UPDATE), row, &at, id, org_id)
                .execute(&mut *tx)
                .await
                .map_err(|e| match StoreError::from(e) {
                    StoreError::Conflict(_) => StoreError::Conflict(format!(
                        "another vendor named '{}' (or with the same external id) is already registered", draft.legal_name.trim()
                    )),
                    other => other,
                })?;
            sqlx::query("DELETE FROM services WHERE vendor_id = $1").bind(id).execute(&mut *tx).await?;
            sqlx::query("DELETE FROM data_flows WHERE vendor_id = $1").bind(id).execute(&mut *tx).await?;
            let items = [(&id_owned, draft)];
            insert_children!(tx, org_id, items);
            if before.rating.tier != risk.tier {
                insert_tier_change!(tx, org_id, id, Some(before.rating.tier), risk.tier, &risk.policy_version, "vendor edited", &at);
            }
            insert_audit(&mut *tx, org_id, actor, NewAudit {
                action: "vendor.update",
                entity_kind: "vendor",
                entity_id: Some(id),
                summary: format!("edited vendor {} ({} → {})", draft.legal_name.trim(), before.rating.tier, risk.tier),
                before: Some(serde_json::to_value(&before.draft).unwrap_or_default()),
                after: Some(serde_json::to_value(draft).unwrap_or_default()),
            }).await?;
            tx.commit().await?;
            Ok(())
        })
    }

    pub async fn get_vendor(
        &self,
        org_id: &str,
        id: &str,
        scope: &VendorScope,
    ) -> Result<VendorRecord, StoreError> {
        on_pool!(self, pool => {
            let row = sqlx::query("SELECT * FROM vendors WHERE id = $1 AND org_id = $2")
                .bind(id).bind(org_id).fetch_optional(pool).await?
                .ok_or(StoreError::NotFound("vendor"))?;
            if let VendorScope::OwnedBy(owner) = scope {
                let vendor_owner: String = row.try_get("owner_email")?;
                if !vendor_owner.eq_ignore_ascii_case(owner) {
                    // Same answer as a missing vendor: do not reveal it exists.
                    return Err(StoreError::NotFound("vendor"));
                }
            }
            let mut draft = draft_from_row(&row)?;
            let rating = rating_from_row(&row)?;
            for r in sqlx::query("SELECT * FROM services WHERE vendor_id = $1 ORDER BY position").bind(id).fetch_all(pool).await? {
                draft.services.push(service_from_row(&r)?.1);
            }
            for r in sqlx::query("SELECT * FROM data_flows WHERE vendor_id = $1 ORDER BY position").bind(id).fetch_all(pool).await? {
                draft.data_flows.push(flow_from_row(&r)?.1);
            }
            let mut tier_history = Vec::new();
            for r in sqlx::query("SELECT from_tier, to_tier, policy_version, cause, changed_at FROM tier_changes WHERE vendor_id = $1 ORDER BY changed_at DESC LIMIT 50")
                .bind(id).fetch_all(pool).await?
            {
                let from: Option<String> = r.try_get("from_tier")?;
                tier_history.push(TierChange {
                    from_tier: from.map(|t| parse_label(&t, Tier::parse, "tier")).transpose()?,
                    to_tier: parse_label(&r.try_get::<String, _>("to_tier")?, Tier::parse, "tier")?,
                    policy_version: r.try_get("policy_version")?,
                    cause: r.try_get("cause")?,
                    changed_at: r.try_get("changed_at")?,
                });
            }
            Ok(VendorRecord {
                id: row.try_get("id")?,
                draft,
                rating,
                created_at: row.try_get("created_at")?,
                updated_at: row.try_get("updated_at")?,
                tier_history,
            })
        })
    }

    /// One page of vendors, filtered and sorted on the server.
    pub async fn list_vendors(
        &self,
        org_id: &str,
        query: &VendorListQuery,
        scope: &VendorScope,
    ) -> Result<VendorPage, StoreError> {
        let per_page = query.per_page.clamp(1, 500);
        let page = query.page.max(1);
        let mut binds: Vec<String> = vec![org_id.to_string()];
        let mut filter = String::from("org_id = $1");
        fn add(filter: &mut String, binds: &mut Vec<String>, clause: &str, value: String) {
            binds.push(value);
            filter.push_str(&format!(" AND {clause} ${}", binds.len()));
        }
        if let VendorScope::OwnedBy(owner) = scope {
            add(
                &mut filter,
                &mut binds,
                "owner_email =",
                owner.to_lowercase(),
            );
        }
        if let Some(search) = query
            .search
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            let folded = search.to_lowercase();
            binds.push(escape_like(&folded));
            filter.push_str(&format!(
                " AND search_text LIKE ${} ESCAPE '\\'",
                binds.len()
            ));
        }
        if let Some(tier) = query.tier {
            add(&mut filter, &mut binds, "tier =", tier.as_str().to_string());
        }
        if let Some(t) = query.vendor_type {
            add(
                &mut filter,
                &mut binds,
                "vendor_type =",
                t.as_str().to_string(),
            );
        }
        if let Some(s) = query.status {
            add(&mut filter, &mut binds, "status =", s.as_str().to_string());
        }
        if let Some(owner) = query.owner.as_deref().filter(|s| !s.is_empty()) {
            add(
                &mut filter,
                &mut binds,
                "owner_email =",
                owner.to_lowercase(),
            );
        }
        if let Some(class) = query.data_class {
            binds.push(format!("%,{},%", class.as_str()));
            filter.push_str(&format!(" AND data_classes LIKE ${}", binds.len()));
        }
        let offset = i64::from(page - 1) * i64::from(per_page);
        let count_sql = format!("SELECT COUNT(*) FROM vendors WHERE {filter}");
        let list_sql = format!(
            "SELECT {SUMMARY_COLUMNS} FROM vendors WHERE {filter} ORDER BY {} LIMIT {per_page} OFFSET {offset}",
            query.sort.order_by(query.descending)
        );
        on_pool!(self, pool => {
            let mut count = sqlx::query_scalar::<_, i64>(&count_sql);
            let mut list = sqlx::query(&list_sql);
            for b in &binds {
                count = count.bind(b);
                list = list.bind(b);
            }
            let total = count.fetch_one(pool).await?;
            let rows = list.fetch_all(pool).await?;
            let vendors = rows.iter().map(summary_from_row).collect::<Result<_, _>>()?;
            Ok(VendorPage { vendors, total, page, per_page })
        })
    }

    /// Distinct relationship owners, for filters.
    pub async fn vendor_owners(&self, org_id: &str) -> Result<Vec<String>, StoreError> {
        on_pool!(self, pool => {
            Ok(sqlx::query_scalar("SELECT DISTINCT owner_email FROM vendors WHERE org_id = $1 ORDER BY owner_email")
                .bind(org_id).fetch_all(pool).await?)
        })
    }

    pub async fn dashboard_counts(
        &self,
        org_id: &str,
        scope: &VendorScope,
        bands: mamori_domain::policy::TierBands,
    ) -> Result<DashboardCounts, StoreError> {
        let (filter, owner) = match scope {
            VendorScope::All => ("", None),
            VendorScope::OwnedBy(o) => (" AND owner_email = $2", Some(o.to_lowercase())),
        };
        // Aggregated in SQL: the dashboard must not pull every vendor row.
        // Band limits are integers from the validated policy, so they are
        // written into the statement.
        let band_sums: Vec<String> = RiskCategory::ALL
            .iter()
            .flat_map(|c| {
                let col = format!("score_{}", c.as_str());
                [
                    format!(
                        "SUM(CASE WHEN {col} < {m} THEN 1 ELSE 0 END)",
                        m = bands.moderate
                    ),
                    format!(
                        "SUM(CASE WHEN {col} >= {m} AND {col} < {h} THEN 1 ELSE 0 END)",
                        m = bands.moderate,
                        h = bands.high
                    ),
                    format!(
                        "SUM(CASE WHEN {col} >= {h} AND {col} < {k} THEN 1 ELSE 0 END)",
                        h = bands.high,
                        k = bands.critical
                    ),
                    format!(
                        "SUM(CASE WHEN {col} >= {k} THEN 1 ELSE 0 END)",
                        k = bands.critical
                    ),
                ]
            })
            .collect();
        // One pass: per tier and status, the count and the category bands.
        // The `vendors_dashboard` index covers every column read here.
        let sql = format!(
            "SELECT tier, status, COUNT(*) AS n, {} FROM vendors WHERE org_id = $1{filter} GROUP BY tier, status",
            band_sums
                .iter()
                .enumerate()
                .map(|(i, e)| format!("CAST(COALESCE({e}, 0) AS BIGINT) AS b{i}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        on_pool!(self, pool => {
            let mut q = sqlx::query(&sql).bind(org_id);
            if let Some(o) = &owner {
                q = q.bind(o);
            }
            let rows = q.fetch_all(pool).await?;
            let mut counts = DashboardCounts::default();
            for row in &rows {
                let n: i64 = row.try_get("n")?;
                counts.total += n;
                let tier = parse_label(&row.try_get::<String, _>("tier")?, Tier::parse, "tier")?;
                counts.by_tier[tier_rank(tier) as usize] += n;
                let status = parse_label(&row.try_get::<String, _>("status")?, LifecycleStatus::parse, "status")?;
                if let Some(i) = LifecycleStatus::ALL.iter().position(|s| *s == status) {
                    counts.by_status[i] += n;
                }
                for ci in 0..RiskCategory::ALL.len() {
                    for band in 0..4 {
                        let v: i64 = row.try_get(format!("b{}", ci * 4 + band).as_str())?;
                        counts.category_bands[ci][band] += v;
                    }
                }
            }
            Ok(counts)
        })
    }

    /// Imports many vendors in one transaction: all or nothing. Rows whose
    /// matching key exists update that vendor (unless nothing changed); the
    /// rest are created. `progress` is called after every batch.
    pub async fn import_vendors(
        &self,
        org_id: &str,
        rows: &[(VendorDraft, Rating)],
        file_name: &str,
        actor: &Actor,
        progress: &(dyn Fn(ImportProgress) + Send + Sync),
    ) -> Result<ImportOutcome, StoreError> {
        let at = now();
        let total = rows.len();
        let mut outcome = ImportOutcome::default();
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            if let Some((_, first)) = rows.first() {
                check_policy_version!(tx, org_id, first.policy_version.as_str());
            }
            // A bulk load builds the dashboard's covering index once, after
            // the rows are in, instead of inserting into it row by row (the
            // difference is seconds at 100,000 vendors). Same transaction, so
            // a failed import leaves the index as it was.
            let rebuild_index = total >= BULK_INDEX_REBUILD_ROWS;
            if rebuild_index {
                sqlx::query("DROP INDEX IF EXISTS vendors_dashboard").execute(&mut *tx).await?;
            }
            let existing_rows = sqlx::query("SELECT id, matching_key, content_hash, tier FROM vendors WHERE org_id = $1")
                .bind(org_id).fetch_all(&mut *tx).await?;
            let mut existing: HashMap<String, (String, String, String)> = HashMap::with_capacity(existing_rows.len());
            for r in existing_rows {
                existing.insert(r.try_get("matching_key")?, (r.try_get("id")?, r.try_get("content_hash")?, r.try_get("tier")?));
            }
            // Decide per row first; build the (large) column values only per
            // batch so memory stays flat however long the file is.
            let mut inserts: Vec<(String, usize, String)> = Vec::new();
            let mut updates: Vec<(String, Option<Tier>, usize)> = Vec::new();
            for (i, (draft, _)) in rows.iter().enumerate() {
                let hash = content_hash(draft);
                match existing.get(&draft.matching_key()) {
                    Some((_, stored, _)) if *stored == hash => outcome.unchanged += 1,
                    Some((id, _, tier)) => updates.push((id.clone(), Tier::parse(tier).ok(), i)),
                    None => inserts.push((new_id(), i, hash)),
                }
            }
            drop(existing);
            let mut done = outcome.unchanged;
            for chunk in inserts.chunks(BATCH) {
                let built = chunk.iter().map(|(id, i, hash)| (id.clone(), VendorRow::with_hash(&rows[*i].0, &rows[*i].1, hash.clone())));
                let mut b = sqlx::QueryBuilder::new(VENDOR_INSERT);
                push_vendor_values!(b, built, org_id, at);
                b.build().execute(&mut *tx).await?;
                let items: Vec<(&String, &VendorDraft)> = chunk.iter().map(|(id, i, _)| (id, &rows[*i].0)).collect();
                insert_children!(tx, org_id, items);
                outcome.created += chunk.len();
                done += chunk.len();
                progress(ImportProgress { done, total });
            }
            for chunk in updates.chunks(BATCH) {
                // Each re-imported vendor gets its own audit record with the
                // values it had before, read before they are overwritten.
                let mut before: HashMap<String, VendorDraft> = HashMap::with_capacity(chunk.len());
                let mut in_list = String::new();
                for n in 0..chunk.len() {
                    if n > 0 {
                        in_list.push_str(", ");
                    }
                    in_list.push_str(&format!("${}", n + 2));
                }
                for table in ["vendors", "services", "data_flows"] {
                    let key = if table == "vendors" { "id" } else { "vendor_id" };
                    let order = if table == "vendors" { "id" } else { "vendor_id, position" };
                    let sql = format!("SELECT * FROM {table} WHERE org_id = $1 AND {key} IN ({in_list}) ORDER BY {order}");
                    let mut q = sqlx::query(&sql).bind(org_id);
                    for (id, _, _) in chunk {
                        q = q.bind(id);
                    }
                    for r in q.fetch_all(&mut *tx).await? {
                        match table {
                            "vendors" => {
                                before.insert(r.try_get("id")?, draft_from_row(&r)?);
                            }
                            "services" => {
                                let (vendor_id, service) = service_from_row(&r)?;
                                if let Some(d) = before.get_mut(&vendor_id) {
                                    d.services.push(service);
                                }
                            }
                            _ => {
                                let (vendor_id, flow) = flow_from_row(&r)?;
                                if let Some(d) = before.get_mut(&vendor_id) {
                                    d.data_flows.push(flow);
                                }
                            }
                        }
                    }
                }
                for (id, old_tier, i) in chunk {
                    let row = VendorRow::new(&rows[*i].0, &rows[*i].1);
                    insert_audit(&mut *tx, org_id, actor, NewAudit {
                        action: "vendor.update",
                        entity_kind: "vendor",
                        entity_id: Some(id),
                        summary: format!("re-imported vendor {} from {file_name}", row.legal_name),
                        before: before.get(id).map(|d| serde_json::to_value(d).unwrap_or_default()),
                        after: Some(serde_json::to_value(&rows[*i].0).unwrap_or_default()),
                    }).await?;
                    bind_vendor_update!(sqlx::query(VENDOR_UPDATE), row, &at, id, org_id).execute(&mut *tx).await?;
                    sqlx::query("DELETE FROM services WHERE vendor_id = $1").bind(id).execute(&mut *tx).await?;
                    sqlx::query("DELETE FROM data_flows WHERE vendor_id = $1").bind(id).execute(&mut *tx).await?;
                    let new_tier = Tier::parse(row.tier).ok();
                    if *old_tier != new_tier {
                        if let Some(new_tier) = new_tier {
                            insert_tier_change!(tx, org_id, id, *old_tier, new_tier, &row.policy_version, "re-imported", &at);
                        }
                    }
                }
                let items: Vec<(&String, &VendorDraft)> = chunk.iter().map(|(id, _, i)| (id, &rows[*i].0)).collect();
                insert_children!(tx, org_id, items);
                outcome.updated += chunk.len();
                done += chunk.len();
                progress(ImportProgress { done, total });
            }
            insert_audit(&mut *tx, org_id, actor, NewAudit {
                action: "vendor.import",
                entity_kind: "import",
                entity_id: None,
                summary: format!(
                    "imported {file_name}: {} created, {} updated, {} unchanged",
                    outcome.created, outcome.updated, outcome.unchanged
                ),
                before: None,
                after: Some(serde_json::json!({"file": file_name, "created": outcome.created, "updated": outcome.updated, "unchanged": outcome.unchanged})),
            }).await?;
            if rebuild_index {
                sqlx::query(VENDORS_DASHBOARD_INDEX).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok::<(), StoreError>(())
        })?;
        progress(ImportProgress { done: total, total });
        if outcome.created + outcome.updated > 1000 {
            // The import has committed: a failure here must not report it failed.
            if let Err(e) = self.optimize().await {
                tracing::warn!(error = %e, "refreshing planner statistics failed");
            }
        }
        Ok(outcome)
    }

    /// Every vendor's id, current tier and draft: the input of re-tiering.
    pub async fn all_vendor_drafts(
        &self,
        org_id: &str,
    ) -> Result<Vec<(String, Tier, VendorDraft)>, StoreError> {
        Ok(self
            .all_vendors(org_id, &VendorScope::All, false)
            .await?
            .into_iter()
            .map(|(id, tier, draft, _)| (id, tier, draft))
            .collect())
    }

    /// Every vendor in scope, sorted by name, with its draft and (when asked)
    /// its stored risk: the input of exports.
    pub async fn all_vendors(
        &self,
        org_id: &str,
        scope: &VendorScope,
        with_risk: bool,
    ) -> Result<Vec<(String, Tier, VendorDraft, Option<Rating>)>, StoreError> {
        let (filter, owner) = match scope {
            VendorScope::All => ("", None),
            VendorScope::OwnedBy(o) => (" AND owner_email = $2", Some(o.to_lowercase())),
        };
        let risk_column = if with_risk {
            ", score_cybersecurity, score_reputational, score_compliance, score_privacy, score_operational, score_strategic, score_financial, policy_version"
        } else {
            ""
        };
        let sql = format!(
            "SELECT id, tier, external_id, legal_name, aliases, domains, vendor_type, deployment, tenancy, status, source, \
             owner_email, owner_name, notes{risk_column} FROM vendors WHERE org_id = $1{filter} ORDER BY sort_name, id"
        );
        on_pool!(self, pool => {
            let mut q = sqlx::query(&sql).bind(org_id);
            if let Some(o) = &owner {
                q = q.bind(o);
            }
            let rows = q.fetch_all(pool).await?;
            let mut index: HashMap<String, usize> = HashMap::with_capacity(rows.len());
            let mut out = Vec::with_capacity(rows.len());
            for row in &rows {
                let id: String = row.try_get("id")?;
                let tier = parse_label(&row.try_get::<String, _>("tier")?, Tier::parse, "tier")?;
                let risk = if with_risk {
                    Some(rating_from_row(row)?)
                } else {
                    None
                };
                index.insert(id.clone(), out.len());
                out.push((id, tier, draft_from_row(row)?, risk));
            }
            for r in sqlx::query("SELECT * FROM services WHERE org_id = $1 ORDER BY vendor_id, position").bind(org_id).fetch_all(pool).await? {
                let (vendor_id, service) = service_from_row(&r)?;
                if let Some(i) = index.get(&vendor_id) {
                    out[*i].2.services.push(service);
                }
            }
            for r in sqlx::query("SELECT * FROM data_flows WHERE org_id = $1 ORDER BY vendor_id, position").bind(org_id).fetch_all(pool).await? {
                let (vendor_id, flow) = flow_from_row(&r)?;
                if let Some(i) = index.get(&vendor_id) {
                    out[*i].2.data_flows.push(flow);
                }
            }
            Ok(out)
        })
    }

    /// Records a newly applied policy and stores every vendor's new rating,
    /// with a tier change for each vendor whose tier moved — one
    /// transaction. Each result carries the content hash of the draft it was
    /// computed from; if any vendor was edited meanwhile, nothing is written
    /// and `StaleRetier` asks the caller to compute again.
    pub async fn apply_policy(
        &self,
        org_id: &str,
        version: &str,
        content: &str,
        results: &[(String, Tier, Rating, String)],
        actor: &Actor,
    ) -> Result<RetierOutcome, StoreError> {
        let at = now();
        let mut outcome = RetierOutcome {
            vendors: results.len(),
            ..Default::default()
        };
        let changed: Vec<&(String, Tier, Rating, String)> = results
            .iter()
            .filter(|(_, old, risk, _)| *old != risk.tier)
            .collect();
        outcome.tier_changes = changed.len();
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            // One UPDATE … FROM (VALUES …) per batch instead of one per
            // vendor; both backends name the VALUES columns column1…column13.
            for chunk in results.chunks(BATCH) {
                let mut b = sqlx::QueryBuilder::new(
                    "UPDATE vendors SET tier = v.column2, tier_rank = v.column3, score_cybersecurity = v.column4, \
                     score_reputational = v.column5, score_compliance = v.column6, score_privacy = v.column7, \
                     score_operational = v.column8, score_strategic = v.column9, score_financial = v.column10, \
                     score_max = v.column11, policy_version = v.column12 FROM (",
                );
                b.push_values(chunk, |mut v, (id, _, risk, hash)| {
                    let s = risk.scores.0;
                    v.push_bind(id.clone())
                        .push_bind(risk.tier.as_str())
                        .push_bind(tier_rank(risk.tier))
                        .push_bind(i64::from(s[0])).push_bind(i64::from(s[1])).push_bind(i64::from(s[2])).push_bind(i64::from(s[3]))
                        .push_bind(i64::from(s[4])).push_bind(i64::from(s[5])).push_bind(i64::from(s[6]))
                        .push_bind(i64::from(risk.scores.highest().1))
                        .push_bind(risk.policy_version.clone())
                        .push_bind(hash.clone());
                });
                b.push(") AS v WHERE vendors.id = v.column1 AND vendors.content_hash = v.column13 AND vendors.org_id = ");
                b.push_bind(org_id.to_string());
                let affected = b.build().execute(&mut *tx).await?;
                if affected.rows_affected() as usize != chunk.len() {
                    // Rolls back: a vendor changed since its draft was read.
                    return Err(StoreError::StaleRetier);
                }
                outcome.score_changes += affected.rows_affected() as usize;
            }
            for chunk in changed.chunks(BATCH) {
                let mut t = sqlx::QueryBuilder::new("INSERT INTO tier_changes (id, org_id, vendor_id, from_tier, to_tier, policy_version, cause, changed_at) ");
                t.push_values(chunk, |mut v, (id, old, risk, _)| {
                    v.push_bind(new_id()).push_bind(org_id.to_string()).push_bind(id.clone()).push_bind(Some(old.as_str()))
                        .push_bind(risk.tier.as_str()).push_bind(version.to_string()).push_bind("policy applied").push_bind(at.clone());
                });
                t.build().execute(&mut *tx).await?;
            }
            sqlx::query("INSERT INTO policies (id, org_id, version, content, applied_at, applied_by, vendors_retiered, tier_changes) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                .bind(new_id()).bind(org_id).bind(version).bind(content).bind(&at).bind(&actor.label)
                .bind(outcome.vendors as i64).bind(outcome.tier_changes as i64)
                .execute(&mut *tx).await?;
            insert_audit(&mut *tx, org_id, actor, NewAudit {
                action: "policy.apply",
                entity_kind: "policy",
                entity_id: None,
                summary: format!("applied tiering policy {version}: {} vendors re-tiered, {} tier changes", outcome.vendors, outcome.tier_changes),
                before: None,
                after: Some(serde_json::json!({"version": version, "vendors": outcome.vendors, "tier_changes": outcome.tier_changes})),
            }).await?;
            tx.commit().await?;
            Ok::<(), StoreError>(())
        })?;
        Ok(outcome)
    }
}
