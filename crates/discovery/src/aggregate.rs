//! Streaming totals per destination host.
//!
//! Memory grows with distinct hosts, users and source addresses (and their
//! pairs), never with the number of lines: a line only bumps counters and
//! inserts small integer ids into sets. Tallies of chunks read in parallel
//! are merged; merging is exact, so the split never changes the totals.

use rustc_hash::{FxHashMap, FxHashSet};

use crate::event::Event;
use crate::{normalize_host, normalize_user};

/// How many malformed lines are kept with their place, per tally.
pub const MALFORMED_SHOWN: usize = 20;

/// Totals of one destination host.
#[derive(Debug, Clone, Default)]
pub struct HostStats {
    pub transactions: u64,
    pub bytes_up: u64,
    pub bytes_down: u64,
    pub first_seen: Option<i64>,
    pub last_seen: Option<i64>,
    /// Per user (ids into [`Tally::user_names`]): transactions. Its keys
    /// are the distinct users.
    pub per_user: FxHashMap<u32, u64>,
    /// Ids into [`Tally::source_names`].
    pub sources: FxHashSet<u32>,
}

impl HostStats {
    fn seen(&mut self, ts: Option<i64>) {
        if let Some(t) = ts {
            self.first_seen = Some(self.first_seen.map_or(t, |f| f.min(t)));
            self.last_seen = Some(self.last_seen.map_or(t, |l| l.max(t)));
        }
    }
}

/// A line that could not be read, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    pub file: String,
    pub line: u64,
    pub field: &'static str,
    pub reason: String,
}

/// Everything counted from some lines.
#[derive(Debug, Default)]
pub struct Tally {
    /// Lowercase host → totals.
    pub hosts: FxHashMap<Box<str>, HostStats>,
    /// Raw user spelling → normalised user id.
    user_ids: FxHashMap<Box<str>, u32>,
    normalized_users: FxHashMap<String, u32>,
    /// Normalised user names by id.
    pub user_names: Vec<String>,
    source_ids: FxHashMap<Box<str>, u32>,
    /// Source addresses by id.
    pub source_names: Vec<String>,
    /// Lines read (blank and comment lines included).
    pub lines: u64,
    /// Lines that were connections and were counted.
    pub events: u64,
    /// Lines outside the `--since`/`--until` window.
    pub out_of_window: u64,
    /// Lines that could not be read; the first [`MALFORMED_SHOWN`] are in
    /// `malformed_samples`.
    pub malformed: u64,
    pub malformed_samples: Vec<Malformed>,
}

/// Only events in `[since, until)` (epoch seconds) count; events without a
/// time count always.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Window {
    pub since: Option<i64>,
    pub until: Option<i64>,
}

impl Window {
    pub fn contains(&self, ts: Option<i64>) -> bool {
        match ts {
            None => true,
            Some(t) => self.since.is_none_or(|s| t >= s) && self.until.is_none_or(|u| t < u),
        }
    }
}

impl Tally {
    pub fn new() -> Self {
        Tally::default()
    }

    fn user_id(&mut self, raw: &str) -> u32 {
        if let Some(&id) = self.user_ids.get(raw) {
            return id;
        }
        let normal = normalize_user(raw);
        let id = match self.normalized_users.get(&normal) {
            Some(&id) => id,
            None => {
                let id = self.user_names.len() as u32;
                self.user_names.push(normal.clone());
                self.normalized_users.insert(normal, id);
                id
            }
        };
        self.user_ids.insert(raw.into(), id);
        id
    }

    fn source_id(&mut self, raw: &str) -> u32 {
        if let Some(&id) = self.source_ids.get(raw) {
            return id;
        }
        let id = self.source_names.len() as u32;
        self.source_names.push(raw.to_string());
        self.source_ids.insert(raw.into(), id);
        id
    }

