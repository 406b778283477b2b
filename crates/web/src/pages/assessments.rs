//! Assessment pages for staff: list, one assessment (send, review, findings,
//! complete), the printable report, downloads.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use mamori_app::assessments::{self as app, AssessmentContext};
use mamori_domain::assessment::{AssessmentStatus, EvidenceKind, EvidenceStatus};
use mamori_domain::framework::csf2;
use mamori_domain::scoring::Outcome;
use mamori_domain::Permission;
use mamori_store::{FindingRecord, PortalLinkRecord};
use serde::Deserialize;

use super::{error_page, render, Chrome};
use crate::auth::{CurrentUser, RequestLocale};
use crate::error::WebError;
use crate::i18n::Locale;
use crate::state::AppState;

pub struct AssessmentRow {
    pub id: String,
    pub title: String,
    pub vendor_id: String,
    pub vendor_name: String,
    pub template: String,
    pub status: String,
    pub status_class: &'static str,
    pub score: String,
    pub progress: String,
    pub updated: String,
}

fn status_class(status: &str) -> &'static str {
    match status {
        "completed" => "ok",
        "cancelled" => "muted",
        "submitted" | "under_review" => "warn",
        _ => "info",
    }
}

fn row(a: &mamori_store::AssessmentRecord, chrome: &Chrome) -> AssessmentRow {
    AssessmentRow {
        id: a.id.clone(),
        title: a.title.clone(),
        vendor_id: a.vendor_id.clone(),
        vendor_name: a.vendor_name.clone(),
        template: format!("{} {}", a.template_key, a.template_version),
        status: chrome.tr.label("assessment_status", &a.status),
        status_class: status_class(&a.status),
        score: a.score.map(|s| s.to_string()).unwrap_or_else(|| "—".into()),
        progress: format!("{} / {}", a.answered, a.visible),
        updated: chrome.tr.datetime(&a.updated_at),
    }
}

pub fn rows(records: &[mamori_store::AssessmentRecord], chrome: &Chrome) -> Vec<AssessmentRow> {
    records.iter().map(|a| row(a, chrome)).collect()
}

#[derive(Template)]
#[template(path = "assessments.html")]
pub struct ListPage {
    pub chrome: Chrome,
    pub rows: Vec<AssessmentRow>,
    pub total: i64,
    pub status: String,
    pub statuses: Vec<(String, String)>,
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    pub status: String,
}

pub async fn list(
    State(state): State<AppState>,
    Extension(RequestLocale(locale)): Extension<RequestLocale>,
    Extension(user): Extension<CurrentUser>,
    Query(q): Query<ListQuery>,
) -> Response {
    let chrome = Chrome::new(&state, Some(&user), locale, "assessments").await;
    let status = q.status.trim().to_string();
    let filter = if status.is_empty() {
        None
    } else if status == "open" || AssessmentStatus::parse(&status).is_ok() {
        Some(status.as_str())
    } else {
        return error_page(
            &state,
            Some(&user),
            locale,
            WebError::BadRequest(format!("unknown status '{status}'")),
        )
        .await;
    };
    match state
        .store
        .list_assessments(&state.org_id, None, filter, 200, 0)
        .await
    {
        Ok((records, total)) => {
            let rows = records.iter().map(|a| row(a, &chrome)).collect();
            let mut statuses = vec![("open".to_string(), chrome.t("assessment.open").to_string())];
            statuses.extend(AssessmentStatus::ALL.iter().map(|s| {
                (
                    s.as_str().to_string(),
                    chrome.tr.label("assessment_status", s.as_str()),
                )
            }));
            render(&ListPage {
                chrome,
                rows,
                total,
                status,
                statuses,
            })
        }
        Err(e) => error_page(&state, Some(&user), locale, e.into()).await,
    }
}

