//! Risk register pages: the register with its heat map, one risk (history,
//! findings, treatment, acceptance), new risks and promotion of findings,
//! accepted risks, corrective action plans, contracts and the printable
//! risk report.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use chrono::Utc;
use mamori_app::risks::{
    self as app, AcceptanceInput, ActionInput, ClauseInput, ContractInput, RiskInput,
};
use mamori_domain::contract::{renewal, ClauseState, Renewal};
use mamori_domain::risk::{RiskPolicy, RiskStatus, Treatment};
use mamori_domain::{Permission, RiskCategory, Tier};
use mamori_store::{
    AcceptanceRecord, FindingRecord, HeatCell, RiskEvent, RiskQuery, RiskRecord, RiskSort,
    VendorScope,
};
use serde::Deserialize;

use super::{error_page, query_string, render, Chrome};
use crate::auth::{CurrentUser, RequestLocale};
use crate::state::AppState;

const PER_PAGE: u32 = 50;

fn level_class(level: &str) -> &'static str {
    match level {
        "critical" => "sev-critical",
        "high" => "sev-high",
        "medium" => "sev-medium",
        _ => "sev-low",
    }
}

/// One square of the heat map, placed by the handler.
pub struct HeatSquare {
    pub x: u32,
    pub y: u32,
    pub count: i64,
    pub class: &'static str,
    pub title: String,
}

/// The matrix as an SVG grid: likelihood up, impact across.
pub struct HeatMap {
    pub width: u32,
    pub height: u32,
    pub cell: u32,
    pub left: u32,
    pub squares: Vec<HeatSquare>,
    /// (label, x, y) of the axis labels.
    pub x_labels: Vec<(String, u32, u32)>,
    pub y_labels: Vec<(String, u32, u32)>,
    pub x_title: String,
    pub y_title: String,
    pub total: i64,
}

const CELL: u32 = 64;
const LEFT: u32 = 120;

pub fn heat_map(policy: &RiskPolicy, cells: &[HeatCell], chrome: &Chrome) -> HeatMap {
    let ja = chrome.tr.locale == crate::i18n::Locale::Ja;
    let rows = policy.matrix.likelihood_steps();
    let cols = policy.matrix.impact_steps();
    let counts: HashMap<(i64, i64), i64> = cells
        .iter()
        .map(|c| ((c.likelihood, c.impact), c.count))
        .collect();
    let mut squares = Vec::new();
    for l in 1..=rows {
        for i in 1..=cols {
            let count = counts
                .get(&(i64::from(l), i64::from(i)))
                .copied()
                .unwrap_or(0);
            let level = policy.rate(l, i).map(|r| r.level.as_str()).unwrap_or("low");
            squares.push(HeatSquare {
                x: LEFT + (i - 1) * CELL,
                y: (rows - l) * CELL,
                count,
                class: level_class(level),
                title: format!(
                    "{} × {} — {} ({}): {}",
                    policy.matrix.likelihood_label_in(l, ja),
                    policy.matrix.impact_label_in(i, ja),
                    chrome.tr.label("severity", level),
                    l * i,
                    count
                ),
            });
        }
    }
    let y_labels = (1..=rows)
        .map(|l| {
            (
                policy.matrix.likelihood_label_in(l, ja).to_string(),
                LEFT - 6,
                (rows - l) * CELL + CELL / 2 + 4,
            )
        })
        .collect();
    let x_labels = (1..=cols)
        .map(|i| {
            (
                policy.matrix.impact_label_in(i, ja).to_string(),
                LEFT + (i - 1) * CELL + CELL / 2,
                rows * CELL + 16,
            )
        })
        .collect();
    HeatMap {
        width: LEFT + cols * CELL + 8,
        height: rows * CELL + 40,
        cell: CELL,
        left: LEFT,
        squares,
        x_labels,
        y_labels,
        x_title: chrome.t("risk.impact").to_string(),
        y_title: chrome.t("risk.likelihood").to_string(),
        total: cells.iter().map(|c| c.count).sum(),
    }
}

pub struct RiskRow {
    pub id: String,
    pub title: String,
    pub vendor_id: String,
    pub vendor_name: String,
    pub tier: String,
    pub category: String,
    pub owner: String,
    pub score: i64,
    pub level: String,
    pub level_class: &'static str,
    pub above: bool,
    pub treatment: String,
    pub status: String,
    pub due: String,
    pub overdue: bool,
    pub findings: i64,
}

