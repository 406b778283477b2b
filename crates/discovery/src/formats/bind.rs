//! BIND 9 query logs and Infoblox NIOS DNS query/response logs, with or
//! without a syslog header and BIND's own time stamp.
//!
//! BIND: `[DD-Mon-YYYY HH:MM:SS.mmm] [category: [severity: ]]client
//! [@0x…] ADDR#PORT (NAME): [view V: ]query: NAME CLASS TYPE FLAGS
//! (SERVER)`. Infoblox: `client ADDR#PORT: [view V: ]UDP: query: NAME
//! CLASS TYPE response: …`. Denied queries (`query (cache) 'NAME/TYPE/CLASS'
//! denied`) count too: someone asked for the name. Everything else named
//! logs (zone transfers, updates, notifies, failures that repeat a
//! logged query, …) carries no connection. BIND writes local time without
//! a zone: read as UTC; a syslog time has no year and is left out.

use std::borrow::Cow;

use super::common;
use crate::event::{Event, LineError};

/// Where `client ` starts, as a word.
fn client_at(line: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = line[from..].find("client ") {
        let at = from + i;
        if at == 0 || line.as_bytes()[at - 1] == b' ' {
            return Some(at);
        }
        from = at + 7;
    }
    None
}

/// Does the line look like a BIND / Infoblox DNS log?
pub fn looks_like(line: &str) -> bool {
    if line.contains(" named[") {
        return true;
    }
    let Some(at) = client_at(line) else {
        return false;
    };
    let mut words = line[at + 7..].split_ascii_whitespace();
    let mut w = words.next().unwrap_or("");
    if w.starts_with("@0x") {
        w = words.next().unwrap_or("");
    }
    let w = w.trim_end_matches(':');
    w.rsplit_once('#').is_some_and(|(addr, port)| {
        !addr.is_empty()
            && addr
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b'.' || b == b':')
            && !port.is_empty()
            && port.bytes().all(|b| b.is_ascii_digit())
    })
}

/// One line; `Ok(None)` for messages other than queries.
pub fn parse(line: &str) -> Result<Option<Event<'_>>, LineError> {
    if line.trim().is_empty() {
        return Ok(None);
    }
    let Some(at) = client_at(line) else {
        return Ok(None);
    };
    let after = &line[at + 7..];
    let query_at = after.find("query: ");
    let denied = after
        .find("query (cache) '")
        .or_else(|| after.find("query '"));
    if query_at.is_none() && denied.is_none() {
        return Ok(None);
    }
    let mut words = after.split_ascii_whitespace();
    let mut addr_word = words.next().unwrap_or("");
    if addr_word.starts_with("@0x") {
        addr_word = words.next().unwrap_or("");
    }
    let addr_word = addr_word.trim_end_matches(':');
    let addr = match addr_word.rsplit_once('#') {
        Some((a, _port)) => a,
        None => addr_word,
    };
    if addr.is_empty()
        || !addr
            .bytes()
            .all(|b| b.is_ascii_hexdigit() || b == b'.' || b == b':' || b == b'%')
    {
        return Err(LineError::new(
            "client",
            format!("'{addr_word}' is not an address#port"),
        ));
    }
    let name = if let Some(q) = query_at {
        after[q + 7..].split_ascii_whitespace().next().unwrap_or("")
    } else {
        let d = denied.unwrap_or(0);
        let quoted = &after[d..];
        let open = quoted.find('\'').map_or(quoted.len(), |i| i + 1);
        let rest = &quoted[open..];
        let end = rest.find(['/', '\'']).unwrap_or(rest.len());
        &rest[..end]
    };
    if name.is_empty() {
        return Err(LineError::new("query", "no name queried"));
    }
    Ok(Some(Event {
        ts: bind_time(&line[..at]),
        user: None,
        src_ip: Some(Cow::Borrowed(addr)),
        host: Cow::Borrowed(name),
        bytes_up: 0,
        bytes_down: 0,
    }))
}

/// BIND's `19-Oct-2026 05:34:02.425`, else an RFC 5424 header time.
fn bind_time(header: &str) -> Option<i64> {
    let words: Vec<&str> = header.split_ascii_whitespace().collect();
    for (i, w) in words.iter().enumerate() {
        let b = w.as_bytes();
        if b.len() == 11 && b[2] == b'-' && b[6] == b'-' {
            if let Some(t) = words.get(i + 1) {
                if let Some(ts) = common::timestamp(&format!("{w} {t}")) {
                    return Some(ts);
                }
            }
        }
    }
    let body = common::strip_priority(header);
    let mut it = body.split_ascii_whitespace();
    let first = it.next()?;
    let candidate = if first == "1" { it.next()? } else { first };
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
    fn bind_query_log() {
        let line = "02-Mar-2026 09:15:00.120 queries: info: client @0x7f00aa001122 10.9.8.7#53428 (cloud.example.com): query: cloud.example.com IN A +E(0)K (10.0.0.53)";
        assert!(looks_like(line));
        let e = parse(line).unwrap().unwrap();
        assert_eq!(e.host, "cloud.example.com");
        assert_eq!(e.src_ip.as_deref(), Some("10.9.8.7"));
        assert_eq!(e.ts, Some(1772442900));
        let v6 = "client @0x7f00aa001122 2001:db8::7#5353 (xn--r8jz45g.example): view internal: query: xn--r8jz45g.example IN AAAA + (2001:db8::53)";
        let e = parse(v6).unwrap().unwrap();
        assert_eq!(e.host, "xn--r8jz45g.example");
        assert_eq!(e.src_ip.as_deref(), Some("2001:db8::7"));
        assert_eq!(e.ts, None);
    }

    #[test]
    fn infoblox_and_denied() {
        let line = "<30>Mar  2 09:15:00 ns1.clinic.example named[2211]: infoblox-responses: 02-Mar-2026 09:15:00.001 client 10.9.8.7#60000: UDP: query: sync.example.org IN A response: NOERROR + sync.example.org. 60 IN A 203.0.113.1;";
        assert!(looks_like(line));
        let e = parse(line).unwrap().unwrap();
        assert_eq!(e.host, "sync.example.org");
        assert_eq!(e.src_ip.as_deref(), Some("10.9.8.7"));
        assert_eq!(e.ts, Some(1772442900));
        let denied = "02-Mar-2026 09:15:00.500 security: info: client @0x7f01 10.9.8.8#3076 (files.example.net): query (cache) 'files.example.net/A/IN' denied";
        let e = parse(denied).unwrap().unwrap();
        assert_eq!(e.host, "files.example.net");
        let other = "<30>Mar  2 09:15:00 ns1 named[2211]: client @0x7f01 10.9.8.8#3076 (a.example): zone transfer 'a.example/AXFR/IN' denied";
        assert_eq!(parse(other).unwrap(), None);
        assert_eq!(
            parse("<30>Mar  2 09:15:00 ns1 named[2211]: zone a.example/IN: loaded serial 7")
                .unwrap(),
            None
        );
        assert_eq!(
            parse("client nowhere: query: a.example IN A")
                .unwrap_err()
                .field,
            "client"
        );
        assert_eq!(
            parse("client 10.0.0.1#1: query: ").unwrap_err().field,
            "query"
        );
        assert!(!looks_like("1157689312.049 5006 10.105.21.199 TCP_MISS/200 19763 CONNECT a.com:443 - DIRECT/1.2.3.4 -"));
    }
}