/// Plans an assessment for a vendor from its tier.
pub async fn create(
    State(state): State<AppState>,
    Extension(RequestLocale(locale)): Extension<RequestLocale>,
    Extension(user): Extension<CurrentUser>,
    Path(vendor_id): Path<String>,
) -> Response {
    match app::create_for_vendor(
        &state.store,
        &state.org_id,
        &state.assessment_policy,
        &vendor_id,
        &user.actor(),
    )
    .await
    {
        Ok(id) => Redirect::to(&format!("/assessments/{id}")).into_response(),
        Err(e) => error_page(&state, Some(&user), locale, e.into()).await,
    }
}

pub struct FunctionBar {
    pub id: String,
    pub name: String,
    pub score: String,
    pub width: u32,
    pub class: &'static str,
}

pub struct QuestionView {
    pub id: String,
    pub text: String,
    pub csf: String,
    pub answer: String,
    pub comment: String,
    pub outcome: String,
    pub outcome_class: &'static str,
}

pub struct SectionView {
    pub title: String,
    pub questions: Vec<QuestionView>,
}

pub struct EvidenceView {
    pub id: String,
    pub kind: String,
    pub file_name: String,
    pub issuer: String,
    pub period: String,
    pub expires: String,
    pub state: String,
    pub state_class: &'static str,
    pub size: String,
    pub uploaded_by: String,
}

pub struct FindingView {
    pub id: String,
    pub title: String,
    pub detail: String,
    pub severity: String,
    pub severity_value: String,
    pub raised: String,
    pub csf: String,
    pub question_id: String,
    pub origin: String,
    pub decision: String,
    pub status: String,
    pub dismissed: bool,
    pub comment: String,
    pub decided_by: String,
}

#[derive(Template)]
#[template(path = "assessment.html")]
pub struct AssessmentPage {
    pub chrome: Chrome,
    pub a: mamori_store::AssessmentRecord,
    pub status: String,
    pub status_class: &'static str,
    pub can_manage: bool,
    /// May turn findings into risks (the risk register's permission).
    pub can_promote: bool,
    pub can_send: bool,
    pub can_import: bool,
    pub can_review: bool,
    pub under_review: bool,
    pub can_cancel: bool,
    pub completed: bool,
    pub links: Vec<PortalLinkRecord>,
    pub has_active_link: bool,
    pub new_link: Option<String>,
    pub overall: String,
    pub bars: Vec<FunctionBar>,
    pub sections: Vec<SectionView>,
    pub evidence: Vec<EvidenceView>,
    pub findings: Vec<FindingView>,
    pub open_findings: usize,
    pub severities: Vec<(String, String)>,
    pub progress: String,
    /// Evidence requirements of the tier not met by current evidence.
    pub missing_evidence: Vec<String>,
}

fn outcome_view(outcome: Outcome, chrome: &Chrome) -> (String, &'static str) {
    let (key, class) = match outcome {
        Outcome::Pass => ("outcome.pass", "ok"),
        Outcome::Fail => ("outcome.fail", "bad"),
        Outcome::Unanswered => ("outcome.unanswered", "warn"),
        Outcome::NotApplicable => ("outcome.na", "muted"),
        Outcome::Informational => ("outcome.info", "muted"),
        Outcome::HiddenCredited | Outcome::HiddenForfeited | Outcome::HiddenExcluded => {
            ("outcome.hidden", "muted")
        }
    };
    (chrome.t(key).to_string(), class)
}

pub fn function_bars(
    card: &mamori_domain::scoring::ScoreCard,
    chrome: &Chrome,
) -> Vec<FunctionBar> {
    csf2()
        .functions()
        .map(|f| {
            let score = card.functions.get(&f.id).and_then(|p| p.score());
            FunctionBar {
                id: f.id.clone(),
                name: chrome.tr.label("csf", &f.id),
                score: score.map(|s| s.to_string()).unwrap_or_else(|| "—".into()),
                width: u32::from(score.unwrap_or(0)) * 2,
                class: match score {
                    Some(s) if s >= 80 => "ok",
                    Some(s) if s >= 50 => "warn",
                    Some(_) => "bad",
                    None => "muted",
                },
            }
        })
        .collect()
}

