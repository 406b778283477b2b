//! The risk register in the JSON API: risks and their heat map, findings
//! promoted to risks, accountable acceptances, corrective action plans sent
//! to vendors, contracts with their clause checklists, the risk policy and
//! the register's CSV/XLSX export.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use mamori_app::risks as app;
use mamori_app::vendors::ExportFormat;
use mamori_domain::questionnaire::Severity;
use mamori_domain::risk::{RiskPolicy, RiskStatus, DEFAULT_RISK_POLICY_TOML};
use mamori_domain::{RiskCategory, Tier};
use mamori_store::{
    AcceptanceRecord, ClauseRecord, ContractRecord, FindingRecord, RemediationItemRecord,
    RemediationLinkRecord, RemediationRequestRecord, RiskEvent, RiskQuery, RiskRecord, RiskSort,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::assessments::CreatedOutput;
use super::ErrorOutput;
use crate::auth::CurrentUser;
use crate::error::{WebError, WebResult};
use crate::state::AppState;

// ----- risks -----------------------------------------------------------

/// A risk of the register.
#[derive(Debug, Serialize, ToSchema)]
pub struct RiskEntryOutput {
    pub id: String,
    pub vendor_id: String,
    pub vendor_name: String,
    pub vendor_tier: String,
    pub service_id: Option<String>,
    /// cybersecurity, reputational, compliance, privacy, operational,
    /// strategic or financial
    pub category: String,
    pub title: String,
    pub description: String,
    pub owner_id: Option<String>,
    pub owner_name: Option<String>,
    pub inherent_likelihood: i64,
    pub inherent_impact: i64,
    /// Likelihood × impact before the existing controls.
    pub inherent_score: i64,
    pub existing_controls: String,
    pub residual_likelihood: i64,
    pub residual_impact: i64,
    pub residual_score: i64,
    /// low, medium, high or critical: the policy's band of the residual score
    pub residual_level: String,
    /// undecided, mitigate, transfer, avoid or accept
    pub treatment: String,
    /// open, in_treatment, accepted or closed
    pub status: String,
    pub due_on: Option<String>,
    pub compensating_control: Option<String>,
    /// The worst severity among the linked findings still open.
    pub worst_finding: Option<String>,
    /// Above the risk appetite threshold: needs a decision.
    pub above_threshold: bool,
    pub threshold_reason: Option<String>,
    pub finding_count: i64,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
    pub closed_at: Option<String>,
}

impl From<&RiskRecord> for RiskEntryOutput {
    fn from(r: &RiskRecord) -> Self {
        Self {
            id: r.id.clone(),
            vendor_id: r.vendor_id.clone(),
            vendor_name: r.vendor_name.clone(),
            vendor_tier: r.vendor_tier.clone(),
            service_id: r.service_id.clone(),
            category: r.category.clone(),
            title: r.title.clone(),
            description: r.description.clone(),
            owner_id: r.owner_id.clone(),
            owner_name: r.owner_name.clone(),
            inherent_likelihood: r.inherent_likelihood,
            inherent_impact: r.inherent_impact,
            inherent_score: r.inherent_likelihood.saturating_mul(r.inherent_impact),
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
            finding_count: r.finding_count,
            created_by: r.created_by.clone(),
            created_at: r.created_at.clone(),
            updated_at: r.updated_at.clone(),
            closed_at: r.closed_at.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RiskListOutput {
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
    pub risks: Vec<RiskEntryOutput>,
}

/// A finding linked to a risk or raised from a contract.
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkedFindingOutput {
    pub id: String,
    pub vendor_id: String,
    pub assessment_id: Option<String>,
    /// assessment, contract, …: where the finding was raised
    pub source: String,
    pub source_ref: Option<String>,
    pub csf: Vec<String>,
    pub title: String,
    pub detail: String,
    pub severity: String,
    pub cvss_vector: Option<String>,
    /// pending, accepted or overridden
    pub decision: String,
    /// open or dismissed
    pub status: String,
    pub created_at: String,
}

impl From<&FindingRecord> for LinkedFindingOutput {
    fn from(f: &FindingRecord) -> Self {
        Self {
            id: f.id.clone(),
            vendor_id: f.vendor_id.clone(),
            assessment_id: f.assessment_id.clone(),
            source: f.source.clone(),
            source_ref: f.source_ref.clone(),
            csf: f
                .csf
                .split(',')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_string)
                .collect(),
            title: f.title.clone(),
            detail: f.detail.clone(),
            severity: f.severity.clone(),
            cvss_vector: f.cvss_vector.clone(),
            decision: f.decision.clone(),
            status: f.status.clone(),
            created_at: f.created_at.clone(),
        }
    }
}

/// One entry of a risk's history.
#[derive(Debug, Serialize, ToSchema)]
pub struct RiskEventOutput {
    pub at: String,
    pub actor: String,
    /// created, updated, findings_linked, accepted or acceptance_expired
    pub action: String,
    pub summary: String,
    /// The changed fields as they were.
    #[schema(value_type = Option<Object>)]
    pub before: Option<serde_json::Value>,
    /// The changed fields as they became.
    #[schema(value_type = Option<Object>)]
    pub after: Option<serde_json::Value>,
}

impl From<&RiskEvent> for RiskEventOutput {
    fn from(e: &RiskEvent) -> Self {
        Self {
            at: e.at.clone(),
            actor: e.actor.clone(),
            action: e.action.clone(),
            summary: e.summary.clone(),
            before: e.before(),
            after: e.after(),
        }
    }
}

/// A recorded acceptance: who accepted which risk, in what role, why and
/// until when.
#[derive(Debug, Serialize, ToSchema)]
pub struct AcceptanceOutput {
    pub id: String,
    pub risk_id: String,
    pub risk_title: String,
    /// The risk's status now (an accepted risk returns to open when its
    /// acceptance lapses).
    pub risk_status: String,
    pub vendor_id: String,
    pub vendor_name: String,
    pub accepted_by: String,
    /// The role the person accepted in.
    pub accepted_as: String,
    pub residual_level: String,
    pub residual_score: i64,
    pub above_threshold: bool,
    pub justification: String,
    pub compensating_controls: String,
    /// Last day the acceptance holds.
    pub expires_on: String,
    pub created_at: String,
}

impl From<&AcceptanceRecord> for AcceptanceOutput {
    fn from(a: &AcceptanceRecord) -> Self {
        Self {
            id: a.id.clone(),
            risk_id: a.risk_id.clone(),
            risk_title: a.risk_title.clone(),
            risk_status: a.risk_status.clone(),
            vendor_id: a.vendor_id.clone(),
            vendor_name: a.vendor_name.clone(),
            accepted_by: a.accepted_by.clone(),
            accepted_as: a.accepted_as.clone(),
            residual_level: a.residual_level.clone(),
            residual_score: a.residual_score,
            above_threshold: a.above_threshold,
            justification: a.justification.clone(),
            compensating_controls: a.compensating_controls.clone(),
            expires_on: a.expires_on.clone(),
            created_at: a.created_at.clone(),
        }
    }
}

/// A risk with its evidence, history and acceptances.
#[derive(Debug, Serialize, ToSchema)]
pub struct RiskDetailOutput {
    #[serde(flatten)]
    pub risk: RiskEntryOutput,
    pub findings: Vec<LinkedFindingOutput>,
    /// Oldest first.
    pub history: Vec<RiskEventOutput>,
    /// Newest first.
    pub acceptances: Vec<AcceptanceOutput>,
}

/// A risk as entered. Ratings are steps of the policy's matrix, counted
/// from 1; the residual score may not exceed the inherent score.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct RiskBody {
    /// Optional when findings are given: their vendor.
    #[serde(default)]
    pub vendor_id: String,
    #[serde(default)]
    pub service_id: Option<String>,
    pub category: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub owner_id: Option<String>,
    pub inherent_likelihood: u32,
    pub inherent_impact: u32,
    #[serde(default)]
    pub existing_controls: String,
    pub residual_likelihood: u32,
    pub residual_impact: u32,
    /// undecided (default), mitigate, transfer or avoid; acceptance is
    /// recorded through `/api/v1/risks/{id}/acceptances`.
    #[serde(default)]
    pub treatment: Option<String>,
    /// open (default), in_treatment or closed.
    #[serde(default)]
    pub status: Option<String>,
    /// YYYY-MM-DD; above the threshold, the policy's deadline when absent.
    #[serde(default)]
    pub due_on: Option<String>,
    #[serde(default)]
    pub compensating_control: Option<String>,
}

impl RiskBody {
    fn into_input(self) -> app::RiskInput {
        app::RiskInput {
            vendor_id: self.vendor_id,
            service_id: self.service_id,
            category: self.category,
            title: self.title,
            description: self.description,
            owner_id: self.owner_id,
            inherent_likelihood: self.inherent_likelihood,
            inherent_impact: self.inherent_impact,
            existing_controls: self.existing_controls,
            residual_likelihood: self.residual_likelihood,
            residual_impact: self.residual_impact,
            treatment: self.treatment,
            status: self.status,
            due_on: self.due_on,
            compensating_control: self.compensating_control,
        }
    }
}

/// A new risk, optionally evidenced by findings of its vendor (this is how
/// findings are promoted to risks).
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewRiskBody {
    #[serde(flatten)]
    pub risk: RiskBody,
    #[serde(default)]
    pub finding_ids: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct FindingIdsBody {
    pub finding_ids: Vec<String>,
}

/// Filters of the register, its heat map and its export.
#[derive(Debug, Default, Deserialize)]
pub struct RiskListParams {
    pub vendor: Option<String>,
    pub tier: Option<String>,
    pub category: Option<String>,
    pub owner: Option<String>,
    pub status: Option<String>,
    pub level: Option<String>,
    pub above_threshold: Option<bool>,
    pub q: Option<String>,
    pub sort: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
    /// Heat map only: `residual` (default) or `inherent`.
    pub basis: Option<String>,
    /// Export only: `csv` (default) or `xlsx`.
    pub format: Option<String>,
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl RiskListParams {
    /// The store query, every label checked (and spelled as stored).
    fn to_query(&self) -> WebResult<RiskQuery> {
        let bad = |e: &dyn std::fmt::Display| WebError::BadRequest(e.to_string());
        let status = match given(&self.status) {
            None => None,
            Some(s @ ("all" | "active")) => Some(s.to_string()),
            Some(s) => Some(
                RiskStatus::parse(s)
                    .map_err(|e| bad(&e))?
                    .as_str()
                    .to_string(),
            ),
        };
        let tier = given(&self.tier)
            .map(|t| Tier::parse(t).map(|t| t.as_str().to_string()))
            .transpose()
            .map_err(|e| bad(&e))?;
        let category = given(&self.category)
            .map(|c| RiskCategory::parse(c).map(|c| c.as_str().to_string()))
            .transpose()
            .map_err(|e| bad(&e))?;
        let level = given(&self.level)
            .map(|l| Severity::parse(l).map(|l| l.as_str().to_string()))
            .transpose()
            .map_err(|e| bad(&e))?;
        let sort = match given(&self.sort) {
            None => RiskSort::default(),
            Some(s) => RiskSort::parse(s).ok_or_else(|| {
                WebError::BadRequest(format!(
                    "unknown sort '{s}': use {}",
                    RiskSort::ALL
                        .iter()
                        .map(|k| k.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?,
        };
        let per_page = self.per_page.unwrap_or(50).clamp(1, 500);
        Ok(RiskQuery {
            vendor_id: given(&self.vendor).map(str::to_string),
            tier,
            category,
            owner_id: given(&self.owner).map(str::to_string),
            status,
            level,
            above_threshold: self.above_threshold,
            search: given(&self.q).map(str::to_string),
            sort,
            limit: per_page,
            offset: (self.page.unwrap_or(1).max(1) - 1).saturating_mul(per_page),
        })
    }
}

/// Lapsed acceptances return their risks to open before any read, so the
/// API never reports an acceptance that no longer holds.
async fn sweep(state: &AppState) -> WebResult<()> {
    let policy = state.risk_policy().await;
    mamori_app::risks::expire_acceptances(&state.store, &state.org_id, &policy, chrono::Utc::now())
        .await?;
    Ok(())
}

#[utoipa::path(get, path = "/api/v1/risks",
    params(("vendor" = Option<String>, Query, description = "vendor id"),
           ("tier" = Option<String>, Query, description = "the vendor's tier"),
           ("category" = Option<String>, Query), ("owner" = Option<String>, Query, description = "owner's user id"),
           ("status" = Option<String>, Query, description = "open, in_treatment, accepted, closed, `active` (all but closed) or `all` (default)"),
           ("level" = Option<String>, Query, description = "residual level: low, medium, high or critical"),
           ("above_threshold" = Option<bool>, Query), ("q" = Option<String>, Query, description = "search in the title and the vendor's name"),
           ("sort" = Option<String>, Query, description = "score (default), updated, due, title, vendor"),
           ("page" = Option<u32>, Query), ("per_page" = Option<u32>, Query)),
    responses((status = 200, body = RiskListOutput), (status = 400, body = ErrorOutput)))]
pub async fn list(
    State(state): State<AppState>,
    Query(p): Query<RiskListParams>,
) -> WebResult<Json<RiskListOutput>> {
    sweep(&state).await?;
    let query = p.to_query()?;
    let page = state.store.list_risks(&state.org_id, &query).await?;
    Ok(Json(RiskListOutput {
        total: page.total,
        page: p.page.unwrap_or(1).max(1),
        per_page: query.limit,
        risks: page.risks.iter().map(RiskEntryOutput::from).collect(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HeatCellOutput {
    pub likelihood: i64,
    pub impact: i64,
    pub count: i64,
    /// The level the policy gives likelihood × impact.
    pub level: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HeatMapOutput {
    /// residual or inherent
    pub basis: String,
    pub policy_version: String,
    /// Likelihood steps, lowest first (step 1 is the first label).
    pub likelihood: Vec<String>,
    /// Impact steps, lowest first.
    pub impact: Vec<String>,
    /// Non-empty cells only.
    pub cells: Vec<HeatCellOutput>,
    pub total: i64,
}

#[utoipa::path(get, path = "/api/v1/risks/heatmap",
    params(("basis" = Option<String>, Query, description = "residual (default) or inherent"),
           ("vendor" = Option<String>, Query), ("tier" = Option<String>, Query), ("category" = Option<String>, Query),
           ("owner" = Option<String>, Query),
           ("status" = Option<String>, Query, description = "a status, `active` (default) or `all`"),
           ("level" = Option<String>, Query), ("above_threshold" = Option<bool>, Query), ("q" = Option<String>, Query)),
    responses((status = 200, body = HeatMapOutput), (status = 400, body = ErrorOutput)))]
pub async fn heatmap(
    State(state): State<AppState>,
    Query(p): Query<RiskListParams>,
) -> WebResult<Json<HeatMapOutput>> {
    let residual = match given(&p.basis) {
        None | Some("residual") => true,
        Some("inherent") => false,
        Some(other) => {
            return Err(WebError::BadRequest(format!(
                "unknown basis '{other}': use residual or inherent"
            )))
        }
    };
    let query = p.to_query()?;
    let policy = state.risk_policy().await;
    let cells = state
        .store
        .heat_map(&state.org_id, &query, residual)
        .await?;
    let level = |l: i64, i: i64| {
        let score = u32::try_from(l.saturating_mul(i)).unwrap_or(0);
        policy.matrix.level(score).as_str().to_string()
    };
    Ok(Json(HeatMapOutput {
        basis: if residual { "residual" } else { "inherent" }.into(),
        policy_version: policy.version.clone(),
        likelihood: policy.matrix.likelihood.clone(),
        impact: policy.matrix.impact.clone(),
        total: cells.iter().map(|c| c.count).sum(),
        cells: cells
            .iter()
            .map(|c| HeatCellOutput {
                likelihood: c.likelihood,
                impact: c.impact,
                count: c.count,
                level: level(c.likelihood, c.impact),
            })
            .collect(),
    }))
}

#[utoipa::path(post, path = "/api/v1/risks", request_body = NewRiskBody,
    responses((status = 201, body = CreatedOutput), (status = 400, body = ErrorOutput),
              (status = 404, body = ErrorOutput), (status = 422, body = ErrorOutput)))]
pub async fn create(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Json(body): Json<NewRiskBody>,
) -> WebResult<Response> {
    let policy = state.risk_policy().await;
    let input = body.risk.into_input();
    let id = app::create_risk(
        &state.store,
        &state.org_id,
        &policy,
        &input,
        &body.finding_ids,
        &user.actor(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(CreatedOutput { id })).into_response())
}

#[utoipa::path(get, path = "/api/v1/risks/{id}", params(("id" = String, Path)),
    responses((status = 200, body = RiskDetailOutput), (status = 404, body = ErrorOutput)))]
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> WebResult<Json<RiskDetailOutput>> {
    sweep(&state).await?;
    let risk = state.store.get_risk(&state.org_id, &id).await?;
    let findings = state.store.findings_for_risk(&risk.id).await?;
    let history = state.store.risk_events(&state.org_id, &risk.id).await?;
    let acceptances = state
        .store
        .acceptances_for_risk(&state.org_id, &risk.id)
        .await?;
    Ok(Json(RiskDetailOutput {
        risk: RiskEntryOutput::from(&risk),
        findings: findings.iter().map(LinkedFindingOutput::from).collect(),
        history: history.iter().map(RiskEventOutput::from).collect(),
        acceptances: acceptances.iter().map(AcceptanceOutput::from).collect(),
    }))
}

#[utoipa::path(put, path = "/api/v1/risks/{id}", params(("id" = String, Path)), request_body = RiskBody,
    responses((status = 200, body = RiskEntryOutput), (status = 400, body = ErrorOutput),
              (status = 404, body = ErrorOutput), (status = 422, body = ErrorOutput)))]
pub async fn update(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<String>,
    Json(body): Json<RiskBody>,
) -> WebResult<Json<RiskEntryOutput>> {
    let policy = state.risk_policy().await;
    let input = body.into_input();
    let risk = app::update_risk(
        &state.store,
        &state.org_id,
        &policy,
        &id,
        &input,
        &user.actor(),
    )
    .await?;
    Ok(Json(RiskEntryOutput::from(&risk)))
}

#[utoipa::path(post, path = "/api/v1/risks/{id}/findings", params(("id" = String, Path)), request_body = FindingIdsBody,
    responses((status = 200, body = RiskEntryOutput, description = "the risk, its threshold re-evaluated"),
              (status = 404, body = ErrorOutput), (status = 409, body = ErrorOutput)))]
pub async fn link_findings(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<String>,
    Json(body): Json<FindingIdsBody>,
) -> WebResult<Json<RiskEntryOutput>> {
    if body.finding_ids.is_empty() {
        return Err(WebError::BadRequest("name at least one finding".into()));
    }
    let policy = state.risk_policy().await;
    let risk = app::link_findings(
        &state.store,
        &state.org_id,
        &policy,
        &id,
        &body.finding_ids,
        &user.actor(),
    )
    .await?;
    Ok(Json(RiskEntryOutput::from(&risk)))
}

/// An acceptance to record.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AcceptanceBody {
    pub justification: String,
    #[serde(default)]
    pub compensating_controls: String,
    /// YYYY-MM-DD: the last day the acceptance holds, within the policy's
    /// maximum.
    pub expires_on: String,
}

#[utoipa::path(post, path = "/api/v1/risks/{id}/acceptances", params(("id" = String, Path)), request_body = AcceptanceBody,
    responses((status = 201, body = CreatedOutput),
              (status = 403, body = ErrorOutput, description = "the risk policy refuses this acceptance; the reason says why"),
              (status = 404, body = ErrorOutput), (status = 409, body = ErrorOutput)))]
