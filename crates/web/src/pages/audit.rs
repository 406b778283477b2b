use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::Extension;
use mamori_store::AuditEntry;
use serde::Deserialize;

use super::{error_page, render, Chrome};
use crate::auth::{CurrentUser, RequestLocale};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "audit.html")]
pub struct AuditPageView {
    pub chrome: Chrome,
    pub entries: Vec<(String, AuditEntry, String, String)>,
    pub total: String,
    pub page: u32,
    pub pages: u32,
    pub prev_href: String,
    pub next_href: String,
}

#[derive(Deserialize)]
pub struct AuditParams {
    pub page: Option<u32>,
}

pub async fn list(
    State(state): State<AppState>,
    Extension(RequestLocale(locale)): Extension<RequestLocale>,
    Extension(user): Extension<CurrentUser>,
    Query(params): Query<AuditParams>,
) -> Response {
    let page_no = params.page.unwrap_or(1).max(1);
    let page = match state
        .store
        .audit_page(&state.org_id, None, page_no, 100)
        .await
    {
        Ok(p) => p,
        Err(e) => return error_page(&state, Some(&user), locale, e.into()).await,
    };
    let chrome = Chrome::new(&state, Some(&user), locale, "audit").await;
    let pages = u32::try_from((page.total + 99) / 100).unwrap_or(1).max(1);
    let pretty = |v: &Option<serde_json::Value>| {
        v.as_ref()
            .map(|v| serde_json::to_string_pretty(v).unwrap_or_default())
            .unwrap_or_default()
    };
    let view = AuditPageView {
        entries: page
            .entries
            .iter()
            .map(|e| {
                (
                    chrome.tr.datetime(&e.at),
                    e.clone(),
                    pretty(&e.before),
                    pretty(&e.after),
                )
            })
            .collect(),
        total: chrome.tr.number(page.total),
        page: page_no,
        pages,
        prev_href: if page_no > 1 {
            format!("/audit?page={}", page_no - 1)
        } else {
            String::new()
        },
        next_href: if page_no < pages {
            format!("/audit?page={}", page_no + 1)
        } else {
            String::new()
        },
        chrome,
    };
    render(&view)
}
