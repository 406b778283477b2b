//! Zscaler Internet Access NSS web logs, as JSON lines and as CSV.
//!
//! NSS feeds are laid out by the customer's feed output format, so both
//! readers go by field name: `time`, `login` (or `user`), `cip`,
//! `hostname` / `host`, `url` / `eurl`, `reqsize` / `requestsize`,
//! `respsize` / `responsesize`. JSON lines may be flat or wrapped as
//! `{"sourcetype": "zscalernss-web", "event": {…}}`. CSV files may start
//! with a header row naming the fields; without one, the columns are read
//! in the order of Zscaler's sample web feed (`time, login, proto, eurl,
//! action, appname, appclass, reqsize, respsize, stime, ctime, …, cip, …`).
//! NSS hex-encodes unusual URL characters (`%HH`); hosts are decoded.

use serde::Deserialize;

use super::common::{self, json_error, time_field, url_host, Text};
use crate::event::{bytes, Event, LineError};

#[derive(Debug, Default, Deserialize)]
struct Fields<'a> {
    #[serde(borrow, default)]
    event: Option<Box<Fields<'a>>>,
    #[serde(borrow, default)]
    time: Text<'a>,
    #[serde(borrow, default)]
    epochtime: Text<'a>,
    #[serde(borrow, default)]
    login: Text<'a>,
    #[serde(borrow, default)]
    user: Text<'a>,
    #[serde(borrow, default)]
    cip: Text<'a>,
    #[serde(borrow, default)]
    hostname: Text<'a>,
    #[serde(borrow, default)]
    host: Text<'a>,
    #[serde(borrow, default)]
    url: Text<'a>,
    #[serde(borrow, default)]
    eurl: Text<'a>,
    #[serde(borrow, default)]
    reqsize: Text<'a>,
    #[serde(borrow, default)]
    requestsize: Text<'a>,
    #[serde(borrow, default)]
    respsize: Text<'a>,
    #[serde(borrow, default)]
    responsesize: Text<'a>,
}

/// Does the line look like an NSS web log in JSON?
pub fn looks_json(line: &str) -> bool {
    let l = line.trim_start();
    l.starts_with('{')
        && (l.contains("zscalernss")
            || (l.contains("\"cip\"")
                && (l.contains("\"login\"") || l.contains("\"eurl\"") || l.contains("\"urlcat\""))))
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
    let mut f: Fields<'_> = serde_json::from_str(l).map_err(json_error)?;
    if let Some(inner) = f.event.take() {
        f = *inner;
    }
    let host = f
        .hostname
        .take()
        .or_else(|| f.host.take())
        .or_else(|| f.url.take())
        .or_else(|| f.eurl.take())
        .and_then(url_host);
    let Some(host) = host else {
        return Err(LineError::new("hostname", "no hostname or url"));
    };
    let ts = match f.time.present() {
        Some(t) => time_field("time", t)?,
        None => time_field("epochtime", f.epochtime.present().unwrap_or(""))?,
    };
    let up = f
        .reqsize
        .present()
        .or(f.requestsize.present())
        .unwrap_or("");
    let down = f
        .respsize
        .present()
        .or(f.responsesize.present())
        .unwrap_or("");
    Ok(Some(Event {
        ts,
        user: f.login.take().or_else(|| f.user.take()),
        src_ip: f.cip.take(),
        host,
        bytes_up: bytes("reqsize", up)?,
        bytes_down: bytes("respsize", down)?,
    }))
}

/// Where the fields of interest are in a CSV record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvColumns {
    time: Option<usize>,
    user: Option<usize>,
    cip: Option<usize>,
    host: Option<usize>,
    url: Option<usize>,
    up: Option<usize>,
    down: Option<usize>,
}

impl Default for CsvColumns {
    /// The sample web feed's order.
    fn default() -> Self {
        CsvColumns {
            time: Some(0),
            user: Some(1),
            url: Some(3),
            up: Some(7),
            down: Some(8),
            cip: Some(21),
            host: None,
        }
    }
}

impl CsvColumns {
    /// Columns from a header row, when the line is one.
    pub fn from_header(line: &str) -> Option<CsvColumns> {
        let names = common::csv_fields(line, b',').ok()?;
        let find = |wanted: &[&str]| {
            names.iter().position(|n| {
                let n = n.trim().trim_start_matches('%').to_ascii_lowercase();
                wanted.contains(&n.as_str())
            })
        };
        let cols = CsvColumns {
            time: find(&["time", "datetime", "epochtime"]),
            user: find(&["login", "user"]),
            cip: find(&["cip", "clientip", "client ip"]),
            host: find(&["hostname", "host"]),
            url: find(&["url", "eurl"]),
            up: find(&["reqsize", "requestsize"]),
            down: find(&["respsize", "responsesize"]),
        };
        (cols.host.is_some() || cols.url.is_some()).then_some(cols)
    }
}

/// Does the line look like NSS CSV (a header row, or a record starting
/// with NSS's `Fri Dec 31 07:07:07 2021` time)?
pub fn looks_csv(line: &str) -> bool {
    if line.trim_start().starts_with('{') {
        return false;
    }
    if let Some(cols) = CsvColumns::from_header(line) {
        return cols.user.is_some() && (cols.cip.is_some() || cols.up.is_some());
    }
    let first = line
        .split(',')
        .next()
        .unwrap_or("")
        .trim()
        .trim_matches('"');
    chrono::NaiveDateTime::parse_from_str(first, "%a %b %d %H:%M:%S %Y").is_ok()
        && line.matches(',').count() >= 8
}