pub fn evidence_views(
    ctx_evidence: &[mamori_store::EvidenceRecord],
    state: &AppState,
    chrome: &Chrome,
) -> Vec<EvidenceView> {
    ctx_evidence
        .iter()
        .map(|e| {
            let status = app::evidence_state(e, &state.assessment_policy);
            let (label, class) = match &status {
                _ if e.shredded_at.is_some() => (chrome.t("evidence.shredded").to_string(), "bad"),
                EvidenceStatus::Current => (chrome.t("evidence.current").to_string(), "ok"),
                EvidenceStatus::Stale(why) => {
                    (format!("{}: {why}", chrome.t("evidence.stale")), "warn")
                }
                EvidenceStatus::Expired(why) => {
                    (format!("{}: {why}", chrome.t("evidence.expired")), "bad")
                }
            };
            EvidenceView {
                id: e.id.clone(),
                kind: EvidenceKind::parse(&e.kind)
                    .map(|k| k.label().to_string())
                    .unwrap_or_else(|_| e.kind.clone()),
                file_name: e.file_name.clone(),
                issuer: e.issuer.clone(),
                period: match (&e.period_start, &e.period_end) {
                    (Some(a), Some(b)) => format!("{a} – {b}"),
                    (None, Some(b)) => format!("– {b}"),
                    _ => e.issued_on.clone().unwrap_or_default(),
                },
                expires: e.expires_on.clone().unwrap_or_default(),
                state: label,
                state_class: class,
                size: format!("{} KiB", (e.size_bytes + 1023) / 1024),
                uploaded_by: e.uploaded_by.clone(),
            }
        })
        .collect()
}

pub fn finding_views(findings: &[FindingRecord], chrome: &Chrome) -> Vec<FindingView> {
    findings
        .iter()
        .map(|f| FindingView {
            id: f.id.clone(),
            title: f.title.clone(),
            detail: f.detail.clone(),
            severity: chrome.tr.label("severity", &f.severity),
            severity_value: f.severity.clone(),
            raised: f
                .raised_severity
                .as_deref()
                .map(|s| chrome.tr.label("severity", s))
                .unwrap_or_default(),
            csf: f.csf.replace(',', ", "),
            question_id: f.question_id.clone().unwrap_or_default(),
            origin: chrome.tr.label("finding_origin", &f.origin),
            decision: chrome.tr.label("finding_decision", &f.decision),
            status: chrome.tr.label("finding_status", &f.status),
            dismissed: f.status == "dismissed",
            comment: f.reviewer_comment.clone().unwrap_or_default(),
            decided_by: f.decided_by.clone().unwrap_or_default(),
        })
        .collect()
}

