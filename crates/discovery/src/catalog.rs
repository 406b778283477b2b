//! The SaaS catalog: which app, of which vendor, stands behind a host.
//!
//! Matching is by domain suffix on label boundaries, never beyond the
//! registrable domain (Public Suffix List): `eu.app.box.com` matches an
//! app listing `box.com`, and an app listing `teams.microsoft.com` does not
//! claim `www.microsoft.com`. The most specific listed domain wins. Hosts
//! logged as IP addresses match apps that list address ranges.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;

use serde::Deserialize;

/// The catalog shipped with Mamori.
pub const SHIPPED: &str = include_str!("../../../content/saas-catalog.toml");

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("{file}: {message}")]
    Parse { file: String, message: String },
    #[error("{file}: app '{app}': {message}")]
    Invalid {
        file: String,
        app: String,
        message: String,
    },
    #[error("{file}: {source}")]
    Io {
        file: String,
        source: std::io::Error,
    },
}

/// One app as the catalog file lists it.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct App {
    pub id: String,
    pub name: String,
    pub vendor: String,
    pub category: String,
    #[serde(default)]
    pub domains: Vec<String>,
    /// CIDR ranges (`13.107.6.0/24`, `2603:1000::/25`) for logs that only
    /// have addresses.
    #[serde(default)]
    pub ip_ranges: Vec<String>,
    /// The vendor publicly offers a HIPAA business associate agreement.
    #[serde(default)]
    pub hipaa_baa: Option<bool>,
    #[serde(default)]
    pub soc2: Option<bool>,
    #[serde(default)]
    pub hitrust: Option<bool>,
    #[serde(default)]
    pub iso27001: Option<bool>,
    #[serde(default)]
    pub regions: Vec<String>,
    /// Set for entries made from the vendor registry: the vendor's id.
    #[serde(skip)]
    pub registry_vendor: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    version: String,
    #[serde(default)]
    app: Vec<App>,
}

/// A parsed CIDR range.
#[derive(Debug, Clone, Copy)]
struct Range {
    net: IpAddr,
    prefix: u8,
}

impl Range {
    fn parse(text: &str) -> Option<Range> {
        let (addr, prefix) = text.split_once('/')?;
        let net: IpAddr = addr.trim().parse().ok()?;
        let prefix: u8 = prefix.trim().parse().ok()?;
        let max = if net.is_ipv4() { 32 } else { 128 };
        (prefix <= max).then_some(Range { net, prefix })
    }

    fn contains(&self, ip: IpAddr) -> bool {
        match (self.net, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = if self.prefix == 0 {
                    0
                } else {
                    u32::MAX << (32 - self.prefix)
                };
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = if self.prefix == 0 {
                    0
                } else {
                    u128::MAX << (128 - self.prefix)
                };
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

/// The apps, indexed by domain and address range.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    pub versions: Vec<String>,
    pub apps: Vec<App>,
    by_domain: HashMap<String, usize>,
    ranges: Vec<(Range, usize)>,
}

/// The registrable domain of a host (`eu.app.box.com` → `box.com`), or the
/// host itself when it has none (an IP address, a single label).
pub fn registrable_domain(host: &str) -> &str {
    if host.parse::<IpAddr>().is_ok() {
        return host;
    }
    psl::domain_str(host).unwrap_or(host)
}

fn check_domain(domain: &str) -> Result<String, String> {
    let d = domain.trim().trim_end_matches('.').to_lowercase();
    if d.is_empty() || d.contains(['/', ':', '*', ' ']) || !d.contains('.') {
        return Err(format!(
            "'{domain}' is not a domain name (no scheme, port, path or wildcard)"
        ));
    }
    Ok(d)
}

impl Catalog {
    /// The shipped catalog.
    pub fn shipped() -> Result<Catalog, CatalogError> {
        let mut c = Catalog::default();
        c.add_toml("the shipped SaaS catalog", SHIPPED)?;
        Ok(c)
    }

    /// Adds the apps of a catalog file; an app with an id already present
    /// replaces it (so a user's file can correct a shipped entry).
    pub fn add_toml(&mut self, file: &str, text: &str) -> Result<(), CatalogError> {
        let parsed: CatalogFile = toml::from_str(text).map_err(|e| CatalogError::Parse {
            file: file.to_string(),
            message: e.to_string(),
        })?;
        self.versions.push(format!("{file} {}", parsed.version));
        for app in parsed.app {
            self.add_app(file, app)?;
        }
        Ok(())
    }

    pub fn add_file(&mut self, path: &Path) -> Result<(), CatalogError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| CatalogError::Io {
            file: file.clone(),
            source,
        })?;
        self.add_toml(&file, &text)
    }

    /// Adds (or replaces, by id) one app.
    pub fn add_app(&mut self, file: &str, mut app: App) -> Result<(), CatalogError> {
        let invalid = |app: &App, message: String| CatalogError::Invalid {
            file: file.to_string(),
            app: app.id.clone(),
            message,
        };
        if app.id.trim().is_empty() || app.name.trim().is_empty() {
            return Err(invalid(&app, "an app needs an id and a name".into()));
        }
        let mut domains = Vec::with_capacity(app.domains.len());
        for d in &app.domains {
            domains.push(check_domain(d).map_err(|m| invalid(&app, m))?);
        }
        app.domains = domains;
        let mut ranges = Vec::new();
        for r in &app.ip_ranges {
            ranges.push(Range::parse(r).ok_or_else(|| {
                invalid(
                    &app,
                    format!("'{r}' is not an address range such as 10.0.0.0/8"),
                )
            })?);
        }
        let index = match self.apps.iter().position(|a| a.id == app.id) {
            Some(i) => {
                self.by_domain.retain(|_, v| *v != i);
                self.ranges.retain(|(_, v)| *v != i);
                self.apps[i] = app;
                i
            }
            None => {
                self.apps.push(app);
                self.apps.len() - 1
            }
        };
        for d in &self.apps[index].domains {
            self.by_domain.insert(d.clone(), index);
        }
        for r in ranges {
            self.ranges.push((r, index));
        }
        Ok(())
    }

