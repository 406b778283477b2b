//! Fortinet FortiGate `key=value` logs (syslog or disk), traffic and UTM
//! (web filter, application control, DNS filter …).
//!
//! The host is `hostname` (web filter, application control), the DNS
//! query `qname`, the host of an absolute `url`, or else `dstip`. The user
//! is `user` (or `unauthuser`), the client `srcip`; `sentbyte` and
//! `rcvdbyte` are the client's bytes. Time: `date` + `time` in the zone
//! `tz` (UTC when absent), or `eventtime` (seconds to nanoseconds).
//! Lines without a source or destination (system events) carry no
//! connection.

use std::borrow::Cow;

use chrono::NaiveDateTime;

use super::common::{self, pairs, url_host};
use crate::event::{bytes, present, Event, LineError};

/// Does the line look like a FortiGate log?
pub fn looks_like(line: &str) -> bool {
    const KEYS: &[&str] = &[
        "date=",
        "time=",
        "logid=",
        "devid=",
        "devname=",
        "type=",
        "subtype=",
        "srcip=",
        "dstip=",
        "eventtime=",
        "vd=",
    ];
    let body = common::strip_priority(line);
    let has = |key: &str| {
        body.starts_with(key)
            || body
                .match_indices(key)
                .any(|(i, _)| body.as_bytes().get(i.wrapping_sub(1)) == Some(&b' '))
    };
    (has("logid=") || has("devid=")) && KEYS.iter().filter(|k| has(k)).count() >= 4
}

#[derive(Default)]
struct Fields<'a> {
    date: Option<&'a str>,
    time: Option<&'a str>,
    tz: Option<&'a str>,
    eventtime: Option<&'a str>,
    srcip: Option<&'a str>,
    dstip: Option<&'a str>,
    hostname: Option<&'a str>,
    qname: Option<&'a str>,
    url: Option<&'a str>,
    user: Option<&'a str>,
    unauthuser: Option<&'a str>,
    sentbyte: Option<&'a str>,
    rcvdbyte: Option<&'a str>,
}