fn risk_row(r: &RiskRecord, chrome: &Chrome, today: &str) -> RiskRow {
    RiskRow {
        id: r.id.clone(),
        title: r.title.clone(),
        vendor_id: r.vendor_id.clone(),
        vendor_name: r.vendor_name.clone(),
        tier: chrome.tr.label("tier", &r.vendor_tier),
        category: chrome.tr.label("category", &r.category),
        owner: r.owner_name.clone().unwrap_or_default(),
        score: r.residual_score,
        level: chrome.tr.label("severity", &r.residual_level),
        level_class: level_class(&r.residual_level),
        above: r.above_threshold,
        treatment: chrome.tr.label("treatment", &r.treatment),
        status: chrome.tr.label("risk_status", &r.status),
        due: r.due_on.clone().unwrap_or_default(),
        overdue: r.status != "closed"
            && r.status != "accepted"
            && r.due_on.as_deref().is_some_and(|d| d < today),
        findings: r.finding_count,
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct RiskParams {
    #[serde(default)]
    pub vendor: String,
    #[serde(default)]
    pub tier: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub owner: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub level: String,
    #[serde(default)]
    pub above: String,
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub sort: String,
    #[serde(default)]
    pub page: Option<u32>,
}

impl RiskParams {
    pub fn query(&self) -> RiskQuery {
        let some = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        RiskQuery {
            vendor_id: some(&self.vendor),
            tier: some(&self.tier),
            category: some(&self.category),
            owner_id: some(&self.owner),
            status: some(&self.status).or(Some("active".into())),
            level: some(&self.level),
            above_threshold: match self.above.as_str() {
                "yes" => Some(true),
                "no" => Some(false),
                _ => None,
            },
            search: some(&self.q),
            sort: RiskSort::parse(&self.sort).unwrap_or_default(),
            limit: PER_PAGE,
            offset: (self.page.unwrap_or(1).max(1) - 1).saturating_mul(PER_PAGE),
        }
    }

    /// The same selection in the JSON API's parameters (for the export).
    fn api_pairs(&self) -> Vec<(&'static str, String)> {
        let status = if self.status.trim().is_empty() {
            "active".to_string()
        } else {
            self.status.clone()
        };
        let above = match self.above.as_str() {
            "yes" => "true",
            "no" => "false",
            _ => "",
        };
        vec![
            ("vendor", self.vendor.clone()),
            ("tier", self.tier.clone()),
            ("category", self.category.clone()),
            ("owner", self.owner.clone()),
            ("status", status),
            ("level", self.level.clone()),
            ("above_threshold", above.to_string()),
            ("q", self.q.clone()),
            ("sort", self.sort.clone()),
        ]
    }

    fn pairs(&self) -> Vec<(&'static str, String)> {
        vec![
            ("vendor", self.vendor.clone()),
            ("tier", self.tier.clone()),
            ("category", self.category.clone()),
            ("owner", self.owner.clone()),
            ("status", self.status.clone()),
            ("level", self.level.clone()),
            ("above", self.above.clone()),
            ("q", self.q.clone()),
            ("sort", self.sort.clone()),
        ]
    }
}

#[derive(Template)]
#[template(path = "risks.html")]
pub struct RisksPage {
    pub chrome: Chrome,
    pub heat: HeatMap,
    pub rows: Vec<RiskRow>,
    pub total: i64,
    pub p: RiskParams,
    pub tiers: Vec<(String, String)>,
    pub categories: Vec<(String, String)>,
    pub levels: Vec<(String, String)>,
    pub statuses: Vec<(String, String)>,
    pub owners: Vec<(String, String)>,
    pub sorts: Vec<(String, String)>,
    pub page: u32,
    pub pages: u32,
    pub prev_href: String,
    pub next_href: String,
    pub export_query: String,
    pub report_query: String,
    pub policy_version: String,
    pub threshold_text: String,
    pub can_manage: bool,
}

fn options(kind: &str, values: &[&str], chrome: &Chrome) -> Vec<(String, String)> {
    values
        .iter()
        .map(|v| (v.to_string(), chrome.tr.label(kind, v)))
        .collect()
}

fn category_options(chrome: &Chrome) -> Vec<(String, String)> {
    let all = [
        RiskCategory::Cybersecurity,
        RiskCategory::Privacy,
        RiskCategory::Compliance,
        RiskCategory::Operational,
        RiskCategory::Reputational,
        RiskCategory::Strategic,
        RiskCategory::Financial,
    ];
    all.iter()
        .map(|c| {
            (
                c.as_str().to_string(),
                chrome.tr.label("category", c.as_str()),
            )
        })
        .collect()
}

async fn owner_options(state: &AppState) -> Vec<(String, String)> {
    state
        .store
        .list_users(&state.org_id)
        .await
        .map(|users| {
            users
                .into_iter()
                .filter(|u| u.role != mamori_domain::Role::VendorContact)
                .map(|u| (u.id, u.display_name))
                .collect()
        })
        .unwrap_or_default()
}

/// Lapsed acceptances return to open before any register page is shown, so
/// nobody sees an acceptance that no longer holds.
async fn sweep(state: &AppState, policy: &RiskPolicy) {
    if let Err(e) = app::expire_acceptances(&state.store, &state.org_id, policy, Utc::now()).await {
        tracing::error!(error = %e, "expiring risk acceptances failed");
    }
}

pub async fn list(
    State(state): State<AppState>,
    Extension(RequestLocale(locale)): Extension<RequestLocale>,
    Extension(user): Extension<CurrentUser>,
    Query(p): Query<RiskParams>,
) -> Response {
    let policy = state.risk_policy().await;
    sweep(&state, &policy).await;
    let query = p.query();
    let (page, cells) = match tokio::try_join!(
        state.store.list_risks(&state.org_id, &query),
        state.store.heat_map(&state.org_id, &query, true)
    ) {
        Ok(v) => v,
        Err(e) => return error_page(&state, Some(&user), locale, e.into()).await,
    };
    let chrome = Chrome::new(&state, Some(&user), locale, "risks").await;
    let today = policy.local_date(Utc::now()).to_string();
    let pages = u32::try_from((page.total + i64::from(PER_PAGE) - 1) / i64::from(PER_PAGE))
        .unwrap_or(1)
        .max(1);
    let current = p.page.unwrap_or(1).clamp(1, pages);
    let mut pairs = p.pairs();
    let href = |n: u32, pairs: &mut Vec<(&'static str, String)>| {
        let mut all = pairs.clone();
        all.push(("page", n.to_string()));
        format!("/risks{}", query_string(&all))
    };
    let prev_href = if current > 1 {
        href(current - 1, &mut pairs)
    } else {
        String::new()
    };
    let next_href = if current < pages {
        href(current + 1, &mut pairs)
    } else {
        String::new()
    };
    let t = &policy.threshold;
    let tier_limits: String = t
        .tier_residual_score_at_least
        .iter()
        .map(|(tier, limit)| {
            format!(
                " · {} ({}) ≥ {limit}",
                chrome.t("risk.residual"),
                chrome.tr.label("tier", tier.as_str())
            )
        })
        .collect();
    let threshold_text = format!(
        "{} ≥ {}{tier_limits}{}",
        chrome.t("risk.residual"),
        t.residual_score_at_least,
        t.open_finding_at_least
            .map(|s| format!(
                " · {} {}",
                chrome.t("risk.open_finding_at_least"),
                chrome.tr.label("severity", s.as_str())
            ))
            .unwrap_or_default()
    );
    let page_view = RisksPage {
        heat: heat_map(&policy, &cells, &chrome),
        rows: page
            .risks
            .iter()
            .map(|r| risk_row(r, &chrome, &today))
            .collect(),
        total: page.total,
        tiers: options("tier", &["critical", "high", "moderate", "low"], &chrome),
        categories: category_options(&chrome),
        levels: options("severity", &["critical", "high", "medium", "low"], &chrome),
        statuses: options(
            "risk_status",
            &["open", "in_treatment", "accepted", "closed"],
            &chrome,
        ),
        owners: owner_options(&state).await,
        sorts: RiskSort::ALL
            .iter()
            .map(|s| {
                (
                    s.as_str().to_string(),
                    chrome.tr.label("risk_sort", s.as_str()),
                )
            })
            .collect(),
        page: current,
        pages,
        prev_href,
        next_href,
        export_query: query_string(&p.api_pairs()),
        report_query: query_string(&p.pairs()),
        policy_version: policy.version.clone(),
        threshold_text,
        can_manage: user.can(Permission::RiskManage),
        p,
        chrome,
    };
    render(&page_view)
}

// ----- one risk ----------------------------------------------------------

pub struct FindingRow {
    pub id: String,
    pub title: String,
    pub severity: String,
    pub severity_value: String,
    pub status: String,
    pub source: String,
    pub assessment_id: String,
    pub cvss: String,
}

fn finding_row(f: &FindingRecord, chrome: &Chrome) -> FindingRow {
    FindingRow {
        id: f.id.clone(),
        title: f.title.clone(),
        severity: chrome.tr.label("severity", &f.severity),
        severity_value: f.severity.clone(),
        status: f.status.clone(),
        source: f.source.clone(),
        assessment_id: f.assessment_id.clone().unwrap_or_default(),
        cvss: f
            .cvss_vector
            .as_deref()
            .and_then(|v| mamori_domain::risk::rate_cvss(v).ok())
            .map(|r| format!("CVSS {} {:.1}", r.version, r.base_score))
            .unwrap_or_default(),
    }
}

pub struct EventRow {
    pub at: String,
    pub actor: String,
    pub summary: String,
}

pub struct AcceptanceRow {
    pub id: String,
    pub risk_id: String,
    pub risk_title: String,
    pub vendor_id: String,
    pub vendor_name: String,
    pub by: String,
    pub role: String,
    pub level: String,
    pub level_class: &'static str,
    pub above: bool,
    pub justification: String,
    pub controls: String,
    pub expires_on: String,
    pub lapsed: bool,
    pub at: String,
}

fn acceptance_row(a: &AcceptanceRecord, chrome: &Chrome, today: &str) -> AcceptanceRow {
    AcceptanceRow {
        id: a.id.clone(),
        risk_id: a.risk_id.clone(),
        risk_title: a.risk_title.clone(),
        vendor_id: a.vendor_id.clone(),
        vendor_name: a.vendor_name.clone(),
        by: a.accepted_by.clone(),
        role: chrome.tr.label("role", &a.accepted_as),
        level: chrome.tr.label("severity", &a.residual_level),
        level_class: level_class(&a.residual_level),
        above: a.above_threshold,
        justification: a.justification.clone(),
        controls: a.compensating_controls.clone(),
        expires_on: a.expires_on.clone(),
        lapsed: a.expires_on.as_str() < today,
        at: chrome.tr.datetime(&a.created_at),
    }
}

#[derive(Template)]
#[template(path = "risk.html")]
pub struct RiskPage {
    pub chrome: Chrome,
    pub r: RiskRecord,
    pub row: RiskRow,
    pub inherent_score: i64,
    pub inherent_level: String,
    pub findings: Vec<FindingRow>,
    pub events: Vec<EventRow>,
    pub acceptances: Vec<AcceptanceRow>,
    pub form: RiskFormView,
    pub can_manage: bool,
    pub can_accept: bool,
    pub latest_expiry: String,
    pub needs_decision: bool,
}

/// The fields of the risk form with their choices.
pub struct RiskFormView {
    pub action: String,
    pub vendor_id: String,
    pub vendor_name: String,
    pub finding_ids: Vec<String>,
    pub input: RiskInput,
    pub categories: Vec<(String, String)>,
    pub likelihood: Vec<(u32, String)>,
    pub impact: Vec<(u32, String)>,
    pub treatments: Vec<(String, String)>,
    pub statuses: Vec<(String, String)>,
    pub owners: Vec<(String, String)>,
    pub services: Vec<(String, String)>,
    pub is_new: bool,
}

impl RiskFormView {
    pub fn selected_owner(&self, id: &str) -> bool {
        self.input.owner_id.as_deref() == Some(id)
    }
    pub fn selected_service(&self, id: &str) -> bool {
        self.input.service_id.as_deref() == Some(id)
    }
    pub fn treatment_is(&self, t: &str) -> bool {
        self.input.treatment.as_deref().unwrap_or("undecided") == t
    }
    pub fn status_is(&self, s: &str) -> bool {
        self.input.status.as_deref().unwrap_or("open") == s
    }
    pub fn due(&self) -> String {
        self.input.due_on.clone().unwrap_or_default()
    }
    pub fn compensating(&self) -> String {
        self.input.compensating_control.clone().unwrap_or_default()
    }
}

/// Where a risk form posts and what it carries besides the fields.
struct FormTarget {
    vendor_name: String,
    finding_ids: Vec<String>,
    action: String,
    is_new: bool,
}

async fn form_view(
    state: &AppState,
    chrome: &Chrome,
    policy: &RiskPolicy,
    input: RiskInput,
    target: FormTarget,
) -> RiskFormView {
    let FormTarget {
        vendor_name,
        finding_ids,
        action,
        is_new,
    } = target;
    let vendor_id = input.vendor_id.clone();
    let ja = chrome.tr.locale == crate::i18n::Locale::Ja;
    let services = state
        .store
        .contract_service_options(&state.org_id, &vendor_id)
        .await
        .map(|v| v.into_iter().map(|s| (s.id, s.name)).collect())
        .unwrap_or_default();
    RiskFormView {
        action,
        vendor_id,
        vendor_name,
        finding_ids,
        input,
        categories: category_options(chrome),
        likelihood: (1..=policy.matrix.likelihood_steps())
            .map(|l| {
                (
                    l,
                    format!("{l} · {}", policy.matrix.likelihood_label_in(l, ja)),
                )
            })
            .collect(),
        impact: (1..=policy.matrix.impact_steps())
            .map(|i| (i, format!("{i} · {}", policy.matrix.impact_label_in(i, ja))))
            .collect(),
        treatments: options(
            "treatment",
            &["undecided", "mitigate", "transfer", "avoid"],
            chrome,
        ),
        statuses: options("risk_status", &["open", "in_treatment", "closed"], chrome),
        owners: owner_options(state).await,
        services,
        is_new,
    }
}

pub async fn show(
    State(state): State<AppState>,
    Extension(RequestLocale(locale)): Extension<RequestLocale>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<String>,
) -> Response {
    let policy = state.risk_policy().await;
    sweep(&state, &policy).await;
    let loaded = async {
        let r = state.store.get_risk(&state.org_id, &id).await?;
        let findings = state.store.findings_for_risk(&id).await?;
        let events = state.store.risk_events(&state.org_id, &id).await?;
        let acceptances = state.store.acceptances_for_risk(&state.org_id, &id).await?;
        Ok::<_, mamori_store::StoreError>((r, findings, events, acceptances))
    }
    .await;
    let (r, findings, events, acceptances): (
        RiskRecord,
        Vec<FindingRecord>,
        Vec<RiskEvent>,
        Vec<AcceptanceRecord>,
    ) = match loaded {
        Ok(v) => v,
        Err(e) => return error_page(&state, Some(&user), locale, e.into()).await,
    };
    let chrome = Chrome::new(&state, Some(&user), locale, "risks").await;
    let today_date = policy.local_date(Utc::now());
    let today = today_date.to_string();
    let inherent = policy.rate(
        u32::try_from(r.inherent_likelihood).unwrap_or(0),
        u32::try_from(r.inherent_impact).unwrap_or(0),
    );
    let input = app::input_of(&r);
    let form = form_view(
        &state,
        &chrome,
        &policy,
        input,
        FormTarget {
            vendor_name: r.vendor_name.clone(),
            finding_ids: Vec::new(),
            action: format!("/risks/{}", r.id),
            is_new: false,
        },
    )
    .await;
    let status = RiskStatus::parse(&r.status).unwrap_or(RiskStatus::Open);
    let treatment = Treatment::parse(&r.treatment).unwrap_or(Treatment::Undecided);
    let view = RiskPage {
        row: risk_row(&r, &chrome, &today),
        inherent_score: inherent.map(|x| i64::from(x.score)).unwrap_or(0),
        inherent_level: inherent
            .map(|x| chrome.tr.label("severity", x.level.as_str()))
            .unwrap_or_default(),
        findings: findings.iter().map(|f| finding_row(f, &chrome)).collect(),
        events: events
            .iter()
            .map(|e| EventRow {
                at: chrome.tr.datetime(&e.at),
                actor: e.actor.clone(),
                summary: e.summary.clone(),
            })
            .collect(),
        acceptances: acceptances
            .iter()
            .map(|a| acceptance_row(a, &chrome, &today))
            .collect(),
        form,
        can_manage: user.can(Permission::RiskManage),
        can_accept: user.can(Permission::RiskAccept)
            && !matches!(status, RiskStatus::Closed | RiskStatus::Accepted),
        latest_expiry: policy.latest_expiry(today_date).to_string(),
        needs_decision: r.above_threshold
            && treatment == Treatment::Undecided
            && status.is_active(),
        r,
        chrome,
    };
    render(&view)
}

#[derive(Template)]
#[template(path = "risk_new.html")]
pub struct NewRiskPage {
    pub chrome: Chrome,
    pub form: RiskFormView,
    pub findings: Vec<FindingRow>,
}

/// `/risks/new?vendor=ID&finding=ID&finding=ID`: a blank risk for a vendor,
/// or findings promoted to one risk (title and category prefilled).
pub async fn new_form(
    State(state): State<AppState>,
    Extension(RequestLocale(locale)): Extension<RequestLocale>,
    Extension(user): Extension<CurrentUser>,
    RawQuery(raw): RawQuery,
) -> Response {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .into_owned()
        .collect();
    let mut vendor_id = pairs
        .iter()
        .find(|(k, _)| k == "vendor")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let finding_ids: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "finding")
        .map(|(_, v)| v.clone())
        .collect();
    let findings = match state
        .store
        .findings_by_ids(&state.org_id, &finding_ids)
        .await
    {
        Ok(f) => f,
        Err(e) => return error_page(&state, Some(&user), locale, e.into()).await,
    };
    if vendor_id.is_empty() {
        if let Some(f) = findings.first() {
            vendor_id = f.vendor_id.clone();
        }
    }
    let vendor = match state
        .store
        .get_vendor(&state.org_id, &vendor_id, &VendorScope::All)
        .await
    {
        Ok(v) => v,
        Err(e) => return error_page(&state, Some(&user), locale, e.into()).await,
    };
    let policy = state.risk_policy().await;
    let chrome = Chrome::new(&state, Some(&user), locale, "risks").await;
    // Promoted findings suggest a title and a rating: the worst finding's
    // severity sets a likely, severe starting point the analyst adjusts.
    let worst = app::worst_open(&findings);
    let (l, i) = match worst.map(|s| s.as_str()) {
        Some("critical") => (4, 5),
        Some("high") => (4, 4),
        Some("medium") => (3, 3),
        Some(_) => (2, 2),
        None => (3, 3),
    };
    let title = match findings.as_slice() {
        [] => String::new(),
        [one] => one.title.clone(),
        [first, rest @ ..] => format!("{} (+{})", first.title, rest.len()),
    };
    let input = RiskInput {
        vendor_id: vendor.id.clone(),
        category: "cybersecurity".into(),
        title,
        description: findings
            .iter()
            .map(|f| format!("- {}", f.title))
            .collect::<Vec<_>>()
            .join("\n"),
        inherent_likelihood: l,
        inherent_impact: i,
        residual_likelihood: l,
        residual_impact: i,
        owner_id: Some(user.user.id.clone()),
        ..RiskInput::default()
    };
    let form = form_view(
        &state,
        &chrome,
        &policy,
        input,
        FormTarget {
            vendor_name: vendor.draft.legal_name.clone(),
            finding_ids,
            action: "/risks".into(),
            is_new: true,
        },
    )
    .await;
    render(&NewRiskPage {
        findings: findings.iter().map(|f| finding_row(f, &chrome)).collect(),
        form,
        chrome,
    })
}

/// The risk form's fields, with repeated `finding` values.
fn parse_risk_form(pairs: &[(String, String)]) -> (RiskInput, Vec<String>) {
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let num = |k: &str| get(k).trim().parse::<u32>().unwrap_or(0);
    let opt = |k: &str| Some(get(k)).filter(|v| !v.trim().is_empty());
    let input = RiskInput {
        vendor_id: get("vendor_id"),
        service_id: opt("service_id"),
        category: get("category"),
        title: get("title"),
        description: get("description"),
        owner_id: opt("owner_id"),
        inherent_likelihood: num("inherent_likelihood"),
        inherent_impact: num("inherent_impact"),
        existing_controls: get("existing_controls"),
        residual_likelihood: num("residual_likelihood"),
        residual_impact: num("residual_impact"),
        treatment: opt("treatment"),
        status: opt("status"),
        due_on: opt("due_on"),
        compensating_control: opt("compensating_control"),
    };
    let findings = pairs
        .iter()
        .filter(|(k, _)| k == "finding")
        .map(|(_, v)| v.clone())
        .collect();
    (input, findings)
}

pub async fn create(
    State(state): State<AppState>,
    Extension(RequestLocale(locale)): Extension<RequestLocale>,
    Extension(user): Extension<CurrentUser>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let (input, findings) = parse_risk_form(&pairs);
    let policy = state.risk_policy().await;
    match app::create_risk(
        &state.store,
        &state.org_id,
        &policy,
        &input,
        &findings,
        &user.actor(),
    )
    .await
    {
        Ok(id) => Redirect::to(&format!("/risks/{id}")).into_response(),
        Err(e) => error_page(&state, Some(&user), locale, e.into()).await,
    }
}

pub async fn update(
    State(state): State<AppState>,
    Extension(RequestLocale(locale)): Extension<RequestLocale>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let (input, _) = parse_risk_form(&pairs);
    let policy = state.risk_policy().await;
    match app::update_risk(
        &state.store,
        &state.org_id,
        &policy,
        &id,
        &input,
        &user.actor(),
    )
    .await
    {
        Ok(_) => Redirect::to(&format!("/risks/{id}")).into_response(),
        Err(e) => error_page(&state, Some(&user), locale, e.into()).await,
    }
}

pub async fn accept(
    State(state): State<AppState>,
    Extension(RequestLocale(locale)): Extension<RequestLocale>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<String>,
    Form(form): Form<AcceptanceInput>,
) -> Response {
    let policy = state.risk_policy().await;
    match app::accept_risk(
        &state.store,
        &state.org_id,
        &policy,
        &id,
        user.role(),
        &form,
        &user.actor(),
    )
    .await
    {
        Ok(_) => Redirect::to(&format!("/risks/{id}#acceptances")).into_response(),
        Err(e) => error_page(&state, Some(&user), locale, e.into()).await,
    }
}

#[derive(Template)]
#[template(path = "acceptances.html")]
pub struct AcceptancesPage {
    pub chrome: Chrome,
    pub rows: Vec<AcceptanceRow>,
    pub show_all: bool,
}

#[derive(Debug, Default, Deserialize)]
pub struct AcceptanceParams {
    #[serde(default)]
    pub all: String,
}

pub async fn acceptances(
    State(state): State<AppState>,
    Extension(RequestLocale(locale)): Extension<RequestLocale>,
    Extension(user): Extension<CurrentUser>,
    Query(p): Query<AcceptanceParams>,
) -> Response {
    let policy = state.risk_policy().await;
    sweep(&state, &policy).await;
    let show_all = p.all == "1";
    let list = match state.store.acceptances(&state.org_id, !show_all).await {
        Ok(l) => l,
        Err(e) => return error_page(&state, Some(&user), locale, e.into()).await,
    };
    let chrome = Chrome::new(&state, Some(&user), locale, "acceptances").await;
    let today = policy.local_date(Utc::now()).to_string();
    render(&AcceptancesPage {
        rows: list
            .iter()
            .map(|a| acceptance_row(a, &chrome, &today))
            .collect(),
        show_all,
        chrome,
    })
}

// ----- vendor's risk work: risks, remediation, contracts ----------------

pub struct RequestRow {
    pub id: String,
    pub title: String,
    pub status: String,
    pub items: i64,
    pub open: i64,
    pub claimed: i64,
    pub disputed: i64,
    pub verified: i64,
    pub created: String,
}

pub struct ContractRow {
    pub id: String,
    pub title: String,
    pub ends_on: String,
    pub renewal: String,
    pub renewal_class: &'static str,
}

fn renewal_text(r: Renewal, chrome: &Chrome) -> (String, &'static str) {
    match r {
        Renewal::NoEndDate => (chrome.t("contract.no_end").to_string(), "muted"),
        Renewal::Running { days_left } => (
            chrome
                .tr
                .tf("contract.days_left", &[("n", &days_left.to_string())]),
            "ok",
        ),
        Renewal::NoticeWindow { days_left } => (
            chrome
                .tr
                .tf("contract.notice_window", &[("n", &days_left.to_string())]),
            "warn",
        ),
        Renewal::Ended { days_ago } => (
            chrome
                .tr
                .tf("contract.ended", &[("n", &days_ago.to_string())]),
            "bad",
        ),
    }
}

#[derive(Template)]
#[template(path = "vendor_risks.html")]
pub struct VendorRisksPage {
    pub chrome: Chrome,
    pub vendor_id: String,
    pub vendor_name: String,
    pub tier: String,
    pub risks: Vec<RiskRow>,
    pub requests: Vec<RequestRow>,
    pub overdue_items: Vec<(String, String, String, String)>,
    pub contracts: Vec<ContractRow>,
    pub can_manage: bool,
    /// Choices of the new-contract form.
    pub owners: Vec<(String, String)>,
    pub services: Vec<(String, String)>,
}

pub async fn vendor_risks(
    State(state): State<AppState>,
    Extension(RequestLocale(locale)): Extension<RequestLocale>,
    Extension(user): Extension<CurrentUser>,
    Path(vendor_id): Path<String>,
) -> Response {
    let policy = state.risk_policy().await;
    sweep(&state, &policy).await;
    let loaded = async {
        let v = state
            .store
            .get_vendor(&state.org_id, &vendor_id, &VendorScope::All)
            .await?;
        let risks = state
            .store
            .risks_for_vendor(&state.org_id, &vendor_id)
            .await?;
        let requests = state
            .store
            .remediation_requests(&state.org_id, Some(&vendor_id))
            .await?;
        let items = state
            .store
            .open_remediation_for_vendor(&state.org_id, &vendor_id)
            .await?;
        let contracts = state
            .store
            .contracts_for_vendor(&state.org_id, &vendor_id)
            .await?;
        Ok::<_, mamori_store::StoreError>((v, risks, requests, items, contracts))
    }
    .await;
    let (v, risks, requests, items, contracts) = match loaded {
        Ok(x) => x,
        Err(e) => return error_page(&state, Some(&user), locale, e.into()).await,
    };
    let chrome = Chrome::new(&state, Some(&user), locale, "risks").await;
    let today_date = policy.local_date(Utc::now());
    let today = today_date.to_string();
    let view = VendorRisksPage {
        vendor_id: v.id.clone(),
        vendor_name: v.draft.legal_name.clone(),
        tier: chrome.tr.label("tier", v.rating.tier.as_str()),
        risks: risks.iter().map(|r| risk_row(r, &chrome, &today)).collect(),
        requests: requests
            .iter()
            .map(|r| RequestRow {
                id: r.id.clone(),
                title: r.title.clone(),
                status: r.status.clone(),
                items: r.items_total,
                open: r.items_open,
                claimed: r.items_claimed,
                disputed: r.items_disputed,
                verified: r.items_verified,
                created: chrome.tr.datetime(&r.created_at),
            })
            .collect(),
        overdue_items: items
            .iter()
            .filter(|i| i.due_on.as_str() < today.as_str())
            .map(|i| {
                (
                    i.request_id.clone(),
                    i.action.clone(),
                    chrome.tr.label("severity", &i.severity),
                    i.due_on.clone(),
                )
            })
            .collect(),
        contracts: contracts
            .iter()
            .map(|c| {
                let end = c
                    .ends_on
                    .as_deref()
                    .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
                let (text, class) =
                    renewal_text(renewal(end, c.renewal_notice_days, today_date), &chrome);
                ContractRow {
                    id: c.id.clone(),
                    title: c.title.clone(),
                    ends_on: c.ends_on.clone().unwrap_or_default(),
                    renewal: text,
                    renewal_class: class,
                }
            })
            .collect(),
        can_manage: user.can(Permission::RiskManage),
        owners: owner_options(&state).await,
        services: state
            .store
            .contract_service_options(&state.org_id, &vendor_id)
            .await
            .map(|v| v.into_iter().map(|s| (s.id, s.name)).collect())
            .unwrap_or_default(),
        chrome,
    };
    render(&view)
}

pub async fn create_remediation(
    State(state): State<AppState>,
    Extension(RequestLocale(locale)): Extension<RequestLocale>,
    Extension(user): Extension<CurrentUser>,
    Path(vendor_id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let title = pairs
        .iter()
        .find(|(k, _)| k == "title")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let actions: Vec<ActionInput> = pairs
        .iter()
        .filter(|(k, _)| k == "risk")
        .map(|(_, v)| ActionInput {
            risk_id: v.clone(),
            action: pairs
                .iter()
                .find(|(k, _)| k == &format!("action_{v}"))
                .map(|(_, a)| a.clone())
                .unwrap_or_default(),
        })
        .collect();
    let policy = state.risk_policy().await;
    match app::create_remediation_request(
        &state.store,
        &state.org_id,
        &policy,
        &vendor_id,
        &title,
        &actions,
        &user.actor(),
    )
    .await
    {
        Ok(id) => Redirect::to(&format!("/remediation/{id}")).into_response(),
        Err(e) => error_page(&state, Some(&user), locale, e.into()).await,
    }
}

pub struct ItemRow {
    pub id: String,
    pub position: i64,
    pub action: String,
    pub risk_id: String,
    pub risk_title: String,
    pub severity: String,
    pub severity_value: String,
    pub due_on: String,
    pub overdue: bool,
    pub status: String,
    pub status_value: String,
    pub response: String,
    pub planned_on: String,
    pub verifier_comment: String,
    pub can_verify: bool,
    pub evidence_id: String,
}

#[derive(Template)]
#[template(path = "remediation.html")]
pub struct RemediationPage {
    pub chrome: Chrome,
    pub id: String,
    pub title: String,
    pub vendor_id: String,
    pub vendor_name: String,
    pub status: String,
    pub items: Vec<ItemRow>,
    pub links: Vec<(String, String, String, bool)>,
    pub can_manage: bool,
    /// The link just issued, shown once.
    pub issued: Option<(String, String)>,
}

fn item_rows(
    items: &[mamori_store::RemediationItemRecord],
    chrome: &Chrome,
    today: &str,
) -> Vec<ItemRow> {
    items
        .iter()
        .map(|i| ItemRow {
            id: i.id.clone(),
            // Stored from 0; people count actions from 1.
            position: i.position + 1,
            action: i.action.clone(),
            risk_id: i.risk_id.clone().unwrap_or_default(),
            risk_title: i.risk_title.clone().unwrap_or_default(),
            severity: chrome.tr.label("severity", &i.severity),
            severity_value: i.severity.clone(),
            due_on: i.due_on.clone(),
            overdue: i.status != "verified" && i.due_on.as_str() < today,
            status: chrome.tr.label("remediation_status", &i.status),
            status_value: i.status.clone(),
            response: i.response_text.clone().unwrap_or_default(),
            planned_on: i.planned_on.clone().unwrap_or_default(),
            verifier_comment: i.verifier_comment.clone().unwrap_or_default(),
            can_verify: i.status == "claimed_done" || i.status == "disputed",
            evidence_id: i.response_evidence_id.clone().unwrap_or_default(),
        })
        .collect()
}

async fn remediation_page(
    state: &AppState,
    user: &CurrentUser,
    locale: crate::i18n::Locale,
    id: &str,
    issued: Option<(String, String)>,
) -> Response {
    let loaded = async {
        let r = state
            .store
            .get_remediation_request(&state.org_id, id)
            .await?;
        let items = state.store.remediation_items(id).await?;
        let links = state.store.remediation_links(id).await?;
        Ok::<_, mamori_store::StoreError>((r, items, links))
    }
    .await;
    let (r, items, links) = match loaded {
        Ok(x) => x,
        Err(e) => return error_page(state, Some(user), locale, e.into()).await,
    };
    let policy = state.risk_policy().await;
    let chrome = Chrome::new(state, Some(user), locale, "risks").await;
    let today = policy.local_date(Utc::now()).to_string();
    let now = mamori_store::now();
    render(&RemediationPage {
        id: r.id.clone(),
        title: r.title.clone(),
        vendor_id: r.vendor_id.clone(),
        vendor_name: r.vendor_name.clone(),
        status: r.status.clone(),
        items: item_rows(&items, &chrome, &today),
        links: links
            .iter()
            .map(|l| {
                (
                    l.contact_name.clone(),
                    l.contact_email.clone(),
                    chrome.tr.datetime(&l.expires_at),
                    l.revoked_at.is_none() && l.expires_at > now,
                )
            })
            .collect(),
        can_manage: user.can(Permission::RiskManage),
        issued: issued.map(|(path, expires)| (path, chrome.tr.datetime(&expires))),
        chrome,
    })
}

pub async fn show_remediation(
    State(state): State<AppState>,
    Extension(RequestLocale(locale)): Extension<RequestLocale>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<String>,
) -> Response {
    remediation_page(&state, &user, locale, &id, None).await
}

#[derive(Debug, Deserialize)]
pub struct SendForm {
    pub contact_name: String,
    pub contact_email: String,
}

pub async fn send_remediation(
    State(state): State<AppState>,
    Extension(RequestLocale(locale)): Extension<RequestLocale>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<String>,
    Form(form): Form<SendForm>,
) -> Response {
    match app::send_remediation_request(
        &state.store,
        &state.org_id,
        &id,
        &form.contact_name,
        &form.contact_email,
        &user.actor(),
    )
    .await
    {
        Ok(link) => {
            let issued = (format!("/remediate/{}", link.token), link.expires_at);
            remediation_page(&state, &user, locale, &id, Some(issued)).await
        }
        Err(e) => error_page(&state, Some(&user), locale, e.into()).await,
    }
}

#[derive(Debug, Deserialize)]
pub struct VerifyForm {
    pub decision: String,
    #[serde(default)]
    pub comment: String,
    pub request_id: String,
}

pub async fn verify_item(
    State(state): State<AppState>,
    Extension(RequestLocale(locale)): Extension<RequestLocale>,
    Extension(user): Extension<CurrentUser>,
    Path(item_id): Path<String>,
    Form(form): Form<VerifyForm>,
) -> Response {
    match state
        .store
        .verify_remediation_item(
            &state.org_id,
            &item_id,
            form.decision == "verify",
            form.comment.trim(),
            &user.actor(),
        )
        .await
    {
        Ok(_) => Redirect::to(&format!("/remediation/{}", form.request_id)).into_response(),
        Err(e) => error_page(&state, Some(&user), locale, e.into()).await,
    }
}

// ----- vendor portal: the corrective action plan --------------------------

#[derive(Template)]
#[template(path = "remediate_portal.html")]
pub struct RemediatePortalPage {
    pub chrome: Chrome,
    pub token: String,
    pub title: String,
    pub vendor_name: String,
    pub contact: String,
    pub expires: String,
    pub items: Vec<ItemRow>,
    pub saved: bool,
}

fn portal_closed(chrome: Chrome) -> Response {
    let mut r = render(&super::MessagePage {
        title: chrome.t("remediate.closed_title").to_string(),
        message: chrome.t("remediate.closed").to_string(),
        details: Vec::new(),
        chrome,
    });
    *r.status_mut() = axum::http::StatusCode::NOT_FOUND;
    r
}

#[derive(Debug, Default, Deserialize)]
pub struct SavedParam {
    #[serde(default)]
    pub saved: String,
}

pub async fn portal_show(
    State(state): State<AppState>,
    Extension(RequestLocale(locale)): Extension<RequestLocale>,
    Path(token): Path<String>,
    Query(p): Query<SavedParam>,
) -> Response {
    let chrome = Chrome::new(&state, None, locale, "").await;
    let access = match app::open_remediation(&state.store, &token).await {
        Ok(Some(a)) => a,
        Ok(None) => return portal_closed(chrome),
        Err(e) => return error_page(&state, None, locale, e.into()).await,
    };
    let items = match state.store.remediation_items(&access.request.id).await {
        Ok(i) => i,
        Err(e) => return error_page(&state, None, locale, e.into()).await,
    };
    let policy = state.risk_policy().await;
    let today = policy.local_date(Utc::now()).to_string();
    render(&RemediatePortalPage {
        token,
        title: access.request.title.clone(),
        vendor_name: access.request.vendor_name.clone(),
        contact: access.link.contact_name.clone(),
        expires: chrome.tr.datetime(&access.link.expires_at),
        items: item_rows(&items, &chrome, &today),
        saved: p.saved == "1",
        chrome,
    })
}

/// The vendor's answer. The body is read raw and parsed after the link is
/// checked, so a made-up link learns nothing, whatever it sends.
pub async fn portal_answer(
    State(state): State<AppState>,
    Extension(RequestLocale(locale)): Extension<RequestLocale>,
    Path((token, item_id)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Response {
    let access = match app::open_remediation(&state.store, &token).await {
        Ok(Some(a)) => a,
        Ok(None) => {
            let chrome = Chrome::new(&state, None, locale, "").await;
            return portal_closed(chrome);
        }
        Err(e) => return error_page(&state, None, locale, e.into()).await,
    };
    let mut form: HashMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
    let mut take = |k: &str| form.remove(k).unwrap_or_default();
    let answer = app::VendorAnswer {
        kind: take("kind"),
        text: take("text"),
        planned_on: take("planned_on"),
    };
    match app::respond_to_action(&state.store, &access, &item_id, &answer, None).await {
        Ok(()) => {
            Redirect::to(&format!("/remediate/{token}?saved=1#item-{item_id}")).into_response()
        }
        Err(e) => error_page(&state, None, locale, e.into()).await,
    }
}

/// A completion report with an evidence file (multipart: `file`, `text`).
/// The file goes through the evidence store like assessment evidence and is
/// linked to the action; staff verify it.
pub async fn portal_evidence(
    State(state): State<AppState>,
    Extension(RequestLocale(locale)): Extension<RequestLocale>,
    Path((token, item_id)): Path<(String, String)>,
    mut multipart: axum::extract::Multipart,
) -> Response {
    let access = match app::open_remediation(&state.store, &token).await {
        Ok(Some(a)) => a,
        Ok(None) => {
            let chrome = Chrome::new(&state, None, locale, "").await;
            return portal_closed(chrome);
        }
        Err(e) => return error_page(&state, None, locale, e.into()).await,
    };
    let Some(blobs) = state.blobs.clone() else {
        return error_page(
            &state,
            None,
            locale,
            crate::error::WebError::BadRequest("file uploads are not configured".into()),
        )
        .await;
    };
    let mut text = String::new();
    let mut file: Option<(String, Vec<u8>)> = None;
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) => {
                if field.name() == Some("file") {
                    let name = field.file_name().unwrap_or("evidence").to_string();
                    match field.bytes().await {
                        Ok(b) if !b.is_empty() => file = Some((name, b.to_vec())),
                        Ok(_) => {}
                        Err(_) => {
                            return error_page(
                                &state,
                                None,
                                locale,
                                crate::error::WebError::BadRequest(
                                    "the upload failed or is too large".into(),
                                ),
                            )
                            .await
                        }
                    }
                } else if field.name() == Some("text") {
                    text = field.text().await.unwrap_or_default();
                }
            }
            Ok(None) => break,
            Err(e) => {
                return error_page(
                    &state,
                    None,
                    locale,
                    crate::error::WebError::BadRequest(format!("the form could not be read: {e}")),
                )
                .await
            }
        }
    }
    // The action must be this plan's and still waiting for the vendor
    // before any file is kept.
    let answerable = state
        .store
        .remediation_items(&access.request.id)
        .await
        .map(|items| {
            items.iter().any(|i| {
                i.id == item_id && matches!(i.status.as_str(), "requested" | "planned" | "reopened")
            })
        })
        .unwrap_or(false);
    if !answerable {
        return error_page(
            &state,
            None,
            locale,
            crate::error::WebError::Conflict("this action cannot be answered now".into()),
        )
        .await;
    }
    let contact = format!("vendor contact {}", access.link.contact_email);
    let evidence_id = match file {
        None => None,
        Some((name, bytes)) => {
            let form = mamori_app::assessments::EvidenceForm {
                kind: "other".into(),
                issuer: access.request.vendor_name.clone(),
                ..Default::default()
            };
            match mamori_app::assessments::upload_evidence(
                &state.store,
                &blobs,
                &access.request.org_id,
                &access.request.vendor_id,
                None,
                &form,
                &name,
                &bytes,
                &contact,
                &mamori_store::Actor::system(&contact),
            )
            .await
            {
                Ok(id) => Some(id),
                Err(e) => return error_page(&state, None, locale, e.into()).await,
            }
        }
    };
    let answer = app::VendorAnswer {
        kind: "done".into(),
        text,
        planned_on: String::new(),
    };
    match app::respond_to_action(&state.store, &access, &item_id, &answer, evidence_id).await {
        Ok(()) => {
            Redirect::to(&format!("/remediate/{token}?saved=1#item-{item_id}")).into_response()
        }
        Err(e) => error_page(&state, None, locale, e.into()).await,
    }
}

// ----- contracts -----------------------------------------------------------

pub async fn create_contract(
    State(state): State<AppState>,
    Extension(RequestLocale(locale)): Extension<RequestLocale>,
    Extension(user): Extension<CurrentUser>,
    Path(vendor_id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let input = contract_input(&pairs);
    match app::create_contract(
        &state.store,
        &state.org_id,
        &state.clauses,
        &vendor_id,
        &input,
        &user.actor(),
    )
    .await
    {
        Ok(id) => Redirect::to(&format!("/contracts/{id}")).into_response(),
        Err(e) => error_page(&state, Some(&user), locale, e.into()).await,
    }
}

fn contract_input(pairs: &[(String, String)]) -> ContractInput {
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    ContractInput {
        title: get("title").unwrap_or_default(),
        starts_on: get("starts_on"),
        ends_on: get("ends_on"),
        renewal_notice_days: get("renewal_notice_days").and_then(|v| v.trim().parse().ok()),
        value: get("value"),
        currency: get("currency"),
        owner_id: get("owner_id"),
        service_ids: pairs
            .iter()
            .filter(|(k, _)| k == "service")
            .map(|(_, v)| v.clone())
            .collect(),
    }
}

pub struct ClauseRow {
    pub key: String,
    pub title: String,
    pub guidance: String,
    pub required: bool,
    pub state: String,
    pub note: String,
    pub reference: String,
    pub gap: String,
    pub gap_class: &'static str,
}

#[derive(Template)]
#[template(path = "contract.html")]
pub struct ContractPage {
    pub chrome: Chrome,
    pub c: mamori_store::ContractRecord,
    pub renewal: String,
    pub renewal_class: &'static str,
    pub clauses: Vec<ClauseRow>,
    pub findings: Vec<FindingRow>,
    pub states: Vec<(String, String)>,
    pub catalog_version: String,
    pub can_manage: bool,
}

pub async fn show_contract(
    State(state): State<AppState>,
    Extension(RequestLocale(locale)): Extension<RequestLocale>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<String>,
) -> Response {
    let loaded = async {
        let c = state.store.get_contract(&state.org_id, &id).await?;
        let clauses = state.store.contract_clauses(&id).await?;
        let findings = state.store.contract_findings(&state.org_id, &id).await?;
        let v = state
            .store
            .get_vendor(&state.org_id, &c.vendor_id, &VendorScope::All)
            .await?;
        Ok::<_, mamori_store::StoreError>((c, clauses, findings, v))
    }
    .await;
    let (c, clauses, findings, v) = match loaded {
        Ok(x) => x,
        Err(e) => return error_page(&state, Some(&user), locale, e.into()).await,
    };
    let policy = state.risk_policy().await;
    let chrome = Chrome::new(&state, Some(&user), locale, "risks").await;
    let ja = chrome.tr.locale == crate::i18n::Locale::Ja;
    let data: Vec<_> = v.draft.data_flows.iter().map(|f| f.data_class).collect();
    let tier: Option<Tier> = Some(v.rating.tier);
    let saved: HashMap<String, &mamori_store::ClauseRecord> =
        clauses.iter().map(|c| (c.clause_key.clone(), c)).collect();
    let rows = state
        .clauses
        .clauses
        .iter()
        .map(|cl| {
            let rec = saved.get(&cl.key);
            let st = rec
                .and_then(|r| ClauseState::parse(&r.state).ok())
                .unwrap_or(ClauseState::Unknown);
            let required = cl.required.applies(tier, &data);
            let gap = if required {
                cl.gap_severity(st, &data)
            } else {
                None
            };
            ClauseRow {
                key: cl.key.clone(),
                title: if ja && !cl.title_ja.is_empty() {
                    cl.title_ja.clone()
                } else {
                    cl.title.clone()
                },
                guidance: cl.guidance.clone(),
                required,
                state: st.as_str().to_string(),
                note: rec.map(|r| r.note.clone()).unwrap_or_default(),
                reference: rec.map(|r| r.reference.clone()).unwrap_or_default(),
                gap: gap
                    .map(|s| chrome.tr.label("severity", s.as_str()))
                    .unwrap_or_default(),
                gap_class: gap.map(|s| level_class(s.as_str())).unwrap_or(""),
            }
        })
        .collect();
    let end = c
        .ends_on
        .as_deref()
        .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
    let (renewal_s, renewal_class) = renewal_text(
        renewal(end, c.renewal_notice_days, policy.local_date(Utc::now())),
        &chrome,
    );
    render(&ContractPage {
        renewal: renewal_s,
        renewal_class,
        clauses: rows,
        findings: findings.iter().map(|f| finding_row(f, &chrome)).collect(),
        states: options(
            "clause_state",
            &["unknown", "present", "partial", "absent"],
            &chrome,
        ),
        catalog_version: state.clauses.version.clone(),
        can_manage: user.can(Permission::RiskManage),
        c,
        chrome,
    })
}

pub async fn save_clauses(
    State(state): State<AppState>,
    Extension(RequestLocale(locale)): Extension<RequestLocale>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let get = |k: String| {
        pairs
            .iter()
            .find(|(key, _)| *key == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let clauses: Vec<ClauseInput> = state
        .clauses
        .clauses
        .iter()
        .filter(|c| pairs.iter().any(|(k, _)| *k == format!("state_{}", c.key)))
        .map(|c| ClauseInput {
            clause_key: c.key.clone(),
            state: get(format!("state_{}", c.key)),
            note: get(format!("note_{}", c.key)),
            reference: get(format!("ref_{}", c.key)),
        })
        .collect();
    match app::save_clauses(
        &state.store,
        &state.org_id,
        &state.clauses,
        &id,
        &clauses,
        &user.actor(),
    )
    .await
    {
        Ok(_) => Redirect::to(&format!("/contracts/{id}")).into_response(),
        Err(e) => error_page(&state, Some(&user), locale, e.into()).await,
    }
}

/// Uploads the signed contract (multipart `file`) through the evidence
/// store and links it to the contract.
pub async fn upload_contract_document(
    State(state): State<AppState>,
    Extension(RequestLocale(locale)): Extension<RequestLocale>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<String>,
    mut multipart: axum::extract::Multipart,
) -> Response {
    let contract = match state.store.get_contract(&state.org_id, &id).await {
        Ok(c) => c,
        Err(e) => return error_page(&state, Some(&user), locale, e.into()).await,
    };
    let Some(blobs) = state.blobs.clone() else {
        return error_page(
            &state,
            Some(&user),
            locale,
            crate::error::WebError::BadRequest("file uploads are not configured".into()),
        )
        .await;
    };
    let mut file: Option<(String, Vec<u8>)> = None;
    while let Ok(Some(field)) = multipart.next_field().await {
        if field.name() == Some("file") {
            let name = field.file_name().unwrap_or("contract").to_string();
            match field.bytes().await {
                Ok(b) => file = Some((name, b.to_vec())),
                Err(_) => {
                    return error_page(
                        &state,
                        Some(&user),
                        locale,
                        crate::error::WebError::BadRequest(
                            "the upload failed or is too large".into(),
                        ),
                    )
                    .await
                }
            }
        }
    }
    let Some((name, bytes)) = file else {
        return error_page(
            &state,
            Some(&user),
            locale,
            crate::error::WebError::BadRequest("choose the contract file".into()),
        )
        .await;
    };
    let form = mamori_app::assessments::EvidenceForm {
        kind: "other".into(),
        issuer: contract.vendor_name.clone(),
        ..Default::default()
    };
    let actor = user.actor();
    let stored = async {
        let evidence = mamori_app::assessments::upload_evidence(
            &state.store,
            &blobs,
            &state.org_id,
            &contract.vendor_id,
            None,
            &form,
            &name,
            &bytes,
            &actor.label,
            &actor,
        )
        .await?;
        state
            .store
            .attach_contract_document(&state.org_id, &id, &evidence, &actor)
            .await?;
        Ok::<_, mamori_app::AppError>(())
    }
    .await;
    match stored {
        Ok(()) => Redirect::to(&format!("/contracts/{id}")).into_response(),
        Err(e) => error_page(&state, Some(&user), locale, e.into()).await,
    }
}

// ----- printable report ------------------------------------------------------

#[derive(Template)]
#[template(path = "risk_report.html")]
pub struct RiskReportPage {
    pub chrome: Chrome,
    pub scope: String,
    pub generated: String,
    pub heat: HeatMap,
    pub rows: Vec<RiskRow>,
    pub acceptances: Vec<AcceptanceRow>,
    pub policy_version: String,
    pub above: usize,
    pub undecided: usize,
}

/// `/risks/report[?vendor=ID]`: the whole programme or one vendor, printable.
pub async fn report(
    State(state): State<AppState>,
    Extension(RequestLocale(locale)): Extension<RequestLocale>,
    Extension(user): Extension<CurrentUser>,
    Query(p): Query<RiskParams>,
) -> Response {
    let policy = state.risk_policy().await;
    sweep(&state, &policy).await;
    let query = p.query();
    let loaded = async {
        let risks = mamori_app::risk_export::all_risks(&state.store, &state.org_id, &query).await?;
        let cells = state.store.heat_map(&state.org_id, &query, true).await?;
        let acc = state.store.acceptances(&state.org_id, true).await?;
        Ok::<_, mamori_app::AppError>((risks, cells, acc))
    }
    .await;
    let (risks, cells, acc) = match loaded {
        Ok(x) => x,
        Err(e) => return error_page(&state, Some(&user), locale, e.into()).await,
    };
    let chrome = Chrome::new(&state, Some(&user), locale, "risks").await;
    let today = policy.local_date(Utc::now()).to_string();
    let scope = match (&query.vendor_id, risks.first()) {
        (Some(_), Some(r)) => r.vendor_name.clone(),
        (Some(v), None) => v.clone(),
        _ => state.org_name().await,
    };
    let acceptances: Vec<AcceptanceRow> = acc
        .iter()
        .filter(|a| query.vendor_id.as_deref().is_none_or(|v| v == a.vendor_id))
        .map(|a| acceptance_row(a, &chrome, &today))
        .collect();
    render(&RiskReportPage {
        scope,
        generated: today.clone(),
        heat: heat_map(&policy, &cells, &chrome),
        above: risks.iter().filter(|r| r.above_threshold).count(),
        undecided: risks
            .iter()
            .filter(|r| r.above_threshold && r.treatment == "undecided")
            .count(),
        rows: risks.iter().map(|r| risk_row(r, &chrome, &today)).collect(),
        acceptances,
        policy_version: policy.version.clone(),
        chrome,
    })
}
