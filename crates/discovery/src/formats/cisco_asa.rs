//! Cisco ASA (and Firepower Threat Defense) syslog: the connection
//! messages 302013/302015 (built TCP/UDP) and 302014/302016 (teardown).
//!
//! `Built {inbound|outbound} TCP connection ID for IF:ADDR/PORT (MAPPED/PORT)
//! [(USER)] to IF:ADDR/PORT (MAPPED/PORT) [(USER)]`: an outbound connection
//! goes from the `to` side to the `for` side, an inbound one the other
//! way. Teardowns do not say; the side on the lower port is taken as the
//! server. The destination has no name in these messages: the host is the
//! IP address. Teardowns log the bytes of both directions as one count,
//! counted here as received. When both built and teardown messages are
//! logged, each connection is seen twice. Other messages carry no
//! connection. Times are the ASA's `logging timestamp` (`Apr 29 2026
//! 12:59:50`, RFC 5424 with `logging timestamp rfc5424`); a time without a
//! year is left out, and zone names are ignored (read as UTC).

use std::borrow::Cow;

use super::common;
use crate::event::{bytes, Event, LineError};

/// The message tag (`%ASA-6-302013`) and where the message text starts.
fn tag(line: &str) -> Option<(usize, &str)> {
    let start = line.find("%ASA-").or_else(|| line.find("%FTD-"))?;
    let rest = &line[start..];
    let colon = rest.find(':')?;
    let id = rest[..colon].rsplit('-').next()?;
    Some((start, id))
}

/// Does the line look like ASA/FTD syslog?
pub fn looks_like(line: &str) -> bool {
    tag(line).is_some_and(|(_, id)| id.len() == 6 && id.bytes().all(|b| b.is_ascii_digit()))
}

/// One side of a connection: `inside:10.0.0.1/5000`, possibly followed by
/// `(mapped/port)` and `(DOMAIN\user)` words.
#[derive(Debug, Default)]
struct Side<'a> {
    addr: &'a str,
    port: u32,
    user: Option<&'a str>,
}

fn side<'a>(words: &[&'a str], field: &'static str) -> Result<Side<'a>, LineError> {
    let first = words.first().ok_or_else(|| LineError::missing(field))?;
    let (endpoint, attached) = match first.find('(') {
        Some(i) => (&first[..i], Some(&first[i..])),
        None => (*first, None),
    };
    let (_iface, addr_port) = endpoint.split_once(':').ok_or_else(|| {
        LineError::new(field, format!("'{endpoint}' is not interface:address/port"))
    })?;
    let (addr, port) = match addr_port.rsplit_once('/') {
        Some((a, p)) => (a, p),
        None => (addr_port, "0"),
    };
    if addr.is_empty()
        || !addr
            .bytes()
            .all(|b| b.is_ascii_hexdigit() || b == b'.' || b == b':')
    {
        return Err(LineError::new(
            field,
            format!("'{addr}' is not an IP address"),
        ));
    }
    let port = port
        .parse::<u32>()
        .map_err(|_| LineError::new(field, format!("'{port}' is not a port")))?;
    let mut user = None;
    for w in attached.into_iter().chain(words[1..].iter().copied()) {
        let Some(inner) = w.strip_prefix('(').and_then(|w| w.strip_suffix(')')) else {
            continue;
        };
        // `(10.0.0.1/5000)` is the mapped address, not a user.
        let mapped = inner.contains('/')
            && inner
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b".:/".contains(&b));
        if !mapped && user.is_none() {
            user = crate::event::present(inner);
        }
    }
    Ok(Side { addr, port, user })
}

/// One line; `Ok(None)` for messages other than connection built/teardown.
pub fn parse(line: &str) -> Result<Option<Event<'_>>, LineError> {
    let Some((start, id)) = tag(line) else {
        if line.trim().is_empty() {
            return Ok(None);
        }
        return Err(LineError::new("message", "no %ASA- message tag"));
    };
    let built = match id {
        "302013" | "302015" => true,
        "302014" | "302016" => false,
        _ => return Ok(None),
    };
    let text = &line[start..];
    let text = text.split_once(": ").map_or("", |(_, t)| t);
    let words: Vec<&str> = text.split_ascii_whitespace().collect();
    let for_at = words
        .iter()
        .position(|w| *w == "for")
        .ok_or_else(|| LineError::missing("for"))?;
    let to_at = words[for_at..]
        .iter()
        .position(|w| *w == "to")
        .map(|i| i + for_at)
        .ok_or_else(|| LineError::missing("to"))?;
    let end = words[to_at..]
        .iter()
        .position(|w| *w == "duration" || *w == "bytes")
        .map_or(words.len(), |i| i + to_at);
    let a = side(&words[for_at + 1..to_at], "for")?;
    let b = side(&words[to_at + 1..end], "to")?;
    let outbound_order = if built {
        words.get(1).is_none_or(|w| *w != "inbound")
    } else {
        a.port <= b.port
    };
    let (src, dst) = if outbound_order { (b, a) } else { (a, b) };
    let total = match words.iter().position(|w| *w == "bytes") {
        Some(i) => bytes("bytes", words.get(i + 1).copied().unwrap_or(""))?,
        None => 0,
    };
    // A trailing `(user)` after the counts (AAA user).
    let trailing_user = words[end..]
        .iter()
        .rev()
        .find_map(|w| w.strip_prefix('(').and_then(|w| w.strip_suffix(')')))
        .filter(|u| u.contains('\\') || u.contains('@'));
    Ok(Some(Event {
        ts: asa_time(&line[..start]),
        user: src.user.or(trailing_user).map(Cow::Borrowed),
        src_ip: Some(Cow::Borrowed(src.addr)),
        host: Cow::Borrowed(dst.addr),
        bytes_up: 0,
        bytes_down: total,
    }))
}

