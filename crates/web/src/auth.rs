//! Who is asking (session cookie or API token), whether they may (the route's
//! declared permission), and CSRF for browser writes.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use mamori_domain::{Permission, Role};
use mamori_store::{Actor, UserRecord, VendorScope};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::i18n::{Locale, Tr};
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "mamori_session";
pub const LOGIN_CSRF_COOKIE: &str = "mamori_login_csrf";
pub const LANG_COOKIE: &str = "mamori_lang";
pub const CSRF_FIELD: &str = "csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";
const MAX_FORM_BYTES: usize = 4 * 1024 * 1024;

/// How the caller proved who they are.
#[derive(Debug, Clone)]
pub enum AuthVia {
    Session { token_hash: String, csrf: String },
    ApiToken,
}

/// The signed-in person, put into request extensions by `authenticate`.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub user: UserRecord,
    pub via: AuthVia,
}

impl CurrentUser {
    pub fn role(&self) -> Role {
        self.user.role
    }

    pub fn actor(&self) -> Actor {
        Actor {
            user_id: Some(self.user.id.clone()),
            label: self.user.email.clone(),
        }
    }

    pub fn vendor_scope(&self) -> VendorScope {
        if self.user.role.sees_only_own_vendors() {
            VendorScope::OwnedBy(self.user.email.clone())
        } else {
            VendorScope::All
        }
    }

    pub fn csrf(&self) -> &str {
        match &self.via {
            AuthVia::Session { csrf, .. } => csrf,
            AuthVia::ApiToken => "",
        }
    }

    pub fn can(&self, permission: Permission) -> bool {
        self.user.role.allows(permission)
    }
}

/// Locale for this request: user setting, then cookie, then Accept-Language.
#[derive(Debug, Clone, Copy)]
pub struct RequestLocale(pub Locale);

pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

pub fn set_cookie(
    name: &str,
    value: &str,
    max_age_secs: i64,
    secure: bool,
    http_only: bool,
) -> String {
    format!(
        "{name}={value}; Path=/; Max-Age={max_age_secs}; SameSite=Strict{}{}",
        if http_only { "; HttpOnly" } else { "" },
        if secure { "; Secure" } else { "" }
    )
}

/// Resolves the caller once per request, for every route.
pub async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let mut current = None;
    if let Some(token) = cookie_value(req.headers(), SESSION_COOKIE) {
        let token_hash = hash_token(token);
        match state.store.session_user(&token_hash).await {
            Ok(Some((session, user))) => {
                current = Some(CurrentUser {
                    user,
                    via: AuthVia::Session {
                        token_hash,
                        csrf: session.csrf_token,
                    },
                })
            }
            Ok(None) => {}
            Err(e) => tracing::error!(error = %e, "session lookup failed"),
        }
    }
    if current.is_none() {
        let bearer = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        if let Some(token) = bearer {
            match state.store.api_token_user(&hash_token(token)).await {
                Ok(Some(user)) => {
                    current = Some(CurrentUser {
                        user,
                        via: AuthVia::ApiToken,
                    })
                }
                Ok(None) => {}
                Err(e) => tracing::error!(error = %e, "token lookup failed"),
            }
        }
    }
    let locale = current
        .as_ref()
        .and_then(|c| c.user.locale.as_deref())
        .and_then(Locale::parse)
        .or_else(|| cookie_value(req.headers(), LANG_COOKIE).and_then(Locale::parse))
        .or_else(|| {
            req.headers()
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Locale::from_accept_language)
        })
        .unwrap_or_default();
    req.extensions_mut().insert(RequestLocale(locale));
    // One organisation per instance: a user of another organisation (on a
    // shared PostgreSQL) is a stranger here.
    if let Some(current) = current.filter(|c| c.user.org_id == state.org_id) {
        req.extensions_mut().insert(current);
    }
    let mut response = next.run(req).await;
    add_security_headers(response.headers_mut());
    response
}

fn add_security_headers(headers: &mut HeaderMap) {
    let pairs = [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "same-origin"),
    ];
    for (name, value) in pairs {
        if let Ok(v) = value.parse() {
            headers.entry(name).or_insert(v);
        }
    }
}

pub fn is_api_path(path: &str) -> bool {
    path.starts_with("/api/")
}

/// The per-route gate: refuses unless the caller holds `permission`; checks
/// the CSRF token of browser writes.
pub async fn authorize(permission: Permission, req: Request, next: Next) -> Response {
    if matches!(permission, Permission::Public | Permission::PortalLink) {
        return next.run(req).await;
    }
    let path = req.uri().path().to_string();
    let api = is_api_path(&path);
    let Some(current) = req.extensions().get::<CurrentUser>().cloned() else {
        if api {
            return json_refusal(StatusCode::UNAUTHORIZED, "sign in or send an API token");
        }
        let next_path = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".into());
        let target = format!("/login?next={}", urlencode(&next_path));
        return Redirect::to(&target).into_response();
    };
    if !current.can(permission) {
        tracing::info!(user = %current.user.email, %permission, %path, "refused: missing permission");
        if api {
            return json_refusal(StatusCode::FORBIDDEN, "your role does not allow this");
        }
        let locale = req
            .extensions()
            .get::<RequestLocale>()
            .map(|l| l.0)
            .unwrap_or_default();
        return crate::pages::forbidden_page(locale);
    }
    let writes = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    match (&current.via, writes) {
        (AuthVia::Session { csrf, .. }, true) => match check_csrf(req, csrf).await {
            Ok(req) => next.run(req).await,
            Err(response) => response,
        },
        _ => next.run(req).await,
    }
}