pub async fn accept(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<String>,
    Json(body): Json<AcceptanceBody>,
) -> WebResult<Response> {
    let policy = state.risk_policy().await;
    let input = app::AcceptanceInput {
        justification: body.justification,
        compensating_controls: body.compensating_controls,
        expires_on: body.expires_on,
    };
    let id = app::accept_risk(
        &state.store,
        &state.org_id,
        &policy,
        &id,
        user.role(),
        &input,
        &user.actor(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(CreatedOutput { id })).into_response())
}

#[derive(Debug, Deserialize)]
pub struct AcceptanceParams {
    pub current: Option<bool>,
}

#[utoipa::path(get, path = "/api/v1/acceptances",
    params(("current" = Option<bool>, Query, description = "only the acceptance in force of each accepted risk (default true); false lists every decision")),
    responses((status = 200, body = Vec<AcceptanceOutput>, description = "soonest expiry first")))]
pub async fn acceptances(
    State(state): State<AppState>,
    Query(p): Query<AcceptanceParams>,
) -> WebResult<Json<Vec<AcceptanceOutput>>> {
    sweep(&state).await?;
    let rows = state
        .store
        .acceptances(&state.org_id, p.current.unwrap_or(true))
        .await?;
    Ok(Json(rows.iter().map(AcceptanceOutput::from).collect()))
}