/// The time in the header before the message tag, when it has a year.
fn asa_time(header: &str) -> Option<i64> {
    let h = common::strip_priority(header);
    let words: Vec<&str> = h
        .split_ascii_whitespace()
        .map(|w| w.trim_end_matches(':'))
        .collect();
    if words.len() >= 4 {
        if let Some(t) = common::timestamp(&words[..4].join(" ")) {
            return Some(t);
        }
    }
    words.iter().take(2).find_map(|w| {
        if w.len() >= 19 && w.as_bytes().get(4) == Some(&b'-') {
            common::timestamp(w)
        } else {
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_outbound_and_inbound() {
        let line = r"<166>Mar 02 2026 09:15:00: %ASA-6-302013: Built outbound TCP connection 1001 for outside:203.0.113.7/443 (203.0.113.7/443) to inside:10.5.0.9/51515 (198.51.100.2/40001) (CLINIC\aiko)";
        assert!(looks_like(line));
        let e = parse(line).unwrap().unwrap();
        assert_eq!(e.host, "203.0.113.7");
        assert_eq!(e.src_ip.as_deref(), Some("10.5.0.9"));
        assert_eq!(e.user.as_deref(), Some(r"CLINIC\aiko"));
        assert_eq!(e.ts, Some(1772442900));
        let line = "Mar 02 2026 09:15:00 fw-01 : %ASA-6-302015: Built inbound UDP connection 7 for outside:198.51.100.20/5353 (198.51.100.20/5353) to dmz:10.9.0.2/53 (203.0.113.2/53)";
        let e = parse(line).unwrap().unwrap();
        assert_eq!(e.host, "10.9.0.2");
        assert_eq!(e.src_ip.as_deref(), Some("198.51.100.20"));
        assert_eq!(e.user, None);
    }

    #[test]
    fn teardown_with_bytes_and_ipv6() {
        let line = r"2026-03-02T09:15:00Z fw-01 : %ASA-6-302014: Teardown TCP connection 1001 for outside:2001:db8::7/443 to inside:2001:db8:1::9/51515(LOCAL\ken) duration 0:01:02 bytes 123456 TCP FINs";
        let e = parse(line).unwrap().unwrap();
        assert_eq!(e.host, "2001:db8::7");
        assert_eq!(e.src_ip.as_deref(), Some("2001:db8:1::9"));
        assert_eq!(e.user.as_deref(), Some(r"LOCAL\ken"));
        assert_eq!(e.bytes_down, 123456);
        assert_eq!(e.ts, Some(1772442900));
        let line = "Mar  2 09:15:00 fw-01 %FTD-6-302016: Teardown UDP connection 8 for outside:198.51.100.53/53 to inside:10.5.0.9/40000 duration 0:00:00 bytes 90";
        let e = parse(line).unwrap().unwrap();
        assert_eq!(e.host, "198.51.100.53");
        assert_eq!(e.ts, None);
    }

    #[test]
    fn other_messages_and_errors() {
        assert_eq!(parse("Mar 02 2026 09:15:00: %ASA-4-106023: Deny tcp src inside:10.0.0.1/1 dst outside:10.0.0.2/2 by access-group \"x\"").unwrap(), None);
        assert_eq!(parse("Mar 02 2026 09:15:00: %ASA-6-302013: Built outbound TCP connection 1 for outside:bogus to inside:10.0.0.1/1").unwrap_err().field, "for");
        assert_eq!(parse("Mar 02 2026 09:15:00: %ASA-6-302014: Teardown TCP connection 1 for outside:10.0.0.2/443").unwrap_err().field, "to");
        assert_eq!(parse("Mar 02 2026 09:15:00: %ASA-6-302014: Teardown TCP connection 1 for outside:10.0.0.2/443 to inside:10.0.0.1/2 duration 0:0:1 bytes many").unwrap_err().field, "bytes");
        assert_eq!(parse("hello").unwrap_err().field, "message");
        assert!(!looks_like("1157689312.049 5006 10.105.21.199 TCP_MISS/200 19763 CONNECT a.com:443 - DIRECT/1.2.3.4 -"));
    }
}