async fn page(
    state: &AppState,
    user: &CurrentUser,
    locale: Locale,
    id: &str,
    new_link: Option<String>,
) -> Result<Response, WebError> {
    let ctx = app::load_context(&state.store, &state.org_id, id).await?;
    let chrome = Chrome::new(state, Some(user), locale, "assessments").await;
    let lang = chrome.tr.locale.code();
    let status = ctx.status();
    let card = ctx.score(app::today());
    let outcomes: HashMap<&str, Outcome> = card
        .outcomes
        .iter()
        .map(|(q, o)| (q.as_str(), *o))
        .collect();
    let answers = ctx.answers_with_files();
    let mut sections: Vec<SectionView> = ctx
        .template
        .sections
        .iter()
        .map(|s| SectionView {
            title: s.title.get(lang).to_string(),
            questions: Vec::new(),
        })
        .collect();
    let mut loose = SectionView {
        title: String::new(),
        questions: Vec::new(),
    };
    for q in &ctx.template.questions {
        let outcome = outcomes
            .get(q.id.as_str())
            .copied()
            .unwrap_or(Outcome::Unanswered);
        if !outcome.is_visible() {
            continue;
        }
        let (label, class) = outcome_view(outcome, &chrome);
        let view = QuestionView {
            id: q.id.clone(),
            text: q.text.get(lang).to_string(),
            csf: q.csf.join(", "),
            answer: answers.get(&q.id).map(|a| a.display()).unwrap_or_default(),
            comment: ctx.comments.get(&q.id).cloned().unwrap_or_default(),
            outcome: label,
            outcome_class: class,
        };
        let slot = q
            .section
            .as_ref()
            .and_then(|s| ctx.template.sections.iter().position(|x| &x.id == s));
        match slot {
            Some(i) => sections[i].questions.push(view),
            None => loose.questions.push(view),
        }
    }
    if !loose.questions.is_empty() {
        sections.push(loose);
    }
    sections.retain(|s| !s.questions.is_empty());
    let tier =
        mamori_domain::Tier::parse(&ctx.record.tier).unwrap_or(mamori_domain::Tier::Critical);
    let missing_evidence = app::missing_evidence(
        &state.store,
        &state.org_id,
        &state.assessment_policy,
        &ctx.record.vendor_id,
        tier,
    )
    .await?
    .iter()
    .map(|any| {
        any.iter()
            .map(|k| k.label())
            .collect::<Vec<_>>()
            .join(" / ")
    })
    .collect();
    let links = state.store.portal_links(id).await?;
    let now = mamori_store::now();
    let has_active_link = links
        .iter()
        .any(|l| l.revoked_at.is_none() && l.expires_at > now);
    let findings = state.store.findings_for_assessment(id).await?;
    let open_findings = findings.iter().filter(|f| f.status == "open").count();
    let can_manage = user.can(Permission::AssessmentManage);
    let severities = ["critical", "high", "medium", "low"]
        .iter()
        .map(|s| (s.to_string(), chrome.tr.label("severity", s)))
        .collect();
    let overall = ctx
        .record
        .score
        .map(|s| s.to_string())
        .or_else(|| card.overall.score().map(|s| s.to_string()))
        .unwrap_or_else(|| "—".into());
    Ok(render(&AssessmentPage {
        status: chrome.tr.label("assessment_status", status.as_str()),
        status_class: status_class(status.as_str()),
        can_manage,
        can_promote: user.can(Permission::RiskManage),
        can_send: can_manage && status.is_open(),
        can_import: can_manage
            && matches!(
                status,
                AssessmentStatus::Planned | AssessmentStatus::Sent | AssessmentStatus::InProgress
            ),
        can_review: can_manage && status.can_move_to(AssessmentStatus::UnderReview),
        under_review: status == AssessmentStatus::UnderReview,
        can_cancel: can_manage && status.is_open(),
        completed: status == AssessmentStatus::Completed,
        has_active_link,
        links,
        new_link,
        overall,
        bars: function_bars(&card, &chrome),
        sections,
        evidence: evidence_views(&ctx.evidence, state, &chrome),
        findings: finding_views(&findings, &chrome),
        open_findings,
        severities,
        progress: format!("{} / {}", card.answered, card.visible),
        missing_evidence,
        a: ctx.record,
        chrome,
    }))
}

pub async fn show(
    State(state): State<AppState>,
    Extension(RequestLocale(locale)): Extension<RequestLocale>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<String>,
) -> Response {
    match page(&state, &user, locale, &id, None).await {
        Ok(r) => r,
        Err(e) => error_page(&state, Some(&user), locale, e).await,
    }
}

#[derive(Deserialize)]
pub struct SendForm {
    pub contact_name: String,
    pub contact_email: String,
}

/// The link's origin as the person sending sees it, so the link they copy
/// works from where they are.
fn origin(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '-' | '[' | ']'))
        })
        .unwrap_or("localhost");
    format!("http://{host}")
}

