//! Any CSV (with a header row) or JSON lines log, read through a
//! [`Mapping`] of which column or key holds what.
//!
//! Unmapped fields are looked up under common names (`timestamp`, `user`,
//! `src_ip`, `host`, `url`, …). JSON keys may be dot paths into nested
//! objects (`source.ip`); a key that itself contains dots (`id.orig_h`) is
//! found too. Times: Unix seconds or milliseconds, RFC 3339 and the common
//! date forms.

use std::borrow::Cow;
use std::fmt;

use super::common::{self, url_host};
use crate::event::{bytes, present, Event, LineError};

/// Which column (CSV) or key (JSON) holds each field; `None` looks under
/// the usual names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mapping {
    pub ts: Option<String>,
    pub user: Option<String>,
    pub src_ip: Option<String>,
    pub host: Option<String>,
    pub url: Option<String>,
    pub bytes_up: Option<String>,
    pub bytes_down: Option<String>,
}

/// A mapping that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    #[error("unknown field '{0}' in the mapping (known: ts, user, src_ip, host, url, bytes_up, bytes_down)")]
    UnknownField(String),
    #[error("'{0}' in the mapping is not field=column")]
    NotAPair(String),
    #[error("field '{0}' is mapped twice")]
    Twice(String),
}

const GUESS_TS: &[&str] = &[
    "timestamp",
    "ts",
    "time",
    "@timestamp",
    "datetime",
    "date",
    "event_time",
    "eventtime",
];
const GUESS_USER: &[&str] = &[
    "user",
    "username",
    "user_name",
    "login",
    "userid",
    "user_id",
    "src_user",
];
const GUESS_SRC: &[&str] = &[
    "src_ip",
    "src",
    "srcip",
    "source_ip",
    "client_ip",
    "clientip",
    "cip",
    "client",
    "source.ip",
];
const GUESS_HOST: &[&str] = &[
    "host",
    "hostname",
    "domain",
    "fqdn",
    "server_name",
    "sni",
    "dest_host",
    "dst_host",
    "query",
];
const GUESS_URL: &[&str] = &["url", "uri", "request_url", "full_url", "eurl"];
const GUESS_UP: &[&str] = &[
    "bytes_up",
    "bytes_out",
    "bytes_sent",
    "sent_bytes",
    "sentbyte",
    "request_size",
    "reqsize",
    "requestsize",
];
const GUESS_DOWN: &[&str] = &[
    "bytes_down",
    "bytes_in",
    "bytes_received",
    "received_bytes",
    "rcvdbyte",
    "response_size",
    "respsize",
    "responsesize",
    "bytes",
];

impl Mapping {
    /// `ts=time,user=login,host=hostname`: field names as in [`Mapping`].
    pub fn parse(spec: &str) -> Result<Mapping, MappingError> {
        let mut m = Mapping::default();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (field, column) = part
                .split_once('=')
                .map(|(f, c)| (f.trim(), c.trim()))
                .filter(|(f, c)| !f.is_empty() && !c.is_empty())
                .ok_or_else(|| MappingError::NotAPair(part.to_owned()))?;
            let slot = match field {
                "ts" | "time" => &mut m.ts,
                "user" => &mut m.user,
                "src_ip" | "src" => &mut m.src_ip,
                "host" => &mut m.host,
                "url" => &mut m.url,
                "bytes_up" => &mut m.bytes_up,
                "bytes_down" => &mut m.bytes_down,
                other => return Err(MappingError::UnknownField(other.to_owned())),
            };
            if slot.is_some() {
                return Err(MappingError::Twice(field.to_owned()));
            }
            *slot = Some(column.to_owned());
        }
        Ok(m)
    }

    fn candidates<'s>(
        explicit: &'s Option<String>,
        guesses: &'static [&'static str],
    ) -> Vec<&'s str> {
        match explicit {
            Some(c) => vec![c.as_str()],
            None => guesses.to_vec(),
        }
    }
}

impl fmt::Display for Mapping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (name, v) in [
            ("ts", &self.ts),
            ("user", &self.user),
            ("src_ip", &self.src_ip),
            ("host", &self.host),
            ("url", &self.url),
            ("bytes_up", &self.bytes_up),
            ("bytes_down", &self.bytes_down),
        ] {
            if let Some(v) = v {
                if !first {
                    f.write_str(",")?;
                }
                write!(f, "{name}={v}")?;
                first = false;
            }
        }
        Ok(())
    }
}

/// Column positions found in a CSV header row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CsvColumns {
    ts: Option<usize>,
    user: Option<usize>,
    src_ip: Option<usize>,
    host: Option<usize>,
    url: Option<usize>,
    up: Option<usize>,
    down: Option<usize>,
}

fn delimiter_of(header: &str) -> u8 {
    [b',', b'\t', b';', b'|']
        .into_iter()
        .max_by_key(|d| header.bytes().filter(|b| b == d).count())
        .unwrap_or(b',')
}

