//! The vendor portal: what a vendor contact sees through their link. The
//! link's token is the only credential; it opens one assessment and no other
//! route, vendor or assessment (every handler here starts from the token and
//! never takes an assessment or vendor id from the request).

use std::collections::HashMap;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Multipart, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Json};
use mamori_app::assessments::{self as app, EvidenceForm, PortalDenied, PortalSession};
use mamori_domain::assessment::EvidenceKind;
use mamori_domain::questionnaire::AnswerType;
use mamori_domain::scoring::{answer_values, visibility};

use super::render;
use crate::auth::RequestLocale;
use crate::i18n::{Locale, Tr};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "portal_message.html")]
pub struct PortalMessage {
    pub tr: Tr,
    pub title: String,
    pub message: String,
}

fn message(
    state: &AppState,
    locale: Locale,
    status: StatusCode,
    title_key: &str,
    message_key: &str,
) -> Response {
    let tr = Tr::new(state.catalog.clone(), locale);
    let page = PortalMessage {
        title: tr.t(title_key).to_string(),
        message: tr.t(message_key).to_string(),
        tr,
    };
    let mut r = render(&page);
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    r
}

fn denied(state: &AppState, locale: Locale, why: PortalDenied) -> Response {
    match why {
        PortalDenied::Expired => message(
            state,
            locale,
            StatusCode::GONE,
            "portal.expired_title",
            "portal.expired",
        ),
        PortalDenied::Revoked => message(
            state,
            locale,
            StatusCode::GONE,
            "portal.revoked_title",
            "portal.revoked",
        ),
        PortalDenied::Unknown => message(
            state,
            locale,
            StatusCode::NOT_FOUND,
            "portal.unknown_title",
            "portal.unknown",
        ),
    }
}

async fn session(state: &AppState, locale: Locale, token: &str) -> Result<PortalSession, Response> {
    match app::open_portal(&state.store, token).await {
        Ok(Ok(s)) => Ok(s),
        Ok(Err(why)) => Err(denied(state, locale, why)),
        Err(e) => {
            tracing::error!(error = %e, "portal lookup failed");
            Err(message(
                state,
                locale,
                StatusCode::INTERNAL_SERVER_ERROR,
                "error.internal",
                "error.internal_detail",
            ))
        }
    }
}

pub struct Choice {
    pub value: String,
    pub label: String,
    pub checked: bool,
}

pub struct PortalQuestion {
    pub id: String,
    pub number: usize,
    pub text: String,
    pub help: String,
    pub kind: &'static str,
    pub choices: Vec<Choice>,
    pub value: String,
    pub visible: bool,
    pub files: Vec<String>,
    pub default_kind: String,
    pub problem: String,
    pub unit: String,
}

pub struct PortalSection {
    pub title: String,
    pub questions: Vec<PortalQuestion>,
}

#[derive(Template)]
#[template(path = "portal.html")]
pub struct PortalPage {
    pub tr: Tr,
    pub token: String,
    pub title: String,
    pub vendor_name: String,
    pub org_name: String,
    pub contact_name: String,
    pub expires: String,
    pub accepts: bool,
    pub status: String,
    pub answered: usize,
    pub visible: usize,
    pub progress_text: String,
    pub sections: Vec<PortalSection>,
    pub evidence_kinds: Vec<(String, String)>,
    pub problems: usize,
    pub notice: String,
}

