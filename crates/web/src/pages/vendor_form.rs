//! The vendor form: raw text fields so a rejected submission comes back
//! exactly as typed, with each problem named.

use mamori_domain::{
    Connectivity, DataAction, DataClass, DataFlow, Deployment, FieldError, LifecycleStatus,
    RevenueDependency, Service, Tenancy, VendorDraft, VendorSource, VendorType,
};

use crate::i18n::Tr;

/// One `<option>` or checkbox.
pub struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

pub fn options(tr: &Tr, kind: &str, values: &[&str], current: &str) -> Vec<Opt> {
    values
        .iter()
        .map(|v| Opt {
            value: v.to_string(),
            label: tr.label(kind, v),
            selected: *v == current,
        })
        .collect()
}

#[derive(Default, Clone)]
pub struct ServiceForm {
    pub name: String,
    pub mtd: String,
    pub processes: String,
    pub patient_care: bool,
    pub patients: String,
    pub records: String,
    pub revenue: String,
}

#[derive(Default, Clone)]
pub struct FlowForm {
    pub class: String,
    pub store: bool,
    pub process: bool,
    pub transmit: bool,
    pub records: String,
    pub locations: String,
    pub conn: Vec<String>,
    pub subs: String,
}

#[derive(Default, Clone)]
pub struct VendorForm {
    pub legal_name: String,
    pub external_id: String,
    pub aliases: String,
    pub domains: String,
    pub vendor_type: String,
    pub deployment: String,
    pub tenancy: String,
    pub status: String,
    pub source: String,
    pub owner_email: String,
    pub owner_name: String,
    pub notes: String,
    pub services: Vec<ServiceForm>,
    pub flows: Vec<FlowForm>,
}

/// Rows offered beyond the filled ones, so a service or flow can be added
/// without JavaScript.
const SPARE_ROWS: usize = 2;
const MAX_ROWS: usize = mamori_domain::MAX_LIST_ITEMS;

fn join(list: &[String]) -> String {
    list.join(", ")
}

