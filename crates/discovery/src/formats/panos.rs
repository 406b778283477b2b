//! Palo Alto Networks PAN-OS traffic and threat (URL filtering) logs in
//! the CSV syslog format, with or without a syslog header in front.
//!
//! Leading columns, shared by both types: future use, receive time,
//! serial, type, subtype, future use, generated time, source, destination,
//! NAT source, NAT destination, rule, source user, destination user,
//! application, virtual system, zones, interfaces, log action, future use,
//! session, repeat count, ports (4), flags, protocol, action. Then traffic
//! logs carry bytes, bytes sent, bytes received; threat logs carry the
//! URL or file name. Only `url` threat logs name a host; the other threat
//! subtypes repeat connections the traffic log has, and other log types
//! (system, config, …) carry none. PAN-OS writes times in the firewall's
//! zone without saying which: they are read as UTC.

use std::borrow::Cow;

use super::common::{self, time_field, url_host};
use crate::event::{bytes, Event, LineError};

const RECEIVE_TIME: usize = 1;
const TYPE: usize = 3;
const SUBTYPE: usize = 4;
const SRC: usize = 7;
const DST: usize = 8;
const SRC_USER: usize = 12;
const BYTES_SENT: usize = 32;
const BYTES_RECEIVED: usize = 33;
const URL: usize = 31;

const TYPES: &[&str] = &[
    "TRAFFIC",
    "THREAT",
    "SYSTEM",
    "CONFIG",
    "HIPMATCH",
    "GLOBALPROTECT",
    "USERID",
    "DECRYPTION",
    "AUTHENTICATION",
    "TUNNEL",
    "CORRELATION",
    "SCTP",
    "IPTAG",
    "GTP",
];

/// The CSV part of the line: after a syslog header when there is one (the
/// header ends at the last space before the first comma).
fn csv_part(line: &str) -> &str {
    let first_comma = line.find(',').unwrap_or(line.len());
    match line[..first_comma].rfind(' ') {
        Some(i) => &line[i + 1..],
        None => line,
    }
}

/// Does the line look like a PAN-OS CSV log?
pub fn looks_like(line: &str) -> bool {
    let mut it = csv_part(line).split(',');
    let (Some(_), Some(time), Some(_serial), Some(kind)) =
        (it.next(), it.next(), it.next(), it.next())
    else {
        return false;
    };
    TYPES.contains(&kind)
        && time.len() >= 19
        && time.as_bytes().get(4) == Some(&b'/')
        && time.as_bytes().get(7) == Some(&b'/')
}