pub async fn send(
    State(state): State<AppState>,
    Extension(RequestLocale(locale)): Extension<RequestLocale>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(form): Form<SendForm>,
) -> Response {
    let result = app::send(
        &state.store,
        &state.org_id,
        &state.assessment_policy,
        &id,
        &form.contact_name,
        &form.contact_email,
        &user.actor(),
    )
    .await;
    match result {
        Ok(link) => {
            let url = format!("{}/portal/{}", origin(&headers), link.token);
            match page(&state, &user, locale, &id, Some(url)).await {
                Ok(r) => r,
                Err(e) => error_page(&state, Some(&user), locale, e).await,
            }
        }
        Err(e) => error_page(&state, Some(&user), locale, e.into()).await,
    }
}

fn back(id: &str) -> Response {
    Redirect::to(&format!("/assessments/{id}")).into_response()
}

pub async fn revoke(
    State(state): State<AppState>,
    Extension(RequestLocale(locale)): Extension<RequestLocale>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<String>,
) -> Response {
    match state
        .store
        .revoke_portal_links(&state.org_id, &id, &user.actor())
        .await
    {
        Ok(_) => back(&id),
        Err(e) => error_page(&state, Some(&user), locale, e.into()).await,
    }
}

pub async fn review(
    State(state): State<AppState>,
    Extension(RequestLocale(locale)): Extension<RequestLocale>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<String>,
) -> Response {
    match app::begin_review(
        &state.store,
        &state.org_id,
        &state.assessment_policy,
        &id,
        &user.actor(),
    )
    .await
    {
        Ok(()) => back(&id),
        Err(e) => error_page(&state, Some(&user), locale, e.into()).await,
    }
}

pub async fn complete(
    State(state): State<AppState>,
    Extension(RequestLocale(locale)): Extension<RequestLocale>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<String>,
) -> Response {
    match app::complete(
        &state.store,
        &state.org_id,
        &state.assessment_policy,
        &id,
        &user.actor(),
    )
    .await
    {
        Ok(_) => back(&id),
        Err(e) => error_page(&state, Some(&user), locale, e.into()).await,
    }
}

#[derive(Deserialize)]
pub struct CancelForm {
    #[serde(default)]
    pub reason: String,
}

pub async fn cancel(
    State(state): State<AppState>,
    Extension(RequestLocale(locale)): Extension<RequestLocale>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<String>,
    Form(form): Form<CancelForm>,
) -> Response {
    match app::cancel(
        &state.store,
        &state.org_id,
        &id,
        &form.reason,
        &user.actor(),
    )
    .await
    {
        Ok(()) => back(&id),
        Err(e) => error_page(&state, Some(&user), locale, e.into()).await,
    }
}

#[derive(Deserialize)]
pub struct DecideForm {
    pub action: String,
    #[serde(default)]
    pub severity: String,
    #[serde(default)]
    pub comment: String,
}

pub async fn decide(
    State(state): State<AppState>,
    Extension(RequestLocale(locale)): Extension<RequestLocale>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<String>,
    Form(form): Form<DecideForm>,
) -> Response {
    let severity = Some(form.severity.as_str()).filter(|s| !s.is_empty());
    match app::decide_finding(
        &state.store,
        &state.org_id,
        &id,
        &form.action,
        severity,
        &form.comment,
        &user.actor(),
    )
    .await
    {
        Ok(f) => Redirect::to(&format!(
            "/assessments/{}#finding-{}",
            f.assessment_id.as_deref().unwrap_or_default(),
            f.id
        ))
        .into_response(),
        Err(e) => error_page(&state, Some(&user), locale, e.into()).await,
    }
}

#[derive(Deserialize)]
pub struct FindingForm {
    pub title: String,
    #[serde(default)]
    pub detail: String,
    pub severity: String,
    #[serde(default)]
    pub csf: String,
    /// Optional CVSS v3.x or v4.0 vector; it sets the severity.
    #[serde(default)]
    pub cvss: String,
}