// ----- corrective action plans -------------------------------------------

#[derive(Debug, Serialize, ToSchema)]
pub struct RemediationRequestOutput {
    pub id: String,
    pub vendor_id: String,
    pub vendor_name: String,
    pub title: String,
    /// open or closed
    pub status: String,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
    pub closed_at: Option<String>,
    pub items_total: i64,
    pub items_open: i64,
    pub items_claimed: i64,
    pub items_disputed: i64,
    pub items_verified: i64,
}

impl From<&RemediationRequestRecord> for RemediationRequestOutput {
    fn from(r: &RemediationRequestRecord) -> Self {
        Self {
            id: r.id.clone(),
            vendor_id: r.vendor_id.clone(),
            vendor_name: r.vendor_name.clone(),
            title: r.title.clone(),
            status: r.status.clone(),
            created_by: r.created_by.clone(),
            created_at: r.created_at.clone(),
            updated_at: r.updated_at.clone(),
            closed_at: r.closed_at.clone(),
            items_total: r.items_total,
            items_open: r.items_open,
            items_claimed: r.items_claimed,
            items_disputed: r.items_disputed,
            items_verified: r.items_verified,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RemediationItemOutput {
    pub id: String,
    pub request_id: String,
    pub risk_id: Option<String>,
    pub risk_title: Option<String>,
    pub position: i64,
    pub action: String,
    pub severity: String,
    pub due_on: String,
    /// requested, planned, claimed_done, disputed, verified or reopened
    pub status: String,
    pub response_text: Option<String>,
    pub planned_on: Option<String>,
    pub response_evidence_id: Option<String>,
    pub responded_at: Option<String>,
    pub verified_by: Option<String>,
    pub verified_at: Option<String>,
    pub verifier_comment: Option<String>,
}

impl From<&RemediationItemRecord> for RemediationItemOutput {
    fn from(i: &RemediationItemRecord) -> Self {
        Self {
            id: i.id.clone(),
            request_id: i.request_id.clone(),
            risk_id: i.risk_id.clone(),
            risk_title: i.risk_title.clone(),
            position: i.position,
            action: i.action.clone(),
            severity: i.severity.clone(),
            due_on: i.due_on.clone(),
            status: i.status.clone(),
            response_text: i.response_text.clone(),
            planned_on: i.planned_on.clone(),
            response_evidence_id: i.response_evidence_id.clone(),
            responded_at: i.responded_at.clone(),
            verified_by: i.verified_by.clone(),
            verified_at: i.verified_at.clone(),
            verifier_comment: i.verifier_comment.clone(),
        }
    }
}

/// A link sent to a vendor contact (the token itself is never stored).
#[derive(Debug, Serialize, ToSchema)]
pub struct RemediationLinkOutput {
    pub id: String,
    pub contact_name: String,
    pub contact_email: String,
    pub created_by: String,
    pub created_at: String,
    pub expires_at: String,
    pub revoked_at: Option<String>,
    pub last_used_at: Option<String>,
}

impl From<&RemediationLinkRecord> for RemediationLinkOutput {
    fn from(l: &RemediationLinkRecord) -> Self {
        Self {
            id: l.id.clone(),
            contact_name: l.contact_name.clone(),
            contact_email: l.contact_email.clone(),
            created_by: l.created_by.clone(),
            created_at: l.created_at.clone(),
            expires_at: l.expires_at.clone(),
            revoked_at: l.revoked_at.clone(),
            last_used_at: l.last_used_at.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RemediationDetailOutput {
    #[serde(flatten)]
    pub request: RemediationRequestOutput,
    /// In the order requested: the highest residual score first.
    pub items: Vec<RemediationItemOutput>,
    /// Newest first.
    pub links: Vec<RemediationLinkOutput>,
}

#[derive(Debug, Deserialize)]
pub struct RemediationParams {
    pub vendor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/remediation",
    params(("vendor" = Option<String>, Query, description = "vendor id")),
    responses((status = 200, body = Vec<RemediationRequestOutput>, description = "newest first")))]
pub async fn remediation_list(
    State(state): State<AppState>,
    Query(p): Query<RemediationParams>,
) -> WebResult<Json<Vec<RemediationRequestOutput>>> {
    let rows = state
        .store
        .remediation_requests(&state.org_id, given(&p.vendor))
        .await?;
    Ok(Json(
        rows.iter().map(RemediationRequestOutput::from).collect(),
    ))
}

#[utoipa::path(get, path = "/api/v1/remediation/{id}", params(("id" = String, Path)),
    responses((status = 200, body = RemediationDetailOutput), (status = 404, body = ErrorOutput)))]
pub async fn remediation_get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> WebResult<Json<RemediationDetailOutput>> {
    let request = state
        .store
        .get_remediation_request(&state.org_id, &id)
        .await?;
    let items = state.store.remediation_items(&request.id).await?;
    let links = state.store.remediation_links(&request.id).await?;
    Ok(Json(RemediationDetailOutput {
        request: RemediationRequestOutput::from(&request),
        items: items.iter().map(RemediationItemOutput::from).collect(),
        links: links.iter().map(RemediationLinkOutput::from).collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ActionBody {
    pub risk_id: String,
    /// What the vendor must do; the risk's title when empty.
    #[serde(default)]
    pub action: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RemediationBody {
    pub title: String,
    /// One action per risk of the vendor; each gets the policy's deadline
    /// for its severity.
    pub actions: Vec<ActionBody>,
}

#[utoipa::path(post, path = "/api/v1/vendors/{id}/remediation", params(("id" = String, Path, description = "vendor id")),
    request_body = RemediationBody,
    responses((status = 201, body = CreatedOutput), (status = 400, body = ErrorOutput), (status = 404, body = ErrorOutput)))]
pub async fn remediation_create(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(vendor_id): Path<String>,
    Json(body): Json<RemediationBody>,
) -> WebResult<Response> {
    let vendor = state
        .store
        .get_vendor(&state.org_id, &vendor_id, &user.vendor_scope())
        .await?;
    let policy = state.risk_policy().await;
    let actions: Vec<app::ActionInput> = body
        .actions
        .into_iter()
        .map(|a| app::ActionInput {
            risk_id: a.risk_id,
            action: a.action,
        })
        .collect();
    let id = app::create_remediation_request(
        &state.store,
        &state.org_id,
        &policy,
        &vendor.id,
        &body.title,
        &actions,
        &user.actor(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(CreatedOutput { id })).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SendRemediationBody {
    pub contact_name: String,
    pub contact_email: String,
}

/// The link to hand to the vendor contact. Shown once: Mamori keeps only
/// its hash, and sending again revokes it.
#[derive(Debug, Serialize, ToSchema)]
pub struct RemediationSentOutput {
    /// `/remediate/{token}`, to append to Mamori's address.
    pub path: String,
    pub expires_at: String,
}

#[utoipa::path(post, path = "/api/v1/remediation/{id}/send", params(("id" = String, Path)),
    request_body = SendRemediationBody,
    responses((status = 200, body = RemediationSentOutput), (status = 400, body = ErrorOutput),
              (status = 404, body = ErrorOutput), (status = 409, body = ErrorOutput)))]
pub async fn remediation_send(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<String>,
    Json(body): Json<SendRemediationBody>,
) -> WebResult<Json<RemediationSentOutput>> {
    let request = state
        .store
        .get_remediation_request(&state.org_id, &id)
        .await?;
    let link = app::send_remediation_request(
        &state.store,
        &state.org_id,
        &request.id,
        &body.contact_name,
        &body.contact_email,
        &user.actor(),
    )
    .await?;
    Ok(Json(RemediationSentOutput {
        path: format!("/remediate/{}", link.token),
        expires_at: link.expires_at,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct VerifyBody {
    /// true: verified; false: reopened (the comment says why).
    pub accept: bool,
    #[serde(default)]
    pub comment: String,
}

#[utoipa::path(post, path = "/api/v1/remediation/items/{item_id}/verify", params(("item_id" = String, Path)),
    request_body = VerifyBody,
    responses((status = 200, body = RemediationItemOutput), (status = 404, body = ErrorOutput), (status = 409, body = ErrorOutput)))]
pub async fn remediation_verify(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(item_id): Path<String>,
    Json(body): Json<VerifyBody>,
) -> WebResult<Json<RemediationItemOutput>> {
    let item = state
        .store
        .verify_remediation_item(
            &state.org_id,
            &item_id,
            body.accept,
            &body.comment,
            &user.actor(),
        )
        .await?;
    Ok(Json(RemediationItemOutput::from(&item)))
}

// ----- contracts -----------------------------------------------------------

#[derive(Debug, Serialize, ToSchema)]
pub struct ContractOutput {
    pub id: String,
    pub vendor_id: String,
    pub vendor_name: String,
    pub title: String,
    pub starts_on: Option<String>,
    pub ends_on: Option<String>,
    pub renewal_notice_days: i64,
    /// In minor units (cents).
    pub value_minor: Option<i64>,
    pub currency: Option<String>,
    pub owner_id: Option<String>,
    pub owner_name: Option<String>,
    pub service_ids: Vec<String>,
    pub document_evidence_id: Option<String>,
    pub clause_catalog_version: String,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&ContractRecord> for ContractOutput {
    fn from(c: &ContractRecord) -> Self {
        Self {
            id: c.id.clone(),
            vendor_id: c.vendor_id.clone(),
            vendor_name: c.vendor_name.clone(),
            title: c.title.clone(),
            starts_on: c.starts_on.clone(),
            ends_on: c.ends_on.clone(),
            renewal_notice_days: c.renewal_notice_days,
            value_minor: c.value_minor,
            currency: c.currency.clone(),
            owner_id: c.owner_id.clone(),
            owner_name: c.owner_name.clone(),
            service_ids: c.service_id_list(),
            document_evidence_id: c.document_evidence_id.clone(),
            clause_catalog_version: c.clause_catalog_version.clone(),
            created_by: c.created_by.clone(),
            created_at: c.created_at.clone(),
            updated_at: c.updated_at.clone(),
        }
    }
}

/// A clause as reviewed in the contract.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClauseOutput {
    pub clause_key: String,
    /// present, partial, absent or unknown
    pub state: String,
    pub note: String,
    pub reference: String,
    pub updated_by: String,
    pub updated_at: String,
}

impl From<&ClauseRecord> for ClauseOutput {
    fn from(c: &ClauseRecord) -> Self {
        Self {
            clause_key: c.clause_key.clone(),
            state: c.state.clone(),
            note: c.note.clone(),
            reference: c.reference.clone(),
            updated_by: c.updated_by.clone(),
            updated_at: c.updated_at.clone(),
        }
    }
}

/// A clause of the catalog, for reference.
#[derive(Debug, Serialize, ToSchema)]
pub struct CatalogClauseOutput {
    pub key: String,
    pub title: String,
    pub title_ja: String,
    pub guidance: String,
    pub csf: String,
    /// Whether this vendor's tier and data make the clause required.
    pub required: bool,
    pub absent_severity: String,
    pub partial_severity: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ContractDetailOutput {
    #[serde(flatten)]
    pub contract: ContractOutput,
    /// The checklist as reviewed.
    pub clauses: Vec<ClauseOutput>,
    pub catalog_version: String,
    pub catalog: Vec<CatalogClauseOutput>,
    /// Findings raised for clauses that are missing or partial: open first,
    /// worst first.
    pub findings: Vec<LinkedFindingOutput>,
}

/// A contract as entered.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ContractBody {
    pub title: String,
    /// YYYY-MM-DD
    #[serde(default)]
    pub starts_on: Option<String>,
    /// YYYY-MM-DD
    #[serde(default)]
    pub ends_on: Option<String>,
    /// 90 when absent.
    #[serde(default)]
    pub renewal_notice_days: Option<i64>,
    /// Major units as written ("120000.50").
    #[serde(default)]
    pub value: Option<String>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub owner_id: Option<String>,
    #[serde(default)]
    pub service_ids: Vec<String>,
}

impl ContractBody {
    fn into_input(self) -> app::ContractInput {
        app::ContractInput {
            title: self.title,
            starts_on: self.starts_on,
            ends_on: self.ends_on,
            renewal_notice_days: self.renewal_notice_days,
            value: self.value,
            currency: self.currency,
            owner_id: self.owner_id,
            service_ids: self.service_ids,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/vendors/{id}/contracts", params(("id" = String, Path, description = "vendor id")),
    responses((status = 200, body = Vec<ContractOutput>, description = "soonest ending first"), (status = 404, body = ErrorOutput)))]
pub async fn contracts_for_vendor(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(vendor_id): Path<String>,
) -> WebResult<Json<Vec<ContractOutput>>> {
    let vendor = state
        .store
        .get_vendor(&state.org_id, &vendor_id, &user.vendor_scope())
        .await?;
    let rows = state
        .store
        .contracts_for_vendor(&state.org_id, &vendor.id)
        .await?;
    Ok(Json(rows.iter().map(ContractOutput::from).collect()))
}

#[utoipa::path(post, path = "/api/v1/vendors/{id}/contracts", params(("id" = String, Path, description = "vendor id")),
    request_body = ContractBody,
    responses((status = 201, body = CreatedOutput, description = "registered; every required clause is a finding until the checklist says otherwise"),
              (status = 404, body = ErrorOutput), (status = 422, body = ErrorOutput)))]
pub async fn contract_create(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(vendor_id): Path<String>,
    Json(body): Json<ContractBody>,
) -> WebResult<Response> {
    let vendor = state
        .store
        .get_vendor(&state.org_id, &vendor_id, &user.vendor_scope())
        .await?;
    let id = app::create_contract(
        &state.store,
        &state.org_id,
        &state.clauses,
        &vendor.id,
        &body.into_input(),
        &user.actor(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(CreatedOutput { id })).into_response())
}

#[utoipa::path(get, path = "/api/v1/contracts/{id}", params(("id" = String, Path)),
    responses((status = 200, body = ContractDetailOutput), (status = 404, body = ErrorOutput)))]
pub async fn contract_get(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<String>,
) -> WebResult<Json<ContractDetailOutput>> {
    let contract = state.store.get_contract(&state.org_id, &id).await?;
    let clauses = state.store.contract_clauses(&contract.id).await?;
    let findings = state
        .store
        .contract_findings(&state.org_id, &contract.id)
        .await?;
    let vendor = state
        .store
        .get_vendor(&state.org_id, &contract.vendor_id, &user.vendor_scope())
        .await?;
    let data: Vec<_> = vendor
        .draft
        .data_flows
        .iter()
        .map(|f| f.data_class)
        .collect();
    let catalog = state
        .clauses
        .clauses
        .iter()
        .map(|c| CatalogClauseOutput {
            key: c.key.clone(),
            title: c.title.clone(),
            title_ja: c.title_ja.clone(),
            guidance: c.guidance.clone(),
            csf: c.csf.clone(),
            required: c.required.applies(Some(vendor.rating.tier), &data),
            absent_severity: c.absent_severity.as_str().to_string(),
            partial_severity: c.partial_severity.as_str().to_string(),
        })
        .collect();
    Ok(Json(ContractDetailOutput {
        contract: ContractOutput::from(&contract),
        clauses: clauses.iter().map(ClauseOutput::from).collect(),
        catalog_version: state.clauses.version.clone(),
        catalog,
        findings: findings.iter().map(LinkedFindingOutput::from).collect(),
    }))
}

#[utoipa::path(put, path = "/api/v1/contracts/{id}", params(("id" = String, Path)), request_body = ContractBody,
    responses((status = 200, body = ContractOutput), (status = 404, body = ErrorOutput), (status = 422, body = ErrorOutput)))]
pub async fn contract_update(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<String>,
    Json(body): Json<ContractBody>,
) -> WebResult<Json<ContractOutput>> {
    app::update_contract(
        &state.store,
        &state.org_id,
        &state.clauses,
        &id,
        &body.into_input(),
        &user.actor(),
    )
    .await?;
    let contract = state.store.get_contract(&state.org_id, &id).await?;
    Ok(Json(ContractOutput::from(&contract)))
}

/// One clause of the checklist as reviewed.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ClauseBody {
    /// A key of the clause catalog.
    pub clause_key: String,
    /// present, partial, absent or unknown
    pub state: String,
    #[serde(default)]
    pub note: String,
    /// Where in the contract (section, page).
    #[serde(default)]
    pub reference: String,
}

/// What saving the checklist did to the contract's findings.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClausesSavedOutput {
    pub findings_added: usize,
    pub findings_updated: usize,
    pub findings_resolved: usize,
}

#[utoipa::path(put, path = "/api/v1/contracts/{id}/clauses", params(("id" = String, Path)), request_body = Vec<ClauseBody>,
    responses((status = 200, body = ClausesSavedOutput), (status = 404, body = ErrorOutput), (status = 422, body = ErrorOutput)))]
