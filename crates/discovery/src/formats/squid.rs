//! Squid: the native `access.log` format (`squid` logformat, and the
//! longer custom formats that start the same way) and the NCSA combined
//! format (`combined` / `common` logformat).
//!
//! Native: `time elapsed client action/code size method URL ident
//! hierarchy/peer type` — `size` is what the client received. Extended
//! formats that add fields keep the order time, elapsed, client and put
//! the method before the URL; the method is located by name.

use std::borrow::Cow;

use chrono::DateTime;

use crate::event::{bytes, has_scheme, host_of_url, present, Event, LineError};

const METHODS: &[&str] = &[
    "GET",
    "POST",
    "CONNECT",
    "PUT",
    "HEAD",
    "DELETE",
    "OPTIONS",
    "PATCH",
    "TRACE",
    "PROPFIND",
    "PROPPATCH",
    "MKCOL",
    "COPY",
    "MOVE",
    "LOCK",
    "UNLOCK",
    "REPORT",
    "ICP_QUERY",
    "NONE",
];

fn is_method(token: &str) -> bool {
    METHODS.contains(&token)
}

/// `1157689312.049` → 1157689312.
fn epoch_seconds(value: &str) -> Result<i64, LineError> {
    let whole = value.split('.').next().unwrap_or(value);
    whole
        .parse::<i64>()
        .map_err(|_| LineError::new("time", format!("'{value}' is not a Unix time")))
}

/// Does the line look like Squid native (`1157689312.049   5006 …`)?
pub fn looks_native(line: &str) -> bool {
    let mut it = line.split_ascii_whitespace();
    let (Some(t), Some(e), Some(_client), Some(code)) =
        (it.next(), it.next(), it.next(), it.next())
    else {
        return false;
    };
    t.len() >= 10
        && t.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && t.contains('.')
        && e.bytes().all(|b| b.is_ascii_digit() || b == b'-')
        && (code.contains('/') || it.next().is_some_and(|c| c.contains('/')))
}

/// One native-format line; `Ok(None)` for blank lines.
pub fn parse_native(line: &str) -> Result<Option<Event<'_>>, LineError> {
    let mut fields = line.split_ascii_whitespace();
    let Some(time) = fields.next() else {
        return Ok(None);
    };
    let ts = epoch_seconds(time)?;
    let _elapsed = fields.next().ok_or_else(|| LineError::missing("elapsed"))?;
    let client = fields.next().ok_or_else(|| LineError::missing("client"))?;
    let code = fields
        .next()
        .ok_or_else(|| LineError::missing("result code"))?;
    let (size, method) = if code.contains('/') {
        // Native: size then method.
        let size = fields.next().ok_or_else(|| LineError::missing("size"))?;
        let method = fields.next().ok_or_else(|| LineError::missing("method"))?;
        (bytes("size", size)?, method)
    } else {
        // Extended (client port first): action/code, size, then fields up
        // to the method.
        let _code = fields
            .next()
            .ok_or_else(|| LineError::missing("result code"))?;
        let size = fields.next().ok_or_else(|| LineError::missing("size"))?;
        let size = bytes("size", size)?;
        let method = fields
            .by_ref()
            .find(|t| is_method(t))
            .ok_or_else(|| LineError::missing("method"))?;
        (size, method)
    };
    let url = fields.next().ok_or_else(|| LineError::missing("URL"))?;
    let mut user = fields.next();
    // Extended formats log the HTTP version between the URL and the user.
    if user.is_some_and(|u| {
        u.starts_with("HTTP/") || u.bytes().all(|b| b.is_ascii_digit() || b == b'.')
    }) {
        user = fields.next();
    }
    if url.starts_with('/') && method != "CONNECT" && !has_scheme(url) {
        // An origin-form request (transparent proxying): no host logged.
        return Err(LineError::new("URL", "no host in the URL"));
    }
    let host = host_of_url(url);
    if host.is_empty() {
        return Err(LineError::new("URL", format!("no host in '{url}'")));
    }
    let user = user.and_then(present).map(Cow::Borrowed);
    Ok(Some(Event {
        ts: Some(ts),
        user,
        src_ip: present(client).map(Cow::Borrowed),
        host: Cow::Borrowed(host),
        bytes_up: 0,
        bytes_down: size,
    }))
}

/// Does the line look like NCSA combined/common (`ip ident user [date] "…"`)?
pub fn looks_combined(line: &str) -> bool {
    let Some(open) = line.find(" [") else {
        return false;
    };
    let Some(close) = line[open..].find("] \"") else {
        return false;
    };
    let head: Vec<&str> = line[..open].split(' ').collect();
    head.len() == 3 && close > 20
}

/// `10/Oct/2000:13:55:36 -0700` → epoch seconds.
fn ncsa_time(value: &str) -> Result<i64, LineError> {
    DateTime::parse_from_str(value, "%d/%b/%Y:%H:%M:%S %z")
        .map(|t| t.timestamp())
        .map_err(|_| {
            LineError::new(
                "time",
                format!("'{value}' is not a date such as 10/Oct/2000:13:55:36 -0700"),
            )
        })
}

