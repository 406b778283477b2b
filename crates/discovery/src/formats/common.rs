//! Pieces shared by several formats: timestamps in their many spellings,
//! syslog headers, `key=value` / `key:"value"` pairs and CSV records.

use std::borrow::Cow;

use chrono::{DateTime, NaiveDate, NaiveDateTime};

use crate::event::LineError;

/// Epoch seconds from a number of seconds, milliseconds, microseconds or
/// nanoseconds (told apart by size), with an optional fraction.
pub fn epoch(value: &str) -> Option<i64> {
    let v = value.trim();
    let (whole, frac) = match v.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (v, None),
    };
    if whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || frac.is_some_and(|f| !f.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let n: u128 = whole.parse().ok()?;
    // 1e11 seconds is the year 5138: anything larger is a finer unit.
    let secs = if n < 100_000_000_000 {
        n
    } else if n < 100_000_000_000_000 {
        n / 1_000
    } else if n < 100_000_000_000_000_000 {
        n / 1_000_000
    } else {
        n / 1_000_000_000
    };
    i64::try_from(secs).ok()
}

/// Date-time spellings without a zone (read as UTC).
const NAIVE_FORMATS: &[&str] = &[
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y/%m/%d %H:%M:%S%.f",
    "%d-%b-%Y %H:%M:%S%.f",
    "%a %b %d %H:%M:%S %Y",
    "%b %d %Y %H:%M:%S",
    "%d/%b/%Y:%H:%M:%S",
    "%m/%d/%Y %H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
];

/// Date-time spellings with a numeric zone.
const ZONED_FORMATS: &[&str] = &[
    "%Y-%m-%d %H:%M:%S%.f%:z",
    "%Y-%m-%d %H:%M:%S%.f %z",
    "%Y-%m-%d %H:%M:%S%.f%z",
    "%Y-%m-%dT%H:%M:%S%.f%z",
    "%d/%b/%Y:%H:%M:%S %z",
    "%a, %d %b %Y %H:%M:%S %z",
    "%a %b %d %H:%M:%S %z %Y",
];

/// A timestamp as epoch seconds: Unix time (s, ms, µs, ns), RFC 3339, or
/// one of the common log spellings; without a zone the time is read as
/// UTC.
pub fn timestamp(value: &str) -> Option<i64> {
    let v = value.trim().trim_matches('"');
    if v.is_empty() {
        return None;
    }
    if let Some(t) = epoch(v) {
        return Some(t);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        return Some(t.timestamp());
    }
    // `2026-03-14T10:00:00z` and `… UTC`/`… GMT` spell UTC too.
    let bare = v
        .strip_suffix(['Z', 'z'])
        .or_else(|| v.strip_suffix(" UTC"))
        .or_else(|| v.strip_suffix(" GMT"))
        .unwrap_or(v);
    for f in NAIVE_FORMATS {
        if let Ok(t) = NaiveDateTime::parse_from_str(bare, f) {
            return Some(t.and_utc().timestamp());
        }
    }
    for f in ZONED_FORMATS {
        if let Ok(t) = DateTime::parse_from_str(v, f) {
            return Some(t.timestamp());
        }
    }
    // `Thu Aug 29 09:20:35 2022` with a weekday that does not match the
    // date: the date wins.
    if let Some((day, rest)) = v.split_once(' ') {
        if day.len() == 3 && day.bytes().all(|b| b.is_ascii_alphabetic()) {
            if let Ok(t) = NaiveDateTime::parse_from_str(rest.trim(), "%b %d %H:%M:%S %Y") {
                return Some(t.and_utc().timestamp());
            }
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(v, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0).map(|t| t.and_utc().timestamp());
    }
    None
}

/// [`timestamp`] for a field that must hold one; `-` and empty read as
/// "not logged".
pub fn time_field(field: &'static str, value: &str) -> Result<Option<i64>, LineError> {
    match crate::event::present(value) {
        None => Ok(None),
        Some(v) => timestamp(v)
            .map(Some)
            .ok_or_else(|| LineError::new(field, format!("'{v}' is not a date or Unix time"))),
    }
}

/// A zone offset such as `-0500`, `+09:00` or `Z`, in seconds east of UTC.
pub fn zone_offset(value: &str) -> Option<i32> {
    let v = value.trim();
    if v.eq_ignore_ascii_case("z") || v.eq_ignore_ascii_case("utc") || v.eq_ignore_ascii_case("gmt")
    {
        return Some(0);
    }
    let (sign, rest) = match v.as_bytes().first()? {
        b'+' => (1, &v[1..]),
        b'-' => (-1, &v[1..]),
        _ => return None,
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if !(digits.len() == 4 || digits.len() == 2) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hours: i32 = digits.get(..2)?.parse().ok()?;
    let minutes: i32 = digits
        .get(2..)
        .filter(|m| !m.is_empty())
        .map_or(Ok(0), str::parse)
        .ok()?;
    if hours > 18 || minutes > 59 {
        return None;
    }
    Some(sign * (hours * 3600 + minutes * 60))
}

/// Skips a syslog priority (`<134>`) at the start of a line.
pub fn strip_priority(line: &str) -> &str {
    let l = line.trim_start();
    if let Some(rest) = l.strip_prefix('<') {
        if let Some(end) = rest.find('>') {
            if end <= 3 && rest[..end].bytes().all(|b| b.is_ascii_digit()) {
                return &rest[end + 1..];
            }
        }
    }
    l
}

/// One `key=value` or `key:"value"` pair of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pair<'a> {
    pub key: &'a str,
    /// The value without its quotes (escapes are left as logged).
    pub value: &'a str,
}

/// Walks the `key=value` pairs of a line (FortiGate, Check Point, CEF
/// extensions): values are bare up to the next space (or `;`, `]`), or
/// quoted with `\"` escapes. Words that are not pairs (a syslog header)
/// are skipped.
pub fn pairs<'a>(line: &'a str, separators: &'static [u8]) -> PairIter<'a> {
    PairIter {
        line,
        pos: 0,
        separators,
    }
}

pub struct PairIter<'a> {
    line: &'a str,
    pos: usize,
    separators: &'static [u8],
}