fn json_refusal(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(serde_json::json!({ "error": message }))).into_response()
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// Accepts the token from the `X-CSRF-Token` header, the `csrf` field of a
/// URL-encoded form, or (for multipart uploads, whose body we do not buffer
/// here) the `csrf` query parameter.
async fn check_csrf(req: Request, expected: &str) -> Result<Request, Response> {
    let refuse = || {
        (
            StatusCode::FORBIDDEN,
            "the form was stale or did not come from Mamori (CSRF check failed); reload the page and try again",
        )
            .into_response()
    };
    if let Some(given) = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()) {
        return if constant_time_eq(given, expected) {
            Ok(req)
        } else {
            Err(refuse())
        };
    }
    if let Some(query) = req.uri().query() {
        if let Some(given) = form_field(query.as_bytes(), CSRF_FIELD) {
            return if constant_time_eq(&given, expected) {
                Ok(req)
            } else {
                Err(refuse())
            };
        }
    }
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(refuse());
    }
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
        .await
        .map_err(|_| (StatusCode::PAYLOAD_TOO_LARGE, "form too large").into_response())?;
    match form_field(&bytes, CSRF_FIELD) {
        Some(given) if constant_time_eq(&given, expected) => {
            Ok(Request::from_parts(parts, Body::from(bytes)))
        }
        _ => Err(refuse()),
    }
}

pub fn form_field(body: &[u8], name: &str) -> Option<String> {
    form_urlencoded::parse(body)
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

pub fn urlencode(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for b in raw.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Counts failed sign-ins per e-mail and per client address in a sliding
/// window; too many and sign-in is refused for a while.
#[derive(Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

pub const LOGIN_WINDOW: Duration = Duration::from_secs(15 * 60);
pub const MAX_FAILURES_PER_EMAIL: usize = 5;
pub const MAX_FAILURES_PER_ADDRESS: usize = 20;
/// Bounds the limiter's memory; older entries are pruned past this.
const MAX_TRACKED_KEYS: usize = 10_000;

impl LoginLimiter {
    fn keys(email: &str, addr: Option<SocketAddr>) -> [(String, usize); 2] {
        [
            (
                format!("email:{}", email.trim().to_lowercase()),
                MAX_FAILURES_PER_EMAIL,
            ),
            (
                format!(
                    "addr:{}",
                    addr.map(|a| a.ip().to_string()).unwrap_or_default()
                ),
                MAX_FAILURES_PER_ADDRESS,
            ),
        ]
    }

    /// Seconds to wait, when blocked.
    pub fn blocked_for(&self, email: &str, addr: Option<SocketAddr>) -> Option<u64> {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        for (key, limit) in Self::keys(email, addr) {
            if let Some(list) = map.get_mut(&key) {
                while list
                    .front()
                    .is_some_and(|t| now.duration_since(*t) > LOGIN_WINDOW)
                {
                    list.pop_front();
                }
                if list.len() >= limit {
                    let oldest = list.front().copied().unwrap_or(now);
                    return Some(
                        LOGIN_WINDOW
                            .saturating_sub(now.duration_since(oldest))
                            .as_secs()
                            .max(1),
                    );
                }
            }
        }
        None
    }

    /// Counts an attempt *before* the password is checked, so parallel
    /// guesses cannot all slip past the limit; a success clears it.
    pub fn record_failure(&self, email: &str, addr: Option<SocketAddr>) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > MAX_TRACKED_KEYS {
            let now = Instant::now();
            map.retain(|_, list| {
                list.back()
                    .is_some_and(|t| now.duration_since(*t) <= LOGIN_WINDOW)
            });
        }
        for (key, _) in Self::keys(email, addr) {
            map.entry(key).or_default().push_back(Instant::now());
        }
    }

    pub fn record_success(&self, email: &str, addr: Option<SocketAddr>) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        for (key, _) in Self::keys(email, addr) {
            if let Some(list) = map.get_mut(&key) {
                list.pop_back();
            }
        }
    }
}

pub fn client_addr(req_extensions: &axum::http::Extensions) -> Option<SocketAddr> {
    req_extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0)
}

/// Builds a translator for the request's locale.
pub fn translator(state: &AppState, locale: Locale) -> Tr {
    Tr::new(state.catalog.clone(), locale)
}