pub async fn contract_clauses(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<String>,
    Json(body): Json<Vec<ClauseBody>>,
) -> WebResult<Json<ClausesSavedOutput>> {
    let contract = state.store.get_contract(&state.org_id, &id).await?;
    let clauses: Vec<app::ClauseInput> = body
        .into_iter()
        .map(|c| app::ClauseInput {
            clause_key: c.clause_key,
            state: c.state,
            note: c.note,
            reference: c.reference,
        })
        .collect();
    let (added, updated, resolved) = app::save_clauses(
        &state.store,
        &state.org_id,
        &state.clauses,
        &contract.id,
        &clauses,
        &user.actor(),
    )
    .await?;
    Ok(Json(ClausesSavedOutput {
        findings_added: added,
        findings_updated: updated,
        findings_resolved: resolved,
    }))
}

// ----- risk policy and export ---------------------------------------------

#[derive(Debug, Serialize, ToSchema)]
pub struct RiskPolicyOutput {
    pub version: String,
    pub description: String,
    /// The policy document in force.
    pub toml: String,
}

#[utoipa::path(get, path = "/api/v1/risk-policy", responses((status = 200, body = RiskPolicyOutput)))]
pub async fn policy_get(State(state): State<AppState>) -> WebResult<Json<RiskPolicyOutput>> {
    let policy = state.risk_policy().await;
    let toml = state
        .store
        .active_risk_policy(&state.org_id)
        .await?
        .map(|(_, content)| content)
        .unwrap_or_else(|| DEFAULT_RISK_POLICY_TOML.into());
    Ok(Json(RiskPolicyOutput {
        version: policy.version,
        description: policy.description,
        toml,
    }))
}

