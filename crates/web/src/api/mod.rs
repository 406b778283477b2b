//! The JSON API under `/api/v1`. Request and response types here are the
//! API's contract (documented in the OpenAPI document generated from these
//! types and the `#[utoipa::path]` annotations); they convert to and from the
//! domain types so the domain stays free of HTTP concerns.

pub mod assessments;
mod dto;
pub mod risks;

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use mamori_app::vendors::{import_file, ExportFormat, ImportOptions, Upload};
use mamori_app::AppError;
use mamori_domain::{LifecycleStatus, Permission, RiskCategory, Role, Tier};
use mamori_store::NewUser;
use serde::Deserialize;
use utoipa::OpenApi;

pub use dto::*;

use crate::auth::CurrentUser;
use crate::error::{WebError, WebResult};
use crate::pages::vendors::ListParams;
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "Mamori API", description = "Third-party vendor risk management for healthcare. Authenticate with a session cookie (browser; writes need the X-CSRF-Token header) or `Authorization: Bearer <API token>`."),
    paths(me, dashboard, list_vendors, create_vendor, get_vendor, update_vendor, vendor_risk, import_vendors, export_vendors,
          get_policy, check_policy, apply_policy, audit, list_users, create_user, list_tokens, create_token, revoke_token,
          assessments::list, assessments::create, assessments::get, assessments::oscal,
          risks::list, risks::heatmap, risks::export, risks::create, risks::get, risks::update, risks::link_findings,
          risks::accept, risks::acceptances, risks::remediation_list, risks::remediation_get, risks::remediation_create,
          risks::remediation_send, risks::remediation_verify, risks::contracts_for_vendor, risks::contract_create,
          risks::contract_get, risks::contract_update, risks::contract_clauses, risks::policy_get, risks::policy_apply),
    components(schemas(VendorInput, ServiceInput, DataFlowInput, VendorOutput, VendorSummaryOutput, VendorListOutput, RiskOutput,
        ContributionOutput, ImportReportOutput, PolicyOutput, PolicyCheckOutput, PolicyApplyOutput, UserOutput, NewUserInput,
        TokenOutput, NewTokenInput, NewTokenOutput, DashboardOutput, ErrorOutput, MeOutput,
        assessments::AssessmentSummaryOutput, assessments::AssessmentListOutput, assessments::AssessmentOutput,
        assessments::BucketScoreOutput, assessments::FindingOutput, assessments::EvidenceOutput, assessments::CreatedOutput,
        risks::RiskEntryOutput, risks::RiskListOutput, risks::LinkedFindingOutput, risks::RiskEventOutput,
        risks::AcceptanceOutput, risks::RiskDetailOutput, risks::RiskBody, risks::NewRiskBody, risks::FindingIdsBody,
        risks::HeatCellOutput, risks::HeatMapOutput, risks::AcceptanceBody, risks::RemediationRequestOutput,
        risks::RemediationItemOutput, risks::RemediationLinkOutput, risks::RemediationDetailOutput, risks::ActionBody,
        risks::RemediationBody, risks::SendRemediationBody, risks::RemediationSentOutput, risks::VerifyBody,
        risks::ContractOutput, risks::ClauseOutput, risks::CatalogClauseOutput, risks::ContractDetailOutput,
        risks::ContractBody, risks::ClauseBody, risks::ClausesSavedOutput, risks::RiskPolicyOutput,
        risks::RiskPolicyOutcomeOutput)),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

pub async fn openapi_json() -> Response {
    Json(ApiDoc::openapi()).into_response()
}

#[utoipa::path(get, path = "/api/v1/me", responses((status = 200, body = MeOutput)))]
pub async fn me(Extension(user): Extension<CurrentUser>) -> Json<MeOutput> {
    let permissions = user
        .role()
        .permissions()
        .iter()
        .map(|p| p.as_str().to_string())
        .collect();
    Json(MeOutput {
        user: UserOutput::from(&user.user),
        permissions,
    })
}