fn split_list(raw: &str) -> Vec<String> {
    raw.split([',', ';', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

impl VendorForm {
    pub fn blank(owner_email: &str, owner_name: &str) -> Self {
        let mut form = VendorForm {
            vendor_type: VendorType::Saas.as_str().into(),
            deployment: Deployment::PublicCloud.as_str().into(),
            tenancy: Tenancy::MultiTenant.as_str().into(),
            status: LifecycleStatus::Candidate.as_str().into(),
            source: VendorSource::Manual.as_str().into(),
            owner_email: owner_email.into(),
            owner_name: owner_name.into(),
            ..Default::default()
        };
        form.pad();
        form
    }

    pub fn from_draft(d: &VendorDraft) -> Self {
        let mut form = VendorForm {
            legal_name: d.legal_name.clone(),
            external_id: d.external_id.clone().unwrap_or_default(),
            aliases: join(&d.aliases),
            domains: join(&d.domains),
            vendor_type: d.vendor_type.as_str().into(),
            deployment: d.deployment.as_str().into(),
            tenancy: d.tenancy.as_str().into(),
            status: d.status.as_str().into(),
            source: d.source.as_str().into(),
            owner_email: d.owner_email.clone(),
            owner_name: d.owner_name.clone().unwrap_or_default(),
            notes: d.notes.clone().unwrap_or_default(),
            services: d
                .services
                .iter()
                .map(|s| ServiceForm {
                    name: s.name.clone(),
                    mtd: s
                        .max_tolerable_downtime_hours
                        .map(|h| h.to_string())
                        .unwrap_or_default(),
                    processes: join(&s.business_processes),
                    patient_care: s.patient_care_impact,
                    patients: s
                        .patients_affected
                        .map(|n| n.to_string())
                        .unwrap_or_default(),
                    records: s
                        .records_affected
                        .map(|n| n.to_string())
                        .unwrap_or_default(),
                    revenue: s.revenue_dependency.as_str().into(),
                })
                .collect(),
            flows: d
                .data_flows
                .iter()
                .map(|f| FlowForm {
                    class: f.data_class.as_str().into(),
                    store: f.actions.contains(&DataAction::Store),
                    process: f.actions.contains(&DataAction::Process),
                    transmit: f.actions.contains(&DataAction::Transmit),
                    records: f.record_count.to_string(),
                    locations: join(&f.locations),
                    conn: f
                        .connectivity
                        .iter()
                        .map(|c| c.as_str().to_string())
                        .collect(),
                    subs: join(&f.subprocessors),
                })
                .collect(),
        };
        form.pad();
        form
    }

    pub fn pad(&mut self) {
        for _ in 0..SPARE_ROWS {
            if self.services.len() < MAX_ROWS {
                self.services.push(ServiceForm {
                    revenue: "none".into(),
                    ..Default::default()
                });
            }
            if self.flows.len() < MAX_ROWS {
                self.flows.push(FlowForm::default());
            }
        }
    }

    /// Reads submitted `name=value` pairs; unknown names are ignored.
    pub fn from_pairs(pairs: &[(String, String)]) -> Self {
        let mut form = VendorForm::default();
        let mut services: Vec<ServiceForm> = vec![ServiceForm::default(); MAX_ROWS];
        let mut flows: Vec<FlowForm> = vec![FlowForm::default(); MAX_ROWS];
        for (key, value) in pairs {
            let v = value.clone();
            match key.as_str() {
                "legal_name" => form.legal_name = v,
                "external_id" => form.external_id = v,
                "aliases" => form.aliases = v,
                "domains" => form.domains = v,
                "vendor_type" => form.vendor_type = v,
                "deployment" => form.deployment = v,
                "tenancy" => form.tenancy = v,
                "status" => form.status = v,
                "source" => form.source = v,
                "owner_email" => form.owner_email = v,
                "owner_name" => form.owner_name = v,
                "notes" => form.notes = v,
                other => {
                    let mut parts = other.splitn(3, '_');
                    let (Some(kind), Some(index), Some(field)) =
                        (parts.next(), parts.next(), parts.next())
                    else {
                        continue;
                    };
                    let Ok(i) = index.parse::<usize>() else {
                        continue;
                    };
                    if i >= MAX_ROWS {
                        continue;
                    }
                    match (kind, field) {
                        ("svc", "name") => services[i].name = v,
                        ("svc", "mtd") => services[i].mtd = v,
                        ("svc", "processes") => services[i].processes = v,
                        ("svc", "care") => services[i].patient_care = true,
                        ("svc", "patients") => services[i].patients = v,
                        ("svc", "records") => services[i].records = v,
                        ("svc", "revenue") => services[i].revenue = v,
                        ("flow", "class") => flows[i].class = v,
                        ("flow", "store") => flows[i].store = true,
                        ("flow", "process") => flows[i].process = true,
                        ("flow", "transmit") => flows[i].transmit = true,
                        ("flow", "records") => flows[i].records = v,
                        ("flow", "locations") => flows[i].locations = v,
                        ("flow", "conn") => flows[i].conn.push(v),
                        ("flow", "subs") => flows[i].subs = v,
                        _ => {}
                    }
                }
            }
        }
        form.services = services
            .into_iter()
            .filter(|s| !s.name.trim().is_empty())
            .collect();
        form.flows = flows
            .into_iter()
            .filter(|f| !f.class.trim().is_empty())
            .collect();
        form
    }

    /// The draft, or every problem found.
    pub fn to_draft(&self) -> Result<VendorDraft, Vec<FieldError>> {
        let mut errors = Vec::new();
        fn label<T>(
            errors: &mut Vec<FieldError>,
            field: &str,
            r: Result<T, mamori_domain::ParseLabelError>,
        ) -> Option<T> {
            match r {
                Ok(v) => Some(v),
                Err(e) => {
                    errors.push(FieldError::new(field, e.to_string()));
                    None
                }
            }
        }
        let vendor_type = label(
            &mut errors,
            "vendor_type",
            VendorType::parse(&self.vendor_type),
        );
        let deployment = label(
            &mut errors,
            "deployment",
            Deployment::parse(&self.deployment),
        );
        let tenancy = label(&mut errors, "tenancy", Tenancy::parse(&self.tenancy));
        let status = label(&mut errors, "status", LifecycleStatus::parse(&self.status));
        let source = if self.source.is_empty() {
            Some(VendorSource::Manual)
        } else {
            label(&mut errors, "source", VendorSource::parse(&self.source))
        };
        let mut services = Vec::new();
        for (i, s) in self.services.iter().enumerate() {
            let field = |name: &str| format!("service {} {name}", i + 1);
            let mtd = parse_number(&s.mtd, &field("max tolerable downtime"), &mut errors);
            let revenue = match RevenueDependency::parse(if s.revenue.is_empty() {
                "none"
            } else {
                &s.revenue
            }) {
                Ok(r) => r,
                Err(e) => {
                    errors.push(FieldError::new(field("revenue dependency"), e.to_string()));
                    RevenueDependency::NoDependency
                }
            };
            services.push(Service {
                name: s.name.trim().to_string(),
                max_tolerable_downtime_hours: mtd.map(|n| u32::try_from(n).unwrap_or(u32::MAX)),
                business_processes: split_list(&s.processes),
                patient_care_impact: s.patient_care,
                patients_affected: parse_number(
                    &s.patients,
                    &field("patients affected"),
                    &mut errors,
                ),
                records_affected: parse_number(&s.records, &field("records affected"), &mut errors),
                revenue_dependency: revenue,
            });
        }
        let mut flows = Vec::new();
        for (i, f) in self.flows.iter().enumerate() {
            let field = |name: &str| format!("data flow {} {name}", i + 1);
            let class = match DataClass::parse(&f.class) {
                Ok(c) => c,
                Err(e) => {
                    errors.push(FieldError::new(field("data class"), e.to_string()));
                    continue;
                }
            };
            let mut actions = Vec::new();
            if f.store {
                actions.push(DataAction::Store);
            }
            if f.process {
                actions.push(DataAction::Process);
            }
            if f.transmit {
                actions.push(DataAction::Transmit);
            }
            let mut connectivity = Vec::new();
            for c in &f.conn {
                match Connectivity::parse(c) {
                    Ok(c) => connectivity.push(c),
                    Err(e) => errors.push(FieldError::new(field("connectivity"), e.to_string())),
                }
            }
            flows.push(DataFlow {
                data_class: class,
                actions,
                record_count: parse_number(&f.records, &field("records"), &mut errors).unwrap_or(0),
                locations: split_list(&f.locations)
                    .into_iter()
                    .map(|l| l.to_uppercase())
                    .collect(),
                connectivity,
                subprocessors: split_list(&f.subs),
            });
        }
        let (Some(vendor_type), Some(deployment), Some(tenancy), Some(status), Some(source)) =
            (vendor_type, deployment, tenancy, status, source)
        else {
            return Err(errors);
        };
        let optional = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        let draft = VendorDraft {
            external_id: optional(&self.external_id),
            legal_name: self.legal_name.trim().to_string(),
            aliases: split_list(&self.aliases),
            domains: split_list(&self.domains)
                .into_iter()
                .map(|d| d.to_lowercase())
                .collect(),
            vendor_type,
            deployment,
            tenancy,
            status,
            source,
            owner_email: self.owner_email.trim().to_lowercase(),
            owner_name: optional(&self.owner_name),
            notes: optional(&self.notes),
            services,
            data_flows: flows,
        };
        errors.extend(draft.validate());
        if errors.is_empty() {
            Ok(draft)
        } else {
            Err(errors)
        }
    }
}

fn parse_number(raw: &str, field: &str, errors: &mut Vec<FieldError>) -> Option<u64> {
    let cleaned: String = raw
        .trim()
        .chars()
        .filter(|c| *c != ',' && *c != '_')
        .collect();
    if cleaned.is_empty() {
        return None;
    }
    match cleaned.parse::<u64>() {
        Ok(n) => Some(n),
        Err(_) => {
            errors.push(FieldError::new(
                field,
                format!("must be a whole number ≥ 0, got '{}'", raw.trim()),
            ));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn submitted_form_becomes_a_draft() {
        let form = VendorForm::from_pairs(&pairs(&[
            ("legal_name", "Acme Labs"),
            ("vendor_type", "clinical_lab"),
            ("deployment", "hybrid"),
            ("tenancy", "single_tenant"),
            ("status", "active"),
            ("owner_email", "Owner@Hospital.example"),
            ("svc_0_name", "Specimen testing"),
            ("svc_0_mtd", "8"),
            ("svc_0_care", "on"),
            ("svc_0_revenue", "medium"),
            ("flow_0_class", "phi"),
            ("flow_0_store", "on"),
            ("flow_0_records", "12,000"),
            ("flow_0_conn", "api_integration"),
            ("flow_0_conn", "remote_admin"),
            ("flow_1_class", ""),
        ]));
        let draft = form.to_draft().expect("valid");
        assert_eq!(draft.owner_email, "owner@hospital.example");
        assert_eq!(draft.services[0].max_tolerable_downtime_hours, Some(8));
        assert!(draft.services[0].patient_care_impact);
        assert_eq!(draft.data_flows.len(), 1);
        assert_eq!(draft.data_flows[0].record_count, 12_000);
        assert_eq!(draft.data_flows[0].connectivity.len(), 2);
    }

    #[test]
    fn every_problem_is_named() {
        let form = VendorForm::from_pairs(&pairs(&[
            ("legal_name", ""),
            ("vendor_type", "spaceship"),
            ("deployment", "public_cloud"),
            ("tenancy", "multi_tenant"),
            ("status", "active"),
            ("owner_email", "x"),
            ("flow_0_class", "phi"),
            ("flow_0_records", "-3"),
        ]));
        let errors = form.to_draft().unwrap_err();
        let text: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        assert!(text.iter().any(|e| e.contains("vendor_type")), "{text:?}");
        assert!(
            text.iter().any(|e| e.contains("data flow 1 records")),
            "{text:?}"
        );
    }
}