async fn build_page(
    state: &AppState,
    locale: Locale,
    token: &str,
    s: &PortalSession,
    problems: &HashMap<String, String>,
    notice: &str,
) -> Result<Response, mamori_app::AppError> {
    let ctx = app::load_context(&state.store, &s.org_id, &s.assessment_id).await?;
    let tr = Tr::new(state.catalog.clone(), locale);
    let lang = locale.code();
    let answers = ctx.answers_with_files();
    let shown = visibility(&ctx.template, &answers);
    let card = ctx.score(app::today());
    let mut sections: Vec<PortalSection> = ctx
        .template
        .sections
        .iter()
        .map(|x| PortalSection {
            title: x.title.get(lang).to_string(),
            questions: Vec::new(),
        })
        .collect();
    let mut loose = PortalSection {
        title: String::new(),
        questions: Vec::new(),
    };
    for (q, visible) in ctx.template.questions.iter().zip(shown) {
        let given = ctx
            .answers
            .get(&q.id)
            .map(answer_values)
            .unwrap_or_default();
        let choices = match q.answer_type {
            AnswerType::YesNo => q
                .allowed_values()
                .into_iter()
                .map(|v| Choice {
                    label: tr.t(&format!("answer.{v}")).to_string(),
                    checked: given.iter().any(|g| g == v),
                    value: v.to_string(),
                })
                .collect(),
            AnswerType::Single | AnswerType::Multiple => q
                .options
                .iter()
                .map(|o| Choice {
                    value: o.value.clone(),
                    label: o.text.get(lang).to_string(),
                    checked: given.contains(&o.value),
                })
                .collect(),
            _ => Vec::new(),
        };
        let view = PortalQuestion {
            id: q.id.clone(),
            number: 0,
            text: q.text.get(lang).to_string(),
            help: q
                .help
                .as_ref()
                .map(|h| h.get(lang).to_string())
                .unwrap_or_default(),
            kind: q.answer_type.as_str(),
            choices,
            value: given.first().cloned().unwrap_or_default(),
            visible,
            files: ctx
                .evidence
                .iter()
                .filter(|e| e.question_id.as_deref() == Some(q.id.as_str()))
                .map(|e| e.file_name.clone())
                .collect(),
            default_kind: q
                .evidence
                .first()
                .cloned()
                .unwrap_or_else(|| "other".into()),
            problem: problems.get(&q.id).cloned().unwrap_or_default(),
            unit: q.unit.clone().unwrap_or_default(),
        };
        let slot = q
            .section
            .as_ref()
            .and_then(|x| ctx.template.sections.iter().position(|y| &y.id == x));
        match slot {
            Some(k) => sections[k].questions.push(view),
            None => loose.questions.push(view),
        }
    }
    if !loose.questions.is_empty() {
        sections.push(loose);
    }
    sections.retain(|x| !x.questions.is_empty());
    // Numbers follow the order on the page, not the template's file order.
    for (n, q) in sections
        .iter_mut()
        .flat_map(|x| x.questions.iter_mut())
        .enumerate()
    {
        q.number = n + 1;
    }
    let status = ctx.status();
    let page = PortalPage {
        token: token.to_string(),
        title: ctx.template.title.get(lang).to_string(),
        vendor_name: ctx.record.vendor_name.clone(),
        org_name: state.org_name().await,
        contact_name: s.contact_name.clone(),
        expires: s.expires_at.get(..10).unwrap_or("").to_string(),
        accepts: status.accepts_answers(),
        status: tr.label("assessment_status", status.as_str()),
        answered: card.answered,
        visible: card.visible,
        progress_text: tr.tf(
            "portal.progress",
            &[
                ("answered", &card.answered.to_string()),
                ("total", &card.visible.to_string()),
            ],
        ),
        sections,
        evidence_kinds: EvidenceKind::ALL
            .iter()
            .map(|k| (k.as_str().to_string(), k.label().to_string()))
            .collect(),
        problems: problems.len(),
        notice: notice.to_string(),
        tr,
    };
    let mut r = render(&page);
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    Ok(r)
}

pub async fn show(
    State(state): State<AppState>,
    Extension(RequestLocale(locale)): Extension<RequestLocale>,
    Path(token): Path<String>,
) -> Response {
    let s = match session(&state, locale, &token).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    match build_page(&state, locale, &token, &s, &HashMap::new(), "").await {
        Ok(r) => r,
        Err(e) => portal_error(&state, locale, e),
    }
}

