//! Zeek `http.log`, `ssl.log`, `dns.log` (and `conn.log`), as TSV with a
//! `#fields` header or as JSON lines.
//!
//! The host is the HTTP `host` header, the TLS SNI `server_name`, the DNS
//! `query`, or else the responder address `id.resp_h`. The client is
//! `id.orig_h`. Bytes: `request_body_len` / `response_body_len` (http),
//! `orig_bytes` / `resp_bytes` (conn). HTTP `username` is the user.
//! Which log a file is comes from its columns (or `_path` in JSON); DNS
//! entries without a query carry no connection.

use std::borrow::Cow;

use serde::Deserialize;

use super::common::{self, json_error, url_host, Text};
use crate::event::{bytes, present, Event, LineError};

/// Does the line look like Zeek TSV (a header line, or a record with a
/// connection uid)?
pub fn looks_tsv(line: &str) -> bool {
    const HEADERS: &[&str] = &[
        "#separator",
        "#set_separator",
        "#empty_field",
        "#unset_field",
        "#path",
        "#open",
        "#fields",
        "#types",
        "#close",
    ];
    if HEADERS.iter().any(|h| line.starts_with(h)) {
        return true;
    }
    let mut cols = line.split('\t');
    let (Some(ts), Some(uid), Some(_orig)) = (cols.next(), cols.next(), cols.next()) else {
        return false;
    };
    let ts_like = common::epoch(ts).is_some() || ts.bytes().all(|b| b == b'X' || b == b'.');
    ts_like && is_uid(uid) && line.matches('\t').count() >= 5
}

/// Zeek connection uids: `C` and 14–20 base62 characters.
fn is_uid(value: &str) -> bool {
    value.starts_with('C')
        && (15..=21).contains(&value.len())
        && value.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Column positions from `#fields`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TsvHeader {
    separator: Option<char>,
    count: usize,
    ts: Option<usize>,
    orig_h: Option<usize>,
    resp_h: Option<usize>,
    host: Option<usize>,
    server_name: Option<usize>,
    query: Option<usize>,
    username: Option<usize>,
    up: Option<usize>,
    down: Option<usize>,
    dns: bool,
}

impl TsvHeader {
    fn from_fields(names: &[&str], separator: Option<char>) -> TsvHeader {
        let find = |n: &str| names.iter().position(|c| *c == n);
        TsvHeader {
            separator,
            count: names.len(),
            ts: find("ts"),
            orig_h: find("id.orig_h"),
            resp_h: find("id.resp_h"),
            host: find("host"),
            server_name: find("server_name"),
            query: find("query"),
            username: find("username"),
            up: find("request_body_len").or_else(|| find("orig_bytes")),
            down: find("response_body_len").or_else(|| find("resp_bytes")),
            dns: find("query").is_some() || find("qtype_name").is_some(),
        }
    }
}

/// Reads `#separator \x09` (escaped) to the character.
fn separator_of(value: &str) -> Option<char> {
    let v = value.trim();
    if let Some(hex) = v.strip_prefix("\\x") {
        return u8::from_str_radix(hex, 16).ok().map(char::from);
    }
    v.chars().next()
}

/// State of a TSV file: the header lines seen so far.
#[derive(Debug, Clone, Default)]
pub struct TsvState {
    separator: Option<char>,
    header: Option<TsvHeader>,
}

/// One TSV line; header lines update `state` and read as `Ok(None)`.
pub fn parse_tsv<'a>(state: &mut TsvState, line: &'a str) -> Result<Option<Event<'a>>, LineError> {
    if line.trim().is_empty() {
        return Ok(None);
    }
    if let Some(rest) = line.strip_prefix('#') {
        if let Some(v) = rest.strip_prefix("separator") {
            state.separator = separator_of(v);
        } else if let Some(v) = rest.strip_prefix("fields") {
            let sep = state.separator.unwrap_or('\t');
            let names: Vec<&str> = v.trim_start_matches(sep).split(sep).collect();
            state.header = Some(TsvHeader::from_fields(&names, state.separator));
        }
        return Ok(None);
    }
    let Some(h) = state.header.as_ref() else {
        return Err(LineError::new(
            "#fields",
            "a record before the #fields header",
        ));
    };
    let sep = h.separator.unwrap_or('\t');
    let cols: Vec<&'a str> = line.split(sep).collect();
    if cols.len() != h.count {
        return Err(LineError::new(
            "record",
            format!("{} columns, the header names {}", cols.len(), h.count),
        ));
    }
    let get = |i: Option<usize>| i.and_then(|i| cols.get(i)).and_then(|v| present(v));
    let host = get(h.query)
        .or_else(|| get(h.server_name))
        .or_else(|| get(h.host))
        .map(Cow::Borrowed)
        .and_then(url_host);
    let host = match host {
        Some(host) => host,
        None if h.dns => return Ok(None),
        None => match get(h.resp_h) {
            Some(ip) => Cow::Borrowed(ip),
            None => return Err(LineError::missing("id.resp_h")),
        },
    };
    let ts = match get(h.ts) {
        Some(t) => Some(
            common::epoch(t)
                .ok_or_else(|| LineError::new("ts", format!("'{t}' is not a Unix time")))?,
        ),
        None => None,
    };
    Ok(Some(Event {
        ts,
        user: get(h.username).map(Cow::Borrowed),
        src_ip: get(h.orig_h).map(Cow::Borrowed),
        host,
        bytes_up: bytes("request_body_len", get(h.up).unwrap_or(""))?,
        bytes_down: bytes("response_body_len", get(h.down).unwrap_or(""))?,
    }))
}