/// One line; `Ok(None)` for log types that carry no connection.
pub fn parse(line: &str) -> Result<Option<Event<'_>>, LineError> {
    let l = line.trim();
    if l.is_empty() {
        return Ok(None);
    }
    let mut fields = common::csv_fields(csv_part(l), b',')?;
    let kind = common::get(&fields, TYPE).ok_or_else(|| LineError::missing("type"))?;
    let traffic = match kind {
        "TRAFFIC" => true,
        "THREAT" => false,
        k if TYPES.contains(&k) => return Ok(None),
        k => {
            return Err(LineError::new(
                "type",
                format!("'{k}' is not a PAN-OS log type"),
            ))
        }
    };
    let subtype = common::get(&fields, SUBTYPE).unwrap_or("");
    if !traffic && !subtype.eq_ignore_ascii_case("url") {
        return Ok(None);
    }
    if fields.len() <= if traffic { BYTES_RECEIVED } else { URL } {
        return Err(LineError::new(
            "record",
            format!("{} columns, too few for a {kind} log", fields.len()),
        ));
    }
    let ts = time_field(
        "receive time",
        common::get(&fields, RECEIVE_TIME).unwrap_or(""),
    )?;
    let (up, down) = if traffic {
        (
            bytes("bytes_sent", common::get(&fields, BYTES_SENT).unwrap_or(""))?,
            bytes(
                "bytes_received",
                common::get(&fields, BYTES_RECEIVED).unwrap_or(""),
            )?,
        )
    } else {
        (0, 0)
    };
    let host: Cow<'_, str> = if traffic {
        common::take(&mut fields, DST).ok_or_else(|| LineError::missing("destination"))?
    } else {
        common::take(&mut fields, URL)
            .and_then(url_host)
            .or_else(|| common::take(&mut fields, DST))
            .ok_or_else(|| LineError::missing("url"))?
    };
    Ok(Some(Event {
        ts,
        user: common::take(&mut fields, SRC_USER),
        src_ip: common::take(&mut fields, SRC),
        host,
        bytes_up: up,
        bytes_down: down,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A traffic record laid out by the documented columns.
    fn traffic(prefix: &str, user: &str, sent: &str) -> String {
        format!(
            "{prefix}1,2026/03/02 09:15:01,001122334455,TRAFFIC,end,2561,2026/03/02 09:15:00,10.2.3.4,203.0.113.9,198.51.100.1,203.0.113.9,allow-web,{user},,ssl,vsys1,lan,wan,ethernet1/1,ethernet1/2,fwd,2026/03/02 09:15:00,4711,1,50000,443,40000,443,0x400000,tcp,allow,9000,{sent},6000,20,2026/03/02 09:14:00,60,business-systems,0,123,0x0,10.0.0.0-10.255.255.255,Japan,0,10,10,tcp-fin"
        )
    }

    #[test]
    fn traffic_logs() {
        let line = traffic("", r"clinic\aiko", "3000");
        assert!(looks_like(&line));
        let e = parse(&line).unwrap().unwrap();
        assert_eq!(e.host, "203.0.113.9");
        assert_eq!(e.src_ip.as_deref(), Some("10.2.3.4"));
        assert_eq!(e.user.as_deref(), Some(r"clinic\aiko"));
        assert_eq!((e.bytes_up, e.bytes_down), (3000, 6000));
        assert_eq!(e.ts, Some(1772442901));
        assert!(matches!(e.host, Cow::Borrowed(_)));

        let line = traffic("<14>Mar  2 09:15:01 fw-01 ", "", "3000");
        assert!(looks_like(&line));
        let e = parse(&line).unwrap().unwrap();
        assert_eq!(e.user, None);

        let line = traffic("", "", "lots");
        assert_eq!(parse(&line).unwrap_err().field, "bytes_sent");
        assert_eq!(
            parse("1,2026/03/02 09:15:01,0011,TRAFFIC,end")
                .unwrap_err()
                .field,
            "record"
        );
        assert_eq!(
            parse("1,2026/03/02 09:15:01,0011,SYSTEM,general,0").unwrap(),
            None
        );
        assert_eq!(
            parse("1,2026/03/02 09:15:01,0011,BOGUS,x")
                .unwrap_err()
                .field,
            "type"
        );
    }

    #[test]
    fn url_logs() {
        let line = r#"Mar  2 09:15:01 fw-01 1,2026/03/02 09:15:01,001122334455,THREAT,url,2561,2026/03/02 09:15:00,10.2.3.4,203.0.113.9,198.51.100.1,203.0.113.9,allow-web,aiko@clinic.example,,ssl,vsys1,lan,wan,ethernet1/1,ethernet1/2,fwd,2026/03/02 09:15:00,4711,1,50000,443,40000,443,0x400000,tcp,alert,"files.example.com/share/a,b.pdf",(9999),online-storage,informational,client-to-server"#;
        assert!(looks_like(line));
        let e = parse(line).unwrap().unwrap();
        assert_eq!(e.host, "files.example.com");
        assert_eq!(e.user.as_deref(), Some("aiko@clinic.example"));
        let v6 = line
            .replace("10.2.3.4", "2001:db8::4")
            .replace("files.example.com/share/a,b.pdf", "[2001:db8::9]:8443/x");
        let e = parse(&v6).unwrap().unwrap();
        assert_eq!(e.host, "2001:db8::9");
        assert_eq!(e.src_ip.as_deref(), Some("2001:db8::4"));
        assert_eq!(
            parse(&line.replace("THREAT,url", "THREAT,virus")).unwrap(),
            None
        );
    }
}
