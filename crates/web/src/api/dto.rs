//! The API's request and response shapes.

use std::collections::BTreeMap;

use mamori_domain::{
    Connectivity, DataAction, DataClass, DataFlow, Deployment, InherentRisk, LifecycleStatus,
    RevenueDependency, RiskCategory, Service, Tenancy, TierReason, VendorDraft, VendorSource,
    VendorType,
};
use mamori_formats::inventory::RowError;
use mamori_store::{ApiTokenRecord, UserRecord, VendorRecord, VendorSummary};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

fn default_deployment() -> Deployment {
    Deployment::NotApplicable
}
fn default_tenancy() -> Tenancy {
    Tenancy::NotApplicable
}
fn default_status() -> LifecycleStatus {
    LifecycleStatus::Candidate
}
fn default_source() -> VendorSource {
    VendorSource::Manual
}
fn default_revenue() -> RevenueDependency {
    RevenueDependency::NoDependency
}

/// A vendor as sent to Mamori. Labels are snake_case strings.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VendorInput {
    pub external_id: Option<String>,
    #[schema(example = "Northwind Imaging Systems, Inc.")]
    pub legal_name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub domains: Vec<String>,
    /// One of: saas, iaas, paas, managed_service, medical_device, clinical_lab, billing_rcm, consulting, other.
    #[schema(value_type = String, example = "saas")]
    pub vendor_type: VendorType,
    #[serde(default = "default_deployment")]
    /// One of: public_cloud, private_cloud, hybrid, on_premises, not_applicable.
    #[schema(value_type = String, example = "public_cloud")]
    pub deployment: Deployment,
    #[serde(default = "default_tenancy")]
    /// One of: single_tenant, multi_tenant, not_applicable.
    #[schema(value_type = String, example = "multi_tenant")]
    pub tenancy: Tenancy,
    #[serde(default = "default_status")]
    /// One of: candidate, onboarding, active, offboarding, terminated.
    #[schema(value_type = String, example = "active")]
    pub status: LifecycleStatus,
    #[serde(default = "default_source")]
    #[schema(value_type = String, example = "manual")]
    pub source: VendorSource,
    #[schema(example = "owner@hospital.example")]
    pub owner_email: String,
    pub owner_name: Option<String>,
    pub notes: Option<String>,
    #[serde(default)]
    pub services: Vec<ServiceInput>,
    #[serde(default)]
    pub data_flows: Vec<DataFlowInput>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceInput {
    pub name: String,
    pub max_tolerable_downtime_hours: Option<u32>,
    #[serde(default)]
    pub business_processes: Vec<String>,
    #[serde(default)]
    pub patient_care_impact: bool,
    pub patients_affected: Option<u64>,
    pub records_affected: Option<u64>,
    #[serde(default = "default_revenue")]
    /// One of: none, low, medium, high.
    #[schema(value_type = String, example = "medium")]
    pub revenue_dependency: RevenueDependency,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DataFlowInput {
    /// One of: phi, personal_data, payment, credentials, deidentified, none.
    #[schema(value_type = String, example = "phi")]
    pub data_class: DataClass,
    #[schema(value_type = Vec<String>, example = json!(["store", "process"]))]
    pub actions: Vec<DataAction>,
    pub record_count: u64,
    #[serde(default)]
    pub locations: Vec<String>,
    #[serde(default)]
    /// One of: network_access, remote_admin, api_integration, none.
    #[schema(value_type = Vec<String>, example = json!(["api_integration"]))]
    pub connectivity: Vec<Connectivity>,
    #[serde(default)]
    pub subprocessors: Vec<String>,
}

impl VendorInput {
    pub fn into_draft(self) -> VendorDraft {
        VendorDraft {
            external_id: self.external_id,
            legal_name: self.legal_name,
            aliases: self.aliases,
            domains: self.domains,
            vendor_type: self.vendor_type,
            deployment: self.deployment,
            tenancy: self.tenancy,
            status: self.status,
            source: self.source,
            owner_email: self.owner_email,
            owner_name: self.owner_name,
            notes: self.notes,
            services: self
                .services
                .into_iter()
                .map(|s| Service {
                    name: s.name,
                    max_tolerable_downtime_hours: s.max_tolerable_downtime_hours,
                    business_processes: s.business_processes,
                    patient_care_impact: s.patient_care_impact,
                    patients_affected: s.patients_affected,
                    records_affected: s.records_affected,
                    revenue_dependency: s.revenue_dependency,
                })
                .collect(),
            data_flows: self
                .data_flows
                .into_iter()
                .map(|f| DataFlow {
                    data_class: f.data_class,
                    actions: f.actions,
                    record_count: f.record_count,
                    locations: f.locations,
                    connectivity: f.connectivity,
                    subprocessors: f.subprocessors,
                })
                .collect(),
        }
    }

    pub fn from_draft(d: &VendorDraft) -> Self {
        VendorInput {
            external_id: d.external_id.clone(),
            legal_name: d.legal_name.clone(),
            aliases: d.aliases.clone(),
            domains: d.domains.clone(),
            vendor_type: d.vendor_type,
            deployment: d.deployment,
            tenancy: d.tenancy,
            status: d.status,
            source: d.source,
            owner_email: d.owner_email.clone(),
            owner_name: d.owner_name.clone(),
            notes: d.notes.clone(),
            services: d
                .services
                .iter()
                .map(|s| ServiceInput {
                    name: s.name.clone(),
                    max_tolerable_downtime_hours: s.max_tolerable_downtime_hours,
                    business_processes: s.business_processes.clone(),
                    patient_care_impact: s.patient_care_impact,
                    patients_affected: s.patients_affected,
                    records_affected: s.records_affected,
                    revenue_dependency: s.revenue_dependency,
                })
                .collect(),
            data_flows: d
                .data_flows
                .iter()
                .map(|f| DataFlowInput {
                    data_class: f.data_class,
                    actions: f.actions.clone(),
                    record_count: f.record_count,
                    locations: f.locations.clone(),
                    connectivity: f.connectivity.clone(),
                    subprocessors: f.subprocessors.clone(),
                })
                .collect(),
        }
    }
}

fn score_map(scores: &mamori_domain::CategoryScores) -> BTreeMap<String, u32> {
    RiskCategory::ALL
        .iter()
        .map(|c| (c.as_str().to_string(), scores.get(*c)))
        .collect()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ContributionOutput {
    pub factor_id: String,
    pub category: String,
    pub points: u32,
    pub reason: String,
}

/// Inherent risk: score 0–100 per category, the tier, and why.
#[derive(Debug, Serialize, ToSchema)]
pub struct RiskOutput {
    pub tier: String,
    pub summary: String,
    pub policy_version: String,
    pub scores: BTreeMap<String, u32>,
    pub tier_reasons: Vec<String>,
    pub contributions: Vec<ContributionOutput>,
}

impl RiskOutput {
    pub fn new(r: &InherentRisk, policy: &mamori_domain::TieringPolicy) -> Self {
        RiskOutput {
            tier: r.tier.as_str().into(),
            summary: r.summary(policy),
            policy_version: r.policy_version.clone(),
            scores: score_map(&r.scores),
            tier_reasons: r
                .tier_reasons
                .iter()
                .map(|t| match t {
                    TierReason::Score {
                        tier,
                        category,
                        score,
                        band_starts_at,
                    } => {
                        format!(
                            "{category} scores {score}, in the {tier} band (from {band_starts_at})"
                        )
                    }
                    TierReason::Floor { tier, floor_id } => {
                        let reason = policy
                            .floor(floor_id)
                            .map_or(floor_id.as_str(), |f| f.reason.as_str());
                        format!("at least {tier}: {reason}")
                    }
                })
                .collect(),
            contributions: r
                .contributions
                .iter()
                .map(|c| ContributionOutput {
                    factor_id: c.factor_id.clone(),
                    category: c.category.as_str().into(),
                    points: c.points,
                    reason: policy
                        .factor(&c.factor_id)
                        .map(|f| f.reason.clone())
                        .unwrap_or_default(),
                })
                .collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VendorOutput {
    pub id: String,
    pub tier: String,
    pub vendor: VendorInput,
    pub risk: RiskOutput,
    pub created_at: String,
    pub updated_at: String,
}

impl VendorOutput {
    pub fn new(r: &VendorRecord, policy: &mamori_domain::TieringPolicy) -> Self {
        VendorOutput {
            id: r.id.clone(),
            tier: r.rating.tier.as_str().into(),
            vendor: VendorInput::from_draft(&r.draft),
            risk: RiskOutput::new(
                &mamori_domain::assess(policy, r.draft.risk_profile()),
                policy,
            ),
            created_at: r.created_at.clone(),
            updated_at: r.updated_at.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VendorSummaryOutput {
    pub id: String,
    pub legal_name: String,
    pub vendor_type: String,
    pub status: String,
    pub owner_email: String,
    pub tier: String,
    pub scores: BTreeMap<String, u32>,
    pub top_score: u32,
    pub data_classes: Vec<String>,
    pub domains: Vec<String>,
    pub policy_version: String,
    pub updated_at: String,
}

impl From<&VendorSummary> for VendorSummaryOutput {
    fn from(v: &VendorSummary) -> Self {
        VendorSummaryOutput {
            id: v.id.clone(),
            legal_name: v.legal_name.clone(),
            vendor_type: v.vendor_type.as_str().into(),
            status: v.status.as_str().into(),
            owner_email: v.owner_email.clone(),
            tier: v.tier.as_str().into(),
            scores: score_map(&v.scores),
            top_score: v.score_max,
            data_classes: v
                .data_classes
                .iter()
                .map(|c| c.as_str().to_string())
                .collect(),
            domains: v.domains.clone(),
            policy_version: v.policy_version.clone(),
            updated_at: v.updated_at.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VendorListOutput {
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
    pub vendors: Vec<VendorSummaryOutput>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportReportOutput {
    pub file_name: String,
    pub rows_read: usize,
    pub valid_rows: usize,
    pub dry_run: bool,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// "row 7, column record_count: …"
    pub errors: Vec<String>,
    pub changed_anything: bool,
}

impl From<&mamori_app::vendors::ImportReport> for ImportReportOutput {
    fn from(r: &mamori_app::vendors::ImportReport) -> Self {
        let o = r.outcome.clone().unwrap_or_default();
        ImportReportOutput {
            file_name: r.file_name.clone(),
            rows_read: r.rows_read,
            valid_rows: r.valid_rows,
            dry_run: r.dry_run,
            created: o.created,
            updated: o.updated,
            unchanged: o.unchanged,
            errors: r.errors.iter().map(|e| e.to_string()).collect(),
            changed_anything: o.created + o.updated > 0,
        }
    }
}

impl ImportReportOutput {
    pub fn rejected(file_name: &str, rows: &[RowError]) -> Self {
        ImportReportOutput {
            file_name: file_name.into(),
            rows_read: 0,
            valid_rows: 0,
            dry_run: false,
            created: 0,
            updated: 0,
            unchanged: 0,
            errors: rows.iter().map(|e| e.to_string()).collect(),
            changed_anything: false,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyOutput {
    pub version: String,
    pub name: String,
    pub toml: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyCheckOutput {
    pub valid: bool,
    pub version: Option<String>,
    pub problems: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyApplyOutput {
    pub version: String,
    pub vendors: usize,
    pub tier_changes: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserOutput {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub role: String,
    pub active: bool,
    pub locale: Option<String>,
}

impl From<&UserRecord> for UserOutput {
    fn from(u: &UserRecord) -> Self {
        UserOutput {
            id: u.id.clone(),
            email: u.email.clone(),
            display_name: u.display_name.clone(),
            role: u.role.as_str().into(),
            active: u.active,
            locale: u.locale.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeOutput {
    pub user: UserOutput,
    pub permissions: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewUserInput {
    pub email: String,
    pub display_name: Option<String>,
    #[schema(example = "risk_manager")]
    pub role: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenOutput {
    pub id: String,
    pub name: String,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
    pub last_used_at: Option<String>,
}

impl From<&ApiTokenRecord> for TokenOutput {
    fn from(t: &ApiTokenRecord) -> Self {
        TokenOutput {
            id: t.id.clone(),
            name: t.name.clone(),
            created_at: t.created_at.clone(),
            expires_at: t.expires_at.clone(),
            revoked_at: t.revoked_at.clone(),
            last_used_at: t.last_used_at.clone(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewTokenInput {
    pub name: String,
    /// Days until it expires; none = no expiry.
    pub days: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NewTokenOutput {
    pub token: String,
    pub details: TokenOutput,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DashboardOutput {
    pub total: i64,
    pub by_tier: BTreeMap<String, i64>,
    pub by_status: BTreeMap<String, i64>,
    /// category → tier band → vendors
    pub categories: BTreeMap<String, BTreeMap<String, i64>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorOutput {
    pub error: String,
}