#[derive(Debug, Default, Deserialize)]
struct JsonFields<'a> {
    #[serde(borrow, default, rename = "_path")]
    path: Text<'a>,
    #[serde(borrow, default)]
    ts: Text<'a>,
    #[serde(borrow, default, rename = "id.orig_h")]
    orig_h: Text<'a>,
    #[serde(borrow, default, rename = "id.resp_h")]
    resp_h: Text<'a>,
    #[serde(borrow, default)]
    host: Text<'a>,
    #[serde(borrow, default)]
    server_name: Text<'a>,
    #[serde(borrow, default)]
    query: Text<'a>,
    #[serde(borrow, default)]
    qtype_name: Text<'a>,
    #[serde(borrow, default)]
    username: Text<'a>,
    #[serde(borrow, default)]
    request_body_len: Text<'a>,
    #[serde(borrow, default)]
    response_body_len: Text<'a>,
    #[serde(borrow, default)]
    orig_bytes: Text<'a>,
    #[serde(borrow, default)]
    resp_bytes: Text<'a>,
}

/// Does the line look like a Zeek JSON log entry?
pub fn looks_json(line: &str) -> bool {
    let l = line.trim_start();
    l.starts_with('{') && l.contains("\"id.orig_h\"") && l.contains("\"uid\"")
}

