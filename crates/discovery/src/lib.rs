//! Shadow SaaS discovery: which cloud services the organisation's people
//! use, read from the logs of web proxies, firewalls and DNS servers.
//!
//! Flow: bytes (plain, gzip, zstd) → lines → [`formats::Parser`] → [`Event`]
//! → [`aggregate::Tally`] per destination host (constant memory in the
//! number of lines: it grows with distinct hosts, users and sources) →
//! [`catalog::Catalog`] names the app behind each host → [`report`].
//! Pure apart from [`read`], which reads files.

pub mod aggregate;
pub mod catalog;
pub mod event;
pub mod formats;
pub mod generate;
pub mod read;
pub mod report;

pub use event::{Event, LineError};

/// One spelling per person: `HOSPITAL\jdoe`, `jdoe@hospital.example` and
/// `JDoe` all count as `jdoe`. (Different people with one short name in
/// two domains are merged; logs rarely carry enough to tell them apart.)
pub fn normalize_user(user: &str) -> String {
    let user = user.trim().trim_matches('"');
    let short = match user.rfind('\\') {
        Some(i) => &user[i + 1..],
        None => user,
    };
    let short = match short.find('@') {
        Some(i) if i > 0 => &short[..i],
        _ => short,
    };
    short.to_lowercase()
}

/// A host as counted: lowercase, no trailing dot, IDNA labels kept as
/// logged (`xn--…`), internationalised names lowercased.
pub fn normalize_host(host: &str) -> String {
    let host = host.trim().trim_end_matches('.');
    host.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_are_one_spelling() {
        assert_eq!(normalize_user(r"HOSPITAL\JDoe"), "jdoe");
        assert_eq!(normalize_user("jdoe@hospital.example"), "jdoe");
        assert_eq!(normalize_user("jdoe"), "jdoe");
        assert_eq!(normalize_user("@odd"), "@odd");
    }

    #[test]
    fn hosts_are_lowercase_without_the_root_dot() {
        assert_eq!(normalize_host("WWW.Box.COM."), "www.box.com");
        assert_eq!(normalize_host("Bücher.example"), "bücher.example");
    }
}
