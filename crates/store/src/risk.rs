//! The risk register: risks scored on the policy's likelihood × impact
//! matrix, the findings that evidence them, their history (`risk_events`),
//! accountable acceptances and the risk policies applied.
//!
//! Acceptances are never changed (a trigger refuses any UPDATE): a new
//! decision is a new row, and a risk's current acceptance is its newest one.
//! Status and treatment only become `accepted`/`accept` through
//! `record_acceptance`, so every accepted risk has a named, dated decision.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;
use serde_json::{json, Value};
use sqlx::Row;

use crate::assessment::FindingRecord;
use crate::audit::{insert_audit, NewAudit};
use crate::error::StoreError;
use crate::vendor::escape_like;
use crate::{new_id, now, on_pool, Actor, Backend, Store};

/// Statuses that count as active: everything but closed.
const ACTIVE_STATUSES: &str = "('open', 'in_treatment', 'accepted')";

/// Largest number of bind parameters in one statement, per backend.
const SQLITE_MAX_BINDS: usize = 32_766;
const POSTGRES_MAX_BINDS: usize = 65_535;

/// Ids per `IN (…)` list when looking up many findings.
const ID_CHUNK: usize = 500;

/// Risks per `UPDATE … FROM (VALUES …)` when applying threshold changes.
const THRESHOLD_ROWS_PER_STATEMENT: usize = 500;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct RiskRecord {
    pub id: String,
    pub org_id: String,
    pub vendor_id: String,
    pub service_id: Option<String>,
    pub category: String,
    pub title: String,
    pub description: String,
    pub owner_id: Option<String>,
    pub inherent_likelihood: i64,
    pub inherent_impact: i64,
    pub existing_controls: String,
    pub residual_likelihood: i64,
    pub residual_impact: i64,
    pub residual_score: i64,
    pub residual_level: String,
    /// `undecided`, `mitigate`, `transfer`, `avoid` or `accept`.
    pub treatment: String,
    /// `open`, `in_treatment`, `accepted` or `closed`.
    pub status: String,
    pub due_on: Option<String>,
    pub compensating_control: Option<String>,
    /// Worst severity among the open findings linked to the risk.
    pub worst_finding: Option<String>,
    pub above_threshold: bool,
    pub threshold_reason: Option<String>,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
    pub closed_at: Option<String>,
    pub vendor_name: String,
    pub vendor_tier: String,
    pub owner_name: Option<String>,
    pub finding_count: i64,
}

const RISK_SELECT: &str = "SELECT r.id, r.org_id, r.vendor_id, r.service_id, r.category, r.title, r.description, r.owner_id, \
     r.inherent_likelihood, r.inherent_impact, r.existing_controls, r.residual_likelihood, r.residual_impact, r.residual_score, \
     r.residual_level, r.treatment, r.status, r.due_on, r.compensating_control, r.worst_finding, \
     (r.above_threshold <> 0) AS above_threshold, r.threshold_reason, r.created_by, r.created_at, r.updated_at, r.closed_at, \
     v.legal_name AS vendor_name, v.tier AS vendor_tier, u.display_name AS owner_name, \
     (SELECT COUNT(*) FROM risk_findings rf WHERE rf.risk_id = r.id) AS finding_count \
     FROM risks r JOIN vendors v ON v.id = r.vendor_id LEFT JOIN users u ON u.id = r.owner_id";

/// A risk to register.
#[derive(Debug, Clone, Default)]
pub struct NewRisk {
    pub vendor_id: String,
    pub service_id: Option<String>,
    pub category: String,
    pub title: String,
    pub description: String,
    pub owner_id: Option<String>,
    pub inherent_likelihood: i64,
    pub inherent_impact: i64,
    pub existing_controls: String,
    pub residual_likelihood: i64,
    pub residual_impact: i64,
    pub residual_score: i64,
    pub residual_level: String,
    pub treatment: String,
    pub status: String,
    pub due_on: Option<String>,
    pub compensating_control: Option<String>,
    pub worst_finding: Option<String>,
    pub above_threshold: bool,
    pub threshold_reason: Option<String>,
    /// Findings of the same vendor that evidence the risk.
    pub finding_ids: Vec<String>,
}

/// The editable fields of a risk, all written at once.
#[derive(Debug, Clone, Default)]
pub struct RiskUpdate {
    pub service_id: Option<String>,
    pub category: String,
    pub title: String,
    pub description: String,
    pub owner_id: Option<String>,
    pub inherent_likelihood: i64,
    pub inherent_impact: i64,
    pub existing_controls: String,
    pub residual_likelihood: i64,
    pub residual_impact: i64,
    pub residual_score: i64,
    pub residual_level: String,
    pub treatment: String,
    pub status: String,
    pub due_on: Option<String>,
    pub compensating_control: Option<String>,
    pub worst_finding: Option<String>,
    pub above_threshold: bool,
    pub threshold_reason: Option<String>,
}

impl From<&RiskRecord> for RiskUpdate {
    /// The risk as it stands, to change a few fields of.
    fn from(r: &RiskRecord) -> Self {
        RiskUpdate {
            service_id: r.service_id.clone(),
            category: r.category.clone(),
            title: r.title.clone(),
            description: r.description.clone(),
            owner_id: r.owner_id.clone(),
            inherent_likelihood: r.inherent_likelihood,
            inherent_impact: r.inherent_impact,
            existing_controls: r.existing_controls.clone(),
            residual_likelihood: r.residual_likelihood,
            residual_impact: r.residual_impact,
            residual_score: r.residual_score,
            residual_level: r.residual_level.clone(),
            treatment: r.treatment.clone(),
            status: r.status.clone(),
            due_on: r.due_on.clone(),
            compensating_control: r.compensating_control.clone(),
            worst_finding: r.worst_finding.clone(),
            above_threshold: r.above_threshold,
            threshold_reason: r.threshold_reason.clone(),
        }
    }
}

impl From<&NewRisk> for RiskUpdate {
    fn from(r: &NewRisk) -> Self {
        RiskUpdate {
            service_id: r.service_id.clone(),
            category: r.category.clone(),
            title: r.title.clone(),
            description: r.description.clone(),
            owner_id: r.owner_id.clone(),
            inherent_likelihood: r.inherent_likelihood,
            inherent_impact: r.inherent_impact,
            existing_controls: r.existing_controls.clone(),
            residual_likelihood: r.residual_likelihood,
            residual_impact: r.residual_impact,
            residual_score: r.residual_score,
            residual_level: r.residual_level.clone(),
            treatment: r.treatment.clone(),
            status: r.status.clone(),
            due_on: r.due_on.clone(),
            compensating_control: r.compensating_control.clone(),
            worst_finding: r.worst_finding.clone(),
            above_threshold: r.above_threshold,
            threshold_reason: r.threshold_reason.clone(),
        }
    }
}

/// One entry of a risk's history.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct RiskEvent {
    pub id: String,
    pub org_id: String,
    pub risk_id: String,
    pub at: String,
    pub actor: String,
    /// `created`, `updated`, `findings_linked`, `accepted` or
    /// `acceptance_expired`.
    pub action: String,
    pub summary: String,
    /// JSON object of the changed fields as they were.
    pub before_json: Option<String>,
    /// JSON object of the changed fields as they became.
    pub after_json: Option<String>,
}

impl RiskEvent {
    pub fn before(&self) -> Option<Value> {
        self.before_json
            .as_deref()
            .and_then(|s| serde_json::from_str(s).ok())
    }

    pub fn after(&self) -> Option<Value> {
        self.after_json
            .as_deref()
            .and_then(|s| serde_json::from_str(s).ok())
    }
}

