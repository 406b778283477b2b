//! Converter for the US ONC Certified Health IT Product List (CHPL), in the
//! shape ONC Lantern publishes it: a JSON array of
//! `{"listSourceURL": ..., "softwareProducts": [...]}` entries, one per
//! published FHIR endpoint list, each product naming its developer, product,
//! version, certification status and the certification criteria it meets.
//!
//! The result is one candidate vendor per developer, ready for a hospital to
//! review: the facts CHPL knows (who, which products, whether they expose
//! certified APIs) are filled in; the facts only the hospital knows (record
//! counts, downtime tolerance, patient-care impact) are left for it to enter.

use std::collections::HashMap;

use mamori_domain::{
    validate_domain, validate_email, Connectivity, DataAction, DataClass, DataFlow, Deployment,
    LifecycleStatus, RevenueDependency, Service, Tenancy, VendorDraft, VendorSource, VendorType,
    MAX_NOTES_BYTES,
};
use serde::Deserialize;
use thiserror::Error;

use crate::export::write_inventory_csv;

#[derive(Debug, Error)]
pub enum ChplError {
    #[error("the CHPL file is not the expected JSON (an array of endpoint lists with softwareProducts): {0}")]
    Json(#[from] serde_json::Error),
    #[error("owner e-mail '{email}' {reason}")]
    OwnerEmail { email: String, reason: &'static str },
    #[error("could not write the inventory CSV: {0}")]
    Write(#[from] crate::export::ExportError),
}

/// How many criteria titles become a service's business processes.
const MAX_BUSINESS_PROCESSES: usize = 4;

/// Converts a CHPL products file into one vendor per distinct developer, in
/// the order developers first appear.
///
/// Choices, since CHPL does not say everything a vendor record needs:
/// - `vendor_type` is `saas`: certified EHR and health-IT modules are licensed
///   software, and nearly all of them are now delivered hosted; CHPL has no
///   field that says otherwise. The hospital corrects the few on-premises ones.
/// - `deployment` and `tenancy` stay `not_applicable` (unknown) for the same
///   reason; `status` is `candidate`, `source` is `import`.
/// - `domains` are the hosts of the developer's FHIR endpoint-list URLs
///   (without `www.`). Some are documentation hosts on a shared platform, but
///   each host is specific to the developer.
/// - One service per distinct "product version", with up to four clinical
///   criteria titles as business processes.
/// - One PHI data flow, store + process, because certified modules handle
///   patient records. `record_count` is 0: only the hospital knows it.
///   Connectivity is `api_integration` when a product is certified for
///   application access or the standardized API, criteria 170.315 (g)(7)–(g)(10).
///   Other (g) criteria (quality management, accessibility, safety-enhanced
///   design) are about how the software is built, not about APIs, and nearly
///   every product meets them, so they are not taken as a sign of an API.
///
/// Products without a developer name are skipped.
pub fn chpl_to_vendors(bytes: &[u8], owner_email: &str) -> Result<Vec<VendorDraft>, ChplError> {
    let owner_email = owner_email.trim();
    validate_email(owner_email).map_err(|reason| ChplError::OwnerEmail {
        email: owner_email.to_string(),
        reason,
    })?;
    let lists: Vec<EndpointList> = serde_json::from_slice(bytes)?;

    let mut developers: Vec<DeveloperAcc> = Vec::new();
    let mut index_by_id: HashMap<String, usize> = HashMap::new();
    for list in &lists {
        let host = list.list_source_url.as_deref().and_then(url_host);
        for product in &list.software_products {
            let name = product.developer.name.trim();
            if name.is_empty() {
                continue;
            }
            let id = match &product.developer.id {
                Some(id) => id.to_string(),
                // Without an id, the name is the next best identity.
                None => format!("name-{}", mamori_domain::fold_name(name).replace(' ', "-")),
            };
            let index = *index_by_id.entry(id.clone()).or_insert_with(|| {
                developers.push(DeveloperAcc::new(id, name));
                developers.len() - 1
            });
            let developer = &mut developers[index];
            if let Some(host) = &host {
                push_unique(&mut developer.domains, host.clone());
            }
            if let Some(url) = &list.list_source_url {
                push_unique(&mut developer.endpoint_lists, url.trim().to_string());
            }
            developer.add_product(product);
        }
    }
    Ok(developers
        .into_iter()
        .map(|d| d.into_vendor(owner_email))
        .collect())
}

/// [`chpl_to_vendors`] written as an import CSV (template columns only).
/// The file re-imports with `parse_csv` without errors; being one row per
/// vendor, it keeps only each developer's first product as the service.
pub fn chpl_to_inventory_csv(bytes: &[u8], owner_email: &str) -> Result<Vec<u8>, ChplError> {
    let vendors = chpl_to_vendors(bytes, owner_email)?;
    let mut out = Vec::new();
    write_inventory_csv(&vendors, &mut out)?;
    Ok(out)
}

#[derive(Debug, Deserialize)]
struct EndpointList {
    #[serde(rename = "listSourceURL", default)]
    list_source_url: Option<String>,
    #[serde(rename = "softwareProducts", default)]
    software_products: Vec<Product>,
}

#[derive(Debug, Deserialize)]
struct Product {
    #[serde(rename = "chplProductNumber", default)]
    chpl_product_number: Option<String>,
    developer: Developer,
    #[serde(default)]
    product: Option<Named>,
    #[serde(default)]
    version: Option<Named>,
    #[serde(rename = "certificationStatus", default)]
    certification_status: Option<Named>,
    #[serde(rename = "criteriaMet", default)]
    criteria_met: Vec<Criterion>,
}

#[derive(Debug, Deserialize)]
struct Developer {
    #[serde(default)]
    id: Option<IdValue>,
    #[serde(default)]
    name: String,
}

/// CHPL ids are numbers; accept strings too rather than reject a file over it.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum IdValue {
    Number(u64),
    Text(String),
}

impl std::fmt::Display for IdValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IdValue::Number(n) => write!(f, "{n}"),
            IdValue::Text(s) => f.write_str(s.trim()),
        }
    }
}

