//! Import page: upload, background import with progress, template download.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use mamori_app::vendors::{import_file, ImportOptions, Upload};
use mamori_app::AppError;
use mamori_store::ImportProgress;

use super::{error_page, render, Chrome};
use crate::auth::{CurrentUser, RequestLocale};
use crate::error::WebError;
use crate::imports::ImportState;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "import.html")]
pub struct ImportPage {
    pub chrome: Chrome,
}

pub async fn form(
    State(state): State<AppState>,
    Extension(RequestLocale(locale)): Extension<RequestLocale>,
    Extension(user): Extension<CurrentUser>,
) -> Response {
    let chrome = Chrome::new(&state, Some(&user), locale, "import").await;
    render(&ImportPage { chrome })
}

pub async fn submit(
    State(state): State<AppState>,
    Extension(RequestLocale(locale)): Extension<RequestLocale>,
    Extension(user): Extension<CurrentUser>,
    mut multipart: Multipart,
) -> Response {
    let mut file: Option<(String, Vec<u8>)> = None;
    let mut options = ImportOptions::default();
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or("").to_string();
                match name.as_str() {
                    "file" => {
                        let file_name = field.file_name().unwrap_or("upload").to_string();
                        match field.bytes().await {
                            Ok(bytes) => file = Some((file_name, bytes.to_vec())),
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
                    "skip_invalid" => options.skip_invalid = true,
                    "dry_run" => options.dry_run = true,
                    _ => {}
                }
            }
            Ok(None) => break,
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
    let Some((file_name, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        let tr = crate::auth::translator(&state, locale);
        return error_page(
            &state,
            Some(&user),
            locale,
            WebError::BadRequest(tr.t("import.no_file").into()),
        )
        .await;
    };
    let job_id = mamori_store::new_id();
    state.imports.start(&job_id, &user.user.id, &file_name);
    let policy = state.policy().await;
    let jobs = state.imports.clone();
    let store = state.store.clone();
    let org_id = state.org_id.clone();
    let actor = user.actor();
    let id = job_id.clone();
    tokio::spawn(async move {
        let progress_jobs = Arc::clone(&jobs);
        let progress_id = id.clone();
        let progress = move |p: ImportProgress| {
            progress_jobs.update(
                &progress_id,
                ImportState::Running {
                    done: p.done,
                    total: p.total,
                },
            );
        };
        let result = import_file(
            &store,
            &org_id,
            &policy,
            Upload {
                file_name: &file_name,
                bytes: &bytes,
                options,
            },
            &actor,
            &progress,
        )
        .await;
        let state = match result {
            Ok(report) => ImportState::Finished(report),
            Err(AppError::RowsRejected(rows)) => ImportState::Failed {
                message: format!("{} row error(s); nothing was changed", rows.len()),
                rows: rows.iter().map(|r| r.to_string()).collect(),
            },
            Err(e) => ImportState::Failed {
                message: e.to_string(),
                rows: Vec::new(),
            },
        };
        jobs.update(&id, state);
    });
    Redirect::to(&format!("/imports/{job_id}")).into_response()
}

#[derive(Template)]
#[template(path = "import_status.html")]
pub struct ImportStatusPage {
    pub chrome: Chrome,
    pub file_name: String,
    pub running: bool,
    pub percent: u32,
    pub progress_text: String,
    pub failed: Option<String>,
    pub errors: Vec<String>,
    pub more_errors: usize,
    pub summary: Option<String>,
}

/// Rows of errors shown on the page; the rest are counted.
const SHOWN_ERRORS: usize = 200;

pub async fn status(
    State(state): State<AppState>,
    Extension(RequestLocale(locale)): Extension<RequestLocale>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<String>,
) -> Response {
    let Some(job) = state.imports.get(&id).filter(|j| j.user_id == user.user.id) else {
        return error_page(&state, Some(&user), locale, WebError::NotFound).await;
    };
    let chrome = Chrome::new(&state, Some(&user), locale, "import").await;
    let tr = chrome.tr.clone();
    let mut page = ImportStatusPage {
        file_name: job.file_name.clone(),
        running: false,
        percent: 100,
        progress_text: String::new(),
        failed: None,
        errors: Vec::new(),
        more_errors: 0,
        summary: None,
        chrome,
    };
    match job.state {
        ImportState::Running { done, total } => {
            page.running = true;
            page.percent = (done * 100).checked_div(total).unwrap_or(0) as u32;
            page.progress_text = tr.tf(
                "import.progress",
                &[
                    ("done", &tr.number(done as i64)),
                    ("total", &tr.number(total as i64)),
                ],
            );
        }
        ImportState::Failed { message, rows } => {
            page.failed = Some(message);
            page.more_errors = rows.len().saturating_sub(SHOWN_ERRORS);
            page.errors = rows.into_iter().take(SHOWN_ERRORS).collect();
        }
        ImportState::Finished(report) => {
            page.more_errors = report.errors.len().saturating_sub(SHOWN_ERRORS);
            page.errors = report
                .errors
                .iter()
                .take(SHOWN_ERRORS)
                .map(|e| e.to_string())
                .collect();
            page.summary = Some(match &report.outcome {
                Some(o) => tr.tf(
                    "import.done",
                    &[
                        ("created", &tr.number(o.created as i64)),
                        ("updated", &tr.number(o.updated as i64)),
                        ("unchanged", &tr.number(o.unchanged as i64)),
                        ("skipped", &tr.number(report.errors.len() as i64)),
                    ],
                ),
                None => tr.tf(
                    "import.dry_run_done",
                    &[
                        ("valid", &tr.number(report.valid_rows as i64)),
                        ("errors", &tr.number(report.errors.len() as i64)),
                    ],
                ),
            });
        }
    }
    render(&page)
}

pub async fn template(Path(format): Path<String>) -> Response {
    match format.as_str() {
        "csv" => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"mamori-vendor-template.csv\"",
                ),
            ],
            mamori_formats::inventory::template_csv(),
        )
            .into_response(),
        "xlsx" => match mamori_formats::inventory::template_xlsx() {
            Ok(bytes) => (
                [
                    (
                        header::CONTENT_TYPE,
                        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    ),
                    (
                        header::CONTENT_DISPOSITION,
                        "attachment; filename=\"mamori-vendor-template.xlsx\"",
                    ),
                ],
                bytes,
            )
                .into_response(),
            Err(e) => {
                tracing::error!(error = %e, "template failed");
                StatusCode::INTERNAL_SERVER_ERROR.into_response()
            }
        },
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}
