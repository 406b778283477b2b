//! Assessments in the JSON API: list, plan one for a vendor, read one with
//! its scores and findings, and its OSCAL assessment-results export.

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use mamori_app::assessments as app;
use mamori_domain::assessment::AssessmentStatus;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::CurrentUser;
use crate::error::{WebError, WebResult};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct AssessmentSummaryOutput {
    pub id: String,
    pub vendor_id: String,
    pub vendor_name: String,
    pub title: String,
    /// planned, sent, in_progress, submitted, under_review, completed, cancelled
    pub status: String,
    pub tier: String,
    pub template_key: String,
    pub template_version: String,
    pub score: Option<i64>,
    pub answered: i64,
    pub visible: i64,
    pub respond_by: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub completed_at: Option<String>,
}

impl From<&mamori_store::AssessmentRecord> for AssessmentSummaryOutput {
    fn from(a: &mamori_store::AssessmentRecord) -> Self {
        Self {
            id: a.id.clone(),
            vendor_id: a.vendor_id.clone(),
            vendor_name: a.vendor_name.clone(),
            title: a.title.clone(),
            status: a.status.clone(),
            tier: a.tier.clone(),
            template_key: a.template_key.clone(),
            template_version: a.template_version.clone(),
            score: a.score,
            answered: a.answered,
            visible: a.visible,
            respond_by: a.respond_by.clone(),
            created_at: a.created_at.clone(),
            updated_at: a.updated_at.clone(),
            completed_at: a.completed_at.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AssessmentListOutput {
    pub total: i64,
    pub assessments: Vec<AssessmentSummaryOutput>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BucketScoreOutput {
    /// CSF function (`PR`) or category (`PR.AA`).
    pub id: String,
    pub earned: u32,
    pub possible: u32,
    /// 0–100, absent when nothing in the bucket is scored.
    pub score: Option<u8>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FindingOutput {
    pub id: String,
    pub question_id: Option<String>,
    pub csf: Vec<String>,
    pub title: String,
    pub detail: String,
    pub severity: String,
    pub raised_severity: Option<String>,
    /// answer, evidence or manual
    pub origin: String,
    /// pending, accepted or overridden
    pub decision: String,
    /// open or dismissed
    pub status: String,
    pub reviewer_comment: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EvidenceOutput {
    pub id: String,
    pub kind: String,
    pub issuer: String,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub period_end: Option<String>,
    pub expires_on: Option<String>,
    /// current, stale or expired
    pub state: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AssessmentOutput {
    #[serde(flatten)]
    pub summary: AssessmentSummaryOutput,
    pub overall: BucketScoreOutput,
    pub functions: Vec<BucketScoreOutput>,
    pub categories: Vec<BucketScoreOutput>,
    pub findings: Vec<FindingOutput>,
    pub evidence: Vec<EvidenceOutput>,
}

#[derive(Debug, Deserialize)]
pub struct AssessmentListParams {
    pub status: Option<String>,
    pub vendor: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/assessments",
    params(("status" = Option<String>, Query, description = "a status, or `open` for any not completed or cancelled"),
           ("vendor" = Option<String>, Query, description = "vendor id"),
           ("page" = Option<u32>, Query), ("per_page" = Option<u32>, Query)),
    responses((status = 200, body = AssessmentListOutput)))]
pub async fn list(
    State(state): State<AppState>,
    Query(p): Query<AssessmentListParams>,
) -> WebResult<Json<AssessmentListOutput>> {
    let status = p.status.as_deref().map(str::trim).filter(|s| !s.is_empty());
    if let Some(s) = status {
        if s != "open" && AssessmentStatus::parse(s).is_err() {
            return Err(WebError::BadRequest(format!("unknown status '{s}'")));
        }
    }
    let per_page = p.per_page.unwrap_or(50).clamp(1, 500);
    let offset = (p.page.unwrap_or(1).max(1) - 1).saturating_mul(per_page);
    let (rows, total) = state
        .store
        .list_assessments(&state.org_id, p.vendor.as_deref(), status, per_page, offset)
        .await?;
    Ok(Json(AssessmentListOutput {
        total,
        assessments: rows.iter().map(AssessmentSummaryOutput::from).collect(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedOutput {
    pub id: String,
}

#[utoipa::path(post, path = "/api/v1/vendors/{id}/assessments",
    params(("id" = String, Path, description = "vendor id")),
    responses((status = 201, body = CreatedOutput), (status = 404, body = crate::api::dto::ErrorOutput)))]
pub async fn create(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(vendor_id): Path<String>,
) -> WebResult<Response> {
    let id = app::create_for_vendor(
        &state.store,
        &state.org_id,
        &state.assessment_policy,
        &vendor_id,
        &user.actor(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(CreatedOutput { id })).into_response())
}

#[utoipa::path(get, path = "/api/v1/assessments/{id}",
    params(("id" = String, Path)),
    responses((status = 200, body = AssessmentOutput), (status = 404, body = crate::api::dto::ErrorOutput)))]
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> WebResult<Json<AssessmentOutput>> {
    let ctx = app::load_context(&state.store, &state.org_id, &id).await?;
    let card = ctx.score(app::today());
    let bucket = |id: &str, p: &mamori_domain::scoring::Points| BucketScoreOutput {
        id: id.to_string(),
        earned: p.earned,
        possible: p.possible,
        score: p.score(),
    };
    let findings = state.store.findings_for_assessment(&id).await?;
    Ok(Json(AssessmentOutput {
        summary: AssessmentSummaryOutput::from(&ctx.record),
        overall: bucket("overall", &card.overall),
        functions: card.functions.iter().map(|(k, p)| bucket(k, p)).collect(),
        categories: card.categories.iter().map(|(k, p)| bucket(k, p)).collect(),
        findings: findings
            .iter()
            .map(|f| FindingOutput {
                id: f.id.clone(),
                question_id: f.question_id.clone(),
                csf: f
                    .csf
                    .split(',')
                    .filter(|c| !c.is_empty())
                    .map(str::to_string)
                    .collect(),
                title: f.title.clone(),
                detail: f.detail.clone(),
                severity: f.severity.clone(),
                raised_severity: f.raised_severity.clone(),
                origin: f.origin.clone(),
                decision: f.decision.clone(),
                status: f.status.clone(),
                reviewer_comment: f.reviewer_comment.clone(),
            })
            .collect(),
        evidence: ctx
            .evidence
            .iter()
            .map(|e| EvidenceOutput {
                id: e.id.clone(),
                kind: e.kind.clone(),
                issuer: e.issuer.clone(),
                file_name: e.file_name.clone(),
                content_type: e.content_type.clone(),
                size_bytes: e.size_bytes,
                sha256: e.sha256.clone(),
                period_end: e.period_end.clone(),
                expires_on: e.expires_on.clone(),
                state: match app::evidence_state(e, &state.assessment_policy) {
                    mamori_domain::assessment::EvidenceStatus::Current => "current",
                    mamori_domain::assessment::EvidenceStatus::Stale(_) => "stale",
                    mamori_domain::assessment::EvidenceStatus::Expired(_) => "expired",
                }
                .to_string(),
            })
            .collect(),
    }))
}

#[utoipa::path(get, path = "/api/v1/assessments/{id}/oscal",
    params(("id" = String, Path)),
    responses((status = 200, description = "OSCAL 1.1 assessment-results JSON", content_type = "application/json")))]
pub async fn oscal(State(state): State<AppState>, Path(id): Path<String>) -> WebResult<Response> {
    let json = app::oscal_results(&state.store, &state.org_id, &id).await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], json).into_response())
}