#[derive(Debug, Deserialize)]
struct Named {
    #[serde(default)]
    name: Option<String>,
}

impl Named {
    fn text(named: &Option<Named>) -> &str {
        named
            .as_ref()
            .and_then(|n| n.name.as_deref())
            .map(str::trim)
            .unwrap_or("")
    }
}

#[derive(Debug, Deserialize)]
struct Criterion {
    #[serde(default)]
    number: String,
    #[serde(default)]
    title: String,
}

/// One developer's facts gathered across all endpoint lists.
struct DeveloperAcc {
    id: String,
    name: String,
    domains: Vec<String>,
    endpoint_lists: Vec<String>,
    services: Vec<Service>,
    has_api: bool,
    listings: Vec<String>,
    active: usize,
    inactive: usize,
}

impl DeveloperAcc {
    fn new(id: String, name: &str) -> Self {
        DeveloperAcc {
            id,
            name: name.to_string(),
            domains: Vec::new(),
            endpoint_lists: Vec::new(),
            services: Vec::new(),
            has_api: false,
            listings: Vec::new(),
            active: 0,
            inactive: 0,
        }
    }

    fn add_product(&mut self, product: &Product) {
        self.has_api |= product
            .criteria_met
            .iter()
            .any(|c| is_api_criterion(&c.number));

        if let Some(number) = product.chpl_product_number.as_deref().map(str::trim) {
            if !number.is_empty() && !self.listings.iter().any(|l| l == number) {
                self.listings.push(number.to_string());
                match Named::text(&product.certification_status) {
                    "Active" => self.active += 1,
                    _ => self.inactive += 1,
                }
            }
        }

        let product_name = Named::text(&product.product);
        let version = Named::text(&product.version);
        let service_name = match (product_name, version) {
            ("", _) => return,
            (name, "") => name.to_string(),
            (name, version) => format!("{name} {version}"),
        };
        if self.services.iter().any(|s| s.name == service_name) {
            return;
        }
        self.services.push(Service {
            name: service_name,
            max_tolerable_downtime_hours: None,
            business_processes: business_processes(&product.criteria_met),
            patient_care_impact: false,
            patients_affected: None,
            records_affected: None,
            revenue_dependency: RevenueDependency::NoDependency,
        });
    }

    fn into_vendor(self, owner_email: &str) -> VendorDraft {
        let notes = self.notes();
        let connectivity = if self.has_api {
            vec![Connectivity::ApiIntegration]
        } else {
            Vec::new()
        };
        VendorDraft {
            external_id: Some(format!("chpl-dev-{}", self.id)),
            legal_name: self.name,
            aliases: Vec::new(),
            domains: self.domains,
            vendor_type: VendorType::Saas,
            deployment: Deployment::NotApplicable,
            tenancy: Tenancy::NotApplicable,
            status: LifecycleStatus::Candidate,
            source: VendorSource::Import,
            owner_email: owner_email.to_string(),
            owner_name: None,
            notes: Some(notes),
            services: self.services,
            data_flows: vec![DataFlow {
                data_class: DataClass::Phi,
                actions: vec![DataAction::Store, DataAction::Process],
                record_count: 0,
                locations: Vec::new(),
                connectivity,
                subprocessors: Vec::new(),
            }],
        }
    }