fn columns(mapping: &Mapping, header: &str, delimiter: u8) -> Result<CsvColumns, LineError> {
    let names = common::csv_fields(header, delimiter)?;
    let find =
        |explicit: &Option<String>, guesses: &'static [&'static str], field: &'static str| {
            let wanted = Mapping::candidates(explicit, guesses);
            let at = wanted
                .iter()
                .find_map(|w| names.iter().position(|n| n.trim().eq_ignore_ascii_case(w)));
            match (at, explicit) {
                (None, Some(c)) => Err(LineError::new(
                    field,
                    format!("no column '{c}' in the header"),
                )),
                (at, _) => Ok(at),
            }
        };
    let cols = CsvColumns {
        ts: find(&mapping.ts, GUESS_TS, "ts")?,
        user: find(&mapping.user, GUESS_USER, "user")?,
        src_ip: find(&mapping.src_ip, GUESS_SRC, "src_ip")?,
        host: find(&mapping.host, GUESS_HOST, "host")?,
        url: find(&mapping.url, GUESS_URL, "url")?,
        up: find(&mapping.bytes_up, GUESS_UP, "bytes_up")?,
        down: find(&mapping.bytes_down, GUESS_DOWN, "bytes_down")?,
    };
    if cols.host.is_none() && cols.url.is_none() {
        return Err(LineError::new(
            "host",
            "no host or url column in the header; map one (host=COLUMN)",
        ));
    }
    Ok(cols)
}

/// State of a CSV file: the header row's columns, once read.
#[derive(Debug, Clone, Default)]
pub struct CsvState {
    header: Option<Result<(CsvColumns, u8), LineError>>,
}

/// One CSV line; the first non-blank line is the header and reads as
/// `Ok(None)` (or as the error if it lacks a mapped column, which every
/// later line then repeats).
pub fn parse_csv<'a>(
    mapping: &Mapping,
    state: &mut CsvState,
    line: &'a str,
) -> Result<Option<Event<'a>>, LineError> {
    if line.trim().is_empty() {
        return Ok(None);
    }
    let Some(header) = &state.header else {
        let d = delimiter_of(line);
        let read = columns(mapping, line, d).map(|c| (c, d));
        let result = read.as_ref().map(|_| None).map_err(Clone::clone);
        state.header = Some(read);
        return result;
    };
    let (cols, delimiter) = header.as_ref().map_err(Clone::clone)?;
    let mut fields = common::csv_fields(line, *delimiter)?;
    let host = cols
        .host
        .and_then(|i| common::take(&mut fields, i))
        .or_else(|| cols.url.and_then(|i| common::take(&mut fields, i)))
        .and_then(url_host)
        .ok_or_else(|| LineError::missing("host"))?;
    let ts = match cols.ts.and_then(|i| common::get(&fields, i)) {
        Some(t) => common::time_field("ts", t)?,
        None => None,
    };
    let up = bytes(
        "bytes_up",
        cols.up.and_then(|i| common::get(&fields, i)).unwrap_or(""),
    )?;
    let down = bytes(
        "bytes_down",
        cols.down
            .and_then(|i| common::get(&fields, i))
            .unwrap_or(""),
    )?;
    Ok(Some(Event {
        ts,
        user: cols.user.and_then(|i| common::take(&mut fields, i)),
        src_ip: cols.src_ip.and_then(|i| common::take(&mut fields, i)),
        host,
        bytes_up: up,
        bytes_down: down,
    }))
}