/// An acceptance decision, with the risk it is about.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct AcceptanceRecord {
    pub id: String,
    pub org_id: String,
    pub risk_id: String,
    pub accepted_by_id: Option<String>,
    pub accepted_by: String,
    /// The role the person accepted in (e.g. "CISO").
    pub accepted_as: String,
    pub residual_level: String,
    pub residual_score: i64,
    pub above_threshold: bool,
    pub justification: String,
    pub compensating_controls: String,
    /// Last day the acceptance holds (`YYYY-MM-DD`).
    pub expires_on: String,
    pub created_at: String,
    pub risk_title: String,
    pub vendor_id: String,
    pub vendor_name: String,
    pub risk_status: String,
}

const ACCEPTANCE_SELECT: &str = "SELECT a.id, a.org_id, a.risk_id, a.accepted_by_id, a.accepted_by, a.accepted_as, \
     a.residual_level, a.residual_score, (a.above_threshold <> 0) AS above_threshold, a.justification, \
     a.compensating_controls, a.expires_on, a.created_at, r.title AS risk_title, r.vendor_id, \
     v.legal_name AS vendor_name, r.status AS risk_status \
     FROM risk_acceptances a JOIN risks r ON r.id = a.risk_id JOIN vendors v ON v.id = r.vendor_id";

/// `a` is a risk's newest acceptance (ids are time-ordered, so they break
/// ties of `created_at`).
const IS_LATEST_ACCEPTANCE: &str =
    "a.id = (SELECT l.id FROM risk_acceptances l WHERE l.risk_id = a.risk_id \
     ORDER BY l.created_at DESC, l.id DESC LIMIT 1)";

/// A decision to accept a risk as it stands.
#[derive(Debug, Clone, Default)]
pub struct NewAcceptance {
    pub accepted_by_id: Option<String>,
    pub accepted_by: String,
    /// The role the person accepts in (e.g. "CISO").
    pub accepted_as: String,
    pub residual_level: String,
    pub residual_score: i64,
    pub above_threshold: bool,
    pub justification: String,
    pub compensating_controls: String,
    /// Last day the acceptance holds (`YYYY-MM-DD`).
    pub expires_on: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskSort {
    /// Highest residual score first, then most recently updated.
    #[default]
    Score,
    /// Most recently updated first.
    Updated,
    /// Soonest due first; risks without a due date last.
    Due,
    Title,
    Vendor,
}

impl RiskSort {
    pub const ALL: &'static [RiskSort] = &[
        RiskSort::Score,
        RiskSort::Updated,
        RiskSort::Due,
        RiskSort::Title,
        RiskSort::Vendor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RiskSort::Score => "score",
            RiskSort::Updated => "updated",
            RiskSort::Due => "due",
            RiskSort::Title => "title",
            RiskSort::Vendor => "vendor",
        }
    }

    pub fn parse(raw: &str) -> Option<RiskSort> {
        RiskSort::ALL.iter().copied().find(|k| k.as_str() == raw)
    }

    fn order_by(self) -> &'static str {
        match self {
            RiskSort::Score => "r.residual_score DESC, r.updated_at DESC, r.id DESC",
            RiskSort::Updated => "r.updated_at DESC, r.id DESC",
            RiskSort::Due => {
                "(CASE WHEN r.due_on IS NULL THEN 1 ELSE 0 END), r.due_on ASC, r.residual_score DESC, r.id ASC"
            }
            RiskSort::Title => "LOWER(r.title) ASC, r.id ASC",
            RiskSort::Vendor => "v.sort_name ASC, r.residual_score DESC, r.id ASC",
        }
    }
}

/// Which risks to list or count. Empty strings count as "no filter".
#[derive(Debug, Clone, Default)]
pub struct RiskQuery {
    pub vendor_id: Option<String>,
    pub tier: Option<String>,
    pub category: Option<String>,
    pub owner_id: Option<String>,
    /// A status, `active` (open, in treatment or accepted) or `all`.
    pub status: Option<String>,
    pub level: Option<String>,
    pub above_threshold: Option<bool>,
    /// Part of the title or of the vendor's name, any case.
    pub search: Option<String>,
    pub sort: RiskSort,
    /// 0 means the default page size (50); at most 1,000.
    pub limit: u32,
    pub offset: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct RiskPage {
    pub risks: Vec<RiskRecord>,
    pub total: i64,
}

/// How many risks sit in one cell of the likelihood × impact matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct HeatCell {
    pub likelihood: i64,
    pub impact: i64,
    pub count: i64,
}

/// Counts for the risk part of the dashboard.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RiskCounts {
    pub open: i64,
    pub in_treatment: i64,
    pub accepted: i64,
    pub closed: i64,
    /// Open risks above the appetite threshold nobody has decided on yet.
    pub above_threshold_undecided: i64,
    /// Accepted risks whose acceptance ends on or before the given date.
    pub accepted_expiring: i64,
    /// Open and in-treatment risks per residual level.
    pub by_level: BTreeMap<String, i64>,
}

/// A risk whose threshold flag or level a new policy changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThresholdChange {
    pub risk_id: String,
    pub above_threshold: bool,
    pub reason: Option<String>,
    /// The residual level on the new matrix (its bands may have moved).
    pub level: String,
}

/// What the risk policy needs to decide whether a risk is above threshold.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ThresholdInput {
    pub id: String,
    pub vendor_tier: String,
    pub residual_score: i64,
    pub residual_level: String,
    pub worst_finding: Option<String>,
    pub status: String,
    pub above_threshold: bool,
    pub threshold_reason: Option<String>,
}

/// Risks that share every fact the threshold looks at, counted. A policy
/// is judged once per group rather than once per risk: 100,000 risks fall
/// into a few hundred groups.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct ThresholdGroup {
    pub vendor_tier: String,
    pub residual_score: i64,
    pub residual_level: String,
    pub worst_finding: Option<String>,
    pub status: String,
    pub above_threshold: bool,
    pub threshold_reason: Option<String>,
    pub risks: i64,
}

/// New threshold flag, reason and level for every risk of a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThresholdGroupChange {
    pub group: ThresholdGroup,
    pub above_threshold: bool,
    pub reason: Option<String>,
    pub level: String,
}

/// The SQL filter of a `RiskQuery` over `risks r` (and `vendors v` when
/// `needs_vendor`). User text only ever goes into `binds`.
struct RiskFilter {
    sql: String,
    binds: Vec<String>,
    needs_vendor: bool,
}

fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn risk_filter(org_id: &str, query: &RiskQuery, default_status: &str) -> RiskFilter {
    let mut f = RiskFilter {
        sql: "r.org_id = $1".into(),
        binds: vec![org_id.to_string()],
        needs_vendor: false,
    };
    fn equals(f: &mut RiskFilter, column: &str, value: &str) {
        f.binds.push(value.to_string());
        f.sql
            .push_str(&format!(" AND {column} = ${}", f.binds.len()));
    }
    match non_empty(&query.status).unwrap_or(default_status) {
        "all" => {}
        "active" => f
            .sql
            .push_str(&format!(" AND r.status IN {ACTIVE_STATUSES}")),
        status => equals(&mut f, "r.status", status),
    }
    if let Some(vendor) = non_empty(&query.vendor_id) {
        equals(&mut f, "r.vendor_id", vendor);
    }
    if let Some(category) = non_empty(&query.category) {
        equals(&mut f, "r.category", category);
    }
    if let Some(owner) = non_empty(&query.owner_id) {
        equals(&mut f, "r.owner_id", owner);
    }
    if let Some(level) = non_empty(&query.level) {
        equals(&mut f, "r.residual_level", level);
    }
    match query.above_threshold {
        Some(true) => f.sql.push_str(" AND r.above_threshold <> 0"),
        Some(false) => f.sql.push_str(" AND r.above_threshold = 0"),
        None => {}
    }
    if let Some(tier) = non_empty(&query.tier) {
        equals(&mut f, "v.tier", tier);
        f.needs_vendor = true;
    }
    if let Some(search) = non_empty(&query.search) {
        f.binds.push(escape_like(&search.to_lowercase()));
        let n = f.binds.len();
        f.sql.push_str(&format!(
            " AND (LOWER(r.title) LIKE ${n} ESCAPE '\\' OR LOWER(v.legal_name) LIKE ${n} ESCAPE '\\')"
        ));
        f.needs_vendor = true;
    }
    f
}

