//! Vendor list, vendor page, vendor form, export.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use mamori_app::vendors::{export_vendors, ExportFormat};
use mamori_domain::{
    Connectivity, DataClass, Deployment, FieldError, InherentRisk, LifecycleStatus,
    RevenueDependency, RiskCategory, Role, Tenancy, Tier, TierReason, VendorType,
};
use mamori_store::{AuditEntry, SortKey, VendorListQuery, VendorPage, VendorRecord};
use serde::Deserialize;

use super::vendor_form::{options, Opt, VendorForm};
use super::{error_page, query_string, render, Chrome};
use crate::auth::{CurrentUser, RequestLocale};
use crate::charts::tier_class;
use crate::error::WebError;
use crate::i18n::Tr;
use crate::state::AppState;

#[derive(Deserialize, Default, Clone)]
pub struct ListParams {
    pub q: Option<String>,
    pub tier: Option<String>,
    #[serde(rename = "type")]
    pub vendor_type: Option<String>,
    pub status: Option<String>,
    pub owner: Option<String>,
    pub data_class: Option<String>,
    pub sort: Option<String>,
    pub dir: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

impl ListParams {
    /// Unknown filter values are ignored rather than rejected: a stale
    /// bookmark should still open the list.
    pub fn to_query(&self) -> VendorListQuery {
        let opt = |s: &Option<String>| {
            s.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        VendorListQuery {
            search: opt(&self.q),
            tier: opt(&self.tier).and_then(|t| Tier::parse(&t).ok()),
            vendor_type: opt(&self.vendor_type).and_then(|t| VendorType::parse(&t).ok()),
            status: opt(&self.status).and_then(|t| LifecycleStatus::parse(&t).ok()),
            owner: opt(&self.owner),
            data_class: opt(&self.data_class).and_then(|t| DataClass::parse(&t).ok()),
            sort: opt(&self.sort)
                .and_then(|s| SortKey::parse(&s))
                .unwrap_or_default(),
            descending: self.dir.as_deref() == Some("desc"),
            page: self.page.unwrap_or(1).max(1),
            per_page: self.per_page.unwrap_or(50).clamp(10, 200),
        }
    }

    fn pairs(&self) -> Vec<(&'static str, String)> {
        let v = |s: &Option<String>| s.clone().unwrap_or_default();
        vec![
            ("q", v(&self.q)),
            ("tier", v(&self.tier)),
            ("type", v(&self.vendor_type)),
            ("status", v(&self.status)),
            ("owner", v(&self.owner)),
            ("data_class", v(&self.data_class)),
        ]
    }
}

pub struct Column {
    pub label: String,
    pub href: String,
    pub arrow: &'static str,
    pub aria_sort: &'static str,
}

pub struct Row {
    pub id: String,
    pub name: String,
    pub tier: String,
    pub tier_class: &'static str,
    pub score: u32,
    pub vendor_type: String,
    pub status: String,
    pub owner: String,
    pub data_classes: String,
    pub updated: String,
}

#[derive(Template)]
#[template(path = "vendors.html")]
pub struct VendorListPage {
    pub chrome: Chrome,
    pub q: String,
    pub tier_opts: Vec<Opt>,
    pub type_opts: Vec<Opt>,
    pub status_opts: Vec<Opt>,
    pub class_opts: Vec<Opt>,
    pub owner_opts: Vec<Opt>,
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
    pub total: String,
    pub page: u32,
    pub page_count: u32,
    pub prev_href: String,
    pub next_href: String,
    pub export_query: String,
}

fn labels_of<T: Copy>(all: &[T], f: fn(T) -> &'static str) -> Vec<&'static str> {
    all.iter().map(|v| f(*v)).collect()
}

pub async fn list(
    State(state): State<AppState>,
    Extension(RequestLocale(locale)): Extension<RequestLocale>,
    Extension(user): Extension<CurrentUser>,
    Query(params): Query<ListParams>,
) -> Response {
    let query = params.to_query();
    let scope = user.vendor_scope();
    let page: VendorPage = match state
        .store
        .list_vendors(&state.org_id, &query, &scope)
        .await
    {
        Ok(p) => p,
        Err(e) => return error_page(&state, Some(&user), locale, e.into()).await,
    };
    let owners = if user.role() == Role::RelationshipOwner {
        Vec::new()
    } else {
        state
            .store
            .vendor_owners(&state.org_id)
            .await
            .unwrap_or_default()
    };
    let chrome = Chrome::new(&state, Some(&user), locale, "vendors").await;
    let tr = &chrome.tr;
    let base = params.pairs();
    let sort_link = |key: SortKey| {
        let descending = if query.sort == key {
            !query.descending
        } else {
            matches!(key, SortKey::Tier | SortKey::Score | SortKey::Updated)
        };
        let mut pairs = base.clone();
        pairs.push(("sort", key.as_str().to_string()));
        pairs.push((
            "dir",
            if descending {
                "desc".into()
            } else {
                "asc".into()
            },
        ));
        format!("/vendors{}", query_string(&pairs))
    };
    let column = |key: SortKey, label_key: &str| Column {
        label: tr.t(label_key).to_string(),
        href: sort_link(key),
        arrow: if query.sort == key {
            if query.descending {
                "▼"
            } else {
                "▲"
            }
        } else {
            ""
        },
        aria_sort: if query.sort == key {
            if query.descending {
                "descending"
            } else {
                "ascending"
            }
        } else {
            "none"
        },
    };
    let columns = vec![
        column(SortKey::Name, "vendor.legal_name"),
        column(SortKey::Tier, "vendor.tier"),
        column(SortKey::Score, "vendor.top_score"),
        column(SortKey::Type, "vendor.type"),
        column(SortKey::Status, "vendor.status"),
        column(SortKey::Owner, "vendor.owner"),
    ];
    let rows = page
        .vendors
        .iter()
        .map(|v| Row {
            id: v.id.clone(),
            name: v.legal_name.clone(),
            tier: tr.label("tier", v.tier.as_str()),
            tier_class: tier_class(v.tier),
            score: v.score_max,
            vendor_type: tr.label("vendor_type", v.vendor_type.as_str()),
            status: tr.label("status", v.status.as_str()),
            owner: v
                .owner_name
                .clone()
                .unwrap_or_else(|| v.owner_email.clone()),
            data_classes: v
                .data_classes
                .iter()
                .map(|c| tr.label("data_class", c.as_str()))
                .collect::<Vec<_>>()
                .join(", "),
            updated: tr.datetime(&v.updated_at),
        })
        .collect();
    let page_link = |n: u32| {
        let mut pairs = base.clone();
        pairs.push(("sort", query.sort.as_str().to_string()));
        pairs.push((
            "dir",
            if query.descending {
                "desc".into()
            } else {
                "asc".into()
            },
        ));
        pairs.push(("page", n.to_string()));
        pairs.push(("per_page", query.per_page.to_string()));
        format!("/vendors{}", query_string(&pairs))
    };
    let page_count = page.page_count();
    let current = |s: &Option<String>| s.clone().unwrap_or_default();
    let view = VendorListPage {
        q: current(&params.q),
        tier_opts: options(
            tr,
            "tier",
            &["critical", "high", "moderate", "low"],
            &current(&params.tier),
        ),
        type_opts: options(
            tr,
            "vendor_type",
            &labels_of(VendorType::ALL, VendorType::as_str),
            &current(&params.vendor_type),
        ),
        status_opts: options(
            tr,
            "status",
            &labels_of(LifecycleStatus::ALL, LifecycleStatus::as_str),
            &current(&params.status),
        ),
        class_opts: options(
            tr,
            "data_class",
            &labels_of(DataClass::ALL, DataClass::as_str),
            &current(&params.data_class),
        ),
        owner_opts: owners
            .iter()
            .map(|o| Opt {
                value: o.clone(),
                label: o.clone(),
                selected: params.owner.as_deref() == Some(o.as_str()),
            })
            .collect(),
        columns,
        rows,
        total: tr.number(page.total),
        page: page.page,
        page_count,
        prev_href: if page.page > 1 {
            page_link(page.page - 1)
        } else {
            String::new()
        },
        next_href: if page.page < page_count {
            page_link(page.page + 1)
        } else {
            String::new()
        },
        export_query: query_string(&base),
        chrome,
    };
    render(&view)
}

pub struct ScoreRow {
    pub label: String,
    pub score: u32,
    pub width: u32,
    pub class: &'static str,
    pub reasons: Vec<(u32, String)>,
}

#[derive(Template)]
#[template(path = "vendor.html")]
pub struct VendorPageView {
    pub chrome: Chrome,
    pub id: String,
    pub v: VendorRecord,
    pub tier: String,
    pub tier_class: &'static str,
    pub summary: String,
    pub tier_reasons: Vec<String>,
    pub scores: Vec<ScoreRow>,
    pub vendor_type: String,
    pub deployment: String,
    pub tenancy: String,
    pub status: String,
    pub source: String,
    pub services: Vec<ServiceRow>,
    pub flows: Vec<FlowRow>,
    pub history: Vec<(String, String, String, String)>,
    pub audit: Vec<AuditEntry>,
    pub can_edit: bool,
    pub assessed: mamori_store::VendorAssessmentState,
    pub overdue: bool,
    pub can_plan: bool,
    pub can_see_assessments: bool,
    /// (active risks, above threshold, overdue remediation actions) for
    /// people who may see the risk register.
    pub risk_summary: Option<(usize, usize, usize)>,
    pub assessments: Vec<super::assessments::AssessmentRow>,
    pub findings: Vec<super::assessments::FindingView>,
    pub evidence: Vec<super::assessments::EvidenceView>,
    /// When the vendor's data was crypto-shredded (empty: not shredded).
    pub shredded_at: String,
    /// The shredding form is offered (terminated vendor, key manager
    /// configured, the user may manage keys).
    pub can_shred: bool,
}

pub struct ServiceRow {
    pub name: String,
    pub mtd: String,
    pub processes: String,
    pub patient_care: String,
    pub patients: String,
    pub revenue: String,
}

pub struct FlowRow {
    pub class: String,
    pub actions: String,
    pub records: String,
    pub locations: String,
    pub connectivity: String,
    pub subprocessors: String,
}

pub fn explain(
    tr: &Tr,
    risk: &InherentRisk,
    policy: &mamori_domain::TieringPolicy,
) -> (String, Vec<String>, Vec<ScoreRow>) {
    let reason_text = |en: &str, ja: &Option<String>| match (tr.locale, ja) {
        (crate::i18n::Locale::Ja, Some(ja)) => ja.clone(),
        _ => en.to_string(),
    };
    let tier_reasons: Vec<String> = risk
        .tier_reasons
        .iter()
        .map(|r| match r {
            TierReason::Score {
                tier,
                category,
                score,
                band_starts_at,
            } => tr.tf(
                "explain.score",
                &[
                    ("category", &tr.label("category", category.as_str())),
                    ("score", &score.to_string()),
                    ("tier", &tr.label("tier", tier.as_str())),
                    ("band", &band_starts_at.to_string()),
                ],
            ),
            TierReason::Floor { tier, floor_id } => {
                let reason = policy.floor(floor_id).map_or_else(
                    || floor_id.clone(),
                    |f| reason_text(&f.reason, &f.reason_ja),
                );
                tr.tf(
                    "explain.floor",
                    &[
                        ("reason", &reason),
                        ("tier", &tr.label("tier", tier.as_str())),
                    ],
                )
            }
        })
        .collect();
    let summary = if tier_reasons.is_empty() {
        tr.tf(
            "explain.none",
            &[("tier", &tr.label("tier", risk.tier.as_str()))],
        )
    } else {
        tr.tf(
            "explain.summary",
            &[
                ("tier", &tr.label("tier", risk.tier.as_str())),
                ("reasons", &tier_reasons.join("; ")),
            ],
        )
    };
    let scores = RiskCategory::ALL
        .iter()
        .map(|c| {
            let score = risk.scores.get(*c);
            ScoreRow {
                label: tr.label("category", c.as_str()),
                score,
                width: score * 2,
                class: tier_class(policy.bands.tier_for(score)),
                reasons: risk
                    .contributions_to(*c)
                    .into_iter()
                    .map(|k| {
                        let reason = policy.factor(&k.factor_id).map_or_else(
                            || k.factor_id.clone(),
                            |f| reason_text(&f.reason, &f.reason_ja),
                        );
                        (k.points, reason)
                    })
                    .collect(),
            }
        })
        .collect();
    (summary, tier_reasons, scores)
}

pub async fn show(
    State(state): State<AppState>,
    Extension(RequestLocale(locale)): Extension<RequestLocale>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<String>,
) -> Response {
    let record = match state
        .store
        .get_vendor(&state.org_id, &id, &user.vendor_scope())
        .await
    {
        Ok(r) => r,
        Err(e) => return error_page(&state, Some(&user), locale, e.into()).await,
    };
    let audit = state
        .store
        .audit_page(&state.org_id, Some(&id), 1, 20)
        .await
        .map(|p| p.entries)
        .unwrap_or_default();
    let chrome = Chrome::new(&state, Some(&user), locale, "vendors").await;
    let assessed = state
        .store
        .vendor_assessment_state(&state.org_id, &id)
        .await
        .unwrap_or_default();
    let today = mamori_app::assessments::today().to_string();
    let overdue = assessed
        .next_due
        .as_deref()
        .is_some_and(|d| d < today.as_str());
    let can_see_assessments = user.can(mamori_domain::Permission::AssessmentRead);
    let risk_summary = if user.can(mamori_domain::Permission::RiskRead) {
        let risks = state
            .store
            .risks_for_vendor(&state.org_id, &id)
            .await
            .unwrap_or_default();
        let items = state
            .store
            .open_remediation_for_vendor(&state.org_id, &id)
            .await
            .unwrap_or_default();
        let local_today = state
            .risk_policy()
            .await
            .local_date(chrono::Utc::now())
            .to_string();
        let active: Vec<_> = risks.iter().filter(|r| r.status != "closed").collect();
        Some((
            active.len(),
            active.iter().filter(|r| r.above_threshold).count(),
            items
                .iter()
                .filter(|i| i.due_on.as_str() < local_today.as_str())
                .count(),
        ))
    } else {
        None
    };
    let (assessments, findings, evidence) = if can_see_assessments {
        let list = state
            .store
            .list_assessments(&state.org_id, Some(&id), None, 20, 0)
            .await
            .map(|(rows, _)| rows)
            .unwrap_or_default();
        let open = state
            .store
            .open_findings_for_vendor(&state.org_id, &id)
            .await
            .unwrap_or_default();
        let files = state
            .store
            .evidence_for_vendor(&state.org_id, &id)
            .await
            .unwrap_or_default();
        (
            super::assessments::rows(&list, &chrome),
            super::assessments::finding_views(&open, &chrome),
            super::assessments::evidence_views(&files, &state, &chrome),
        )
    } else {
        (Vec::new(), Vec::new(), Vec::new())
    };
    let shredded_at = state
        .store
        .vendor_shredded_at(&state.org_id, &id)
        .await
        .unwrap_or_default()
        .unwrap_or_default();
    let can_shred = shredded_at.is_empty()
        && state.keys.is_some()
        && state.per_vendor_keys
        && record.draft.status == mamori_domain::LifecycleStatus::Terminated
        && user.can(mamori_domain::Permission::KeyManage);
    let tr = &chrome.tr;
    let policy = state.policy().await;
    // The explanation is the policy's own assessment of the stored facts.
    let risk = mamori_domain::assess(&policy, record.draft.risk_profile());
    let (summary, tier_reasons, scores) = explain(tr, &risk, &policy);
    let d = &record.draft;
    let yes_no = |b: bool| tr.t(if b { "common.yes" } else { "common.no" }).to_string();
    let opt_num = |n: Option<u64>| n.map(|n| tr.number(n)).unwrap_or_else(|| "—".into());
    let view = VendorPageView {
        id: record.id.clone(),
        tier: tr.label("tier", record.rating.tier.as_str()),
        tier_class: tier_class(record.rating.tier),
        summary,
        tier_reasons,
        scores,
        vendor_type: tr.label("vendor_type", d.vendor_type.as_str()),
        deployment: tr.label("deployment", d.deployment.as_str()),
        tenancy: tr.label("tenancy", d.tenancy.as_str()),
        status: tr.label("status", d.status.as_str()),
        source: tr.label("source", d.source.as_str()),
        services: d
            .services
            .iter()
            .map(|s| ServiceRow {
                name: s.name.clone(),
                mtd: s
                    .max_tolerable_downtime_hours
                    .map(|h| format!("{h} h"))
                    .unwrap_or_else(|| "—".into()),
                processes: s.business_processes.join(", "),
                patient_care: yes_no(s.patient_care_impact),
                patients: opt_num(s.patients_affected),
                revenue: tr.label("revenue", s.revenue_dependency.as_str()),
            })
            .collect(),
        flows: d
            .data_flows
            .iter()
            .map(|f| FlowRow {
                class: tr.label("data_class", f.data_class.as_str()),
                actions: f
                    .actions
                    .iter()
                    .map(|a| tr.label("action", a.as_str()))
                    .collect::<Vec<_>>()
                    .join(", "),
                records: tr.number(f.record_count),
                locations: f.locations.join(", "),
                connectivity: f
                    .connectivity
                    .iter()
                    .map(|c| tr.label("connectivity", c.as_str()))
                    .collect::<Vec<_>>()
                    .join(", "),
                subprocessors: f.subprocessors.join(", "),
            })
            .collect(),
        history: record
            .tier_history
            .iter()
            .map(|h| {
                (
                    tr.datetime(&h.changed_at),
                    h.from_tier
                        .map(|t| tr.label("tier", t.as_str()))
                        .unwrap_or_else(|| "—".into()),
                    tr.label("tier", h.to_tier.as_str()),
                    format!("{} · {}", h.cause, h.policy_version),
                )
            })
            .collect(),
        audit,
        can_edit: user.can(mamori_domain::Permission::VendorWrite),
        assessed,
        overdue,
        can_plan: user.can(mamori_domain::Permission::AssessmentManage),
        can_see_assessments,
        risk_summary,
        assessments,
        findings,
        evidence,
        shredded_at,
        can_shred,
        v: record,
        chrome,
    };
    render(&view)
}

#[derive(Template)]
#[template(path = "vendor_form.html")]
pub struct VendorFormPage {
    pub chrome: Chrome,
    pub title: String,
    pub action: String,
    pub form: VendorForm,
    pub errors: Vec<String>,
    pub type_opts: Vec<Opt>,
    pub deployment_opts: Vec<Opt>,
    pub tenancy_opts: Vec<Opt>,
    pub status_opts: Vec<Opt>,
    pub owner_locked: bool,
    pub service_rows: Vec<(usize, super::vendor_form::ServiceForm, Vec<Opt>)>,
    pub flow_rows: Vec<(usize, super::vendor_form::FlowForm, Vec<Opt>, Vec<Opt>)>,
}

async fn form_page(
    state: &AppState,
    user: &CurrentUser,
    locale: crate::i18n::Locale,
    title_key: &str,
    action: String,
    mut form: VendorForm,
    errors: Vec<FieldError>,
) -> Response {
    let chrome = Chrome::new(state, Some(user), locale, "vendors").await;
    let tr = &chrome.tr;
    if !errors.is_empty() {
        form.pad();
    }
    let service_rows = form
        .services
        .iter()
        .cloned()
        .enumerate()
        .map(|(i, s)| {
            let opts = options(
                tr,
                "revenue",
                &labels_of(RevenueDependency::ALL, RevenueDependency::as_str),
                &s.revenue,
            );
            (i, s, opts)
        })
        .collect();
    let flow_rows = form
        .flows
        .iter()
        .cloned()
        .enumerate()
        .map(|(i, f)| {
            let class_opts = options(
                tr,
                "data_class",
                &labels_of(DataClass::ALL, DataClass::as_str),
                &f.class,
            );
            let conn_opts = Connectivity::ALL
                .iter()
                .filter(|c| **c != Connectivity::NoConnectivity)
                .map(|c| Opt {
                    value: c.as_str().into(),
                    label: tr.label("connectivity", c.as_str()),
                    selected: f.conn.iter().any(|x| x == c.as_str()),
                })
                .collect();
            (i, f, class_opts, conn_opts)
        })
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = VendorFormPage {
        title: tr.t(title_key).to_string(),
        action,
        errors: errors.iter().map(|e| e.to_string()).collect(),
        type_opts: options(
            tr,
            "vendor_type",
            &labels_of(VendorType::ALL, VendorType::as_str),
            &form.vendor_type,
        ),
        deployment_opts: options(
            tr,
            "deployment",
            &labels_of(Deployment::ALL, Deployment::as_str),
            &form.deployment,
        ),
        tenancy_opts: options(
            tr,
            "tenancy",
            &labels_of(Tenancy::ALL, Tenancy::as_str),
            &form.tenancy,
        ),
        status_opts: options(
            tr,
            "status",
            &labels_of(LifecycleStatus::ALL, LifecycleStatus::as_str),
            &form.status,
        ),
        owner_locked: user.role() == Role::RelationshipOwner,
        service_rows,
        flow_rows,
        form,
        chrome,
    };
    let mut response = render(&page);
    *response.status_mut() = status;
    response
}

pub async fn new_form(
    State(state): State<AppState>,
    Extension(RequestLocale(locale)): Extension<RequestLocale>,
    Extension(user): Extension<CurrentUser>,
) -> Response {
    // Owners register their own vendors; others usually register for someone else.
    let form = if user.role() == Role::RelationshipOwner {
        VendorForm::blank(&user.user.email, &user.user.display_name)
    } else {
        VendorForm::blank("", "")
    };
    form_page(
        &state,
        &user,
        locale,
        "vendor.new_title",
        "/vendors".into(),
        form,
        Vec::new(),
    )
    .await
}

pub async fn create(
    State(state): State<AppState>,
    Extension(RequestLocale(locale)): Extension<RequestLocale>,
    Extension(user): Extension<CurrentUser>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    save(&state, locale, &user, None, &pairs).await
}

pub async fn edit_form(
    State(state): State<AppState>,
    Extension(RequestLocale(locale)): Extension<RequestLocale>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<String>,
) -> Response {
    match state
        .store
        .get_vendor(&state.org_id, &id, &user.vendor_scope())
        .await
    {
        Ok(record) => {
            let form = VendorForm::from_draft(&record.draft);
            form_page(
                &state,
                &user,
                locale,
                "vendor.edit_title",
                format!("/vendors/{id}"),
                form,
                Vec::new(),
            )
            .await
        }
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
    save(&state, locale, &user, Some(&id), &pairs).await
}

/// Registers (`id` = None) or edits a vendor from the submitted form; a
/// rejected form comes back as typed, with every problem named.
async fn save(
    state: &AppState,
    locale: crate::i18n::Locale,
    user: &CurrentUser,
    id: Option<&str>,
    pairs: &[(String, String)],
) -> Response {
    let (title, action) = match id {
        None => ("vendor.new_title", "/vendors".to_string()),
        Some(id) => ("vendor.edit_title", format!("/vendors/{id}")),
    };
    let mut form = VendorForm::from_pairs(pairs);
    if user.role() == Role::RelationshipOwner {
        // Owners register and keep vendors for themselves only.
        form.owner_email = user.user.email.clone();
    }
    let draft = match form.to_draft() {
        Ok(d) => d,
        Err(errors) => return form_page(state, user, locale, title, action, form, errors).await,
    };
    let policy = state.policy().await;
    let saved = match id {
        None => {
            mamori_app::vendors::create_vendor(
                &state.store,
                &state.org_id,
                &policy,
                &draft,
                &user.actor(),
            )
            .await
        }
        Some(id) => mamori_app::vendors::update_vendor(
            &state.store,
            &state.org_id,
            &policy,
            id,
            &draft,
            &user.vendor_scope(),
            &user.actor(),
        )
        .await
        .map(|()| id.to_string()),
    };
    match saved {
        Ok(id) => Redirect::to(&format!("/vendors/{id}")).into_response(),
        Err(e) => match WebError::from(e) {
            WebError::Conflict(m) | WebError::BadRequest(m) => {
                form_page(
                    state,
                    user,
                    locale,
                    title,
                    action,
                    form,
                    vec![FieldError::new("legal_name", m)],
                )
                .await
            }
            WebError::Unprocessable(_, fields) => {
                form_page(state, user, locale, title, action, form, fields).await
            }
            other => error_page(state, Some(user), locale, other).await,
        },
    }
}

#[derive(Deserialize)]
pub struct ExportParams {
    pub format: Option<String>,
}

pub async fn export(
    State(state): State<AppState>,
    Extension(RequestLocale(locale)): Extension<RequestLocale>,
    Extension(user): Extension<CurrentUser>,
    Query(params): Query<ExportParams>,
) -> Response {
    let format = params
        .format
        .as_deref()
        .and_then(ExportFormat::parse)
        .unwrap_or(ExportFormat::Csv);
    export_response(&state, &user, format)
        .await
        .unwrap_or_else(|e| {
            let state = state.clone();
            let user = user.clone();
            futures_util::FutureExt::now_or_never(async move {
                error_page(&state, Some(&user), locale, e).await
            })
            .unwrap_or_else(|| StatusCode::INTERNAL_SERVER_ERROR.into_response())
        })
}

pub async fn export_response(
    state: &AppState,
    user: &CurrentUser,
    format: ExportFormat,
) -> Result<Response, WebError> {
    let bytes = export_vendors(&state.store, &state.org_id, &user.vendor_scope(), format).await?;
    let _ = state
        .store
        .record_audit(
            &state.org_id,
            &user.actor(),
            mamori_store::NewAudit {
                action: "vendor.export",
                entity_kind: "export",
                entity_id: None,
                summary: format!("exported vendors as {}", format.extension()),
                before: None,
                after: None,
            },
        )
        .await;
    let disposition = format!(
        "attachment; filename=\"mamori-vendors.{}\"",
        format.extension()
    );
    Ok((
        [
            (header::CONTENT_TYPE, format.content_type().to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Deserialize)]
pub struct ShredForm {
    #[serde(default)]
    pub confirm_name: String,
}

/// Crypto-shreds a terminated vendor's data: destroys the vendor's KEK in
/// the customer's key manager (see `mamori_app::keys`).
pub async fn shred(
    State(state): State<AppState>,
    Extension(RequestLocale(locale)): Extension<RequestLocale>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<String>,
    Form(form): Form<ShredForm>,
) -> Response {
    let (Some(keys), Some(blobs)) = (state.keys.clone(), state.blobs.clone()) else {
        return error_page(
            &state,
            Some(&user),
            locale,
            WebError::Conflict("no key manager is configured for this installation".into()),
        )
        .await;
    };
    // The key manager may block (network, HSM): run it off the async pool.
    let outcome = {
        let store = state.store.clone();
        let org = state.org_id.clone();
        let actor = user.actor();
        let vendor = id.clone();
        let per_vendor_keys = state.per_vendor_keys;
        tokio::task::spawn_blocking(move || {
            tokio::runtime::Handle::current().block_on(mamori_app::keys::shred_vendor_data(
                &store,
                keys.as_ref(),
                blobs.as_ref(),
                &org,
                &vendor,
                &form.confirm_name,
                per_vendor_keys,
                &actor,
            ))
        })
        .await
    };
    match outcome {
        Ok(Ok(_)) => Redirect::to(&format!("/vendors/{id}#shredding")).into_response(),
        Ok(Err(e)) => error_page(&state, Some(&user), locale, e.into()).await,
        Err(e) => {
            error_page(
                &state,
                Some(&user),
                locale,
                WebError::Internal(e.to_string()),
            )
            .await
        }
    }
}
