//! From totals per host to what a security team reads: apps with their
//! usage and sanction state, and — never dropped — the hosts the catalog
//! does not know, grouped by registrable domain.

use std::collections::{BTreeSet, HashMap};

use rustc_hash::FxHashSet;
use serde::Serialize;

use crate::aggregate::Tally;
use crate::catalog::{registrable_domain, Catalog};

/// Where an app stands with the organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Sanction {
    /// Linked to an active vendor of the registry, or marked sanctioned.
    Sanctioned,
    /// Known to the catalog but not in the registry, or marked so.
    Unsanctioned,
    /// Marked for watching: neither approved nor blocked.
    Monitored,
}

impl Sanction {
    pub fn as_str(self) -> &'static str {
        match self {
            Sanction::Sanctioned => "sanctioned",
            Sanction::Unsanctioned => "unsanctioned",
            Sanction::Monitored => "monitored",
        }
    }

    pub fn parse(text: &str) -> Option<Sanction> {
        match text {
            "sanctioned" => Some(Sanction::Sanctioned),
            "unsanctioned" => Some(Sanction::Unsanctioned),
            "monitored" => Some(Sanction::Monitored),
            _ => None,
        }
    }
}

/// What the organisation has decided about apps: explicit marks by app id,
/// and the registry vendor each app is linked to (with whether that vendor
/// is active).
#[derive(Debug, Clone, Default)]
pub struct Decisions {
    pub marks: HashMap<String, Sanction>,
    /// App id → (vendor id, vendor active).
    pub links: HashMap<String, (String, bool)>,
}

/// One app's usage.
#[derive(Debug, Clone, Serialize)]
pub struct AppUsage {
    pub app_id: String,
    pub name: String,
    pub vendor: String,
    pub category: String,
    pub status: Sanction,
    /// The registry vendor the app is linked to.
    pub vendor_id: Option<String>,
    pub domains_seen: Vec<String>,
    pub users: usize,
    pub sources: usize,
    pub transactions: u64,
    pub bytes_up: u64,
    pub bytes_down: u64,
    pub first_seen: Option<i64>,
    pub last_seen: Option<i64>,
    pub hipaa_baa: Option<bool>,
    pub soc2: Option<bool>,
    pub hitrust: Option<bool>,
    /// The users, busiest first (for the drill-down), with transactions.
    #[serde(skip)]
    pub top_users: Vec<(String, u64)>,
    #[serde(skip)]
    pub source_list: Vec<String>,
}

/// A destination the catalog does not know, by registrable domain (or IP).
#[derive(Debug, Clone, Serialize)]
pub struct UnknownDomain {
    pub domain: String,
    pub hosts_seen: Vec<String>,
    pub users: usize,
    pub sources: usize,
    pub transactions: u64,
    pub bytes_up: u64,
    pub bytes_down: u64,
    pub first_seen: Option<i64>,
    pub last_seen: Option<i64>,
}

/// The discovery result.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Report {
    pub apps: Vec<AppUsage>,
    pub unknown: Vec<UnknownDomain>,
}

#[derive(Default)]
struct Group {
    hosts: BTreeSet<String>,
    users: FxHashSet<u32>,
    sources: FxHashSet<u32>,
    per_user: HashMap<u32, u64>,
    transactions: u64,
    bytes_up: u64,
    bytes_down: u64,
    first: Option<i64>,
    last: Option<i64>,
}

impl Group {
    fn add(&mut self, host: &str, s: &crate::aggregate::HostStats, keep_users: bool) {
        self.hosts.insert(host.to_string());
        self.users.extend(s.per_user.keys().copied());
        self.sources.extend(s.sources.iter().copied());
        if keep_users {
            for (&u, &n) in &s.per_user {
                *self.per_user.entry(u).or_default() += n;
            }
        }
        self.transactions += s.transactions;
        self.bytes_up += s.bytes_up;
        self.bytes_down += s.bytes_down;
        if let Some(f) = s.first_seen {
            self.first = Some(self.first.map_or(f, |x| x.min(f)));
        }
        if let Some(l) = s.last_seen {
            self.last = Some(self.last.map_or(l, |x| x.max(l)));
        }
    }
}