#[utoipa::path(get, path = "/api/v1/dashboard", responses((status = 200, body = DashboardOutput)))]
pub async fn dashboard(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
) -> WebResult<Json<DashboardOutput>> {
    let bands = state.policy().await.bands;
    let counts = state
        .store
        .dashboard_counts(&state.org_id, &user.vendor_scope(), bands)
        .await?;
    let by_tier = Tier::ALL
        .iter()
        .enumerate()
        .map(|(i, t)| (t.as_str().to_string(), counts.by_tier[i]))
        .collect();
    let by_status = LifecycleStatus::ALL
        .iter()
        .enumerate()
        .map(|(i, s)| (s.as_str().to_string(), counts.by_status[i]))
        .collect();
    let categories = RiskCategory::ALL
        .iter()
        .map(|c| {
            let bands: BTreeMap<String, i64> = Tier::ALL
                .iter()
                .enumerate()
                .map(|(i, t)| (t.as_str().to_string(), counts.category_bands[c.index()][i]))
                .collect();
            (c.as_str().to_string(), bands)
        })
        .collect();
    Ok(Json(DashboardOutput {
        total: counts.total,
        by_tier,
        by_status,
        categories,
    }))
}

#[utoipa::path(get, path = "/api/v1/vendors",
    params(("q" = Option<String>, Query, description = "search in name, aliases, domains"),
           ("tier" = Option<String>, Query), ("type" = Option<String>, Query), ("status" = Option<String>, Query),
           ("owner" = Option<String>, Query), ("data_class" = Option<String>, Query),
           ("sort" = Option<String>, Query, description = "name, tier, type, status, owner, score, updated"),
           ("dir" = Option<String>, Query, description = "asc or desc"), ("page" = Option<u32>, Query), ("per_page" = Option<u32>, Query)),
    responses((status = 200, body = VendorListOutput)))]
pub async fn list_vendors(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Query(params): Query<ListParams>,
) -> WebResult<Json<VendorListOutput>> {
    let mut query = params.to_query();
    query.per_page = params.per_page.unwrap_or(50).clamp(1, 500);
    let page = state
        .store
        .list_vendors(&state.org_id, &query, &user.vendor_scope())
        .await?;
    Ok(Json(VendorListOutput {
        total: page.total,
        page: page.page,
        per_page: page.per_page,
        vendors: page.vendors.iter().map(VendorSummaryOutput::from).collect(),
    }))
}

fn owner_rule(user: &CurrentUser, input: &mut VendorInput) {
    if user.role() == Role::RelationshipOwner {
        input.owner_email = user.user.email.clone();
    }
}

#[utoipa::path(post, path = "/api/v1/vendors", request_body = VendorInput,
    responses((status = 201, body = VendorOutput), (status = 409, body = ErrorOutput), (status = 422, body = ErrorOutput)))]
pub async fn create_vendor(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Json(mut input): Json<VendorInput>,
) -> WebResult<Response> {
    owner_rule(&user, &mut input);
    let draft = input.into_draft();
    let policy = state.policy().await;
    let id = mamori_app::vendors::create_vendor(
        &state.store,
        &state.org_id,
        &policy,
        &draft,
        &user.actor(),
    )
    .await?;
    let record = state
        .store
        .get_vendor(&state.org_id, &id, &user.vendor_scope())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(VendorOutput::new(&record, &policy)),
    )
        .into_response())
}

#[utoipa::path(get, path = "/api/v1/vendors/{id}", params(("id" = String, Path)),
    responses((status = 200, body = VendorOutput), (status = 404, body = ErrorOutput)))]
pub async fn get_vendor(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<String>,
) -> WebResult<Json<VendorOutput>> {
    let record = state
        .store
        .get_vendor(&state.org_id, &id, &user.vendor_scope())
        .await?;
    let policy = state.policy.read().await;
    Ok(Json(VendorOutput::new(&record, &policy)))
}

#[utoipa::path(put, path = "/api/v1/vendors/{id}", params(("id" = String, Path)), request_body = VendorInput,
    responses((status = 200, body = VendorOutput), (status = 404, body = ErrorOutput), (status = 422, body = ErrorOutput)))]
pub async fn update_vendor(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<String>,
    Json(mut input): Json<VendorInput>,
) -> WebResult<Json<VendorOutput>> {
    owner_rule(&user, &mut input);
    let draft = input.into_draft();
    let policy = state.policy().await;
    mamori_app::vendors::update_vendor(
        &state.store,
        &state.org_id,
        &policy,
        &id,
        &draft,
        &user.vendor_scope(),
        &user.actor(),
    )
    .await?;
    let record = state
        .store
        .get_vendor(&state.org_id, &id, &user.vendor_scope())
        .await?;
    let policy = state.policy.read().await;
    Ok(Json(VendorOutput::new(&record, &policy)))
}