impl<'a> Iterator for PairIter<'a> {
    type Item = Pair<'a>;

    fn next(&mut self) -> Option<Pair<'a>> {
        let bytes = self.line.as_bytes();
        let is_sep = |b: u8| b.is_ascii_whitespace() || b == b';' || b == b'[' || b == b']';
        loop {
            while self.pos < bytes.len() && is_sep(bytes[self.pos]) {
                self.pos += 1;
            }
            if self.pos >= bytes.len() {
                return None;
            }
            let start = self.pos;
            // The key: up to a separator character or the end of the word.
            let mut i = start;
            while i < bytes.len()
                && !self.separators.contains(&bytes[i])
                && !is_sep(bytes[i])
                && bytes[i] != b'"'
            {
                i += 1;
            }
            if i >= bytes.len() || !self.separators.contains(&bytes[i]) || i == start {
                // Not a pair: skip the word (quoted words whole).
                self.skip_word(i);
                continue;
            }
            let key = &self.line[start..i];
            // `sys_message::"…"` has a doubled separator.
            let mut j = i + 1;
            while j < bytes.len() && self.separators.contains(&bytes[j]) {
                j += 1;
            }
            if j < bytes.len() && bytes[j] == b'"' {
                let vstart = j + 1;
                let mut k = vstart;
                while k < bytes.len() && bytes[k] != b'"' {
                    if bytes[k] == b'\\' {
                        k += 1;
                    }
                    k += 1;
                }
                let vend = k.min(bytes.len());
                self.pos = (k + 1).min(bytes.len());
                return Some(Pair {
                    key,
                    value: self.line.get(vstart..vend).unwrap_or(""),
                });
            }
            let vstart = j;
            let mut k = vstart;
            while k < bytes.len() && !bytes[k].is_ascii_whitespace() && bytes[k] != b';' {
                k += 1;
            }
            self.pos = k;
            return Some(Pair {
                key,
                value: &self.line[vstart..k],
            });
        }
    }
}

impl PairIter<'_> {
    fn skip_word(&mut self, from: usize) {
        let bytes = self.line.as_bytes();
        let mut i = from;
        if i < bytes.len() && bytes[i] == b'"' {
            i += 1;
            while i < bytes.len() && bytes[i] != b'"' {
                i += 1;
            }
            i += 1;
        }
        while i < bytes.len() && !bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        self.pos = i.min(bytes.len()).max(self.pos + 1);
    }
}