pub async fn add_finding(
    State(state): State<AppState>,
    Extension(RequestLocale(locale)): Extension<RequestLocale>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<String>,
    Form(form): Form<FindingForm>,
) -> Response {
    match app::add_finding(
        &state.store,
        &state.org_id,
        &id,
        &form.title,
        &form.detail,
        &form.severity,
        &form.csf,
        &form.cvss,
        &user.actor(),
    )
    .await
    {
        Ok(_) => back(&id),
        Err(e) => error_page(&state, Some(&user), locale, e.into()).await,
    }
}

pub async fn import_answers(
    State(state): State<AppState>,
    Extension(RequestLocale(locale)): Extension<RequestLocale>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<String>,
    mut multipart: Multipart,
) -> Response {
    let mut file = None;
    while let Ok(Some(field)) = multipart.next_field().await {
        if field.name() == Some("file") {
            let name = field.file_name().unwrap_or("answers.csv").to_string();
            match field.bytes().await {
                Ok(b) => file = Some((name, b.to_vec())),
                Err(e) => {
                    return error_page(
                        &state,
                        Some(&user),
                        locale,
                        WebError::BadRequest(format!("upload failed: {e}")),
                    )
                    .await
                }
            }
        }
    }
    let Some((name, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        return error_page(
            &state,
            Some(&user),
            locale,
            WebError::BadRequest("choose a filled answer sheet (CSV or XLSX)".into()),
        )
        .await;
    };
    match app::import_answer_sheet(
        &state.store,
        &state.org_id,
        &id,
        &name,
        &bytes,
        &user.actor(),
    )
    .await
    {
        Ok(_) => back(&id),
        Err(e) => error_page(&state, Some(&user), locale, e.into()).await,
    }
}

pub async fn sheet(
    State(state): State<AppState>,
    Extension(RequestLocale(locale)): Extension<RequestLocale>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<String>,
) -> Response {
    match app::load_context(&state.store, &state.org_id, &id).await {
        Ok(ctx) => {
            let csv = mamori_formats::answer_sheet::answer_sheet_csv(&ctx.template, locale.code());
            (
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"answers-{id}.csv\""),
                    ),
                ],
                csv,
            )
                .into_response()
        }
        Err(e) => error_page(&state, Some(&user), locale, e.into()).await,
    }
}