/// The value at a key or dot path, as text.
fn lookup(value: &serde_json::Value, key: &str) -> Option<String> {
    let obj = value.as_object()?;
    let found = match obj.get(key) {
        Some(v) => Some(v),
        None => {
            let mut cur = value;
            let mut ok = true;
            for part in key.split('.') {
                match cur.get(part) {
                    Some(v) => cur = v,
                    None => {
                        ok = false;
                        break;
                    }
                }
            }
            ok.then_some(cur)
        }
    }?;
    match found {
        serde_json::Value::String(s) => present(s).map(str::to_owned),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn first_of(
    value: &serde_json::Value,
    explicit: &Option<String>,
    guesses: &'static [&'static str],
) -> Option<String> {
    Mapping::candidates(explicit, guesses)
        .into_iter()
        .find_map(|k| lookup(value, k))
}

/// One JSON line.
pub fn parse_json<'a>(mapping: &Mapping, line: &'a str) -> Result<Option<Event<'a>>, LineError> {
    let l = line.trim();
    if l.is_empty() {
        return Ok(None);
    }
    let value: serde_json::Value = serde_json::from_str(l).map_err(common::json_error)?;
    if !value.is_object() {
        return Err(LineError::new("json", "not a JSON object"));
    }
    let host = first_of(&value, &mapping.host, GUESS_HOST)
        .or_else(|| first_of(&value, &mapping.url, GUESS_URL))
        .map(Cow::Owned)
        .and_then(url_host)
        .map(|h| Cow::Owned(h.into_owned()))
        .ok_or_else(|| LineError::missing("host"))?;
    let ts = match first_of(&value, &mapping.ts, GUESS_TS) {
        Some(t) => common::time_field("ts", &t)?,
        None => None,
    };
    let up = first_of(&value, &mapping.bytes_up, GUESS_UP).unwrap_or_default();
    let down = first_of(&value, &mapping.bytes_down, GUESS_DOWN).unwrap_or_default();
    Ok(Some(Event {
        ts,
        user: first_of(&value, &mapping.user, GUESS_USER).map(Cow::Owned),
        src_ip: first_of(&value, &mapping.src_ip, GUESS_SRC).map(Cow::Owned),
        host,
        bytes_up: bytes("bytes_up", &up)?,
        bytes_down: bytes("bytes_down", &down)?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapping_specs() {
        let m = Mapping::parse("ts=time, user=login,host=hostname").unwrap();
        assert_eq!(m.ts.as_deref(), Some("time"));
        assert_eq!(m.user.as_deref(), Some("login"));
        assert_eq!(m.host.as_deref(), Some("hostname"));
        assert_eq!(m.url, None);
        assert_eq!(m.to_string(), "ts=time,user=login,host=hostname");
        assert_eq!(
            Mapping::parse("hots=x"),
            Err(MappingError::UnknownField("hots".into()))
        );
        assert!(Mapping::parse("hots=x")
            .unwrap_err()
            .to_string()
            .contains("known: ts, user"));
        assert_eq!(
            Mapping::parse("host"),
            Err(MappingError::NotAPair("host".into()))
        );
        assert_eq!(
            Mapping::parse("host=a,host=b"),
            Err(MappingError::Twice("host".into()))
        );
        assert_eq!(Mapping::parse(""), Ok(Mapping::default()));
    }

    #[test]
    fn csv_with_mapping_and_guesses() {
        let m = Mapping::parse("ts=When,user=Who,host=Where,bytes_down=Down").unwrap();
        let mut st = CsvState::default();
        assert_eq!(
            parse_csv(&m, &mut st, "When,Who,Where,Down\r").unwrap(),
            None
        );
        let e = parse_csv(
            &m,
            &mut st,
            r#"2026-03-02T18:15:00+09:00,"Sato, Aiko",https://b%C3%BCcher.example/x,"1,5""#,
        );
        assert_eq!(e.unwrap_err().field, "bytes_down");
        let e = parse_csv(
            &m,
            &mut st,
            r#"2026-03-02T18:15:00+09:00,"Sato, Aiko",https://b%C3%BCcher.example/x,15"#,
        )
        .unwrap()
        .unwrap();
        assert_eq!(e.host, "bücher.example");
        assert_eq!(e.user.as_deref(), Some("Sato, Aiko"));
        assert_eq!(e.bytes_down, 15);
        assert_eq!(e.ts, Some(1772442900));

        let mut st = CsvState::default();
        let guess = Mapping::default();
        parse_csv(&guess, &mut st, "timestamp;src_ip;url;bytes_sent").unwrap();
        let e = parse_csv(
            &guess,
            &mut st,
            "1772442900000;10.0.0.1;api.example.com:443;9",
        )
        .unwrap()
        .unwrap();
        assert_eq!(e.host, "api.example.com");
        assert_eq!(e.ts, Some(1772442900));
        assert_eq!(e.bytes_up, 9);

        let mut st = CsvState::default();
        let missing = Mapping::parse("host=nope").unwrap();
        assert_eq!(
            parse_csv(&missing, &mut st, "a,b").unwrap_err().field,
            "host"
        );
        assert_eq!(
            parse_csv(&missing, &mut st, "1,2").unwrap_err().field,
            "host"
        );
    }

    #[test]
    fn json_with_paths() {
        let m =
            Mapping::parse("host=destination.domain,src_ip=source.ip,user=user.name,ts=@timestamp")
                .unwrap();
        let line = r#"{"@timestamp":"2026-03-02T09:15:00Z","source":{"ip":"10.1.1.1"},"user":{"name":"aiko@clinic.example"},"destination":{"domain":"sheet.example.com"}}"#;
        let e = parse_json(&m, line).unwrap().unwrap();
        assert_eq!(e.host, "sheet.example.com");
        assert_eq!(e.src_ip.as_deref(), Some("10.1.1.1"));
        assert_eq!(e.user.as_deref(), Some("aiko@clinic.example"));
        assert_eq!(e.ts, Some(1772442900));
        let flat = r#"{"ts":1772442900,"id.orig_h":"10.1.1.2","url":"http://[2001:db8::1]/"}"#;
        let e = parse_json(&Mapping::parse("src_ip=id.orig_h").unwrap(), flat)
            .unwrap()
            .unwrap();
        assert_eq!(e.host, "2001:db8::1");
        assert_eq!(e.src_ip.as_deref(), Some("10.1.1.2"));
        assert_eq!(parse_json(&m, r#"{"x":1}"#).unwrap_err().field, "host");
        assert_eq!(parse_json(&m, "[]").unwrap_err().field, "json");
        assert_eq!(
            parse_json(&Mapping::default(), r#"{"host":"a.example","time":"noon"}"#)
                .unwrap_err()
                .field,
            "ts"
        );
    }
}