/// One NCSA combined/common line.
pub fn parse_combined(line: &str) -> Result<Option<Event<'_>>, LineError> {
    let line = line.trim();
    if line.is_empty() {
        return Ok(None);
    }
    let open = line.find(" [").ok_or_else(|| LineError::missing("time"))?;
    let mut head = line[..open].split(' ');
    let client = head.next().ok_or_else(|| LineError::missing("client"))?;
    let _ident = head.next().ok_or_else(|| LineError::missing("ident"))?;
    let user = head.next().ok_or_else(|| LineError::missing("user"))?;
    let rest = &line[open + 2..];
    let close = rest
        .find(']')
        .ok_or_else(|| LineError::new("time", "no closing ']'"))?;
    let ts = ncsa_time(&rest[..close])?;
    let rest = rest[close + 1..].trim_start();
    let rest = rest
        .strip_prefix('"')
        .ok_or_else(|| LineError::new("request", "not quoted"))?;
    let end = rest
        .find('"')
        .ok_or_else(|| LineError::new("request", "no closing quote"))?;
    let request = &rest[..end];
    let mut parts = request.split(' ');
    let method = parts.next().unwrap_or_default();
    let target = parts
        .next()
        .ok_or_else(|| LineError::new("request", "no URL"))?;
    let host = if method == "CONNECT" || target.contains("://") {
        host_of_url(target)
    } else {
        return Err(LineError::new("request", format!("no host in '{target}'")));
    };
    if host.is_empty() {
        return Err(LineError::new("request", format!("no host in '{target}'")));
    }
    let mut after = rest[end + 1..].split_ascii_whitespace();
    let _status = after.next().ok_or_else(|| LineError::missing("status"))?;
    let size = after.next().ok_or_else(|| LineError::missing("size"))?;
    Ok(Some(Event {
        ts: Some(ts),
        user: present(user).map(Cow::Borrowed),
        src_ip: present(client).map(Cow::Borrowed),
        host: Cow::Borrowed(host),
        bytes_up: 0,
        bytes_down: bytes("size", size)?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn native_lines() {
        let e = parse_native("1157689312.049   5006 10.105.21.199 TCP_MISS/200 19763 CONNECT login.yahoo.com:443 badeyek DIRECT/175.16.199.115 -")
            .unwrap()
            .unwrap();
        assert_eq!(e.host, "login.yahoo.com");
        assert_eq!(e.user.as_deref(), Some("badeyek"));
        assert_eq!(e.bytes_down, 19763);
        assert_eq!(e.ts, Some(1157689312));
        let e = parse_native("1157689320.327   2864 2001:db8::5 TCP_MISS/200 10182 GET http://[2001:db8::80]:8080/x - DIRECT/- text/html\r")
            .unwrap()
            .unwrap();
        assert_eq!(e.host, "2001:db8::80");
        assert_eq!(e.src_ip.as_deref(), Some("2001:db8::5"));
        assert_eq!(e.user, None);
        let e = parse_native(r"1157689320.327 1 10.0.0.9 TCP_MISS/200 10 GET https://Box.com/ HOSPITAL\jdoe DIRECT/1.2.3.4 -")
            .unwrap()
            .unwrap();
        assert_eq!(e.user.as_deref(), Some(r"HOSPITAL\jdoe"));
        assert!(
            parse_native("1157689320.327 1 10.0.0.9 TCP_MISS/200 xx GET http://a.com/").is_err()
        );
        assert!(parse_native("garbage").is_err());
        assert_eq!(parse_native("   ").unwrap(), None);
    }

    #[test]
    fn extended_lines() {
        let e = parse_native(r#"1773416922.568    158 10.105.21.199 58948 TCP_TUNNEL/200 28854 2051 39 120 - CONNECT www.google.com:443 1.1 badeyek HIER_DIRECT/198.51.100.20 443 - - - "-" "curl/8.14.1" "www.google.com:443" "-" 37 -"#)
            .unwrap()
            .unwrap();
        assert_eq!(e.host, "www.google.com");
        assert_eq!(e.user.as_deref(), Some("badeyek"));
        assert_eq!(e.bytes_down, 28854);
        assert!(looks_native(
            r#"1773416922.568    158 10.105.21.199 58948 TCP_TUNNEL/200 28854"#
        ));
    }

    #[test]
    fn combined_lines() {
        let line = r#"10.1.2.3 - jdoe@hospital.example [10/Oct/2026:13:55:36 +0900] "GET http://www.dropbox.com/s/x HTTP/1.1" 200 2326 "-" "Mozilla/5.0" TCP_MISS:HIER_DIRECT"#;
        assert!(looks_combined(line));
        let e = parse_combined(line).unwrap().unwrap();
        assert_eq!(e.host, "www.dropbox.com");
        assert_eq!(e.user.as_deref(), Some("jdoe@hospital.example"));
        assert_eq!(e.ts, Some(1_791_608_136));
        assert_eq!(e.bytes_down, 2326);
        let e = parse_combined(r#"10.1.2.3 - - [10/Oct/2026:13:55:36 +0000] "CONNECT api.openai.com:443 HTTP/1.1" 200 0 "-" "-""#)
            .unwrap()
            .unwrap();
        assert_eq!(e.host, "api.openai.com");
        assert!(
            parse_combined(r#"10.1.2.3 - - [10/Oct/2026:13:55:36] "GET / HTTP/1.1" 200 1"#)
                .is_err()
        );
    }
}
