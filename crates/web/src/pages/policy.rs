//! The tiering policy: read it, check a changed copy, apply it.

use askama::Template;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form};
use mamori_domain::TieringPolicy;
use mamori_store::StoredPolicy;
use serde::Deserialize;

use super::{error_page, render, Chrome};
use crate::auth::{CurrentUser, RequestLocale};
use crate::i18n::Locale;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "policy.html")]
pub struct PolicyPage {
    pub chrome: Chrome,
    pub version: String,
    pub name: String,
    pub description: String,
    pub bands: (u32, u32, u32),
    pub factor_count: usize,
    pub floors: Vec<(String, String, String)>,
    pub factors: Vec<(String, String, u32, String)>,
    pub text: String,
    pub history: Vec<StoredPolicy>,
    pub check_result: Option<Vec<String>>,
    pub check_ok: bool,
    pub applied: Option<String>,
}

async fn policy_page(
    state: &AppState,
    user: &CurrentUser,
    locale: Locale,
    text: Option<String>,
    check_result: Option<Vec<String>>,
    check_ok: bool,
    applied: Option<String>,
) -> Response {
    let policy = state.policy().await;
    let history = state
        .store
        .policy_history(&state.org_id, 20)
        .await
        .unwrap_or_default();
    let active_text = history
        .first()
        .map(|p| p.content.clone())
        .unwrap_or_else(|| mamori_domain::DEFAULT_POLICY_TOML.to_string());
    let chrome = Chrome::new(state, Some(user), locale, "policy").await;
    let tr = &chrome.tr;
    let ja = |en: &str, ja: &Option<String>| match (locale, ja) {
        (Locale::Ja, Some(j)) => j.clone(),
        _ => en.to_string(),
    };
    let page = PolicyPage {
        version: policy.version.clone(),
        name: policy.name.clone(),
        description: policy.description.clone(),
        bands: (
            policy.bands.moderate,
            policy.bands.high,
            policy.bands.critical,
        ),
        factor_count: policy.factors.len(),
        floors: policy
            .floors
            .iter()
            .map(|f| {
                (
                    f.id.clone(),
                    tr.label("tier", f.tier.as_str()),
                    ja(&f.reason, &f.reason_ja),
                )
            })
            .collect(),
        factors: policy
            .factors
            .iter()
            .map(|f| {
                (
                    f.id.clone(),
                    tr.label("category", f.category.as_str()),
                    f.points,
                    ja(&f.reason, &f.reason_ja),
                )
            })
            .collect(),
        text: text.unwrap_or(active_text),
        history,
        check_result,
        check_ok,
        applied,
        chrome,
    };
    render(&page)
}

pub async fn show(
    State(state): State<AppState>,
    Extension(RequestLocale(locale)): Extension<RequestLocale>,
    Extension(user): Extension<CurrentUser>,
) -> Response {
    policy_page(&state, &user, locale, None, None, false, None).await
}

pub async fn download(State(state): State<AppState>) -> Response {
    let text = match state.store.active_policy(&state.org_id).await {
        Ok(Some(p)) => p.content,
        _ => mamori_domain::DEFAULT_POLICY_TOML.to_string(),
    };
    (
        [
            (header::CONTENT_TYPE, "application/toml; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"tiering.toml\"",
            ),
        ],
        text,
    )
        .into_response()
}

#[derive(Deserialize)]
pub struct PolicyForm {
    pub text: String,
}

fn check_text(text: &str) -> Result<TieringPolicy, Vec<String>> {
    TieringPolicy::from_toml(text).map_err(|e| match e {
        mamori_domain::PolicyError::Invalid(list) => list,
        other => vec![other.to_string()],
    })
}

pub async fn check(
    State(state): State<AppState>,
    Extension(RequestLocale(locale)): Extension<RequestLocale>,
    Extension(user): Extension<CurrentUser>,
    Form(form): Form<PolicyForm>,
) -> Response {
    let tr = crate::auth::translator(&state, locale);
    match check_text(&form.text) {
        Ok(p) => {
            let msg = tr.tf(
                "policy.valid",
                &[
                    ("version", &p.version),
                    ("factors", &p.factors.len().to_string()),
                ],
            );
            policy_page(
                &state,
                &user,
                locale,
                Some(form.text),
                Some(vec![msg]),
                true,
                None,
            )
            .await
        }
        Err(problems) => {
            policy_page(
                &state,
                &user,
                locale,
                Some(form.text),
                Some(problems),
                false,
                None,
            )
            .await
        }
    }
}

pub async fn apply(
    State(state): State<AppState>,
    Extension(RequestLocale(locale)): Extension<RequestLocale>,
    Extension(user): Extension<CurrentUser>,
    Form(form): Form<PolicyForm>,
) -> Response {
    if let Err(problems) = check_text(&form.text) {
        return policy_page(
            &state,
            &user,
            locale,
            Some(form.text),
            Some(problems),
            false,
            None,
        )
        .await;
    }
    // Hold the write lock while re-tiering so no vendor is tiered under the
    // old policy after the new one is stored.
    let mut guard = state.policy.write().await;
    match mamori_app::policy::apply_policy(&state.store, &state.org_id, &form.text, &user.actor())
        .await
    {
        Ok((policy, outcome)) => {
            *guard = policy.clone();
            drop(guard);
            let tr = crate::auth::translator(&state, locale);
            let msg = tr.tf(
                "policy.applied",
                &[
                    ("version", &policy.version),
                    ("vendors", &tr.number(outcome.vendors as i64)),
                    ("changes", &tr.number(outcome.tier_changes as i64)),
                ],
            );
            policy_page(&state, &user, locale, None, None, true, Some(msg)).await
        }
        Err(e) => {
            drop(guard);
            error_page(&state, Some(&user), locale, e.into()).await
        }
    }
}
