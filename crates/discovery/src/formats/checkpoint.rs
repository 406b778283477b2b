//! Check Point logs as Log Exporter sends them over syslog: an RFC 5424
//! header and `[key:"value"; key:"value"]`, or plain `key=value` pairs.
//!
//! The client is `src`; the host is the one named by the URL filtering /
//! application control fields (`resource` URL, `http_host`,
//! `dst_domain_name`, `tls_server_host_name`, …) or else the destination
//! IP `dst`. The user is `user`, `src_user_name` or `src_user_dn`, as
//! logged. Bytes: `client_outbound_bytes` / `client_inbound_bytes`, or
//! `sent_bytes` / `received_bytes`. Time: the `time` field (Unix time) or
//! the syslog header's time. Lines without `src`/`dst` (system messages,
//! policy installs) carry no connection.

use std::borrow::Cow;

use super::common::{self, pairs, url_host};
use crate::event::{bytes, present, Event, LineError};

/// Does the line look like a Check Point log?
pub fn looks_like(line: &str) -> bool {
    line.contains(" CheckPoint ")
        || line.contains("loguid:\"")
        || line.contains("loguid=\"")
        || (line.contains("origin_sic_name=") || line.contains("originsicname:\""))
}

#[derive(Default)]
struct Fields<'a> {
    time: Option<&'a str>,
    src: Option<&'a str>,
    dst: Option<&'a str>,
    resource: Option<&'a str>,
    named_host: Option<&'a str>,
    user: Option<&'a str>,
    up: Option<&'a str>,
    down: Option<&'a str>,
}

/// One line; `Ok(None)` for blank lines and logs without a connection.
pub fn parse(line: &str) -> Result<Option<Event<'_>>, LineError> {
    if line.trim().is_empty() {
        return Ok(None);
    }
    // Pairs are `key:"v"` inside brackets, or `key=v` (`key="v"`).
    let body = common::strip_priority(line);
    let separator: &'static [u8] = if body.contains(":\"") && body.contains('[') {
        b":"
    } else {
        b"="
    };
    let pair_text = if separator == b":" {
        body.find('[').map_or(body, |i| &body[i..])
    } else {
        body
    };
    let mut f = Fields::default();
    for p in pairs(pair_text, separator) {
        let slot = match p.key {
            "time" => &mut f.time,
            "src" => &mut f.src,
            "dst" => &mut f.dst,
            "resource" => &mut f.resource,
            "http_host"
            | "dst_domain_name"
            | "tls_server_host_name"
            | "destination_dns_hostname"
            | "server_name" => &mut f.named_host,
            "user" | "src_user_name" | "src_user_dn" => &mut f.user,
            "client_outbound_bytes" | "sent_bytes" => &mut f.up,
            "client_inbound_bytes" | "received_bytes" => &mut f.down,
            _ => continue,
        };
        if slot.is_none() {
            *slot = present(p.value);
        }
    }
    let host = f
        .resource
        .map(Cow::Borrowed)
        .and_then(url_host)
        .or_else(|| f.named_host.map(Cow::Borrowed).and_then(url_host))
        .or_else(|| f.dst.map(Cow::Borrowed));
    let Some(host) = host else {
        if f.src.is_some() {
            return Err(LineError::missing("dst"));
        }
        return Ok(None);
    };
    let ts = match f.time {
        Some(t) => common::time_field("time", t)?,
        None => header_time(body),
    };
    Ok(Some(Event {
        ts,
        user: f.user.map(Cow::Borrowed),
        src_ip: f.src.map(Cow::Borrowed),
        host,
        bytes_up: bytes("client_outbound_bytes", f.up.unwrap_or(""))?,
        bytes_down: bytes("client_inbound_bytes", f.down.unwrap_or(""))?,
    }))
}

/// The RFC 5424 header's time (`1 2026-03-02T09:15:00Z host …`).
fn header_time(body: &str) -> Option<i64> {
    let mut words = body.split_ascii_whitespace();
    let first = words.next()?;
    let candidate = if first.bytes().all(|b| b.is_ascii_digit()) && first.len() <= 2 {
        words.next()?
    } else {
        first
    };
    if candidate.len() >= 19 && candidate.as_bytes().get(4) == Some(&b'-') {
        common::timestamp(candidate)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_exporter_syslog() {
        let line = r#"<134>1 2026-03-02T09:15:00Z gw-hq CheckPoint 2210 - [action:"Accept"; loguid:"{0x1,0x2,0x3,0x4}"; origin:"10.0.0.1"; src:"10.6.0.8"; dst:"203.0.113.80"; service:"443"; resource:"https://wiki.example.org/page?a=1;b=2"; src_user_name:"Aiko Sato (aiko)"; client_outbound_bytes:"1200"; client_inbound_bytes:"34000"; product:"URL Filtering"]"#;
        assert!(looks_like(line));
        let e = parse(line).unwrap().unwrap();
        assert_eq!(e.host, "wiki.example.org");
        assert_eq!(e.src_ip.as_deref(), Some("10.6.0.8"));
        assert_eq!(e.user.as_deref(), Some("Aiko Sato (aiko)"));
        assert_eq!((e.bytes_up, e.bytes_down), (1200, 34000));
        assert_eq!(e.ts, Some(1772442900));

        let fw = r#"<134>1 2026-03-02T09:15:00+09:00 gw-hq CheckPoint 2210 - [action:"Accept"; loguid:"{0x1}"; dst:"2001:db8::80"; proto:"6"; src:"2001:db8::8"]"#;
        let e = parse(fw).unwrap().unwrap();
        assert_eq!(e.host, "2001:db8::80");
        assert_eq!(e.ts, Some(1772410500));
    }

    #[test]
    fn key_value_and_no_connection() {
        let line = r#"time=1772442900 action="Accept" loguid="{0x9}" src=10.6.0.9 dst=203.0.113.81 http_host="xn--r8jz45g.example" user="CLINIC\ken" sent_bytes=5 received_bytes=6"#;
        assert!(looks_like(line));
        let e = parse(line).unwrap().unwrap();
        assert_eq!(e.host, "xn--r8jz45g.example");
        assert_eq!(e.user.as_deref(), Some(r"CLINIC\ken"));
        assert_eq!((e.bytes_up, e.bytes_down), (5, 6));
        assert_eq!(e.ts, Some(1772442900));
        let sys = r#"<134>1 2026-03-02T09:15:00Z gw-hq CheckPoint 1930 - [flags:"1"; loguid:"{0x5}"; product:"System Monitor"; sys_message::"eth0: not protected; check"]"#;
        assert_eq!(parse(sys).unwrap(), None);
        let bad = r#"<134>1 2026-03-02T09:15:00Z gw-hq CheckPoint 1930 - [src:"10.0.0.1"; dst:"10.0.0.2"; client_inbound_bytes:"lots"]"#;
        assert_eq!(parse(bad).unwrap_err().field, "client_inbound_bytes");
        let no_dst = r#"<134>1 2026-03-02T09:15:00Z gw-hq CheckPoint 1930 - [src:"10.0.0.1"]"#;
        assert_eq!(parse(no_dst).unwrap_err().field, "dst");
    }
}