    /// Where the record came from, one fact per line, within the notes limit.
    fn notes(&self) -> String {
        let mut notes = format!(
            "From the ONC Certified Health IT Product List (CHPL): {} listing(s), {} active, {} withdrawn or inactive.",
            self.listings.len(),
            self.active,
            self.inactive
        );
        let mut append = |label: &str, items: &[String]| {
            if items.is_empty() {
                return;
            }
            let line = format!("\n{label}: {}", items.join(" "));
            if notes.len() + line.len() <= MAX_NOTES_BYTES {
                notes.push_str(&line);
            }
        };
        append("FHIR endpoint list(s)", &self.endpoint_lists);
        append("CHPL product number(s)", &self.listings);
        notes
    }
}

/// 170.315 (g)(7) to (g)(10): application access and the standardized API.
fn is_api_criterion(number: &str) -> bool {
    let compact: String = number.chars().filter(|c| !c.is_whitespace()).collect();
    [
        "170.315(g)(7)",
        "170.315(g)(8)",
        "170.315(g)(9)",
        "170.315(g)(10)",
    ]
    .contains(&compact.as_str())
}

/// Titles of the clinical and care-coordination criteria (a), (b), (c), (e),
/// (f), in criterion order: they say what the product is used for. Privacy,
/// security and design criteria describe how it is built, not what it does.
fn business_processes(criteria: &[Criterion]) -> Vec<String> {
    let mut functional: Vec<((char, u32), &str)> = criteria
        .iter()
        .filter_map(|c| {
            let key = criterion_key(&c.number)?;
            let title = c.title.trim();
            (matches!(key.0, 'a' | 'b' | 'c' | 'e' | 'f') && !title.is_empty())
                .then_some((key, title))
        })
        .collect();
    functional.sort_by_key(|(key, _)| *key);
    let mut out: Vec<String> = Vec::new();
    for (_, title) in functional {
        // ';' separates list items in the inventory files.
        let title = title.replace(';', ",");
        if !out.contains(&title) {
            out.push(title);
        }
        if out.len() == MAX_BUSINESS_PROCESSES {
            break;
        }
    }
    out
}

/// "170.315 (b)(10)" → ('b', 10).
fn criterion_key(number: &str) -> Option<(char, u32)> {
    let compact: String = number.chars().filter(|c| !c.is_whitespace()).collect();
    let rest = compact.strip_prefix("170.315(")?;
    let mut chars = rest.chars();
    let letter = chars.next()?;
    let rest = chars.as_str().strip_prefix(")(")?;
    let digits = rest.split(')').next()?;
    Some((letter, digits.parse().ok()?))
}

/// The lower-cased host of an http(s) URL, without `www.` or port, when it is
/// a valid domain name.
fn url_host(url: &str) -> Option<String> {
    let url = url.trim();
    let scheme_end = url.find("://")?;
    let scheme = &url[..scheme_end];
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return None;
    }
    let after_scheme = &url[scheme_end + 3..];
    let authority = after_scheme
        .split(['/', '?', '#'])
        .next()
        .unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    let host = host_port.split(':').next().unwrap_or_default();
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host).to_string();
    let is_ip_address = host
        .split('.')
        .all(|label| label.bytes().all(|b| b.is_ascii_digit()));
    (validate_domain(&host).is_ok() && !is_ip_address).then_some(host)
}

fn push_unique(list: &mut Vec<String>, item: String) {
    if !list.contains(&item) {
        list.push(item);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_come_from_http_urls_only() {
        assert_eq!(
            url_host("https://www.Example-EHR.com:8443/fhir/base?x=1").as_deref(),
            Some("example-ehr.com")
        );
        assert_eq!(
            url_host("http://docs.vendor.example#top").as_deref(),
            Some("docs.vendor.example")
        );
        assert_eq!(url_host("https://10.0.0.1/fhir"), None);
        assert_eq!(url_host("ftp://files.example.com"), None);
        assert_eq!(url_host("not a url"), None);
        assert_eq!(url_host("https://localhost/"), None);
    }

    #[test]
    fn criteria_keys_and_api_criteria() {
        assert_eq!(criterion_key("170.315 (b)(10)"), Some(('b', 10)));
        assert_eq!(criterion_key("170.315 (a)(1)"), Some(('a', 1)));
        assert_eq!(criterion_key("170.314 (a)(1)"), None);
        assert!(is_api_criterion("170.315 (g)(10)"));
        assert!(is_api_criterion("170.315 (g)(7)"));
        assert!(!is_api_criterion("170.315 (g)(4)"));
        assert!(!is_api_criterion("170.315 (g)(1)"));
    }
}
