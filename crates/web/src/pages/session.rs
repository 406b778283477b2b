//! Sign-in, sign-out and language choice.

use askama::Template;
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use mamori_store::{Actor, NewAudit};
use serde::Deserialize;

use super::{render, Chrome};
use crate::auth::{
    client_addr, cookie_value, hash_token, random_token, set_cookie, AuthVia, CurrentUser,
    RequestLocale, LANG_COOKIE, LOGIN_CSRF_COOKIE, SESSION_COOKIE,
};
use crate::i18n::Locale;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub chrome: Chrome,
    pub login_csrf: String,
    pub next: String,
    pub email: String,
    pub error: Option<String>,
}

#[derive(Deserialize)]
pub struct NextQuery {
    pub next: Option<String>,
}

/// Only same-site paths: an open redirect would help phishing.
pub fn safe_next(next: Option<&str>) -> String {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "/._~%?=&-".contains(c);
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && n.len() <= 2048
                && n.chars().all(allowed) =>
        {
            n.to_string()
        }
        _ => "/".to_string(),
    }
}

pub async fn login_form(
    State(state): State<AppState>,
    Extension(RequestLocale(locale)): Extension<RequestLocale>,
    user: Option<Extension<CurrentUser>>,
    Query(q): Query<NextQuery>,
) -> Response {
    if user.is_some() {
        return Redirect::to(&safe_next(q.next.as_deref())).into_response();
    }
    login_page(
        &state,
        locale,
        safe_next(q.next.as_deref()),
        String::new(),
        None,
        StatusCode::OK,
    )
    .await
}

async fn login_page(
    state: &AppState,
    locale: Locale,
    next: String,
    email: String,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let token = random_token();
    let chrome = Chrome::new(state, None, locale, "login").await;
    let mut response = render(&LoginPage {
        chrome,
        login_csrf: token.clone(),
        next,
        email,
        error,
    });
    *response.status_mut() = status;
    if let Ok(v) = set_cookie(
        LOGIN_CSRF_COOKIE,
        &token,
        3600,
        state.config.secure_cookies,
        true,
    )
    .parse()
    {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

#[derive(Deserialize)]
pub struct LoginForm {
    pub email: String,
    pub password: String,
    pub csrf: String,
    pub next: Option<String>,
}

pub async fn login_submit(State(state): State<AppState>, req: Request) -> Response {
    let locale = req
        .extensions()
        .get::<RequestLocale>()
        .map(|l| l.0)
        .unwrap_or_default();
    let addr = client_addr(req.extensions());
    let headers: HeaderMap = req.headers().clone();
    let Ok(Form(form)) = Form::<LoginForm>::from_request(req, &state).await else {
        return (StatusCode::BAD_REQUEST, "malformed sign-in form").into_response();
    };
    let tr = crate::auth::translator(&state, locale);
    let next = safe_next(form.next.as_deref());
    // Double-submit check: the form must carry the token this browser got.
    let cookie_token = cookie_value(&headers, LOGIN_CSRF_COOKIE).unwrap_or("");
    if cookie_token.is_empty() || cookie_token != form.csrf {
        return login_page(
            &state,
            locale,
            next,
            form.email,
            Some(tr.t("login.stale").into()),
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    if form.email.len() > 254 || form.password.len() > 1024 {
        return login_page(
            &state,
            locale,
            next,
            String::new(),
            Some(tr.t("login.failed").into()),
            StatusCode::UNAUTHORIZED,
        )
        .await;
    }
    if let Some(wait) = state.limiter.blocked_for(&form.email, addr) {
        let minutes = wait.div_ceil(60).to_string();
        let message = tr.tf("login.locked", &[("minutes", &minutes)]);
        return login_page(
            &state,
            locale,
            next,
            form.email,
            Some(message),
            StatusCode::TOO_MANY_REQUESTS,
        )
        .await;
    }
    let user = match state.store.user_by_email(&form.email).await {
        Ok(u) => u,
        Err(e) => {
            tracing::error!(error = %e, "sign-in lookup failed");
            return (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response();
        }
    };
    state.limiter.record_failure(&form.email, addr);
    let password = form.password.clone();
    let verified = match user.clone() {
        Some(u) if u.active && u.password_hash.is_some() => {
            let hash = u.password_hash.clone().unwrap_or_default();
            tokio::task::spawn_blocking(move || {
                mamori_app::password::verify_password(&hash, &password)
            })
            .await
            .unwrap_or(false)
        }
        _ => {
            let _ =
                tokio::task::spawn_blocking(move || mamori_app::password::verify_dummy(&password))
                    .await;
            false
        }
    };
    let Some(user) = user.filter(|_| verified) else {
        let _ = state
            .store
            .record_audit(
                &state.org_id,
                &Actor::system("sign-in"),
                NewAudit {
                    action: "auth.login_failed",
                    entity_kind: "session",
                    entity_id: None,
                    summary: format!("failed sign-in for {}", form.email.trim()),
                    before: None,
                    after: None,
                },
            )
            .await;
        return login_page(
            &state,
            locale,
            next,
            form.email,
            Some(tr.t("login.failed").into()),
            StatusCode::UNAUTHORIZED,
        )
        .await;
    };
    state.limiter.record_success(&form.email, addr);
    let token = random_token();
    let csrf = random_token();
    let hours = state.config.session_hours;
    let expires = mamori_store::timestamp(chrono::Utc::now() + chrono::Duration::hours(hours));
    if let Err(e) = state
        .store
        .create_session(&hash_token(&token), &user.id, &csrf, &expires)
        .await
    {
        tracing::error!(error = %e, "session creation failed");
        return (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response();
    }
    let _ = state
        .store
        .record_audit(
            &user.org_id,
            &Actor {
                user_id: Some(user.id.clone()),
                label: user.email.clone(),
            },
            NewAudit {
                action: "auth.login",
                entity_kind: "session",
                entity_id: None,
                summary: format!("{} signed in", user.email),
                before: None,
                after: None,
            },
        )
        .await;
    let mut response = Redirect::to(&next).into_response();
    let headers = response.headers_mut();
    if let Ok(v) = set_cookie(
        SESSION_COOKIE,
        &token,
        hours * 3600,
        state.config.secure_cookies,
        true,
    )
    .parse()
    {
        headers.append(header::SET_COOKIE, v);
    }
    if let Ok(v) = set_cookie(LOGIN_CSRF_COOKIE, "", 0, state.config.secure_cookies, true).parse() {
        headers.append(header::SET_COOKIE, v);
    }
    response
}

pub async fn logout(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
) -> Response {
    if let AuthVia::Session { token_hash, .. } = &user.via {
        if let Err(e) = state.store.delete_session(token_hash).await {
            tracing::error!(error = %e, "sign-out failed");
        }
    }
    let mut response = Redirect::to("/login").into_response();
    if let Ok(v) = set_cookie(SESSION_COOKIE, "", 0, state.config.secure_cookies, true).parse() {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

pub async fn set_language(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<NextQuery>,
) -> Response {
    let locale = Locale::parse(&code).unwrap_or_default();
    let mut response = Redirect::to(&safe_next(q.next.as_deref())).into_response();
    if let Ok(v) = set_cookie(
        LANG_COOKIE,
        locale.code(),
        365 * 24 * 3600,
        state.config.secure_cookies,
        false,
    )
    .parse()
    {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}