#[utoipa::path(get, path = "/api/v1/vendors/{id}/risk", params(("id" = String, Path)),
    responses((status = 200, body = RiskOutput, description = "inherent risk per category with the explanation")))]
pub async fn vendor_risk(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<String>,
) -> WebResult<Json<RiskOutput>> {
    let record = state
        .store
        .get_vendor(&state.org_id, &id, &user.vendor_scope())
        .await?;
    let policy = state.policy.read().await;
    let risk = mamori_domain::assess(&policy, record.draft.risk_profile());
    Ok(Json(RiskOutput::new(&risk, &policy)))
}

#[derive(Deserialize)]
pub struct ImportParams {
    pub file_name: Option<String>,
    pub dry_run: Option<bool>,
    pub skip_invalid: Option<bool>,
}

#[utoipa::path(post, path = "/api/v1/vendors/import",
    params(("file_name" = Option<String>, Query, description = "name of the uploaded file; .csv or .xlsx"),
           ("dry_run" = Option<bool>, Query), ("skip_invalid" = Option<bool>, Query)),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "the CSV or XLSX file"),
    responses((status = 200, body = ImportReportOutput), (status = 400, body = ErrorOutput), (status = 422, body = ImportReportOutput)))]
pub async fn import_vendors(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Query(params): Query<ImportParams>,
    body: Bytes,
) -> WebResult<Response> {
    let file_name = params.file_name.unwrap_or_else(|| "upload.csv".into());
    let options = ImportOptions {
        dry_run: params.dry_run.unwrap_or(false),
        skip_invalid: params.skip_invalid.unwrap_or(false),
    };
    let policy = state.policy().await;
    match import_file(
        &state.store,
        &state.org_id,
        &policy,
        Upload {
            file_name: &file_name,
            bytes: &body,
            options,
        },
        &user.actor(),
        &|_| {},
    )
    .await
    {
        Ok(report) => Ok(Json(ImportReportOutput::from(&report)).into_response()),
        Err(AppError::RowsRejected(rows)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(ImportReportOutput::rejected(&file_name, &rows)),
        )
            .into_response()),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct ExportQuery {
    pub format: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/vendors/export", params(("format" = Option<String>, Query, description = "csv, xlsx or json")),
    responses((status = 200, description = "the file")))]
pub async fn export_vendors(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Query(q): Query<ExportQuery>,
) -> WebResult<Response> {
    let format = match q.format.as_deref() {
        None => ExportFormat::Json,
        Some(f) => ExportFormat::parse(f).ok_or_else(|| {
            WebError::BadRequest(format!("unknown format '{f}': use csv, xlsx or json"))
        })?,
    };
    crate::pages::vendors::export_response(&state, &user, format).await
}

#[utoipa::path(get, path = "/api/v1/policy", responses((status = 200, body = PolicyOutput)))]
pub async fn get_policy(State(state): State<AppState>) -> WebResult<Json<PolicyOutput>> {
    let policy = state.policy().await;
    let text = state
        .store
        .active_policy(&state.org_id)
        .await?
        .map(|p| p.content)
        .unwrap_or_else(|| mamori_domain::DEFAULT_POLICY_TOML.into());
    Ok(Json(PolicyOutput {
        version: policy.version,
        name: policy.name,
        toml: text,
    }))
}

#[utoipa::path(post, path = "/api/v1/policy/check", request_body(content = String, content_type = "text/plain"),
    responses((status = 200, body = PolicyCheckOutput)))]
pub async fn check_policy(body: String) -> Json<PolicyCheckOutput> {
    Json(match mamori_domain::TieringPolicy::from_toml(&body) {
        Ok(p) => PolicyCheckOutput {
            valid: true,
            version: Some(p.version),
            problems: Vec::new(),
        },
        Err(mamori_domain::PolicyError::Invalid(problems)) => PolicyCheckOutput {
            valid: false,
            version: None,
            problems,
        },
        Err(e) => PolicyCheckOutput {
            valid: false,
            version: None,
            problems: vec![e.to_string()],
        },
    })
}

#[utoipa::path(post, path = "/api/v1/policy/apply", request_body(content = String, content_type = "text/plain"),
    responses((status = 200, body = PolicyApplyOutput), (status = 422, body = ErrorOutput)))]