    /// The app behind a (lowercase) host or address, if the catalog knows it.
    pub fn lookup(&self, host: &str) -> Option<&App> {
        self.lookup_index(host).map(|i| &self.apps[i])
    }

    pub fn lookup_index(&self, host: &str) -> Option<usize> {
        if let Ok(ip) = host.parse::<IpAddr>() {
            // The narrowest range wins.
            return self
                .ranges
                .iter()
                .filter(|(r, _)| r.contains(ip))
                .max_by_key(|(r, _)| r.prefix)
                .map(|(_, i)| *i);
        }
        let floor = registrable_domain(host);
        let mut candidate = host;
        loop {
            if let Some(&i) = self.by_domain.get(candidate) {
                return Some(i);
            }
            if candidate.len() <= floor.len() {
                return None;
            }
            match candidate.find('.') {
                Some(dot) => candidate = &candidate[dot + 1..],
                None => return None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        let mut c = Catalog::default();
        c.add_toml(
            "test",
            r#"
version = "1"
[[app]]
id = "box"
name = "Box"
vendor = "Box, Inc."
category = "file-sharing"
domains = ["box.com", "boxcdn.net"]
hipaa_baa = true
[[app]]
id = "teams"
name = "Microsoft Teams"
vendor = "Microsoft"
category = "collaboration"
domains = ["teams.microsoft.com"]
ip_ranges = ["52.112.0.0/14", "2603:1063::/38"]
"#,
        )
        .expect("catalog");
        c
    }

    #[test]
    fn suffix_matching_stops_at_the_registrable_domain() {
        let c = catalog();
        assert_eq!(
            c.lookup("eu.app.box.com").map(|a| a.id.as_str()),
            Some("box")
        );
        assert_eq!(c.lookup("box.com").map(|a| a.id.as_str()), Some("box"));
        assert_eq!(c.lookup("notbox.com"), None);
        assert_eq!(
            c.lookup("teams.microsoft.com").map(|a| a.id.as_str()),
            Some("teams")
        );
        assert_eq!(
            c.lookup("x.teams.microsoft.com").map(|a| a.id.as_str()),
            Some("teams")
        );
        assert_eq!(c.lookup("www.microsoft.com"), None);
        assert_eq!(c.lookup("box.com.evil.example"), None);
        assert_eq!(registrable_domain("a.b.example.co.uk"), "example.co.uk");
    }

    #[test]
    fn addresses_match_ranges() {
        let c = catalog();
        assert_eq!(c.lookup("52.113.1.1").map(|a| a.id.as_str()), Some("teams"));
        assert_eq!(
            c.lookup("2603:1063::9").map(|a| a.id.as_str()),
            Some("teams")
        );
        assert_eq!(c.lookup("8.8.8.8"), None);
    }

    #[test]
    fn a_user_file_replaces_an_app_by_id_and_bad_entries_are_named() {
        let mut c = catalog();
        c.add_toml(
            "mine.toml",
            "version = \"x\"\n[[app]]\nid = \"box\"\nname = \"Box (ours)\"\nvendor = \"Box\"\ncategory = \"file-sharing\"\ndomains = [\"box.com\"]\n",
        )
        .expect("override");
        assert_eq!(c.lookup("boxcdn.net"), None);
        assert_eq!(
            c.lookup("box.com").map(|a| a.name.as_str()),
            Some("Box (ours)")
        );
        let err = c
            .add_toml(
                "bad.toml",
                "version = \"x\"\n[[app]]\nid = \"y\"\nname = \"Y\"\nvendor = \"Y\"\ncategory = \"other\"\ndomains = [\"https://y.example/\"]\n",
            )
            .expect_err("refused");
        assert!(err.to_string().contains("bad.toml: app 'y'"), "{err}");
        let err = c
            .add_toml(
                "typo.toml",
                "version = \"x\"\n[[app]]\nid = \"z\"\nnmae = \"Z\"\n",
            )
            .expect_err("refused");
        assert!(err.to_string().contains("typo.toml"), "{err}");
    }

    #[test]
    fn the_shipped_catalog_is_valid_and_names_common_hosts() {
        let c = Catalog::shipped().expect("the shipped catalog parses");
        assert!(c.apps.len() >= 300, "{} apps", c.apps.len());
        let id = |host: &str| c.lookup(host).map(|a| a.id.clone());
        assert_eq!(id("eu.app.box.com").as_deref(), Some("box"));
        assert_eq!(
            id("teams.microsoft.com").as_deref(),
            Some("microsoft-teams")
        );
        assert_eq!(id("chatgpt.com").as_deref(), Some("chatgpt"));
        // The longest listed domain wins over its parent's app.
        assert_eq!(id("gist.github.com").as_deref(), Some("github-gist"));
        assert_eq!(id("github.com").as_deref(), Some("github"));
        // No app claims a whole shared platform.
        assert_eq!(id("www.microsoft.com"), None);
        assert_eq!(id("s3.amazonaws.com"), None);
        let mut seen = std::collections::HashSet::new();
        for app in &c.apps {
            assert!(seen.insert(app.id.clone()), "duplicate id {}", app.id);
        }
    }
}