/// The fields of one CSV record. Lines without quotes are split in place
/// (borrowed); quoted lines go through the `csv` reader. Surrounding
/// spaces are trimmed, and a quoted value after a space (`, "x"`) is
/// unquoted too.
pub fn csv_fields(line: &str, delimiter: u8) -> Result<Vec<Cow<'_, str>>, LineError> {
    if !line.contains('"') {
        return Ok(line
            .split(delimiter as char)
            .map(|f| Cow::Borrowed(f.trim()))
            .collect());
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(line.as_bytes());
    let mut record = csv::StringRecord::new();
    match reader.read_record(&mut record) {
        Ok(true) => {}
        Ok(false) => return Ok(Vec::new()),
        Err(e) => return Err(LineError::new("record", format!("not a CSV record: {e}"))),
    }
    Ok(record
        .iter()
        .map(|f| {
            let t = f.trim();
            if t.len() >= 2 && t.starts_with('"') && t.ends_with('"') {
                Cow::Owned(t[1..t.len() - 1].replace("\"\"", "\""))
            } else {
                Cow::Owned(t.to_owned())
            }
        })
        .collect())
}

/// Moves a field out of a record, keeping the line's lifetime.
pub fn take<'a>(fields: &mut [Cow<'a, str>], index: usize) -> Option<Cow<'a, str>> {
    let f = fields.get_mut(index)?;
    let v = std::mem::take(f);
    match v {
        Cow::Borrowed(b) => crate::event::present(b).map(Cow::Borrowed),
        Cow::Owned(o) => crate::event::present(&o).map(|p| Cow::Owned(p.to_owned())),
    }
}

/// A field's text, when logged.
pub fn get<'s>(fields: &'s [Cow<'_, str>], index: usize) -> Option<&'s str> {
    fields.get(index).and_then(|f| crate::event::present(f))
}

/// The host of a URL or host field, kept in the line's lifetime.
pub fn host_cow(value: Cow<'_, str>) -> Cow<'_, str> {
    match value {
        Cow::Borrowed(b) => Cow::Borrowed(crate::event::host_of_url(b)),
        Cow::Owned(o) => Cow::Owned(crate::event::host_of_url(&o).to_owned()),
    }
}

/// Decodes `%HH` escapes in a host name (`b%C3%BCcher.example`); other
/// text is returned as is.
pub fn percent_decoded(host: Cow<'_, str>) -> Cow<'_, str> {
    if !host.contains('%') {
        return host;
    }
    let bytes = host.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    match String::from_utf8(out) {
        Ok(s) => Cow::Owned(s),
        Err(_) => host,
    }
}

/// A host: from a URL (scheme, port, path stripped), percent-decoded;
/// `None` when nothing is left.
pub fn url_host(value: Cow<'_, str>) -> Option<Cow<'_, str>> {
    let h = percent_decoded(host_cow(value));
    if h.trim().is_empty() {
        None
    } else {
        Some(h)
    }
}

/// A JSON value read as text, borrowed from the line when it has no
/// escapes: strings as they are, numbers and booleans spelled out, `null`,
/// arrays and objects as absent.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Text<'a>(pub Option<Cow<'a, str>>);

impl<'a> Text<'a> {
    /// The value, unless absent or a placeholder (`-`, empty).
    pub fn present(&self) -> Option<&str> {
        self.0.as_deref().and_then(crate::event::present)
    }

    /// The value in the line's lifetime, unless absent or a placeholder.
    pub fn take(&mut self) -> Option<Cow<'a, str>> {
        match self.0.take()? {
            Cow::Borrowed(b) => crate::event::present(b).map(Cow::Borrowed),
            Cow::Owned(o) => crate::event::present(&o).map(|p| Cow::Owned(p.to_owned())),
        }
    }
}

struct TextVisitor<'a>(std::marker::PhantomData<&'a ()>);

impl<'de: 'a, 'a> serde::de::Visitor<'de> for TextVisitor<'a> {
    type Value = Text<'a>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a string, number, boolean or null")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Text<'a>, E> {
        Ok(Text(Some(Cow::Borrowed(v))))
    }
    fn visit_str<E>(self, v: &str) -> Result<Text<'a>, E> {
        Ok(Text(Some(Cow::Owned(v.to_owned()))))
    }
    fn visit_string<E>(self, v: String) -> Result<Text<'a>, E> {
        Ok(Text(Some(Cow::Owned(v))))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Text<'a>, E> {
        Ok(Text(Some(Cow::Owned(v.to_string()))))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Text<'a>, E> {
        Ok(Text(Some(Cow::Owned(v.to_string()))))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Text<'a>, E> {
        Ok(Text(Some(Cow::Owned(v.to_string()))))
    }
    fn visit_bool<E>(self, v: bool) -> Result<Text<'a>, E> {
        Ok(Text(Some(Cow::Borrowed(if v { "true" } else { "false" }))))
    }
    fn visit_unit<E>(self) -> Result<Text<'a>, E> {
        Ok(Text(None))
    }
    fn visit_none<E>(self) -> Result<Text<'a>, E> {
        Ok(Text(None))
    }
    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Text<'a>, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Text<'a>, A::Error> {
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok(Text(None))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Text<'a>, A::Error> {
        while map
            .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
            .is_some()
        {}
        Ok(Text(None))
    }
}

