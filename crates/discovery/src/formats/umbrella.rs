//! Cisco Umbrella proxy (Secure Web Gateway) logs, as exported to S3:
//! quoted CSV without a header row.
//!
//! Columns: timestamp (UTC), identities, internal IP, external IP,
//! destination IP, content type, verdict, URL, referer, user agent,
//! status code, request size, response size, response body size, SHA-256,
//! categories, AV detections, PUAs, AMP disposition, AMP malware name, AMP
//! score, identity types, blocked categories, …. The identity is taken as
//! the user only when its type names users (`AD Users`, `Users`, …) or it
//! reads like one (`DOMAIN\user`, `user@domain`); networks, sites and
//! computers are not people.

use std::borrow::Cow;

use super::common::{self, time_field, url_host};
use crate::event::{bytes, Event, LineError};

const TIMESTAMP: usize = 0;
const IDENTITY: usize = 1;
const INTERNAL_IP: usize = 2;
const EXTERNAL_IP: usize = 3;
const DESTINATION_IP: usize = 4;
const VERDICT: usize = 6;
const URL: usize = 7;
const REQUEST_SIZE: usize = 11;
const RESPONSE_SIZE: usize = 12;
const IDENTITY_TYPE: usize = 21;

/// Does the line look like an Umbrella proxy record?
pub fn looks_like(line: &str) -> bool {
    let l = line.trim_start();
    if !l.starts_with('"') || l.starts_with("{") {
        return false;
    }
    let Ok(fields) = common::csv_fields(l, b',') else {
        return false;
    };
    fields.len() >= 13
        && fields[TIMESTAMP].len() == 19
        && chrono::NaiveDateTime::parse_from_str(&fields[TIMESTAMP], "%Y-%m-%d %H:%M:%S").is_ok()
        && (fields[URL].contains("://")
            || matches!(fields[VERDICT].as_ref(), "ALLOWED" | "BLOCKED" | "WARNED"))
}

fn is_user(identity: &str, kind: Option<&str>) -> bool {
    match kind {
        Some(k) if k.to_ascii_lowercase().contains("user") => true,
        Some(k) if !k.is_empty() => false,
        _ => identity.contains('\\') || identity.contains('@'),
    }
}

/// One line.
pub fn parse(line: &str) -> Result<Option<Event<'_>>, LineError> {
    if line.trim().is_empty() {
        return Ok(None);
    }
    let mut fields = common::csv_fields(line, b',')?;
    if fields.len() <= RESPONSE_SIZE {
        return Err(LineError::new(
            "record",
            format!("{} columns, fewer than 13", fields.len()),
        ));
    }
    let ts = time_field("timestamp", &fields[TIMESTAMP])?;
    let up = bytes("requestSize", &fields[REQUEST_SIZE])?;
    let down = bytes("responseSize", &fields[RESPONSE_SIZE])?;
    let kind = common::get(&fields, IDENTITY_TYPE).map(str::to_owned);
    let identity = common::take(&mut fields, IDENTITY);
    // Several identities are separated by commas; the first is the most
    // specific.
    let user = identity
        .filter(|i| is_user(i, kind.as_deref()))
        .map(|i| match i {
            Cow::Borrowed(b) => Cow::Borrowed(b.split(',').next().unwrap_or(b).trim()),
            Cow::Owned(o) => Cow::Owned(o.split(',').next().unwrap_or(&o).trim().to_owned()),
        });
    let host = common::take(&mut fields, URL)
        .and_then(url_host)
        .or_else(|| common::take(&mut fields, DESTINATION_IP))
        .ok_or_else(|| LineError::missing("URL"))?;
    let src_ip =
        common::take(&mut fields, INTERNAL_IP).or_else(|| common::take(&mut fields, EXTERNAL_IP));
    Ok(Some(Event {
        ts,
        user,
        src_ip,
        host,
        bytes_up: up,
        bytes_down: down,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(identity: &str, url: &str, kind: &str) -> String {
        format!(
            r#""2026-03-02 09:15:00","{identity}","10.7.0.4","198.51.100.9","203.0.113.30","text/html","ALLOWED","{url}","","Mozilla/5.0 (X11, Linux)","200","350","8200","8100","","Collaboration","","","","","","{kind}","","{identity}","{kind}","GET""#
        )
    }

    #[test]
    fn proxy_records() {
        let line = record(r"CLINIC\aiko", "https://board.example.com/p/1", "AD Users");
        assert!(looks_like(&line));
        let e = parse(&line).unwrap().unwrap();
        assert_eq!(e.host, "board.example.com");
        assert_eq!(e.user.as_deref(), Some(r"CLINIC\aiko"));
        assert_eq!(e.src_ip.as_deref(), Some("10.7.0.4"));
        assert_eq!((e.bytes_up, e.bytes_down), (350, 8200));
        assert_eq!(e.ts, Some(1772442900));

        let line = record("Branch Office", "http://[2001:db8::5]:8080/x", "Networks");
        let e = parse(&line).unwrap().unwrap();
        assert_eq!(e.host, "2001:db8::5");
        assert_eq!(e.user, None);

        let line = record("Branch Office", "", "Networks");
        assert_eq!(parse(&line).unwrap().unwrap().host, "203.0.113.30");
        assert_eq!(
            parse(r#""2026-03-02 09:15:00","a""#).unwrap_err().field,
            "record"
        );
        let bad = record("x", "http://a.example/", "Networks").replace("\"350\"", "\"n/a\"");
        assert_eq!(parse(&bad).unwrap_err().field, "requestSize");
    }

    #[test]
    fn not_other_formats() {
        assert!(!looks_like(
            r#"10.1.2.3 - - [10/Oct/2026:13:55:36 +0000] "CONNECT api.openai.com:443 HTTP/1.1" 200 0 "-" "-""#
        ));
        assert!(!looks_like(r#""2026-03-02 09:15:00","a","b""#));
    }
}