fn portal_error(state: &AppState, locale: Locale, e: mamori_app::AppError) -> Response {
    let web: crate::error::WebError = e.into();
    if let crate::error::WebError::Internal(detail) = &web {
        tracing::error!(%detail, "portal request failed");
        return message(
            state,
            locale,
            StatusCode::INTERNAL_SERVER_ERROR,
            "error.internal",
            "error.internal_detail",
        );
    }
    let tr = Tr::new(state.catalog.clone(), locale);
    let page = PortalMessage {
        title: tr.t("error.problem").to_string(),
        message: web.public_message(),
        tr,
    };
    let mut r = render(&page);
    *r.status_mut() = web.status();
    r
}

/// `q:<id>` fields carry answers; `present:<id>` marks a checkbox group that
/// was on the form, so unticking every box clears it.
fn answers_from_form(body: &[u8]) -> HashMap<String, Vec<String>> {
    let mut values: HashMap<String, Vec<String>> = HashMap::new();
    for (k, v) in form_urlencoded::parse(body) {
        if let Some(id) = k.strip_prefix("q:") {
            values
                .entry(id.to_string())
                .or_default()
                .push(v.into_owned());
        } else if let Some(id) = k.strip_prefix("present:") {
            values.entry(id.to_string()).or_default();
        }
    }
    values
}

/// Autosave (JSON, from the page's script) and the plain Save button.
pub async fn save(
    State(state): State<AppState>,
    Extension(RequestLocale(locale)): Extension<RequestLocale>,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let s = match session(&state, locale, &token).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let wants_json = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"));
    let values = answers_from_form(&body);
    let ctx = match app::load_context(&state.store, &s.org_id, &s.assessment_id).await {
        Ok(c) => c,
        Err(e) => return portal_error(&state, locale, e),
    };
    if !ctx.status().accepts_answers() {
        let tr = Tr::new(state.catalog.clone(), locale);
        let msg = tr.t("portal.closed").to_string();
        return if wants_json {
            (
                StatusCode::CONFLICT,
                Json(serde_json::json!({"error": msg})),
            )
                .into_response()
        } else {
            message(
                &state,
                locale,
                StatusCode::CONFLICT,
                "error.problem",
                "portal.closed",
            )
        };
    }
    let by = s.contact_email.clone();
    let result = app::save_answers(&state.store, &ctx, &values, &by, &s.actor()).await;
    match result {
        Ok(Ok((answered, visible))) => {
            if wants_json {
                let fresh = match app::load_context(&state.store, &s.org_id, &s.assessment_id).await
                {
                    Ok(c) => c,
                    Err(e) => return portal_error(&state, locale, e),
                };
                let shown = visibility(&fresh.template, &fresh.answers_with_files());
                let map: serde_json::Map<String, serde_json::Value> = fresh
                    .template
                    .questions
                    .iter()
                    .zip(shown)
                    .map(|(q, v)| (q.id.clone(), serde_json::Value::Bool(v)))
                    .collect();
                let tr = Tr::new(state.catalog.clone(), locale);
                Json(serde_json::json!({
                    "answered": answered,
                    "visible": visible,
                    "progress": tr.tf("portal.progress", &[("answered", &answered.to_string()), ("total", &visible.to_string())]),
                    "visibility": map,
                    "problems": {},
                }))
                .into_response()
            } else {
                Redirect::to(&format!("/portal/{token}#saved")).into_response()
            }
        }
        Ok(Err(problems)) => {
            let map: HashMap<String, String> = problems
                .into_iter()
                .map(|p| (p.question_id, p.message))
                .collect();
            if wants_json {
                (StatusCode::UNPROCESSABLE_ENTITY, Json(serde_json::json!({"error": "some answers need attention", "problems": map}))).into_response()
            } else {
                match build_page(&state, locale, &token, &s, &map, "").await {
                    Ok(mut r) => {
                        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
                        r
                    }
                    Err(e) => portal_error(&state, locale, e),
                }
            }
        }
        Err(e) => portal_error(&state, locale, e),
    }
}

