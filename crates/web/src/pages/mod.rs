//! Server-rendered pages. Each handler builds a template struct; askama
//! escapes every value, so no HTML is ever assembled by hand.

pub mod account;
pub mod admin;
pub mod assessments;
pub mod audit;
pub mod dashboard;
pub mod import;
pub mod policy;
pub mod portal;
pub mod risks;
pub mod session;
pub mod vendor_form;
pub mod vendors;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Extension;
use mamori_domain::Permission;

use crate::auth::{CurrentUser, RequestLocale};
use crate::error::WebError;
use crate::i18n::{Catalog, Locale, Tr};
use crate::state::AppState;

/// What every page's frame needs: translator, who is signed in, CSRF token,
/// which menu entries to show.
pub struct Chrome {
    pub tr: Tr,
    pub signed_in: bool,
    pub user_name: String,
    pub user_role: String,
    pub csrf: String,
    pub active: &'static str,
    pub org_name: String,
    pub can_dashboard: bool,
    pub can_vendors: bool,
    pub can_write: bool,
    pub can_import: bool,
    pub can_export: bool,
    pub can_policy: bool,
    pub can_manage_policy: bool,
    pub can_audit: bool,
    pub can_users: bool,
    pub can_assessments: bool,
    pub can_manage_assessments: bool,
    pub can_risks: bool,
    pub flash: Option<String>,
}

impl Chrome {
    pub async fn new(
        state: &AppState,
        user: Option<&CurrentUser>,
        locale: Locale,
        active: &'static str,
    ) -> Chrome {
        let tr = Tr::new(state.catalog.clone(), locale);
        let can = |p: Permission| user.is_some_and(|u| u.can(p));
        let org_name = state.org_name().await;
        Chrome {
            user_role: user
                .map(|u| tr.label("role", u.role().as_str()))
                .unwrap_or_default(),
            tr,
            signed_in: user.is_some(),
            user_name: user
                .map(|u| u.user.display_name.clone())
                .unwrap_or_default(),
            csrf: user.map(|u| u.csrf().to_string()).unwrap_or_default(),
            active,
            org_name,
            can_dashboard: can(Permission::DashboardView),
            can_vendors: can(Permission::VendorRead),
            can_write: can(Permission::VendorWrite),
            can_import: can(Permission::VendorImport),
            can_export: can(Permission::VendorExport),
            can_policy: can(Permission::PolicyRead),
            can_manage_policy: can(Permission::PolicyManage),
            can_audit: can(Permission::AuditRead),
            can_users: can(Permission::UserManage),
            can_assessments: can(Permission::AssessmentRead),
            can_manage_assessments: can(Permission::AssessmentManage),
            can_risks: can(Permission::RiskRead),
            flash: None,
        }
    }

    pub fn t<'a>(&'a self, key: &'a str) -> &'a str {
        self.tr.t(key)
    }
}

/// Renders a template, turning a rendering failure into a 500.
pub fn render<T: Template>(page: &T) -> Response {
    match page.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    pub chrome: Chrome,
    pub title: String,
    pub message: String,
    pub details: Vec<String>,
}

/// An error as a page in the person's language.
pub async fn error_page(
    state: &AppState,
    user: Option<&CurrentUser>,
    locale: Locale,
    err: WebError,
) -> Response {
    if let WebError::Internal(detail) = &err {
        tracing::error!(%detail, "page failed");
    }
    let chrome = Chrome::new(state, user, locale, "").await;
    let title = match err.status() {
        StatusCode::NOT_FOUND => chrome.t("error.not_found").to_string(),
        StatusCode::INTERNAL_SERVER_ERROR => chrome.t("error.internal").to_string(),
        _ => chrome.t("error.problem").to_string(),
    };
    let details = match &err {
        WebError::Unprocessable(_, fields) => fields.iter().map(|f| f.to_string()).collect(),
        _ => Vec::new(),
    };
    let message = match &err {
        WebError::Internal(_) => chrome.t("error.internal_detail").to_string(),
        other => other.public_message(),
    };
    let status = err.status();
    let mut response = render(&MessagePage {
        chrome,
        title,
        message,
        details,
    });
    *response.status_mut() = status;
    response
}

#[derive(Template)]
#[template(path = "forbidden.html")]
struct ForbiddenPage {
    tr: Tr,
}

/// The 403 page (built without a database round trip).
pub fn forbidden_page(locale: Locale) -> Response {
    static CATALOG: std::sync::OnceLock<std::sync::Arc<Catalog>> = std::sync::OnceLock::new();
    let catalog = CATALOG
        .get_or_init(|| std::sync::Arc::new(Catalog::builtin()))
        .clone();
    let mut response = render(&ForbiddenPage {
        tr: Tr::new(catalog, locale),
    });
    *response.status_mut() = StatusCode::FORBIDDEN;
    response
}

pub async fn healthz() -> impl IntoResponse {
    (StatusCode::OK, "ok")
}

pub async fn not_found(
    State(state): State<AppState>,
    Extension(RequestLocale(locale)): Extension<RequestLocale>,
    user: Option<Extension<CurrentUser>>,
    uri: axum::http::Uri,
) -> Response {
    if crate::auth::is_api_path(uri.path()) {
        return WebError::NotFound.into_response();
    }
    error_page(&state, user.as_deref(), locale, WebError::NotFound).await
}

const APP_CSS: &str = include_str!("../../static/app.css");
const APP_JS: &str = include_str!("../../static/app.js");
const PORTAL_JS: &str = include_str!("../../static/portal.js");

pub async fn static_file(Path(file): Path<String>) -> Response {
    let (body, content_type) = match file.as_str() {
        "app.css" => (APP_CSS, "text/css; charset=utf-8"),
        "app.js" => (APP_JS, "text/javascript; charset=utf-8"),
        "portal.js" => (PORTAL_JS, "text/javascript; charset=utf-8"),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

/// Query-string helper for links that keep the current filters.
pub fn query_string(pairs: &[(&str, String)]) -> String {
    let mut out = String::new();
    for (k, v) in pairs {
        if v.is_empty() {
            continue;
        }
        out.push(if out.is_empty() { '?' } else { '&' });
        out.push_str(k);
        out.push('=');
        out.push_str(&crate::auth::urlencode(v));
    }
    out
}
