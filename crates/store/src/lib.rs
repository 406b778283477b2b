//! Mamori's persistence: one concrete `Store` over SQLite (embedded default)
//! or PostgreSQL (production), chosen by the database URL.
//!
//! Invariant: this crate knows SQL and nothing about HTTP or file formats. SQL
//! is written once in the dialect both backends accept (`$1` binds, text
//! timestamps, `BIGINT`), and `on_pool!` compiles each query body once per
//! backend so there is no `Any` driver and no generic plumbing at the crate
//! boundary. Every write that changes what people see also writes its audit
//! record in the same transaction.

mod assessment;
mod audit;
pub mod blob;
mod connect;
mod contract;
mod error;
mod policy;
mod remediation;
mod risk;
pub mod sealed_fields;
mod session;
pub mod test_support;
mod user;
mod vendor;

pub use assessment::{
    AssessmentCounts, AssessmentRecord, EvidenceRecord, FindingDecision, FindingRecord,
    FrameworkSummary, NewEvidence, NewFinding, PortalAccess, PortalLinkRecord, ScoreSummary,
    StoredAnswer, TemplateRecord, VendorAssessmentState,
};
pub use audit::{AuditEntry, AuditPage, NewAudit};
pub use connect::{Backend, Store};
pub use contract::{
    ClauseRecord, ClauseUpdate, ContractGap, ContractRecord, ContractServiceOption, NewContract,
};
pub use error::StoreError;
pub use policy::StoredPolicy;
pub use remediation::{
    NewRemediationItem, OverdueItem, RemediationAccess, RemediationItemRecord,
    RemediationLinkRecord, RemediationRequestRecord, RemediationResponse,
};
pub use risk::{
    AcceptanceRecord, HeatCell, NewAcceptance, NewRisk, RiskCounts, RiskEvent, RiskPage, RiskQuery,
    RiskRecord, RiskSort, RiskUpdate, ThresholdChange, ThresholdGroup, ThresholdGroupChange,
    ThresholdInput,
};
pub use session::{ApiTokenRecord, SessionRecord};
pub use user::{NewUser, UserRecord};
pub use vendor::{
    content_hash, DashboardCounts, ImportOutcome, ImportProgress, RetierOutcome, SortKey,
    TierChange, VendorListQuery, VendorPage, VendorRecord, VendorScope, VendorSummary,
    VENDORS_DASHBOARD_INDEX,
};

/// Who did something, for the audit log.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Option<String>,
    pub label: String,
}

impl Actor {
    pub fn system(label: &str) -> Self {
        Self {
            user_id: None,
            label: label.to_string(),
        }
    }
}

/// The single timestamp format both backends store: UTC, microseconds, `Z`.
pub fn timestamp(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

pub fn now() -> String {
    timestamp(chrono::Utc::now())
}

/// Time-ordered UUIDs (v7): new rows land at the end of the primary-key
/// index instead of at random pages, which keeps bulk imports fast.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Runs `$body` with `$pool` bound to the concrete pool of the backend in use.
/// The body is compiled once for each backend.
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.pool {
            $crate::connect::Pool::Sqlite($pool) => $body,
            $crate::connect::Pool::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_pool;