/// Names the app behind every host and sums usage per app; unknown hosts
/// are grouped by registrable domain. Apps and unknown domains are ranked
/// by distinct users, then transactions, then bytes.
pub fn build(tally: &Tally, catalog: &Catalog, decisions: &Decisions) -> Report {
    let mut apps: HashMap<usize, Group> = HashMap::new();
    let mut unknown: HashMap<String, Group> = HashMap::new();
    for (host, stats) in &tally.hosts {
        match catalog.lookup_index(host) {
            Some(i) => apps.entry(i).or_default().add(host, stats, true),
            None => unknown
                .entry(registrable_domain(host).to_string())
                .or_default()
                .add(host, stats, false),
        }
    }
    let mut app_rows: Vec<AppUsage> = apps
        .into_iter()
        .map(|(i, g)| {
            let app = &catalog.apps[i];
            let link = decisions
                .links
                .get(&app.id)
                .cloned()
                .or_else(|| app.registry_vendor.clone().map(|v| (v, true)));
            let status = match decisions.marks.get(&app.id) {
                Some(&mark) => mark,
                None => match &link {
                    Some((_, true)) => Sanction::Sanctioned,
                    _ => Sanction::Unsanctioned,
                },
            };
            let mut top_users: Vec<(String, u64)> = g
                .per_user
                .iter()
                .map(|(&u, &n)| (tally.user_names[u as usize].clone(), n))
                .collect();
            top_users.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            let mut source_list: Vec<String> = g
                .sources
                .iter()
                .map(|&s| tally.source_names[s as usize].clone())
                .collect();
            source_list.sort();
            AppUsage {
                app_id: app.id.clone(),
                name: app.name.clone(),
                vendor: app.vendor.clone(),
                category: app.category.clone(),
                status,
                vendor_id: link.map(|(v, _)| v),
                domains_seen: g.hosts.into_iter().collect(),
                users: g.users.len(),
                sources: g.sources.len(),
                transactions: g.transactions,
                bytes_up: g.bytes_up,
                bytes_down: g.bytes_down,
                first_seen: g.first,
                last_seen: g.last,
                hipaa_baa: app.hipaa_baa,
                soc2: app.soc2,
                hitrust: app.hitrust,
                top_users,
                source_list,
            }
        })
        .collect();
    app_rows.sort_by(|a, b| {
        b.users
            .cmp(&a.users)
            .then(b.transactions.cmp(&a.transactions))
            .then((b.bytes_up + b.bytes_down).cmp(&(a.bytes_up + a.bytes_down)))
            .then(a.name.cmp(&b.name))
    });
    let mut unknown_rows: Vec<UnknownDomain> = unknown
        .into_iter()
        .map(|(domain, g)| UnknownDomain {
            domain,
            hosts_seen: g.hosts.into_iter().collect(),
            users: g.users.len(),
            sources: g.sources.len(),
            transactions: g.transactions,
            bytes_up: g.bytes_up,
            bytes_down: g.bytes_down,
            first_seen: g.first,
            last_seen: g.last,
        })
        .collect();
    unknown_rows.sort_by(|a, b| {
        b.users
            .cmp(&a.users)
            .then((b.bytes_up + b.bytes_down).cmp(&(a.bytes_up + a.bytes_down)))
            .then(b.transactions.cmp(&a.transactions))
            .then(a.domain.cmp(&b.domain))
    });
    Report {
        apps: app_rows,
        unknown: unknown_rows,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Event;
    use std::borrow::Cow;

    #[test]
    fn apps_are_named_ranked_and_unknown_hosts_kept() {
        let mut c = Catalog::default();
        c.add_toml(
            "t",
            "version = \"1\"\n[[app]]\nid = \"box\"\nname = \"Box\"\nvendor = \"Box\"\ncategory = \"file-sharing\"\ndomains = [\"box.com\"]\n[[app]]\nid = \"zoom\"\nname = \"Zoom\"\nvendor = \"Zoom\"\ncategory = \"video-conferencing\"\ndomains = [\"zoom.us\"]\n",
        )
        .expect("catalog");
        let mut t = Tally::new();
        for (host, user) in [
            ("app.box.com", "a"),
            ("upload.box.com", "b"),
            ("zoom.us", "a"),
            ("cdn.newtool.example", "a"),
            ("api.newtool.example", "c"),
        ] {
            t.add(&Event {
                ts: Some(1),
                user: Some(Cow::Borrowed(user)),
                src_ip: Some(Cow::Borrowed("10.0.0.1")),
                host: Cow::Borrowed(host),
                bytes_up: 1,
                bytes_down: 2,
            });
        }
        let mut d = Decisions::default();
        d.links.insert("zoom".into(), ("v-1".into(), true));
        let r = build(&t, &c, &d);
        assert_eq!(r.apps.len(), 2);
        assert_eq!(r.apps[0].app_id, "box");
        assert_eq!(r.apps[0].users, 2);
        assert_eq!(
            r.apps[0].domains_seen,
            vec!["app.box.com", "upload.box.com"]
        );
        assert_eq!(r.apps[0].status, Sanction::Unsanctioned);
        assert_eq!(r.apps[1].status, Sanction::Sanctioned);
        assert_eq!(r.unknown.len(), 1);
        assert_eq!(r.unknown[0].domain, "newtool.example");
        assert_eq!(r.unknown[0].users, 2);
        d.marks.insert("box".into(), Sanction::Monitored);
        assert_eq!(build(&t, &c, &d).apps[0].status, Sanction::Monitored);
    }
}