/// One JSON line.
pub fn parse_json(line: &str) -> Result<Option<Event<'_>>, LineError> {
    let l = line.trim();
    if l.is_empty() {
        return Ok(None);
    }
    if !l.starts_with('{') {
        return Err(LineError::new("json", "not a JSON object"));
    }
    let mut f: JsonFields<'_> = serde_json::from_str(l).map_err(json_error)?;
    let dns = f.path.present() == Some("dns") || f.query.0.is_some() || f.qtype_name.0.is_some();
    let host = f
        .query
        .take()
        .or_else(|| f.server_name.take())
        .or_else(|| f.host.take())
        .and_then(url_host);
    let host = match host {
        Some(h) => h,
        None if dns => return Ok(None),
        None => f
            .resp_h
            .take()
            .ok_or_else(|| LineError::missing("id.resp_h"))?,
    };
    let ts = match f.ts.present() {
        Some(t) => Some(
            common::timestamp(t)
                .ok_or_else(|| LineError::new("ts", format!("'{t}' is not a time")))?,
        ),
        None => None,
    };
    let up = f
        .request_body_len
        .present()
        .or(f.orig_bytes.present())
        .unwrap_or("");
    let down = f
        .response_body_len
        .present()
        .or(f.resp_bytes.present())
        .unwrap_or("");
    Ok(Some(Event {
        ts,
        user: f.username.take(),
        src_ip: f.orig_h.take(),
        host,
        bytes_up: bytes("request_body_len", up)?,
        bytes_down: bytes("response_body_len", down)?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HTTP_HEAD: &[&str] = &[
        "#separator \\x09",
        "#set_separator\t,",
        "#empty_field\t(empty)",
        "#unset_field\t-",
        "#path\thttp",
        "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tmethod\thost\turi\trequest_body_len\tresponse_body_len\tusername",
        "#types\ttime\tstring\taddr\tport\taddr\tport\tstring\tstring\tstring\tcount\tcount\tstring",
    ];

    #[test]
    fn tsv_http() {
        let mut st = TsvState::default();
        for h in HTTP_HEAD {
            assert!(looks_tsv(h));
            assert_eq!(parse_tsv(&mut st, h).unwrap(), None);
        }
        let line = "1772442900.250000\tCabcdefghijklmn1\t10.4.0.2\t50000\t203.0.113.4\t80\tGET\tdocs.example.net:8080\t/x\t12\t3400\taiko";
        assert!(looks_tsv(line));
        let e = parse_tsv(&mut st, line).unwrap().unwrap();
        assert_eq!(e.host, "docs.example.net");
        assert_eq!(e.src_ip.as_deref(), Some("10.4.0.2"));
        assert_eq!(e.user.as_deref(), Some("aiko"));
        assert_eq!((e.bytes_up, e.bytes_down), (12, 3400));
        assert_eq!(e.ts, Some(1772442900));
        let no_host = "1772442900.250000\tCabcdefghijklmn2\t2001:db8::2\t50000\t2001:db8::4\t80\tGET\t-\t/x\t0\t0\t-";
        let e = parse_tsv(&mut st, no_host).unwrap().unwrap();
        assert_eq!(e.host, "2001:db8::4");
        assert_eq!(e.user, None);
        assert_eq!(parse_tsv(&mut st, "1\t2").unwrap_err().field, "record");
        let bad_ts = line.replace("1772442900.250000", "soon");
        assert_eq!(parse_tsv(&mut st, &bad_ts).unwrap_err().field, "ts");
        assert_eq!(
            parse_tsv(&mut TsvState::default(), line).unwrap_err().field,
            "#fields"
        );
    }

    #[test]
    fn tsv_ssl_and_dns() {
        let mut st = TsvState::default();
        parse_tsv(
            &mut st,
            "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tversion\tserver_name",
        )
        .unwrap();
        let e = parse_tsv(&mut st, "1772442900.1\tCabcdefghijklmn3\t10.4.0.3\t50001\t203.0.113.5\t443\tTLSv13\tapi.example.io")
            .unwrap()
            .unwrap();
        assert_eq!(e.host, "api.example.io");
        let mut st = TsvState::default();
        parse_tsv(
            &mut st,
            "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tquery\tqtype_name",
        )
        .unwrap();
        let e = parse_tsv(
            &mut st,
            "1772442900.1\tCabcdefghijklmn4\t10.4.0.3\t50001\t10.0.0.53\t53\tmail.example.jp\tA",
        )
        .unwrap()
        .unwrap();
        assert_eq!(e.host, "mail.example.jp");
        assert_eq!(
            parse_tsv(
                &mut st,
                "1772442900.1\tCabcdefghijklmn4\t10.4.0.3\t50001\t10.0.0.53\t53\t-\t-"
            )
            .unwrap(),
            None
        );
    }

    #[test]
    fn json_lines() {
        let http = r#"{"ts":1772442900.5,"uid":"Cabcdefghijklmn5","id.orig_h":"10.4.0.9","id.orig_p":5000,"id.resp_h":"203.0.113.9","id.resp_p":80,"host":"pics.example.com","request_body_len":0,"response_body_len":777}"#;
        assert!(looks_json(http));
        let e = parse_json(http).unwrap().unwrap();
        assert_eq!(e.host, "pics.example.com");
        assert_eq!(e.bytes_down, 777);
        assert_eq!(e.ts, Some(1772442900));
        assert!(matches!(e.host, Cow::Borrowed(_)));
        let ssl = r#"{"_path":"ssl","ts":"2026-03-02T09:15:00.123Z","uid":"Cabcdefghijklmn6","id.orig_h":"10.4.0.9","id.resp_h":"203.0.113.9","server_name":"login.example.com"}"#;
        assert_eq!(parse_json(ssl).unwrap().unwrap().ts, Some(1772442900));
        let dns = r#"{"_path":"dns","ts":1772442900,"uid":"Cabcdefghijklmn7","id.orig_h":"10.4.0.9","id.resp_h":"10.0.0.53","qtype_name":"A"}"#;
        assert_eq!(parse_json(dns).unwrap(), None);
        let no_host = r#"{"ts":1772442900,"uid":"Cabcdefghijklmn8","id.orig_h":"10.4.0.9","id.resp_h":"2001:db8::99"}"#;
        assert_eq!(parse_json(no_host).unwrap().unwrap().host, "2001:db8::99");
        assert_eq!(
            parse_json(r#"{"ts":"later","id.resp_h":"10.0.0.1"}"#)
                .unwrap_err()
                .field,
            "ts"
        );
        assert_eq!(parse_json(r#"{"ts":1}"#).unwrap_err().field, "id.resp_h");
        assert_eq!(parse_json("[1,2]").unwrap_err().field, "json");
    }
}