/// What applying a risk policy did.
#[derive(Debug, Serialize, ToSchema)]
pub struct RiskPolicyOutcomeOutput {
    pub version: String,
    /// Risks re-evaluated.
    pub evaluated: usize,
    /// Risks whose threshold flag, reason or level changed.
    pub changed: usize,
    /// Of those, how many are now above the threshold.
    pub now_above: usize,
}

#[utoipa::path(post, path = "/api/v1/risk-policy", request_body(content = String, content_type = "text/plain", description = "the risk policy TOML"),
    responses((status = 200, body = RiskPolicyOutcomeOutput), (status = 422, body = ErrorOutput)))]
pub async fn policy_apply(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    body: Bytes,
) -> WebResult<Json<RiskPolicyOutcomeOutput>> {
    let text = std::str::from_utf8(&body)
        .map_err(|_| WebError::BadRequest("the risk policy must be UTF-8 text".into()))?;
    let mut guard = state.risk_policy.write().await;
    let outcome = app::apply_risk_policy(&state.store, &state.org_id, text, &user.actor()).await?;
    // Applied, so it parses.
    if let Ok(policy) = RiskPolicy::parse(text) {
        *guard = policy;
    }
    Ok(Json(RiskPolicyOutcomeOutput {
        version: outcome.version,
        evaluated: outcome.evaluated,
        changed: outcome.changed,
        now_above: outcome.now_above,
    }))
}

