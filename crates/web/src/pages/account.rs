//! The signed-in person's own settings: language, password, API tokens.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use mamori_store::ApiTokenRecord;
use serde::Deserialize;

use super::{render, Chrome};
use crate::auth::{hash_token, random_token, CurrentUser, RequestLocale};
use crate::i18n::Locale;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "account.html")]
pub struct AccountPage {
    pub chrome: Chrome,
    pub email: String,
    pub role: String,
    pub locale: String,
    pub tokens: Vec<ApiTokenRecord>,
    pub can_tokens: bool,
    pub new_token: Option<String>,
    pub message: Option<String>,
    pub error: Option<String>,
}

async fn account_page(
    state: &AppState,
    user: &CurrentUser,
    locale: Locale,
    new_token: Option<String>,
    message: Option<String>,
    error: Option<String>,
) -> Response {
    let tokens = state
        .store
        .list_api_tokens(&user.user.id)
        .await
        .unwrap_or_default();
    let chrome = Chrome::new(state, Some(user), locale, "account").await;
    let page = AccountPage {
        email: user.user.email.clone(),
        role: chrome.tr.label("role", user.role().as_str()),
        locale: user.user.locale.clone().unwrap_or_default(),
        tokens,
        can_tokens: user.can(mamori_domain::Permission::TokenManage),
        new_token,
        message,
        error,
        chrome,
    };
    render(&page)
}

pub async fn show(
    State(state): State<AppState>,
    Extension(RequestLocale(locale)): Extension<RequestLocale>,
    Extension(user): Extension<CurrentUser>,
) -> Response {
    account_page(&state, &user, locale, None, None, None).await
}

#[derive(Deserialize)]
pub struct LanguageForm {
    pub locale: String,
}

pub async fn language(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Form(form): Form<LanguageForm>,
) -> Response {
    let locale = Locale::parse(&form.locale).map(|l| l.code());
    if let Err(e) = state.store.set_user_locale(&user.user.id, locale).await {
        tracing::error!(error = %e, "saving language failed");
    }
    Redirect::to("/account").into_response()
}

#[derive(Deserialize)]
pub struct PasswordForm {
    pub current: String,
    pub new_password: String,
}

pub async fn password(
    State(state): State<AppState>,
    Extension(RequestLocale(locale)): Extension<RequestLocale>,
    Extension(user): Extension<CurrentUser>,
    Form(form): Form<PasswordForm>,
) -> Response {
    let tr = crate::auth::translator(&state, locale);
    let stored = user.user.password_hash.clone().unwrap_or_default();
    let current = form.current.clone();
    let ok = tokio::task::spawn_blocking(move || {
        mamori_app::password::verify_password(&stored, &current)
    })
    .await
    .unwrap_or(false);
    if !ok {
        return account_page(
            &state,
            &user,
            locale,
            None,
            None,
            Some(tr.t("account.wrong_password").into()),
        )
        .await;
    }
    let new_password = form.new_password.clone();
    let hash = match tokio::task::spawn_blocking(move || {
        mamori_app::password::hash_password(&new_password)
    })
    .await
    {
        Ok(Ok(h)) => h,
        Ok(Err(e)) => {
            return account_page(&state, &user, locale, None, None, Some(e.to_string())).await
        }
        Err(e) => {
            return account_page(&state, &user, locale, None, None, Some(e.to_string())).await
        }
    };
    match state
        .store
        .set_password_hash(&state.org_id, &user.user.id, &hash, &user.actor())
        .await
    {
        // Changing the password ends every session, this one included.
        Ok(()) => Redirect::to("/login").into_response(),
        Err(e) => {
            account_page(
                &state,
                &user,
                locale,
                None,
                None,
                Some(crate::error::WebError::from(e).public_message()),
            )
            .await
        }
    }
}

#[derive(Deserialize)]
pub struct TokenForm {
    pub name: String,
    pub days: Option<String>,
}

pub const DEFAULT_TOKEN_DAYS: i64 = 90;
pub const MAX_TOKEN_DAYS: i64 = 365;

/// Creates an API token: `mamori_` + 64 hex characters, shown once, stored
/// as its SHA-256.
pub async fn issue_token(
    state: &AppState,
    user: &CurrentUser,
    name: &str,
    days: Option<i64>,
) -> Result<(String, ApiTokenRecord), mamori_store::StoreError> {
    let token = format!("mamori_{}", random_token());
    let expires = days
        .filter(|d| *d > 0)
        .map(|d| mamori_store::timestamp(chrono::Utc::now() + chrono::Duration::days(d)));
    let name = if name.trim().is_empty() {
        "API token"
    } else {
        name.trim()
    };
    let record = state
        .store
        .create_api_token(
            &state.org_id,
            &user.user.id,
            name,
            &hash_token(&token),
            expires.as_deref(),
            &user.actor(),
        )
        .await?;
    Ok((token, record))
}

pub async fn create_token(
    State(state): State<AppState>,
    Extension(RequestLocale(locale)): Extension<RequestLocale>,
    Extension(user): Extension<CurrentUser>,
    Form(form): Form<TokenForm>,
) -> Response {
    let days = form
        .days
        .as_deref()
        .and_then(|d| d.trim().parse::<i64>().ok());
    match issue_token(&state, &user, &form.name, days).await {
        Ok((token, _)) => account_page(&state, &user, locale, Some(token), None, None).await,
        Err(e) => {
            account_page(
                &state,
                &user,
                locale,
                None,
                None,
                Some(crate::error::WebError::from(e).public_message()),
            )
            .await
        }
    }
}

pub async fn revoke_token(
    State(state): State<AppState>,
    Extension(RequestLocale(locale)): Extension<RequestLocale>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<String>,
) -> Response {
    match state
        .store
        .revoke_api_token(&state.org_id, &user.user.id, &id, &user.actor())
        .await
    {
        Ok(()) => Redirect::to("/account").into_response(),
        Err(e) => {
            account_page(
                &state,
                &user,
                locale,
                None,
                None,
                Some(crate::error::WebError::from(e).public_message()),
            )
            .await
        }
    }
}