/// One CSV line; a header row sets `columns` and reads as `Ok(None)`.
pub fn parse_csv<'a>(
    columns: &mut Option<CsvColumns>,
    line: &'a str,
) -> Result<Option<Event<'a>>, LineError> {
    if line.trim().is_empty() {
        return Ok(None);
    }
    if columns.is_none() {
        if let Some(c) = CsvColumns::from_header(line) {
            *columns = Some(c);
            return Ok(None);
        }
        *columns = Some(CsvColumns::default());
    }
    let cols = columns.as_ref().cloned().unwrap_or_default();
    let mut fields = common::csv_fields(line, b',')?;
    let host = cols
        .host
        .and_then(|i| common::take(&mut fields, i))
        .or_else(|| cols.url.and_then(|i| common::take(&mut fields, i)))
        .and_then(url_host);
    let Some(host) = host else {
        return Err(LineError::new("url", "no hostname or url"));
    };
    let ts = match cols.time.and_then(|i| common::get(&fields, i)) {
        Some(t) => time_field("time", t)?,
        None => None,
    };
    let up = bytes(
        "reqsize",
        cols.up.and_then(|i| common::get(&fields, i)).unwrap_or(""),
    )?;
    let down = bytes(
        "respsize",
        cols.down
            .and_then(|i| common::get(&fields, i))
            .unwrap_or(""),
    )?;
    Ok(Some(Event {
        ts,
        user: cols.user.and_then(|i| common::take(&mut fields, i)),
        src_ip: cols.cip.and_then(|i| common::take(&mut fields, i)),
        host,
        bytes_up: up,
        bytes_down: down,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    #[test]
    fn json_wrapped_and_flat() {
        let line = r#"{"sourcetype":"zscalernss-web","event":{"time":"Mon Mar 02 09:15:00 2026","login":"aiko@clinic.example","proto":"HTTPS","eurl":"chat.example.ai/c/1","reqsize":"812","respsize":"40960","cip":"10.8.1.20","action":"Allowed"}}"#;
        assert!(looks_json(line));
        let e = parse_json(line).unwrap().unwrap();
        assert_eq!(e.host, "chat.example.ai");
        assert_eq!(e.user.as_deref(), Some("aiko@clinic.example"));
        assert_eq!(e.src_ip.as_deref(), Some("10.8.1.20"));
        assert_eq!((e.bytes_up, e.bytes_down), (812, 40960));
        assert_eq!(e.ts, Some(1772442900));
        assert!(matches!(e.host, Cow::Borrowed(_)));

        let flat = r#"{"time":"2026-03-02T09:15:00+09:00","user":"CLINIC\\ken","cip":"2001:db8::7","hostname":"xn--r8jz45g.example","requestsize":10,"responsesize":20}"#;
        let e = parse_json(flat).unwrap().unwrap();
        assert_eq!(e.host, "xn--r8jz45g.example");
        assert_eq!(e.user.as_deref(), Some(r"CLINIC\ken"));
        assert_eq!(e.src_ip.as_deref(), Some("2001:db8::7"));
        assert_eq!((e.bytes_up, e.bytes_down), (10, 20));
        assert_eq!(e.ts, Some(1772410500));
    }

    #[test]
    fn json_errors() {
        assert_eq!(
            parse_json("{\"time\":\"Mon Mar 02 09:15:00 2026\"}")
                .unwrap_err()
                .field,
            "hostname"
        );
        assert_eq!(
            parse_json("{\"url\":\"a.example\",\"time\":\"later\"}")
                .unwrap_err()
                .field,
            "time"
        );
        assert_eq!(
            parse_json("{\"url\":\"a.example\",\"reqsize\":\"many\"}")
                .unwrap_err()
                .field,
            "reqsize"
        );
        assert_eq!(parse_json("not json").unwrap_err().field, "json");
        assert_eq!(parse_json("").unwrap(), None);
        let e = parse_json(r#"{"url":"https://b%C3%BCcher.example:8443/x"}"#)
            .unwrap()
            .unwrap();
        assert_eq!(e.host, "bücher.example");
    }

    #[test]
    fn csv_with_and_without_header() {
        let mut cols = None;
        assert!(looks_csv("time,login,cip,hostname,reqsize,respsize"));
        assert_eq!(
            parse_csv(&mut cols, "time,login,cip,hostname,reqsize,respsize").unwrap(),
            None
        );
        let e = parse_csv(
            &mut cols,
            r#""Mon Mar 02 09:15:00 2026","CLINIC\ken",10.0.0.5,"files.example.com",5,"7""#,
        )
        .unwrap()
        .unwrap();
        assert_eq!(e.host, "files.example.com");
        assert_eq!(e.user.as_deref(), Some(r"CLINIC\ken"));
        assert_eq!((e.bytes_up, e.bytes_down), (5, 7));
        assert_eq!(e.ts, Some(1772442900));

        let line = r#""Mon Mar 02 09:15:00 2026","aiko@clinic.example","HTTPS","drive.example.com:443","Allowed","Drive","Storage","100","2000","0","0","Business","IT","Storage","None","None","0","None","None","HQ","Nursing","10.1.1.1","198.51.100.4","CONNECT","200""#;
        assert!(looks_csv(line));
        let mut cols = None;
        let e = parse_csv(&mut cols, line).unwrap().unwrap();
        assert_eq!(e.host, "drive.example.com");
        assert_eq!(e.src_ip.as_deref(), Some("10.1.1.1"));
        assert_eq!((e.bytes_up, e.bytes_down), (100, 2000));
        assert_eq!(
            parse_csv(
                &mut cols,
                r#""Mon Mar 02 09:15:00 2026","a","HTTPS","","x""#
            )
            .unwrap_err()
            .field,
            "url"
        );
    }
}