pub async fn upload(
    State(state): State<AppState>,
    Extension(RequestLocale(locale)): Extension<RequestLocale>,
    Path(token): Path<String>,
    mut multipart: Multipart,
) -> Response {
    let s = match session(&state, locale, &token).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let ctx = match app::load_context(&state.store, &s.org_id, &s.assessment_id).await {
        Ok(c) => c,
        Err(e) => return portal_error(&state, locale, e),
    };
    if !ctx.status().accepts_answers() {
        return message(
            &state,
            locale,
            StatusCode::CONFLICT,
            "error.problem",
            "portal.closed",
        );
    }
    let mut form = EvidenceForm::default();
    let mut file: Option<(String, Vec<u8>)> = None;
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or("").to_string();
                if name == "file" {
                    let file_name = field.file_name().unwrap_or("evidence").to_string();
                    match field.bytes().await {
                        Ok(b) => file = Some((file_name, b.to_vec())),
                        Err(_) => {
                            return portal_error(
                                &state,
                                locale,
                                mamori_app::AppError::Template(format!(
                                    "the upload failed or is larger than {} MiB",
                                    app::MAX_EVIDENCE_BYTES / (1024 * 1024)
                                )),
                            )
                        }
                    }
                } else {
                    let text = field.text().await.unwrap_or_default();
                    match name.as_str() {
                        "kind" => form.kind = text,
                        "issuer" => form.issuer = text,
                        "period_start" => form.period_start = Some(text),
                        "period_end" => form.period_end = Some(text),
                        "issued_on" => form.issued_on = Some(text),
                        "expires_on" => form.expires_on = Some(text),
                        "question_id" => form.question_id = Some(text),
                        _ => {}
                    }
                }
            }
            Ok(None) => break,
            Err(e) => {
                return portal_error(
                    &state,
                    locale,
                    mamori_app::AppError::Template(format!("the upload failed: {e}")),
                )
            }
        }
    }
    // Evidence attaches only to a file question of this very assessment.
    let question = form.question_id.clone().unwrap_or_default();
    let answers_with_file = ctx
        .template
        .question(&question)
        .is_some_and(|q| q.answer_type == AnswerType::File);
    if !answers_with_file {
        return portal_error(
            &state,
            locale,
            mamori_app::AppError::Template("choose the question the file answers".into()),
        );
    }
    let Some((file_name, bytes)) = file else {
        return portal_error(
            &state,
            locale,
            mamori_app::AppError::Template("choose a file".into()),
        );
    };
    let Some(blobs) = state.blobs.clone() else {
        return portal_error(
            &state,
            locale,
            mamori_app::AppError::Template("file storage is not configured on this server".into()),
        );
    };
    let actor = s.actor();
    match app::upload_evidence(
        &state.store,
        &blobs,
        &s.org_id,
        &ctx.record.vendor_id,
        Some(&ctx.record.id),
        &form,
        &file_name,
        &bytes,
        &s.contact_email,
        &actor,
    )
    .await
    {
        Ok(_) => {
            // The file answers its question: refresh the progress counts.
            if let Ok(fresh) = app::load_context(&state.store, &s.org_id, &s.assessment_id).await {
                let _ = app::save_answers(
                    &state.store,
                    &fresh,
                    &HashMap::new(),
                    &s.contact_email,
                    &actor,
                )
                .await;
            }
            Redirect::to(&format!("/portal/{token}#question-{question}")).into_response()
        }
        Err(e) => portal_error(&state, locale, e),
    }
}

pub async fn submit(
    State(state): State<AppState>,
    Extension(RequestLocale(locale)): Extension<RequestLocale>,
    Path(token): Path<String>,
) -> Response {
    let s = match session(&state, locale, &token).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    match app::submit(&state.store, &s).await {
        Ok(()) => message(
            &state,
            locale,
            StatusCode::OK,
            "portal.submitted_title",
            "portal.submitted",
        ),
        Err(e) => portal_error(&state, locale, e),
    }
}
