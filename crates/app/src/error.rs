use mamori_domain::{FieldError, PolicyError};
use mamori_formats::inventory::{InventoryError, RowError};
use mamori_store::StoreError;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum AppError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Inventory(#[from] InventoryError),
    #[error("the import was rejected: {} row error(s); nothing was changed", .0.len())]
    RowsRejected(Vec<RowError>),
    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    #[error(transparent)]
    Policy(#[from] PolicyError),
    #[error("{0}")]
    Export(String),
    #[error("{0}")]
    Password(String),
    /// A questionnaire, assessment, answer or evidence problem to show as is.
    #[error("{0}")]
    Template(String),
    /// A risk, acceptance, remediation or contract problem to show as is.
    #[error("{0}")]
    Risk(String),
    #[error("{}", .0.join("; "))]
    RiskRejected(Vec<String>),
    /// The policy refuses this person the decision (e.g. a risk acceptance).
    #[error("refused: {0}")]
    Refused(String),
    /// Protected data that the customer's key manager will not release
    /// (revoked or destroyed KEK) or cannot (unreachable).
    #[error("{0}")]
    KeyUnavailable(String),
    /// The vendor's data was crypto-shredded: nothing is added to it.
    #[error("{0}")]
    Gone(String),
    #[error("the answers were rejected ({} problem(s)); nothing was changed: {}", .0.len(), .0.join("; "))]
    AnswersRejected(Vec<String>),
}
