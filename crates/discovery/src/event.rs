//! One observed connection, as every log format is reduced to.

use std::borrow::Cow;

/// What discovery needs from a log line: who went where, when, and how
/// much data moved. Fields borrow from the line where they can, so the hot
/// path allocates nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Event<'a> {
    /// Seconds since the Unix epoch (UTC), when the log says.
    pub ts: Option<i64>,
    /// The user as logged (`DOMAIN\user`, `user@domain`, `user`); `None`
    /// for `-` or empty. Normalised by [`crate::normalize_user`] when
    /// counted.
    pub user: Option<Cow<'a, str>>,
    /// Source (client) address as logged.
    pub src_ip: Option<Cow<'a, str>>,
    /// Destination host name (from the URL, Host header, SNI or DNS query),
    /// or the destination IP when the log has no name.
    pub host: Cow<'a, str>,
    /// Bytes sent by the client (request), when logged.
    pub bytes_up: u64,
    /// Bytes received by the client (response), when logged.
    pub bytes_down: u64,
}

/// Why a line could not be read: the field and what was wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("field '{field}': {reason}")]
pub struct LineError {
    pub field: &'static str,
    pub reason: String,
}

impl LineError {
    pub fn new(field: &'static str, reason: impl Into<String>) -> Self {
        LineError {
            field,
            reason: reason.into(),
        }
    }

    pub fn missing(field: &'static str) -> Self {
        LineError::new(field, "missing")
    }
}

/// `-`, empty and similar placeholders read as "not logged".
pub fn present(value: &str) -> Option<&str> {
    // The common case first: a plain value with nothing to trim.
    match value.as_bytes() {
        [] | [b'-'] => return None,
        [first, .., last]
            if first.is_ascii_graphic()
                && last.is_ascii_graphic()
                && *first != b'"'
                && *first != b'(' =>
        {
            return Some(value)
        }
        _ => {}
    }
    let v = value.trim();
    if v.is_empty() || v == "-" || v == "(empty)" || v == "\"-\"" {
        None
    } else {
        Some(v)
    }
}

/// The host of a URL or `host:port` (lowercase not applied here): strips
/// the scheme, user info, port, path, query and IPv6 brackets.
pub fn host_of_url(url: &str) -> &str {
    // Byte scanning instead of substring search: this runs once per line.
    let bytes = url.as_bytes();
    let mut start = 0;
    if let Some(colon) = memchr::memchr(b':', bytes) {
        if bytes[colon + 1..].starts_with(b"//") {
            start = colon + 3;
        }
    }
    let rest = &bytes[start..];
    let end = rest
        .iter()
        .position(|&b| b == b'/' || b == b'?' || b == b'#')
        .unwrap_or(rest.len());
    let mut authority = &url[start..start + end];
    if let Some(at) = memchr::memrchr(b'@', authority.as_bytes()) {
        authority = &authority[at + 1..];
    }
    if let Some(inner) = authority.strip_prefix('[') {
        // [2001:db8::1]:443
        return match inner.find(']') {
            Some(i) => &inner[..i],
            None => inner,
        };
    }
    let ab = authority.as_bytes();
    match memchr::memrchr(b':', ab) {
        // A bare IPv6 address has several colons and no port to strip.
        Some(i) if memchr::memchr(b':', &ab[..i]).is_some() => authority,
        Some(i) => &authority[..i],
        None => authority,
    }
}

/// Does the URL carry a scheme (`http://…`)?
pub fn has_scheme(url: &str) -> bool {
    let bytes = url.as_bytes();
    memchr::memchr(b':', bytes).is_some_and(|c| bytes[c + 1..].starts_with(b"//"))
}

/// Parses an unsigned byte count; `-` and empty read as 0.
pub fn bytes(field: &'static str, value: &str) -> Result<u64, LineError> {
    match present(value) {
        None => Ok(0),
        Some(v) => v
            .parse::<u64>()
            .map_err(|_| LineError::new(field, format!("'{v}' is not a byte count"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_of_urls() {
        assert_eq!(host_of_url("http://www.example.com/a?b"), "www.example.com");
        assert_eq!(host_of_url("https://u:p@box.com:8443/x"), "box.com");
        assert_eq!(
            host_of_url("login.microsoftonline.com:443"),
            "login.microsoftonline.com"
        );
        assert_eq!(host_of_url("http://[2001:db8::1]:8080/"), "2001:db8::1");
        assert_eq!(host_of_url("[2001:db8::2]:443"), "2001:db8::2");
        assert_eq!(host_of_url("2001:db8::3"), "2001:db8::3");
        assert_eq!(host_of_url("example.org"), "example.org");
    }

    #[test]
    fn byte_counts() {
        assert_eq!(bytes("bytes", "-"), Ok(0));
        assert_eq!(bytes("bytes", "1234"), Ok(1234));
        assert!(bytes("bytes", "12x").is_err());
    }
}