    /// Counts one event.
    pub fn add(&mut self, event: &Event<'_>) {
        let user = event.user.as_deref().map(|u| self.user_id(u));
        let source = event.src_ip.as_deref().map(|s| self.source_id(s));
        let host: &str = &event.host;
        let needs_normal = host
            .bytes()
            .any(|b| b.is_ascii_uppercase() || b >= 0x80 || b == b'.' && host.ends_with('.'));
        let stats = if needs_normal {
            let normal = normalize_host(host);
            self.hosts.entry(normal.into_boxed_str()).or_default()
        } else if let Some(stats) = self.hosts.get_mut(host) {
            stats
        } else {
            self.hosts.entry(host.into()).or_default()
        };
        stats.transactions += 1;
        stats.bytes_up += event.bytes_up;
        stats.bytes_down += event.bytes_down;
        stats.seen(event.ts);
        if let Some(u) = user {
            *stats.per_user.entry(u).or_default() += 1;
        }
        if let Some(s) = source {
            stats.sources.insert(s);
        }
        self.events += 1;
    }

    /// Records a line that could not be read.
    pub fn malformed_line(&mut self, file: &str, line: u64, error: &crate::LineError) {
        self.malformed += 1;
        if self.malformed_samples.len() < MALFORMED_SHOWN {
            self.malformed_samples.push(Malformed {
                file: file.to_string(),
                line,
                field: error.field,
                reason: error.reason.clone(),
            });
        }
    }

    /// Adds `other`'s totals to these. Exact: users and sources are matched
    /// by name, so the result is the same as one tally over all the lines.
    pub fn merge(&mut self, other: Tally) {
        let users: Vec<u32> = other
            .user_names
            .iter()
            .map(|name| match self.normalized_users.get(name) {
                Some(&id) => id,
                None => {
                    let id = self.user_names.len() as u32;
                    self.user_names.push(name.clone());
                    self.normalized_users.insert(name.clone(), id);
                    id
                }
            })
            .collect();
        for (raw, id) in other.user_ids {
            self.user_ids.entry(raw).or_insert(users[id as usize]);
        }
        let sources: Vec<u32> = other
            .source_names
            .iter()
            .map(|name| self.source_id(name))
            .collect();
        for (host, theirs) in other.hosts {
            let mine = self.hosts.entry(host).or_default();
            mine.transactions += theirs.transactions;
            mine.bytes_up += theirs.bytes_up;
            mine.bytes_down += theirs.bytes_down;
            if let Some(f) = theirs.first_seen {
                mine.seen(Some(f));
            }
            if let Some(l) = theirs.last_seen {
                mine.seen(Some(l));
            }
            mine.sources
                .extend(theirs.sources.iter().map(|&s| sources[s as usize]));
            for (u, n) in theirs.per_user {
                *mine.per_user.entry(users[u as usize]).or_default() += n;
            }
        }
        self.lines += other.lines;
        self.events += other.events;
        self.out_of_window += other.out_of_window;
        self.malformed += other.malformed;
        for m in other.malformed_samples {
            if self.malformed_samples.len() < MALFORMED_SHOWN {
                self.malformed_samples.push(m);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    fn event<'a>(
        host: &'a str,
        user: Option<&'a str>,
        ip: &'a str,
        down: u64,
        ts: i64,
    ) -> Event<'a> {
        Event {
            ts: Some(ts),
            user: user.map(Cow::Borrowed),
            src_ip: Some(Cow::Borrowed(ip)),
            host: Cow::Borrowed(host),
            bytes_up: 1,
            bytes_down: down,
        }
    }

    #[test]
    fn counts_per_host_with_distinct_users_and_sources() {
        let mut t = Tally::new();
        t.add(&event("box.com", Some(r"HOSP\jdoe"), "10.0.0.1", 100, 50));
        t.add(&event(
            "BOX.com",
            Some("jdoe@hosp.example"),
            "10.0.0.2",
            10,
            40,
        ));
        t.add(&event("box.com", None, "10.0.0.1", 1, 60));
        let s = &t.hosts["box.com"];
        assert_eq!(s.transactions, 3);
        assert_eq!(s.bytes_down, 111);
        assert_eq!(s.bytes_up, 3);
        assert_eq!(s.per_user.len(), 1);
        assert_eq!(s.sources.len(), 2);
        assert_eq!((s.first_seen, s.last_seen), (Some(40), Some(60)));
        assert_eq!(t.hosts.len(), 1);
    }

    #[test]
    fn windows() {
        let w = Window {
            since: Some(10),
            until: Some(20),
        };
        assert!(w.contains(Some(10)));
        assert!(!w.contains(Some(20)));
        assert!(w.contains(None));
    }
}