pub async fn apply_policy(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    body: String,
) -> WebResult<Json<PolicyApplyOutput>> {
    let mut guard = state.policy.write().await;
    let (policy, outcome) =
        mamori_app::policy::apply_policy(&state.store, &state.org_id, &body, &user.actor()).await?;
    *guard = policy.clone();
    Ok(Json(PolicyApplyOutput {
        version: policy.version,
        vendors: outcome.vendors,
        tier_changes: outcome.tier_changes,
    }))
}

#[derive(Deserialize)]
pub struct PageQuery {
    pub page: Option<u32>,
    pub per_page: Option<u32>,
    pub entity_id: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/audit", params(("page" = Option<u32>, Query), ("per_page" = Option<u32>, Query), ("entity_id" = Option<String>, Query)),
    responses((status = 200, description = "audit entries, newest first")))]
pub async fn audit(
    State(state): State<AppState>,
    Query(q): Query<PageQuery>,
) -> WebResult<Response> {
    let page = state
        .store
        .audit_page(
            &state.org_id,
            q.entity_id.as_deref(),
            q.page.unwrap_or(1),
            q.per_page.unwrap_or(100),
        )
        .await?;
    Ok(Json(page).into_response())
}

#[utoipa::path(get, path = "/api/v1/users", responses((status = 200, body = Vec<UserOutput>)))]
pub async fn list_users(State(state): State<AppState>) -> WebResult<Json<Vec<UserOutput>>> {
    Ok(Json(
        state
            .store
            .list_users(&state.org_id)
            .await?
            .iter()
            .map(UserOutput::from)
            .collect(),
    ))
}

#[utoipa::path(post, path = "/api/v1/users", request_body = NewUserInput, responses((status = 201, body = UserOutput), (status = 409, body = ErrorOutput)))]
pub async fn create_user(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Json(input): Json<NewUserInput>,
) -> WebResult<Response> {
    let role = Role::parse(&input.role).map_err(|e| WebError::BadRequest(e.to_string()))?;
    mamori_domain::validate_email(&input.email)
        .map_err(|r| WebError::BadRequest(format!("email {r}")))?;
    let password = input.password.clone();
    let hash = tokio::task::spawn_blocking(move || mamori_app::password::hash_password(&password))
        .await
        .map_err(|e| WebError::Internal(e.to_string()))??;
    let created = state
        .store
        .create_user(
            &state.org_id,
            NewUser {
                email: input.email.clone(),
                display_name: input.display_name.unwrap_or_else(|| input.email.clone()),
                role,
                password_hash: Some(hash),
                locale: None,
            },
            &user.actor(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(UserOutput::from(&created))).into_response())
}

#[utoipa::path(get, path = "/api/v1/tokens", responses((status = 200, body = Vec<TokenOutput>)))]
pub async fn list_tokens(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
) -> WebResult<Json<Vec<TokenOutput>>> {
    Ok(Json(
        state
            .store
            .list_api_tokens(&user.user.id)
            .await?
            .iter()
            .map(TokenOutput::from)
            .collect(),
    ))
}

#[utoipa::path(post, path = "/api/v1/tokens", request_body = NewTokenInput,
    responses((status = 201, body = NewTokenOutput, description = "the token is shown once; Mamori stores only its hash")))]
pub async fn create_token(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Json(input): Json<NewTokenInput>,
) -> WebResult<Response> {
    let (token, record) =
        crate::pages::account::issue_token(&state, &user, &input.name, input.days).await?;
    Ok((
        StatusCode::CREATED,
        Json(NewTokenOutput {
            token,
            details: TokenOutput::from(&record),
        }),
    )
        .into_response())
}

#[utoipa::path(delete, path = "/api/v1/tokens/{id}", params(("id" = String, Path)), responses((status = 204), (status = 404, body = ErrorOutput)))]
pub async fn revoke_token(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<String>,
) -> WebResult<StatusCode> {
    state
        .store
        .revoke_api_token(&state.org_id, &user.user.id, &id, &user.actor())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Permissions are listed in the OpenAPI description of each role.
pub fn role_permissions() -> BTreeMap<&'static str, Vec<&'static str>> {
    Role::ALL
        .iter()
        .map(|r| {
            (
                r.as_str(),
                r.permissions()
                    .iter()
                    .map(|p: &Permission| p.as_str())
                    .collect(),
            )
        })
        .collect()
}