/// Dates are stored as `YYYY-MM-DD` text and compared as text, so anything
/// else would sort wrongly.
fn check_date(what: &str, value: &str) -> Result<(), StoreError> {
    let valid = value.len() == 10 && chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d").is_ok();
    if valid {
        Ok(())
    } else {
        Err(StoreError::Conflict(format!(
            "{what} '{value}' is not a date (YYYY-MM-DD)"
        )))
    }
}

/// Acceptance needs a named, dated decision: `record_acceptance`.
fn refuse_acceptance(
    from_status: Option<&str>,
    from_treatment: Option<&str>,
    to: &RiskUpdate,
) -> Result<(), StoreError> {
    let becomes_accepted = to.status == "accepted" && from_status != Some("accepted");
    let becomes_accept = to.treatment == "accept" && from_treatment != Some("accept");
    if becomes_accepted || becomes_accept {
        return Err(StoreError::Conflict(
            "a risk is accepted by recording an acceptance (who, as what role, why and until when), not by editing it"
                .into(),
        ));
    }
    Ok(())
}

/// The editable fields by name, in a fixed order.
fn risk_fields(u: &RiskUpdate) -> [(&'static str, Value); 19] {
    [
        ("service_id", json!(u.service_id)),
        ("category", json!(u.category)),
        ("title", json!(u.title)),
        ("description", json!(u.description)),
        ("owner_id", json!(u.owner_id)),
        ("inherent_likelihood", json!(u.inherent_likelihood)),
        ("inherent_impact", json!(u.inherent_impact)),
        ("existing_controls", json!(u.existing_controls)),
        ("residual_likelihood", json!(u.residual_likelihood)),
        ("residual_impact", json!(u.residual_impact)),
        ("residual_score", json!(u.residual_score)),
        ("residual_level", json!(u.residual_level)),
        ("treatment", json!(u.treatment)),
        ("status", json!(u.status)),
        ("due_on", json!(u.due_on)),
        ("compensating_control", json!(u.compensating_control)),
        ("worst_finding", json!(u.worst_finding)),
        ("above_threshold", json!(u.above_threshold)),
        ("threshold_reason", json!(u.threshold_reason)),
    ]
}

/// Free text too long to quote in a one-line summary.
const LONG_TEXT_FIELDS: &[&str] = &[
    "description",
    "existing_controls",
    "compensating_control",
    "threshold_reason",
];

fn readable(value: &Value) -> String {
    match value {
        Value::Null => "none".into(),
        Value::String(s) => s.replace('_', " "),
        Value::Bool(true) => "yes".into(),
        Value::Bool(false) => "no".into(),
        other => other.to_string(),
    }
}

/// The changed fields as (before, after) JSON objects and a one-line summary.
fn diff(before: &RiskUpdate, after: &RiskUpdate) -> Option<(Value, Value, String)> {
    let mut old = serde_json::Map::new();
    let mut new = serde_json::Map::new();
    let mut parts = Vec::new();
    for ((name, a), (_, b)) in risk_fields(before).into_iter().zip(risk_fields(after)) {
        if a == b {
            continue;
        }
        let label = name.replace('_', " ");
        if LONG_TEXT_FIELDS.contains(&name) {
            parts.push(format!("{label} changed"));
        } else {
            parts.push(format!("{label} {} → {}", readable(&a), readable(&b)));
        }
        old.insert(name.to_string(), a);
        new.insert(name.to_string(), b);
    }
    if parts.is_empty() {
        None
    } else {
        Some((Value::Object(old), Value::Object(new), parts.join("; ")))
    }
}

fn snapshot(u: &RiskUpdate) -> Value {
    Value::Object(
        risk_fields(u)
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    )
}

/// Refuses findings that are unknown in the organisation or belong to
/// another vendor than `$vendor_id`.
macro_rules! check_findings {
    ($tx:expr, $org:expr, $vendor_id:expr, $vendor_name:expr, $ids:expr) => {{
        let ids: &[String] = $ids;
        let mut owner_of: HashMap<String, String> = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(ID_CHUNK) {
            let mut b = sqlx::QueryBuilder::new("SELECT id, vendor_id FROM findings WHERE org_id = ");
            b.push_bind($org);
            b.push(" AND id IN (");
            {
                let mut list = b.separated(", ");
                for id in chunk {
                    list.push_bind(id.as_str());
                }
            }
            b.push(")");
            for row in b.build().fetch_all(&mut *$tx).await? {
                owner_of.insert(row.try_get("id")?, row.try_get("vendor_id")?);
            }
        }
        for id in ids {
            match owner_of.get(id) {
                None => {
                    return Err(StoreError::Conflict(format!(
                        "finding {id} does not exist in this organisation"
                    )))
                }
                Some(vendor) if vendor.as_str() != $vendor_id => {
                    return Err(StoreError::Conflict(format!(
                        "finding {id} belongs to another vendor; a risk of {} is evidenced by that vendor's findings only",
                        $vendor_name
                    )))
                }
                Some(_) => {}
            }
        }
    }};
}

/// Refuses a service of another vendor and an owner of another organisation.
macro_rules! check_service_and_owner {
    ($tx:expr, $org:expr, $vendor_id:expr, $service_id:expr, $owner_id:expr) => {{
        if let Some(service) = $service_id {
            let found: Option<String> = sqlx::query_scalar(
                "SELECT id FROM services WHERE id = $1 AND vendor_id = $2 AND org_id = $3",
            )
            .bind(service)
            .bind($vendor_id)
            .bind($org)
            .fetch_optional(&mut *$tx)
            .await?;
            if found.is_none() {
                return Err(StoreError::Conflict(format!(
                    "service {service} is not one of the vendor's services"
                )));
            }
        }
        if let Some(owner) = $owner_id {
            let found: Option<String> =
                sqlx::query_scalar("SELECT id FROM users WHERE id = $1 AND org_id = $2")
                    .bind(owner)
                    .bind($org)
                    .fetch_optional(&mut *$tx)
                    .await?;
            if found.is_none() {
                return Err(StoreError::NotFound("risk owner"));
            }
        }
    }};
}

/// Appends `(id, risk)` rows to an `INSERT INTO risks (RISK_COLUMNS)`.
macro_rules! push_risk_values {
    ($builder:expr, $rows:expr, $org:expr, $by:expr, $at:expr) => {
        $builder.push_values($rows, |mut v, (id, r): (&String, &NewRisk)| {
            v.push_bind(id.as_str())
                .push_bind($org)
                .push_bind(r.vendor_id.as_str())
                .push_bind(r.service_id.as_deref())
                .push_bind(r.category.as_str())
                .push_bind(r.title.as_str())
                .push_bind(r.description.as_str())
                .push_bind(r.owner_id.as_deref())
                .push_bind(r.inherent_likelihood)
                .push_bind(r.inherent_impact)
                .push_bind(r.existing_controls.as_str())
                .push_bind(r.residual_likelihood)
                .push_bind(r.residual_impact)
                .push_bind(r.residual_score)
                .push_bind(r.residual_level.as_str())
                .push_bind(r.treatment.as_str())
                .push_bind(r.status.as_str())
                .push_bind(r.due_on.as_deref())
                .push_bind(r.compensating_control.as_deref())
                .push_bind(r.worst_finding.as_deref())
                .push_bind(i64::from(r.above_threshold))
                .push_bind(r.threshold_reason.as_deref())
                .push_bind($by)
                .push_bind($at)
                .push_bind($at)
                .push_bind((r.status == "closed").then_some($at));
        })
    };
}

const RISK_INSERT: &str = "INSERT INTO risks (id, org_id, vendor_id, service_id, category, title, description, owner_id, \
     inherent_likelihood, inherent_impact, existing_controls, residual_likelihood, residual_impact, residual_score, \
     residual_level, treatment, status, due_on, compensating_control, worst_finding, above_threshold, threshold_reason, \
     created_by, created_at, updated_at, closed_at) ";
const RISK_INSERT_COLUMNS: usize = 26;

/// Links `(risk id, finding id)` pairs, skipping links that exist.
macro_rules! insert_links {
    ($tx:expr, $pairs:expr, $rows_per_statement:expr) => {{
        let pairs: &[(&str, &str)] = $pairs;
        let mut added: u64 = 0;
        for chunk in pairs.chunks($rows_per_statement) {
            let mut b = sqlx::QueryBuilder::new("INSERT INTO risk_findings (risk_id, finding_id) ");
            b.push_values(chunk, |mut v, (risk, finding)| {
                v.push_bind(*risk).push_bind(*finding);
            });
            b.push(" ON CONFLICT DO NOTHING");
            added += b.build().execute(&mut *$tx).await?.rows_affected();
        }
        added
    }};
}

macro_rules! insert_event {
    ($tx:expr, $org:expr, $risk_id:expr, $at:expr, $actor:expr, $action:expr, $summary:expr, $before:expr, $after:expr) => {
        sqlx::query(
            "INSERT INTO risk_events (id, org_id, risk_id, at, actor, action, summary, before_json, after_json) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(new_id())
        .bind($org)
        .bind($risk_id)
        .bind($at)
        .bind($actor.label.as_str())
        .bind($action)
        .bind($summary)
        .bind($before.map(|v: Value| v.to_string()))
        .bind($after.map(|v: Value| v.to_string()))
        .execute(&mut *$tx)
        .await?
    };
}

fn dedup(ids: &[String]) -> Vec<String> {
    let mut seen = HashSet::with_capacity(ids.len());
    ids.iter()
        .filter(|id| seen.insert(id.as_str()))
        .cloned()
        .collect()
}

impl Store {
    fn max_binds(&self) -> usize {
        match self.backend() {
            Backend::Sqlite => SQLITE_MAX_BINDS,
            Backend::Postgres => POSTGRES_MAX_BINDS,
        }
    }

    /// Registers a risk with the findings that evidence it (all of the same
    /// vendor), its first history entry and an audit record: one transaction.
    pub async fn create_risk(
        &self,
        org_id: &str,
        risk: &NewRisk,
        actor: &Actor,
    ) -> Result<String, StoreError> {
        let fields = RiskUpdate::from(risk);
        refuse_acceptance(None, None, &fields)?;
        if let Some(due) = &risk.due_on {
            check_date("due date", due)?;
        }
        let finding_ids = dedup(&risk.finding_ids);
        let id = new_id();
        let at = now();
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let vendor: Option<String> = sqlx::query_scalar("SELECT legal_name FROM vendors WHERE id = $1 AND org_id = $2")
                .bind(&risk.vendor_id).bind(org_id).fetch_optional(&mut *tx).await?;
            let vendor = vendor.ok_or(StoreError::NotFound("vendor"))?;
            check_service_and_owner!(tx, org_id, &risk.vendor_id, &risk.service_id, &risk.owner_id);
            check_findings!(tx, org_id, risk.vendor_id.as_str(), &vendor, &finding_ids);
            let mut b = sqlx::QueryBuilder::new(RISK_INSERT);
            push_risk_values!(b, std::iter::once((&id, risk)), org_id, actor.label.as_str(), at.as_str());
            b.build().execute(&mut *tx).await?;
            let pairs: Vec<(&str, &str)> = finding_ids.iter().map(|f| (id.as_str(), f.as_str())).collect();
            insert_links!(tx, &pairs, ID_CHUNK);
            let summary = format!("created risk '{}' for {vendor}: residual {} ({}), {}",
                risk.title, risk.residual_level, risk.residual_score, risk.status.replace('_', " "));
            let mut after = snapshot(&fields);
            if let Value::Object(map) = &mut after {
                map.insert("vendor_id".into(), json!(risk.vendor_id));
                map.insert("finding_ids".into(), json!(finding_ids));
            }
            insert_event!(tx, org_id, &id, &at, actor, "created", &summary, None::<Value>, Some(after.clone()));
            insert_audit(&mut *tx, org_id, actor, NewAudit {
                action: "risk.create",
                entity_kind: "risk",
                entity_id: Some(&id),
                summary,
                before: None,
                after: Some(after),
            }).await?;
            tx.commit().await?;
            Ok::<(), StoreError>(())
        })?;
        Ok(id)
    }

    pub async fn get_risk(&self, org_id: &str, id: &str) -> Result<RiskRecord, StoreError> {
        let sql = format!("{RISK_SELECT} WHERE r.id = $1 AND r.org_id = $2");
        on_pool!(self, pool => {
            sqlx::query_as::<_, RiskRecord>(&sql).bind(id).bind(org_id)
                .fetch_optional(pool).await?.ok_or(StoreError::NotFound("risk"))
        })
    }

    /// One page of risks, filtered (all filters combined) and sorted on the
    /// server; by default every status, highest residual score first.
    pub async fn list_risks(
        &self,
        org_id: &str,
        query: &RiskQuery,
    ) -> Result<RiskPage, StoreError> {
        let filter = risk_filter(org_id, query, "all");
        let limit = if query.limit == 0 {
            50
        } else {
            query.limit.min(1000)
        };
        let join = if filter.needs_vendor {
            " JOIN vendors v ON v.id = r.vendor_id"
        } else {
            ""
        };
        let count_sql = format!("SELECT COUNT(*) FROM risks r{join} WHERE {}", filter.sql);
        let list_sql = format!(
            "{RISK_SELECT} WHERE {} ORDER BY {} LIMIT {limit} OFFSET {}",
            filter.sql,
            query.sort.order_by(),
            query.offset
        );
        on_pool!(self, pool => {
            let mut count = sqlx::query_scalar::<_, i64>(&count_sql);
            let mut list = sqlx::query_as::<_, RiskRecord>(&list_sql);
            for b in &filter.binds {
                count = count.bind(b);
                list = list.bind(b);
            }
            let total = count.fetch_one(pool).await?;
            let risks = list.fetch_all(pool).await?;
            Ok(RiskPage { risks, total })
        })
    }

    /// Every risk of a vendor: active ones first, worst first.
    pub async fn risks_for_vendor(
        &self,
        org_id: &str,
        vendor_id: &str,
    ) -> Result<Vec<RiskRecord>, StoreError> {
        let sql = format!(
            "{RISK_SELECT} WHERE r.vendor_id = $1 AND r.org_id = $2 \
             ORDER BY (CASE WHEN r.status = 'closed' THEN 1 ELSE 0 END), r.residual_score DESC, r.updated_at DESC, r.id"
        );
        on_pool!(self, pool => {
            Ok(sqlx::query_as::<_, RiskRecord>(&sql).bind(vendor_id).bind(org_id).fetch_all(pool).await?)
        })
    }

    /// Writes every field of `update`, recording the changed ones (before and
    /// after) in the risk's history and the audit log. Nothing changed,
    /// nothing is written. Status `closed` stamps `closed_at`; any other
    /// status clears it. Acceptance goes through `record_acceptance`.
    pub async fn update_risk(
        &self,
        org_id: &str,
        id: &str,
        update: &RiskUpdate,
        actor: &Actor,
    ) -> Result<RiskRecord, StoreError> {
        if let Some(due) = &update.due_on {
            check_date("due date", due)?;
        }
        let select = format!("{RISK_SELECT} WHERE r.id = $1 AND r.org_id = $2");
        let at = now();
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let current = sqlx::query_as::<_, RiskRecord>(&select).bind(id).bind(org_id)
                .fetch_optional(&mut *tx).await?.ok_or(StoreError::NotFound("risk"))?;
            refuse_acceptance(Some(&current.status), Some(&current.treatment), update)?;
            let before = RiskUpdate::from(&current);
            let Some((old, new, changes)) = diff(&before, update) else {
                return Ok(current);
            };
            if before.service_id != update.service_id || before.owner_id != update.owner_id {
                check_service_and_owner!(tx, org_id, &current.vendor_id, &update.service_id, &update.owner_id);
            }
            let closed_at = match (current.status.as_str(), update.status.as_str()) {
                ("closed", "closed") => current.closed_at.clone(),
                (_, "closed") => Some(at.clone()),
                _ => None,
            };
            // Guarded on `updated_at`: an edit made meanwhile is not overwritten.
            let done = sqlx::query("UPDATE risks SET service_id = $1, category = $2, title = $3, description = $4, owner_id = $5, \
                inherent_likelihood = $6, inherent_impact = $7, existing_controls = $8, residual_likelihood = $9, residual_impact = $10, \
                residual_score = $11, residual_level = $12, treatment = $13, status = $14, due_on = $15, compensating_control = $16, \
                worst_finding = $17, above_threshold = $18, threshold_reason = $19, updated_at = $20, closed_at = $21 \
                WHERE id = $22 AND org_id = $23 AND updated_at = $24")
                .bind(&update.service_id).bind(&update.category).bind(&update.title).bind(&update.description).bind(&update.owner_id)
                .bind(update.inherent_likelihood).bind(update.inherent_impact).bind(&update.existing_controls)
                .bind(update.residual_likelihood).bind(update.residual_impact).bind(update.residual_score).bind(&update.residual_level)
                .bind(&update.treatment).bind(&update.status).bind(&update.due_on).bind(&update.compensating_control)
                .bind(&update.worst_finding).bind(i64::from(update.above_threshold)).bind(&update.threshold_reason)
                .bind(&at).bind(&closed_at).bind(id).bind(org_id).bind(&current.updated_at)
                .execute(&mut *tx).await?;
            if done.rows_affected() != 1 {
                return Err(StoreError::Conflict("the risk changed meanwhile; reload and try again".into()));
            }
            let summary = format!("updated risk '{}' of {}: {changes}", current.title, current.vendor_name);
            insert_event!(tx, org_id, id, &at, actor, "updated", &summary, Some(old.clone()), Some(new.clone()));
            insert_audit(&mut *tx, org_id, actor, NewAudit {
                action: "risk.update",
                entity_kind: "risk",
                entity_id: Some(id),
                summary,
                before: Some(old),
                after: Some(new),
            }).await?;
            tx.commit().await?;
            Ok::<(), StoreError>(())
        })?;
        self.get_risk(org_id, id).await
    }

    /// Links findings (of the risk's vendor) to a risk; links that exist are
    /// kept. `worst_finding` is the worst severity among the risk's open
    /// findings after linking, as the caller computed it. Returns how many
    /// links are new.
    pub async fn link_findings(
        &self,
        org_id: &str,
        risk_id: &str,
        finding_ids: &[String],
        worst_finding: Option<String>,
        actor: &Actor,
    ) -> Result<u64, StoreError> {
        let finding_ids = dedup(finding_ids);
        let at = now();
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let row = sqlx::query("SELECT r.vendor_id, r.title, r.worst_finding, v.legal_name FROM risks r \
                JOIN vendors v ON v.id = r.vendor_id WHERE r.id = $1 AND r.org_id = $2")
                .bind(risk_id).bind(org_id).fetch_optional(&mut *tx).await?.ok_or(StoreError::NotFound("risk"))?;
            let vendor_id: String = row.try_get("vendor_id")?;
            let title: String = row.try_get("title")?;
            let vendor: String = row.try_get("legal_name")?;
            let old_worst: Option<String> = row.try_get("worst_finding")?;
            check_findings!(tx, org_id, vendor_id.as_str(), &vendor, &finding_ids);
            let pairs: Vec<(&str, &str)> = finding_ids.iter().map(|f| (risk_id, f.as_str())).collect();
            let added = insert_links!(tx, &pairs, ID_CHUNK);
            if added == 0 && old_worst == worst_finding {
                return Ok(0);
            }
            sqlx::query("UPDATE risks SET worst_finding = $1, updated_at = $2 WHERE id = $3 AND org_id = $4")
                .bind(&worst_finding).bind(&at).bind(risk_id).bind(org_id).execute(&mut *tx).await?;
            let summary = format!("linked {added} finding(s) to risk '{title}' of {vendor}; worst open finding {}",
                worst_finding.as_deref().unwrap_or("none"));
            let before = json!({"worst_finding": old_worst});
            let after = json!({"finding_ids": finding_ids, "worst_finding": worst_finding});
            insert_event!(tx, org_id, risk_id, &at, actor, "findings_linked", &summary, Some(before.clone()), Some(after.clone()));
            insert_audit(&mut *tx, org_id, actor, NewAudit {
                action: "risk.link_findings",
                entity_kind: "risk",
                entity_id: Some(risk_id),
                summary,
                before: Some(before),
                after: Some(after),
            }).await?;
            tx.commit().await?;
            Ok(added)
        })
    }

    /// Findings by id, of this organisation only (unknown ids are left out).
    pub async fn findings_by_ids(
        &self,
        org_id: &str,
        ids: &[String],
    ) -> Result<Vec<FindingRecord>, StoreError> {
        let ids = dedup(ids);
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(ID_CHUNK) {
            on_pool!(self, pool => {
                let mut b = sqlx::QueryBuilder::new(
                    "SELECT id, vendor_id, assessment_id, question_id, csf, title, detail, raised_severity, severity, origin, decision, status, \
                     reviewer_comment, decided_by, decided_at, created_at, source, source_ref, cvss_vector FROM findings WHERE org_id = ");
                b.push_bind(org_id);
                b.push(" AND id IN (");
                let mut list = b.separated(", ");
                for id in chunk {
                    list.push_bind(id.as_str());
                }
                b.push(")");
                out.extend(b.build_query_as::<FindingRecord>().fetch_all(pool).await?);
                Ok::<(), StoreError>(())
            })?;
        }
        Ok(out)
    }

    /// The findings evidencing a risk: open ones first, worst first.
    pub async fn findings_for_risk(&self, risk_id: &str) -> Result<Vec<FindingRecord>, StoreError> {
        on_pool!(self, pool => {
            Ok(sqlx::query_as::<_, FindingRecord>(
                "SELECT f.id, f.vendor_id, f.assessment_id, f.question_id, f.csf, f.title, f.detail, f.raised_severity, f.severity, \
                 f.origin, f.decision, f.status, f.reviewer_comment, f.decided_by, f.decided_at, f.created_at, f.source, f.source_ref, \
                 f.cvss_vector FROM findings f JOIN risk_findings rf ON rf.finding_id = f.id WHERE rf.risk_id = $1 \
                 ORDER BY (CASE WHEN f.status = 'open' THEN 0 ELSE 1 END), \
                 (CASE f.severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 WHEN 'low' THEN 3 ELSE 4 END), \
                 f.created_at, f.id")
                .bind(risk_id).fetch_all(pool).await?)
        })
    }

    /// `(finding id, risk id, risk title)` for every risk linked to one of
    /// the findings.
    pub async fn risks_for_findings(
        &self,
        finding_ids: &[String],
    ) -> Result<Vec<(String, String, String)>, StoreError> {
        let finding_ids = dedup(finding_ids);
        on_pool!(self, pool => {
            let mut out = Vec::new();
            for chunk in finding_ids.chunks(ID_CHUNK) {
                let mut b = sqlx::QueryBuilder::new("SELECT rf.finding_id, r.id, r.title FROM risk_findings rf \
                    JOIN risks r ON r.id = rf.risk_id WHERE rf.finding_id IN (");
                {
                    let mut list = b.separated(", ");
                    for id in chunk {
                        list.push_bind(id.as_str());
                    }
                }
                b.push(") ORDER BY rf.finding_id, r.title, r.id");
                for row in b.build().fetch_all(pool).await? {
                    out.push((row.try_get("finding_id")?, row.try_get("id")?, row.try_get("title")?));
                }
            }
            Ok(out)
        })
    }

    /// A risk's history, oldest first.
    pub async fn risk_events(
        &self,
        org_id: &str,
        risk_id: &str,
    ) -> Result<Vec<RiskEvent>, StoreError> {
        on_pool!(self, pool => {
            Ok(sqlx::query_as::<_, RiskEvent>(
                "SELECT id, org_id, risk_id, at, actor, action, summary, before_json, after_json FROM risk_events \
                 WHERE risk_id = $1 AND org_id = $2 ORDER BY at, id")
                .bind(risk_id).bind(org_id).fetch_all(pool).await?)
        })
    }

    /// Risks per likelihood × impact cell (residual or inherent), over the
    /// risks the query selects (active ones unless it names a status); only
    /// non-empty cells. Without a tier or search filter vendors are not
    /// joined, so the `risks_heatmap` index answers residual maps alone.
    pub async fn heat_map(
        &self,
        org_id: &str,
        query: &RiskQuery,
        residual: bool,
    ) -> Result<Vec<HeatCell>, StoreError> {
        let filter = risk_filter(org_id, query, "active");
        let (likelihood, impact) = if residual {
            ("r.residual_likelihood", "r.residual_impact")
        } else {
            ("r.inherent_likelihood", "r.inherent_impact")
        };
        let join = if filter.needs_vendor {
            " JOIN vendors v ON v.id = r.vendor_id"
        } else {
            ""
        };
        let sql = format!(
            "SELECT {likelihood} AS likelihood, {impact} AS impact, COUNT(*) AS count FROM risks r{join} \
             WHERE {} GROUP BY {likelihood}, {impact} ORDER BY {likelihood}, {impact}",
            filter.sql
        );
        on_pool!(self, pool => {
            let mut q = sqlx::query_as::<_, HeatCell>(&sql);
            for b in &filter.binds {
                q = q.bind(b);
            }
            Ok(q.fetch_all(pool).await?)
        })
    }

    // ----- acceptances ------------------------------------------------

    /// Records who accepted a risk, in what role, why and until when, and
    /// marks the risk accepted: one transaction. A closed risk cannot be
    /// accepted. Returns the acceptance id.
    pub async fn record_acceptance(
        &self,
        org_id: &str,
        risk_id: &str,
        acceptance: &NewAcceptance,
        actor: &Actor,
    ) -> Result<String, StoreError> {
        check_date("expiry date", &acceptance.expires_on)?;
        let id = new_id();
        let at = now();
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let row = sqlx::query("SELECT r.title, r.status, r.treatment, v.legal_name FROM risks r \
                JOIN vendors v ON v.id = r.vendor_id WHERE r.id = $1 AND r.org_id = $2")
                .bind(risk_id).bind(org_id).fetch_optional(&mut *tx).await?.ok_or(StoreError::NotFound("risk"))?;
            let title: String = row.try_get("title")?;
            let status: String = row.try_get("status")?;
            let treatment: String = row.try_get("treatment")?;
            let vendor: String = row.try_get("legal_name")?;
            if status == "closed" {
                return Err(StoreError::Conflict("a closed risk cannot be accepted; reopen it first".into()));
            }
            sqlx::query("INSERT INTO risk_acceptances (id, org_id, risk_id, accepted_by_id, accepted_by, accepted_as, residual_level, \
                residual_score, above_threshold, justification, compensating_controls, expires_on, created_at) \
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)")
                .bind(&id).bind(org_id).bind(risk_id).bind(&acceptance.accepted_by_id).bind(&acceptance.accepted_by)
                .bind(&acceptance.accepted_as).bind(&acceptance.residual_level).bind(acceptance.residual_score)
                .bind(i64::from(acceptance.above_threshold)).bind(&acceptance.justification)
                .bind(&acceptance.compensating_controls).bind(&acceptance.expires_on).bind(&at)
                .execute(&mut *tx).await?;
            // The decision was checked against this score and flag; a risk
            // re-scored meanwhile must be judged again, so nothing is kept.
            let done = sqlx::query("UPDATE risks SET status = 'accepted', treatment = 'accept', updated_at = $1, closed_at = NULL \
                WHERE id = $2 AND org_id = $3 AND status <> 'closed' AND residual_score = $4 AND residual_level = $5 \
                AND above_threshold = $6")
                .bind(&at).bind(risk_id).bind(org_id).bind(acceptance.residual_score).bind(&acceptance.residual_level)
                .bind(i64::from(acceptance.above_threshold)).execute(&mut *tx).await?;
            if done.rows_affected() != 1 {
                return Err(StoreError::Conflict(
                    "the risk changed while the acceptance was being recorded; look at it again".into()));
            }
            let summary = format!("{} accepted risk '{title}' of {vendor} as {} until {} (residual {} {}): {}",
                acceptance.accepted_by, acceptance.accepted_as, acceptance.expires_on, acceptance.residual_level,
                acceptance.residual_score, acceptance.justification);
            let before = json!({"status": status, "treatment": treatment});
            let after = json!({
                "status": "accepted",
                "treatment": "accept",
                "acceptance_id": id,
                "accepted_by": acceptance.accepted_by,
                "accepted_as": acceptance.accepted_as,
                "justification": acceptance.justification,
                "compensating_controls": acceptance.compensating_controls,
                "expires_on": acceptance.expires_on,
                "above_threshold": acceptance.above_threshold,
            });
            insert_event!(tx, org_id, risk_id, &at, actor, "accepted", &summary, Some(before.clone()), Some(after.clone()));
            insert_audit(&mut *tx, org_id, actor, NewAudit {
                action: "risk.accept",
                entity_kind: "risk",
                entity_id: Some(risk_id),
                summary,
                before: Some(before),
                after: Some(after),
            }).await?;
            tx.commit().await?;
            Ok::<(), StoreError>(())
        })?;
        Ok(id)
    }

    /// Acceptances, soonest expiry first. `only_current`: just the newest
    /// acceptance of each risk that is still accepted.
    pub async fn acceptances(
        &self,
        org_id: &str,
        only_current: bool,
    ) -> Result<Vec<AcceptanceRecord>, StoreError> {
        let current = if only_current {
            format!(" AND r.status = 'accepted' AND {IS_LATEST_ACCEPTANCE}")
        } else {
            String::new()
        };
        let sql = format!("{ACCEPTANCE_SELECT} WHERE a.org_id = $1{current} ORDER BY a.expires_on, a.created_at, a.id");
        on_pool!(self, pool => {
            Ok(sqlx::query_as::<_, AcceptanceRecord>(&sql).bind(org_id).fetch_all(pool).await?)
        })
    }

    /// Every acceptance of one risk, newest first.
    pub async fn acceptances_for_risk(
        &self,
        org_id: &str,
        risk_id: &str,
    ) -> Result<Vec<AcceptanceRecord>, StoreError> {
        let sql = format!("{ACCEPTANCE_SELECT} WHERE a.risk_id = $1 AND a.org_id = $2 ORDER BY a.created_at DESC, a.id DESC");
        on_pool!(self, pool => {
            Ok(sqlx::query_as::<_, AcceptanceRecord>(&sql).bind(risk_id).bind(org_id).fetch_all(pool).await?)
        })
    }

    /// Returns to open (treatment undecided) every accepted risk whose newest
    /// acceptance ended before `today`; an acceptance holds through its
    /// expiry date. The acceptance rows stay as they were. Returns the ids of
    /// the risks reopened.
    pub async fn expire_acceptances(
        &self,
        org_id: &str,
        today: &str,
        actor: &Actor,
    ) -> Result<Vec<String>, StoreError> {
        check_date("today", today)?;
        let at = now();
        let sql = format!(
            "SELECT r.id, r.title, v.legal_name, a.expires_on, a.accepted_by FROM risks r \
             JOIN vendors v ON v.id = r.vendor_id JOIN risk_acceptances a ON a.risk_id = r.id \
             WHERE r.org_id = $1 AND r.status = 'accepted' AND {IS_LATEST_ACCEPTANCE} AND a.expires_on < $2 ORDER BY r.id"
        );
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let rows = sqlx::query(&sql).bind(org_id).bind(today).fetch_all(&mut *tx).await?;
            let mut reopened = Vec::with_capacity(rows.len());
            for row in rows {
                let id: String = row.try_get("id")?;
                let title: String = row.try_get("title")?;
                let vendor: String = row.try_get("legal_name")?;
                let expires_on: String = row.try_get("expires_on")?;
                let accepted_by: String = row.try_get("accepted_by")?;
                let done = sqlx::query("UPDATE risks SET status = 'open', treatment = 'undecided', updated_at = $1 \
                    WHERE id = $2 AND org_id = $3 AND status = 'accepted'")
                    .bind(&at).bind(&id).bind(org_id).execute(&mut *tx).await?;
                if done.rows_affected() != 1 {
                    continue;
                }
                let summary = format!("the acceptance of risk '{title}' of {vendor} by {accepted_by} ended on {expires_on}: \
                    the risk is open again and its treatment undecided");
                let before = json!({"status": "accepted", "treatment": "accept", "expires_on": expires_on});
                let after = json!({"status": "open", "treatment": "undecided"});
                insert_event!(tx, org_id, &id, &at, actor, "acceptance_expired", &summary, Some(before.clone()), Some(after.clone()));
                insert_audit(&mut *tx, org_id, actor, NewAudit {
                    action: "risk.acceptance_expired",
                    entity_kind: "risk",
                    entity_id: Some(&id),
                    summary,
                    before: Some(before),
                    after: Some(after),
                }).await?;
                reopened.push(id);
            }
            tx.commit().await?;
            Ok(reopened)
        })
    }

    // ----- risk policy ------------------------------------------------

    /// What the risk policy needs about every risk, in one query.
    pub async fn threshold_inputs(&self, org_id: &str) -> Result<Vec<ThresholdInput>, StoreError> {
        on_pool!(self, pool => {
            Ok(sqlx::query_as::<_, ThresholdInput>(
                "SELECT r.id, v.tier AS vendor_tier, r.residual_score, r.residual_level, r.worst_finding, r.status, \
                 (r.above_threshold <> 0) AS above_threshold, r.threshold_reason \
                 FROM risks r JOIN vendors v ON v.id = r.vendor_id WHERE r.org_id = $1")
                .bind(org_id).fetch_all(pool).await?)
        })
    }

    /// Records an applied risk policy and the threshold flags it changed
    /// (`(risk id, above threshold, reason)`), in one transaction with one
    /// summary audit record. The per-risk history is not written: the
    /// policy row and the audit record say what re-evaluated the flags, and
    /// a policy change may touch every risk at once. Refused as a whole if a
    /// risk is no longer there.
    pub async fn apply_threshold_changes(
        &self,
        org_id: &str,
        policy_version: &str,
        policy_content: &str,
        evaluated: i64,
        changes: &[ThresholdChange],
        actor: &Actor,
    ) -> Result<(), StoreError> {
        let at = now();
        let changed = changes.len() as i64;
        let raised = changes.iter().filter(|c| c.above_threshold).count();
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query("INSERT INTO risk_policies (id, org_id, version, content, applied_at, applied_by, risks_evaluated, threshold_changes) \
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                .bind(new_id()).bind(org_id).bind(policy_version).bind(policy_content).bind(&at).bind(&actor.label)
                .bind(evaluated).bind(changed)
                .execute(&mut *tx).await?;
            // One UPDATE … FROM (VALUES …) per batch; both backends name the
            // VALUES columns column1…column3. Batches of a fixed size reuse
            // one prepared statement. At 100,000 changes on SQLite this is
            // within 1.5× of SQLite rewriting the rows by itself, while one
            // statement per risk is 5× slower and batches at the bind limit
            // are 1.5× slower.
            for chunk in changes.chunks(THRESHOLD_ROWS_PER_STATEMENT) {
                let mut b = sqlx::QueryBuilder::new(
                    "UPDATE risks SET above_threshold = t.column2, threshold_reason = t.column3, residual_level = t.column4 FROM (");
                b.push_values(chunk, |mut v, c| {
                    v.push_bind(c.risk_id.as_str()).push_bind(i64::from(c.above_threshold))
                        .push_bind(c.reason.as_deref()).push_bind(c.level.as_str());
                });
                b.push(") AS t WHERE risks.id = t.column1 AND risks.org_id = ");
                b.push_bind(org_id);
                let done = b.build().execute(&mut *tx).await?;
                if done.rows_affected() as usize != chunk.len() {
                    return Err(StoreError::Conflict(
                        "some risks changed while the policy was evaluated; apply it again".into()));
                }
            }
            insert_audit(&mut *tx, org_id, actor, NewAudit {
                action: "risk_policy.apply",
                entity_kind: "risk_policy",
                entity_id: None,
                summary: format!("applied risk policy {policy_version}: {evaluated} risk(s) evaluated, {changed} threshold change(s) \
                    ({raised} now above threshold, {} no longer)", changes.len() - raised),
                before: None,
                after: Some(json!({"version": policy_version, "evaluated": evaluated, "threshold_changes": changed,
                    "above": raised, "below": changes.len() - raised})),
            }).await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// The threshold facts of every risk, grouped (see `ThresholdGroup`).
    pub async fn threshold_groups(&self, org_id: &str) -> Result<Vec<ThresholdGroup>, StoreError> {
        on_pool!(self, pool => {
            Ok(sqlx::query_as::<_, ThresholdGroup>(
                "SELECT v.tier AS vendor_tier, r.residual_score, r.residual_level, r.worst_finding, r.status, \
                 (r.above_threshold <> 0) AS above_threshold, r.threshold_reason, COUNT(*) AS risks \
                 FROM risks r JOIN vendors v ON v.id = r.vendor_id WHERE r.org_id = $1 \
                 GROUP BY v.tier, r.residual_score, r.residual_level, r.worst_finding, r.status, r.above_threshold, r.threshold_reason")
                .bind(org_id).fetch_all(pool).await?)
        })
    }

    /// Records an applied risk policy and moves every risk of each changed
    /// group to its new flag, reason and level, in one transaction with one
    /// summary audit record (as `apply_threshold_changes`). Refused as a
    /// whole (`Conflict`) if a group no longer has the risks it was counted
    /// with, because a risk changed meanwhile; the caller evaluates again.
    /// Returns how many risks changed.
    pub async fn apply_threshold_group_changes(
        &self,
        org_id: &str,
        policy_version: &str,
        policy_content: &str,
        evaluated: i64,
        changes: &[ThresholdGroupChange],
        actor: &Actor,
    ) -> Result<i64, StoreError> {
        let at = now();
        let changed: i64 = changes.iter().map(|c| c.group.risks).sum();
        let raised: i64 = changes
            .iter()
            .filter(|c| c.above_threshold)
            .map(|c| c.group.risks)
            .sum();
        // Each group is found through the (org, residual score) index; the
        // tier through the vendor.
        const SQL: &str = "UPDATE risks SET above_threshold = $1, threshold_reason = $2, residual_level = $3 \
            WHERE org_id = $4 AND residual_score = $5 AND residual_level = $6 AND status = $7 AND above_threshold = $8 \
            AND (threshold_reason = $9 OR (threshold_reason IS NULL AND $9 IS NULL)) \
            AND (worst_finding = $10 OR (worst_finding IS NULL AND $10 IS NULL)) \
            AND vendor_id IN (SELECT id FROM vendors WHERE org_id = $4 AND tier = $11)";
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query("INSERT INTO risk_policies (id, org_id, version, content, applied_at, applied_by, risks_evaluated, threshold_changes) \
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                .bind(new_id()).bind(org_id).bind(policy_version).bind(policy_content).bind(&at).bind(&actor.label)
                .bind(evaluated).bind(changed)
                .execute(&mut *tx).await?;
            for c in changes {
                let g = &c.group;
                let done = sqlx::query(SQL)
                    .bind(i64::from(c.above_threshold)).bind(c.reason.as_deref()).bind(c.level.as_str())
                    .bind(org_id).bind(g.residual_score).bind(g.residual_level.as_str()).bind(g.status.as_str())
                    .bind(i64::from(g.above_threshold)).bind(g.threshold_reason.as_deref()).bind(g.worst_finding.as_deref())
                    .bind(g.vendor_tier.as_str())
                    .execute(&mut *tx).await?;
                if done.rows_affected() as i64 != g.risks {
                    return Err(StoreError::Conflict(
                        "some risks changed while the policy was evaluated; apply it again".into()));
                }
            }
            insert_audit(&mut *tx, org_id, actor, NewAudit {
                action: "risk_policy.apply",
                entity_kind: "risk_policy",
                entity_id: None,
                summary: format!("applied risk policy {policy_version}: {evaluated} risk(s) evaluated, {changed} threshold change(s) \
                    ({raised} now above threshold, {} no longer)", changed - raised),
                before: None,
                after: Some(json!({"version": policy_version, "evaluated": evaluated, "threshold_changes": changed,
                    "above": raised, "below": changed - raised})),
            }).await?;
            tx.commit().await?;
            Ok(changed)
        })
    }

    /// `(version, content)` of the risk policy applied last.
    pub async fn active_risk_policy(
        &self,
        org_id: &str,
    ) -> Result<Option<(String, String)>, StoreError> {
        on_pool!(self, pool => {
            let row = sqlx::query("SELECT version, content FROM risk_policies WHERE org_id = $1 ORDER BY applied_at DESC, id DESC LIMIT 1")
                .bind(org_id).fetch_optional(pool).await?;
            match row {
                Some(row) => Ok(Some((row.try_get("version")?, row.try_get("content")?))),
                None => Ok(None),
            }
        })
    }

    // ----- dashboard --------------------------------------------------

    /// Counts for the dashboard; `expiring_by` is a date (`YYYY-MM-DD`).
    pub async fn risk_counts(
        &self,
        org_id: &str,
        expiring_by: &str,
    ) -> Result<RiskCounts, StoreError> {
        check_date("expiry horizon", expiring_by)?;
        let expiring_sql = format!(
            "SELECT COUNT(*) FROM risk_acceptances a JOIN risks r ON r.id = a.risk_id \
             WHERE r.org_id = $1 AND r.status = 'accepted' AND a.expires_on <= $2 AND {IS_LATEST_ACCEPTANCE}"
        );
        on_pool!(self, pool => {
            let rows = sqlx::query("SELECT status, residual_level, COUNT(*) AS n, \
                CAST(COALESCE(SUM(CASE WHEN above_threshold <> 0 AND treatment = 'undecided' AND status = 'open' THEN 1 ELSE 0 END), 0) AS BIGINT) AS undecided \
                FROM risks WHERE org_id = $1 GROUP BY status, residual_level")
                .bind(org_id).fetch_all(pool).await?;
            let mut counts = RiskCounts::default();
            for row in &rows {
                let status: String = row.try_get("status")?;
                let level: String = row.try_get("residual_level")?;
                let n: i64 = row.try_get("n")?;
                counts.above_threshold_undecided += row.try_get::<i64, _>("undecided")?;
                match status.as_str() {
                    "open" => counts.open += n,
                    "in_treatment" => counts.in_treatment += n,
                    "accepted" => counts.accepted += n,
                    "closed" => counts.closed += n,
                    _ => {}
                }
                // The same risks as the "open" headline: accepted ones are
                // decided and counted on their own.
                if status == "open" || status == "in_treatment" {
                    *counts.by_level.entry(level).or_default() += n;
                }
            }
            counts.accepted_expiring = sqlx::query_scalar(&expiring_sql).bind(org_id).bind(expiring_by).fetch_one(pool).await?;
            Ok(counts)
        })
    }

    // ----- bulk -------------------------------------------------------

    /// Loads many risks (and their finding links) for demos and benchmarks:
    /// one transaction, multi-row INSERTs. Vendors and findings are checked
    /// as in `create_risk`, but there is no history entry or audit record
    /// per risk (one summary audit record instead): generated data has no
    /// decisions to account for, and 100,000 of each would dwarf the load.
    /// Returns how many risks were inserted.
    pub async fn bulk_insert_risks(
        &self,
        org_id: &str,
        risks: &[NewRisk],
    ) -> Result<u64, StoreError> {
        for risk in risks {
            if let Some(due) = &risk.due_on {
                check_date("due date", due)?;
            }
        }
        let ids: Vec<String> = risks.iter().map(|_| new_id()).collect();
        let at = now();
        let actor = Actor::system("bulk load");
        let rows_per_insert = self.max_binds() / RISK_INSERT_COLUMNS;
        let links_per_insert = self.max_binds() / 2;
        let all_findings: Vec<String> = dedup(
            &risks
                .iter()
                .flat_map(|r| r.finding_ids.iter().cloned())
                .collect::<Vec<_>>(),
        );
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let mut vendors: HashMap<String, String> = HashMap::new();
            for row in sqlx::query("SELECT id, legal_name FROM vendors WHERE org_id = $1").bind(org_id).fetch_all(&mut *tx).await? {
                vendors.insert(row.try_get("id")?, row.try_get("legal_name")?);
            }
            let mut finding_vendor: HashMap<String, String> = HashMap::with_capacity(all_findings.len());
            for chunk in all_findings.chunks(ID_CHUNK) {
                let mut b = sqlx::QueryBuilder::new("SELECT id, vendor_id FROM findings WHERE org_id = ");
                b.push_bind(org_id);
                b.push(" AND id IN (");
                {
                    let mut list = b.separated(", ");
                    for id in chunk {
                        list.push_bind(id.as_str());
                    }
                }
                b.push(")");
                for row in b.build().fetch_all(&mut *tx).await? {
                    finding_vendor.insert(row.try_get("id")?, row.try_get("vendor_id")?);
                }
            }
            let mut pairs: Vec<(&str, &str)> = Vec::new();
            for (id, risk) in ids.iter().zip(risks) {
                let Some(vendor) = vendors.get(&risk.vendor_id) else {
                    return Err(StoreError::NotFound("vendor"));
                };
                for finding in dedup(&risk.finding_ids) {
                    match finding_vendor.get_key_value(&finding) {
                        Some((f, v)) if *v == risk.vendor_id => pairs.push((id.as_str(), f.as_str())),
                        Some(_) => return Err(StoreError::Conflict(format!(
                            "finding {finding} belongs to another vendor; a risk of {vendor} is evidenced by that vendor's findings only"))),
                        None => return Err(StoreError::Conflict(format!("finding {finding} does not exist in this organisation"))),
                    }
                }
            }
            let rows: Vec<(&String, &NewRisk)> = ids.iter().zip(risks).collect();
            for chunk in rows.chunks(rows_per_insert) {
                let mut b = sqlx::QueryBuilder::new(RISK_INSERT);
                push_risk_values!(b, chunk.iter().copied(), org_id, actor.label.as_str(), at.as_str());
                b.build().execute(&mut *tx).await?;
            }
            insert_links!(tx, &pairs, links_per_insert);
            insert_audit(&mut *tx, org_id, &actor, NewAudit {
                action: "risk.bulk_insert",
                entity_kind: "risk",
                entity_id: None,
                summary: format!("loaded {} risk(s) with {} finding link(s)", risks.len(), pairs.len()),
                before: None,
                after: Some(json!({"risks": risks.len(), "finding_links": pairs.len()})),
            }).await?;
            tx.commit().await?;
            Ok(risks.len() as u64)
        })
    }
}