impl<'de: 'a, 'a> serde::Deserialize<'de> for Text<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TextVisitor(std::marker::PhantomData))
    }
}

/// A JSON line that is not an object, or not JSON.
pub fn json_error(e: serde_json::Error) -> LineError {
    LineError::new("json", format!("not a JSON object: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_in_many_spellings() {
        assert_eq!(timestamp("1700000000"), Some(1_700_000_000));
        assert_eq!(timestamp("1700000000.123"), Some(1_700_000_000));
        assert_eq!(timestamp("1700000000123"), Some(1_700_000_000));
        assert_eq!(timestamp("1700000000123456789"), Some(1_700_000_000));
        assert_eq!(timestamp("2023-11-14T22:13:20Z"), Some(1_700_000_000));
        assert_eq!(timestamp("2023-11-15T07:13:20+09:00"), Some(1_700_000_000));
        assert_eq!(timestamp("2023-11-14 22:13:20"), Some(1_700_000_000));
        assert_eq!(timestamp("2023-11-14 22:13:20.5"), Some(1_700_000_000));
        assert_eq!(timestamp("2023/11/14 22:13:20"), Some(1_700_000_000));
        assert_eq!(timestamp("14-Nov-2023 22:13:20.017"), Some(1_700_000_000));
        assert_eq!(timestamp("Tue Nov 14 22:13:20 2023"), Some(1_700_000_000));
        assert_eq!(timestamp("Fri Nov 14 22:13:20 2023"), Some(1_700_000_000));
        assert_eq!(timestamp("Nov 14 2023 22:13:20"), Some(1_700_000_000));
        assert_eq!(timestamp("14/Nov/2023:23:13:20 +0100"), Some(1_700_000_000));
        assert_eq!(timestamp("2023-11-14 17:13:20 -0500"), Some(1_700_000_000));
        assert_eq!(timestamp("yesterday"), None);
        assert_eq!(timestamp(""), None);
        assert!(time_field("ts", "soon").is_err());
        assert_eq!(time_field("ts", "-"), Ok(None));
    }

    #[test]
    fn zones() {
        assert_eq!(zone_offset("-0500"), Some(-5 * 3600));
        assert_eq!(zone_offset("+09:00"), Some(9 * 3600));
        assert_eq!(zone_offset("+0530"), Some(5 * 3600 + 1800));
        assert_eq!(zone_offset("JST"), None);
    }

    #[test]
    fn pairs_quoted_and_bare() {
        let got: Vec<_> = pairs(
            r#"<13>Jan 1 host a=1 b="two words" c="say \"hi\"" d="#,
            b"=",
        )
        .map(|p| (p.key, p.value))
        .collect();
        assert_eq!(
            got,
            [
                ("a", "1"),
                ("b", "two words"),
                ("c", r#"say \"hi\""#),
                ("d", "")
            ]
        );
        let got: Vec<_> = pairs(r#"- [src:"10.0.0.1"; dst:"10.0.0.2"; msg::"a; b"]"#, b":")
            .map(|p| (p.key, p.value))
            .collect();
        assert_eq!(
            got,
            [("src", "10.0.0.1"), ("dst", "10.0.0.2"), ("msg", "a; b")]
        );
    }

    #[test]
    fn csv_records() {
        let f = csv_fields("a,b,,d", b',').unwrap();
        assert_eq!(f, ["a", "b", "", "d"]);
        assert!(matches!(f[0], Cow::Borrowed(_)));
        let f = csv_fields(r#""a,1", "b ""q""",c"#, b',').unwrap();
        assert_eq!(f, ["a,1", r#"b "q""#, "c"]);
    }

    #[test]
    fn hosts() {
        assert_eq!(
            url_host(Cow::Borrowed("https://b%C3%BCcher.example/x")).as_deref(),
            Some("bücher.example")
        );
        assert_eq!(
            url_host(Cow::Borrowed("xn--bcher-kva.example:443")).as_deref(),
            Some("xn--bcher-kva.example")
        );
        assert_eq!(
            url_host(Cow::Borrowed("%zz.example")).as_deref(),
            Some("%zz.example")
        );
        assert_eq!(url_host(Cow::Borrowed("/path")), None);
        assert_eq!(strip_priority("<134>1 2020"), "1 2020");
    }
}