#[utoipa::path(get, path = "/api/v1/risks/export",
    params(("format" = Option<String>, Query, description = "csv (default) or xlsx"),
           ("vendor" = Option<String>, Query), ("tier" = Option<String>, Query), ("category" = Option<String>, Query),
           ("owner" = Option<String>, Query), ("status" = Option<String>, Query, description = "a status, `active` or `all` (default)"),
           ("level" = Option<String>, Query), ("above_threshold" = Option<bool>, Query), ("q" = Option<String>, Query),
           ("sort" = Option<String>, Query)),
    responses((status = 200, description = "the register, one row per risk: id, vendor, tier, category, title, owner, inherent and residual ratings, residual score and level, threshold, treatment, status, due date, findings, updated"),
              (status = 400, body = ErrorOutput)))]
pub async fn export(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Query(p): Query<RiskListParams>,
) -> WebResult<Response> {
    sweep(&state).await?;
    let format = match given(&p.format) {
        None => ExportFormat::Csv,
        Some(f) => match ExportFormat::parse(f) {
            Some(ExportFormat::Json) | None => {
                return Err(WebError::BadRequest(format!(
                    "unknown format '{f}': use csv or xlsx"
                )))
            }
            Some(format) => format,
        },
    };
    let query = p.to_query()?;
    let bytes =
        mamori_app::risk_export::export_risks(&state.store, &state.org_id, &query, format).await?;
    let _ = state
        .store
        .record_audit(
            &state.org_id,
            &user.actor(),
            mamori_store::NewAudit {
                action: "risk.export",
                entity_kind: "export",
                entity_id: None,
                summary: format!("exported the risk register as {}", format.extension()),
                before: None,
                after: None,
            },
        )
        .await;
    let disposition = format!(
        "attachment; filename=\"mamori-risks.{}\"",
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