/// One line; `Ok(None)` for blank lines and logs without a connection.
pub fn parse(line: &str) -> Result<Option<Event<'_>>, LineError> {
    if line.trim().is_empty() {
        return Ok(None);
    }
    let mut f = Fields::default();
    for p in pairs(common::strip_priority(line), b"=") {
        let slot = match p.key {
            "date" => &mut f.date,
            "time" => &mut f.time,
            "tz" => &mut f.tz,
            "eventtime" => &mut f.eventtime,
            "srcip" => &mut f.srcip,
            "dstip" => &mut f.dstip,
            "hostname" => &mut f.hostname,
            "qname" => &mut f.qname,
            "url" => &mut f.url,
            "user" => &mut f.user,
            "unauthuser" => &mut f.unauthuser,
            "sentbyte" => &mut f.sentbyte,
            "rcvdbyte" => &mut f.rcvdbyte,
            _ => continue,
        };
        if slot.is_none() {
            *slot = present(p.value);
        }
    }
    let absolute_url = f.url.filter(|u| u.contains("://"));
    let host = f
        .hostname
        .or(f.qname)
        .map(Cow::Borrowed)
        .and_then(url_host)
        .or_else(|| absolute_url.map(Cow::Borrowed).and_then(url_host))
        .or_else(|| f.dstip.map(Cow::Borrowed));
    let Some(host) = host else {
        if f.srcip.is_some() {
            return Err(LineError::missing("dstip"));
        }
        return Ok(None);
    };
    let ts =
        match (f.date, f.time) {
            (Some(d), Some(t)) => {
                let naive = NaiveDateTime::parse_from_str(&format!("{d} {t}"), "%Y-%m-%d %H:%M:%S")
                    .map_err(|_| {
                        LineError::new(
                            "date",
                            format!("'{d} {t}' is not a date such as 2026-03-02 09:15:00"),
                        )
                    })?;
                let offset = f.tz.and_then(common::zone_offset).unwrap_or(0);
                Some(naive.and_utc().timestamp() - i64::from(offset))
            }
            _ => match f.eventtime {
                Some(e) => Some(common::epoch(e).ok_or_else(|| {
                    LineError::new("eventtime", format!("'{e}' is not a Unix time"))
                })?),
                None => None,
            },
        };
    Ok(Some(Event {
        ts,
        user: f.user.or(f.unauthuser).map(Cow::Borrowed),
        src_ip: f.srcip.map(Cow::Borrowed),
        host,
        bytes_up: bytes("sentbyte", f.sentbyte.unwrap_or(""))?,
        bytes_down: bytes("rcvdbyte", f.rcvdbyte.unwrap_or(""))?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webfilter_and_traffic() {
        let line = r#"<189>date=2026-03-02 time=18:15:00 devname="fgt-hq" devid="FG100ETK0000" logid="0316013057" type="utm" subtype="webfilter" eventtype="ftgd_allow" level="notice" vd="root" eventtime=1772442900123456789 tz="+0900" srcip=10.3.0.7 srcport=51000 dstip=203.0.113.50 dstport=443 user="CLINIC\aiko" hostname="notes.example.com" url="/a b" sentbyte=700 rcvdbyte=9000 msg="URL belongs to an allowed category, in policy""#;
        assert!(looks_like(line));
        let e = parse(line).unwrap().unwrap();
        assert_eq!(e.host, "notes.example.com");
        assert_eq!(e.user.as_deref(), Some(r"CLINIC\aiko"));
        assert_eq!(e.src_ip.as_deref(), Some("10.3.0.7"));
        assert_eq!((e.bytes_up, e.bytes_down), (700, 9000));
        assert_eq!(e.ts, Some(1772442900));

        let line = r#"<189>date=2026-03-02 time=09:15:00 logid="0000000013" type="traffic" subtype="forward" eventtime=1 srcip=2001:db8::10 dstip=2001:db8:1::20 dstport=443 sentbyte=1 rcvdbyte=2"#;
        let e = parse(line).unwrap().unwrap();
        assert_eq!(e.host, "2001:db8:1::20");
        assert_eq!(e.src_ip.as_deref(), Some("2001:db8::10"));
        assert_eq!(e.ts, Some(1772442900));
        assert_eq!(e.user, None);
    }

    #[test]
    fn dns_eventtime_and_errors() {
        let line = r#"logid="1501054802" type="utm" subtype="dns" eventtime=1772442900 srcip=10.3.0.7 dstip=10.0.0.53 qname="xn--r8jz45g.example" qtype="A""#;
        assert!(looks_like(line));
        let e = parse(line).unwrap().unwrap();
        assert_eq!(e.host, "xn--r8jz45g.example");
        assert_eq!(e.ts, Some(1772442900));
        let event = r#"date=2026-03-02 time=09:15:00 logid="0100032001" type="event" subtype="system" msg="Administrator admin logged in""#;
        assert_eq!(parse(event).unwrap(), None);
        assert_eq!(
            parse(r#"date=2026-03-02 time=09:15:00 srcip=10.0.0.1"#)
                .unwrap_err()
                .field,
            "dstip"
        );
        assert_eq!(
            parse(r#"date=2026-03-02 time=9h srcip=10.0.0.1 dstip=10.0.0.2"#)
                .unwrap_err()
                .field,
            "date"
        );
        assert_eq!(
            parse(r#"date=2026-03-02 time=09:15:00 dstip=10.0.0.2 sentbyte=x"#)
                .unwrap_err()
                .field,
            "sentbyte"
        );
        assert!(!looks_like("1157689312.049 5006 10.105.21.199 TCP_MISS/200 19763 CONNECT a.com:443 - DIRECT/1.2.3.4 -"));
    }
}
