//! One error type for every handler. 4xx carry a message people can act on;
//! 5xx are logged in full and shown as a generic message.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use mamori_app::AppError;
use mamori_store::StoreError;

#[derive(Debug)]
pub enum WebError {
    BadRequest(String),
    Unprocessable(String, Vec<mamori_domain::FieldError>),
    NotFound,
    /// Signed in, allowed on the route, but the policy refuses the decision.
    Forbidden(String),
    Conflict(String),
    /// The customer's key manager refused or could not be reached: the
    /// protected data cannot be shown (the kill switch, or an outage).
    KeyUnavailable(String),
    /// The data was crypto-shredded and is gone for good.
    Gone(String),
    Internal(String),
}

pub type WebResult<T> = Result<T, WebError>;

impl WebError {
    pub fn status(&self) -> StatusCode {
        match self {
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::Unprocessable(..) => StatusCode::UNPROCESSABLE_ENTITY,
            WebError::NotFound => StatusCode::NOT_FOUND,
            WebError::Forbidden(_) => StatusCode::FORBIDDEN,
            WebError::Conflict(_) => StatusCode::CONFLICT,
            WebError::KeyUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            WebError::Gone(_) => StatusCode::GONE,
            WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn public_message(&self) -> String {
        match self {
            WebError::BadRequest(m)
            | WebError::Conflict(m)
            | WebError::KeyUnavailable(m)
            | WebError::Gone(m)
            | WebError::Forbidden(m)
            | WebError::Unprocessable(m, _) => m.clone(),
            WebError::NotFound => "not found".into(),
            WebError::Internal(_) => "internal error; the details are in the server log".into(),
        }
    }
}

impl From<StoreError> for WebError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(_) => WebError::NotFound,
            StoreError::Conflict(m) => WebError::Conflict(m),
            e @ (StoreError::PolicyChanged(_) | StoreError::StaleRetier) => {
                WebError::Conflict(e.to_string())
            }
            other => WebError::Internal(other.to_string()),
        }
    }
}

impl From<AppError> for WebError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Store(s) => s.into(),
            AppError::Invalid(fields) => WebError::Unprocessable(
                fields
                    .iter()
                    .map(|f| f.to_string())
                    .collect::<Vec<_>>()
                    .join("; "),
                fields,
            ),
            AppError::Inventory(e) => WebError::BadRequest(e.to_string()),
            AppError::RowsRejected(rows) => WebError::Unprocessable(
                format!(
                    "the import was rejected; nothing was changed: {}",
                    rows.iter()
                        .take(20)
                        .map(|r| r.to_string())
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
                Vec::new(),
            ),
            AppError::Policy(p) => WebError::Unprocessable(p.to_string(), Vec::new()),
            AppError::Password(m) => WebError::BadRequest(m),
            AppError::Export(m) => WebError::Internal(m),
            AppError::Template(m) => WebError::BadRequest(m),
            AppError::Risk(m) => WebError::BadRequest(m),
            AppError::RiskRejected(p) => WebError::Unprocessable(p.join("; "), Vec::new()),
            AppError::Refused(m) => WebError::Forbidden(format!("refused: {m}")),
            AppError::KeyUnavailable(m) => WebError::KeyUnavailable(m),
            AppError::Gone(m) => WebError::Gone(m),
            AppError::AnswersRejected(problems) => WebError::Unprocessable(
                format!(
                    "the answers were rejected; nothing was changed: {}",
                    problems
                        .iter()
                        .take(20)
                        .cloned()
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
                Vec::new(),
            ),
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        if let WebError::Internal(detail) = &self {
            tracing::error!(%detail, "request failed");
        }
        let body = serde_json::json!({
            "error": self.public_message(),
            "fields": match &self { WebError::Unprocessable(_, f) => serde_json::to_value(f).unwrap_or_default(), _ => serde_json::Value::Null },
        });
        (self.status(), axum::Json(body)).into_response()
    }
}