pub async fn download_evidence(
    State(state): State<AppState>,
    Extension(RequestLocale(locale)): Extension<RequestLocale>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<String>,
) -> Response {
    let record = match state.store.get_evidence(&state.org_id, &id).await {
        Ok(r) => r,
        Err(e) => return error_page(&state, Some(&user), locale, e.into()).await,
    };
    let Some(blobs) = state.blobs.clone() else {
        return error_page(
            &state,
            Some(&user),
            locale,
            WebError::Internal("no file storage configured".into()),
        )
        .await;
    };
    let key = record.storage_key.clone();
    match tokio::task::spawn_blocking(move || blobs.get(&key)).await {
        Ok(Ok(bytes)) => {
            let safe_name: String = record
                .file_name
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            (
                [
                    (header::CONTENT_TYPE, record.content_type.clone()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"{safe_name}\""),
                    ),
                ],
                bytes,
            )
                .into_response()
        }
        Ok(Err(e)) => {
            let error = blob_error(e, record.shredded_at.as_deref());
            error_page(&state, Some(&user), locale, error).await
        }
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

#[derive(Template)]
#[template(path = "assessment_report.html")]
pub struct ReportPage {
    pub chrome: Chrome,
    pub a: mamori_store::AssessmentRecord,
    pub status: String,
    pub overall: String,
    pub bars: Vec<FunctionBar>,
    pub findings: Vec<FindingView>,
    pub evidence: Vec<EvidenceView>,
    pub sections: Vec<SectionView>,
    pub generated: String,
}

pub async fn report(
    State(state): State<AppState>,
    Extension(RequestLocale(locale)): Extension<RequestLocale>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<String>,
) -> Response {
    let build = async {
        let ctx: AssessmentContext = app::load_context(&state.store, &state.org_id, &id).await?;
        let findings = state.store.findings_for_assessment(&id).await?;
        Ok::<_, mamori_app::AppError>((ctx, findings))
    };
    let (ctx, findings) = match build.await {
        Ok(x) => x,
        Err(e) => return error_page(&state, Some(&user), locale, e.into()).await,
    };
    let chrome = Chrome::new(&state, Some(&user), locale, "assessments").await;
    let lang = chrome.tr.locale.code();
    let card = ctx.score(app::today());
    let answers = ctx.answers_with_files();
    let outcomes: HashMap<&str, Outcome> = card
        .outcomes
        .iter()
        .map(|(q, o)| (q.as_str(), *o))
        .collect();
    let sections = ctx
        .template
        .sections
        .iter()
        .map(|s| SectionView {
            title: s.title.get(lang).to_string(),
            questions: ctx
                .template
                .questions
                .iter()
                .filter(|q| q.section.as_deref() == Some(s.id.as_str()))
                .filter(|q| outcomes.get(q.id.as_str()).is_some_and(|o| o.is_visible()))
                .map(|q| {
                    let (label, class) = outcome_view(outcomes[q.id.as_str()], &chrome);
                    QuestionView {
                        id: q.id.clone(),
                        text: q.text.get(lang).to_string(),
                        csf: q.csf.join(", "),
                        answer: answers.get(&q.id).map(|a| a.display()).unwrap_or_default(),
                        comment: String::new(),
                        outcome: label,
                        outcome_class: class,
                    }
                })
                .collect(),
        })
        .filter(|s: &SectionView| !s.questions.is_empty())
        .collect();
    let status = chrome.tr.label("assessment_status", &ctx.record.status);
    render(&ReportPage {
        status,
        overall: ctx
            .record
            .score
            .or(card.overall.score().map(i64::from))
            .map(|s| s.to_string())
            .unwrap_or_else(|| "—".into()),
        bars: function_bars(&card, &chrome),
        findings: finding_views(&findings, &chrome),
        evidence: evidence_views(&ctx.evidence, &state, &chrome),
        sections,
        generated: mamori_store::now(),
        a: ctx.record,
        chrome,
    })
}

pub async fn oscal(
    State(state): State<AppState>,
    Extension(RequestLocale(locale)): Extension<RequestLocale>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<String>,
) -> Response {
    match app::oscal_results(&state.store, &state.org_id, &id).await {
        Ok(json) => (
            [
                (header::CONTENT_TYPE, "application/json".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"assessment-results-{id}.json\""),
                ),
            ],
            json,
        )
            .into_response(),
        Err(e) => error_page(&state, Some(&user), locale, e.into()).await,
    }
}

/// What a reader is told when a protected file cannot be returned: shredded
/// for good, refused by the customer's key manager (revoked KEK: the kill
/// switch), the key manager unreachable, or the file changed.
pub fn blob_error(e: mamori_store::blob::BlobError, shredded_at: Option<&str>) -> WebError {
    use mamori_keys::KeyError;
    use mamori_store::blob::BlobError;
    if let Some(when) = shredded_at {
        return WebError::Gone(format!(
            "this file was crypto-shredded on {when}: its key was destroyed and nobody can decrypt it any more"
        ));
    }
    match e {
        BlobError::Key { source, .. } => {
            tracing::warn!(error = %source, "a protected file could not be opened");
            match source {
                KeyError::Unwrap(_) => WebError::KeyUnavailable(
                    "the customer's key manager refused this file's key: the key was revoked or destroyed. Mamori cannot show anything it protects under that key until the key manager releases it again".into(),
                ),
                KeyError::Unavailable(_) => WebError::KeyUnavailable(
                    "the key manager cannot be reached; nothing was changed, try again later".into(),
                ),
                KeyError::Authentication | KeyError::Header(_) => WebError::Internal(
                    "the stored file failed its integrity check (changed or moved)".into(),
                ),
                KeyError::Config(reason) => WebError::Internal(reason),
            }
        }
        BlobError::NotFound { .. } => WebError::NotFound,
        other => WebError::Internal(other.to_string()),
    }
}
