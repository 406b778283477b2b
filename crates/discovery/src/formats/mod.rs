//! Log formats: detection from the first lines, and a parser per format
//! that turns one line into an [`Event`].
//!
//! Every format module offers `looks_like(line) -> bool` (or several, for
//! variants) for detection and a parse function
//! `fn(&str) -> Result<Option<Event>, LineError>`: `Ok(None)` for lines
//! that carry no connection (blank lines, comments, headers, log messages
//! of other kinds), `Err` naming the field for lines that should and do
//! not. Formats whose lines depend on a header (Zeek TSV `#fields`, CSV
//! with a header row) keep it in their state in [`Parser`].

pub mod bind;
pub mod checkpoint;
pub mod cisco_asa;
mod common;
pub mod fortigate;
pub mod generic;
pub mod panos;
pub mod squid;
pub mod umbrella;
pub mod zeek;
pub mod zscaler;

pub use generic::{Mapping, MappingError};

use crate::event::{Event, LineError};

/// The formats Mamori reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FormatKind {
    /// Zeek http/ssl/dns/conn logs, TSV with a `#fields` header.
    ZeekTsv,
    /// Zeek logs as JSON lines.
    ZeekJson,
    /// Zscaler NSS web logs as JSON lines.
    ZscalerJson,
    /// Palo Alto PAN-OS traffic and URL logs (CSV, syslog or not).
    Panos,
    /// Cisco ASA / FTD connection syslog.
    CiscoAsa,
    /// Fortinet FortiGate `key=value`.
    Fortigate,
    /// Check Point Log Exporter syslog.
    Checkpoint,
    /// BIND query logs and Infoblox NIOS DNS logs.
    Bind,
    /// Cisco Umbrella proxy CSV.
    Umbrella,
    /// Zscaler NSS web logs as CSV.
    ZscalerCsv,
    SquidNative,
    SquidCombined,
    /// Any CSV with a header row, read through a [`Mapping`].
    Csv,
    /// Any JSON lines, read through a [`Mapping`].
    Jsonl,
}

impl FormatKind {
    /// Every format, in detection order (most specific first).
    pub const ALL: &'static [FormatKind] = &[
        FormatKind::ZeekTsv,
        FormatKind::ZeekJson,
        FormatKind::ZscalerJson,
        FormatKind::Panos,
        FormatKind::CiscoAsa,
        FormatKind::Fortigate,
        FormatKind::Checkpoint,
        FormatKind::Bind,
        FormatKind::Umbrella,
        FormatKind::ZscalerCsv,
        FormatKind::SquidNative,
        FormatKind::SquidCombined,
        FormatKind::Csv,
        FormatKind::Jsonl,
    ];

    /// The name used on the command line (`--format`).
    pub fn name(self) -> &'static str {
        match self {
            FormatKind::ZeekTsv => "zeek-tsv",
            FormatKind::ZeekJson => "zeek-json",
            FormatKind::ZscalerJson => "zscaler-json",
            FormatKind::ZscalerCsv => "zscaler-csv",
            FormatKind::Panos => "panos",
            FormatKind::CiscoAsa => "cisco-asa",
            FormatKind::Fortigate => "fortigate",
            FormatKind::Checkpoint => "checkpoint",
            FormatKind::Bind => "bind",
            FormatKind::Umbrella => "umbrella",
            FormatKind::SquidNative => "squid",
            FormatKind::SquidCombined => "combined",
            FormatKind::Csv => "csv",
            FormatKind::Jsonl => "jsonl",
        }
    }

    /// Generic formats, read through a [`Mapping`] (never detected).
    pub fn takes_mapping(self) -> bool {
        matches!(self, FormatKind::Csv | FormatKind::Jsonl)
    }

    pub fn from_name(name: &str) -> Option<FormatKind> {
        FormatKind::ALL.iter().copied().find(|k| k.name() == name)
    }

    /// A line that this format would produce.
    fn looks_like(self, line: &str) -> bool {
        match self {
            FormatKind::ZeekTsv => zeek::looks_tsv(line),
            FormatKind::ZeekJson => zeek::looks_json(line),
            FormatKind::ZscalerJson => zscaler::looks_json(line),
            FormatKind::ZscalerCsv => zscaler::looks_csv(line),
            FormatKind::Panos => panos::looks_like(line),
            FormatKind::CiscoAsa => cisco_asa::looks_like(line),
            FormatKind::Fortigate => fortigate::looks_like(line),
            FormatKind::Checkpoint => checkpoint::looks_like(line),
            FormatKind::Bind => bind::looks_like(line),
            FormatKind::Umbrella => umbrella::looks_like(line),
            FormatKind::SquidNative => squid::looks_native(line),
            FormatKind::SquidCombined => squid::looks_combined(line),
            FormatKind::Csv | FormatKind::Jsonl => false,
        }
    }

    /// Lines can be parsed independently of each other (no header state),
    /// so one file may be split into chunks parsed in parallel.
    pub fn stateless(self) -> bool {
        !matches!(
            self,
            FormatKind::ZeekTsv | FormatKind::ZscalerCsv | FormatKind::Csv
        )
    }
}

/// Guesses the format from the first lines of a file: the format that
/// recognises the most of them (at least one, and at least half of the
/// non-blank lines).
pub fn detect(lines: &[&str]) -> Option<FormatKind> {
    let lines: Vec<&str> = lines
        .iter()
        .map(|l| l.trim_end_matches(['\r', '\n']))
        .filter(|l| !l.trim().is_empty())
        .collect();
    if lines.is_empty() {
        return None;
    }
    let mut best: Option<(FormatKind, usize)> = None;
    for &kind in FormatKind::ALL {
        let hits = lines.iter().filter(|l| kind.looks_like(l)).count();
        if hits > 0 && hits * 2 >= lines.len() && best.is_none_or(|(_, b)| hits > b) {
            best = Some((kind, hits));
        }
    }
    best.map(|(k, _)| k)
}

/// A parser for one file of one format, with whatever header state the
/// format needs. Cheap to clone for parallel chunks once the header is
/// read.
#[derive(Debug, Clone)]
pub struct Parser {
    kind: FormatKind,
    state: State,
}

/// What a format remembers between lines.
#[derive(Debug, Clone)]
enum State {
    None,
    ZeekTsv(zeek::TsvState),
    ZscalerCsv(Option<zscaler::CsvColumns>),
    Csv(Mapping, generic::CsvState),
    Jsonl(Mapping),
}

impl Parser {
    /// A parser for `kind`; the generic formats look their fields up
    /// under the usual names (see [`Parser::with_mapping`]).
    pub fn new(kind: FormatKind) -> Self {
        Parser::with_mapping(kind, Mapping::default())
    }

    /// A parser whose generic formats (`csv`, `jsonl`) read the fields
    /// named by `mapping`; other formats ignore it.
    pub fn with_mapping(kind: FormatKind, mapping: Mapping) -> Self {
        let state = match kind {
            FormatKind::ZeekTsv => State::ZeekTsv(zeek::TsvState::default()),
            FormatKind::ZscalerCsv => State::ZscalerCsv(None),
            FormatKind::Csv => State::Csv(mapping, generic::CsvState::default()),
            FormatKind::Jsonl => State::Jsonl(mapping),
            _ => State::None,
        };
        Parser { kind, state }
    }

    pub fn kind(&self) -> FormatKind {
        self.kind
    }

    /// One line (without its line ending; a trailing `\r` is tolerated).
    pub fn parse<'a>(&mut self, line: &'a str) -> Result<Option<Event<'a>>, LineError> {
        let line = line.strip_suffix('\r').unwrap_or(line);
        match (&mut self.state, self.kind) {
            (State::ZeekTsv(st), _) => zeek::parse_tsv(st, line),
            (State::ZscalerCsv(cols), _) => zscaler::parse_csv(cols, line),
            (State::Csv(m, st), _) => generic::parse_csv(m, st, line),
            (State::Jsonl(m), _) => generic::parse_json(m, line),
            (State::None, FormatKind::ZeekJson) => zeek::parse_json(line),
            (State::None, FormatKind::ZscalerJson) => zscaler::parse_json(line),
            (State::None, FormatKind::Panos) => panos::parse(line),
            (State::None, FormatKind::CiscoAsa) => cisco_asa::parse(line),
            (State::None, FormatKind::Fortigate) => fortigate::parse(line),
            (State::None, FormatKind::Checkpoint) => checkpoint::parse(line),
            (State::None, FormatKind::Bind) => bind::parse(line),
            (State::None, FormatKind::Umbrella) => umbrella::parse(line),
            (State::None, FormatKind::SquidNative) => squid::parse_native(line),
            (State::None, FormatKind::SquidCombined) => squid::parse_combined(line),
            (
                State::None,
                FormatKind::ZeekTsv | FormatKind::ZscalerCsv | FormatKind::Csv | FormatKind::Jsonl,
            ) => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_squid_formats() {
        let native = ["1157689312.049   5006 10.105.21.199 TCP_MISS/200 19763 CONNECT login.yahoo.com:443 badeyek DIRECT/175.16.199.115 -"];
        assert_eq!(detect(&native), Some(FormatKind::SquidNative));
        let combined = [
            r#"10.1.2.3 - - [10/Oct/2026:13:55:36 +0000] "CONNECT api.openai.com:443 HTTP/1.1" 200 0 "-" "-""#,
        ];
        assert_eq!(detect(&combined), Some(FormatKind::SquidCombined));
        assert_eq!(detect(&["hello world"]), None);
    }

    /// One made-up line per format, written to the published layouts.
    fn one_line_each() -> Vec<(FormatKind, Vec<&'static str>)> {
        vec![
            (
                FormatKind::ZeekTsv,
                vec![
                    "#separator \\x09",
                    "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tserver_name",
                    "1772442900.1\tCabcdefghijklmn3\t10.4.0.3\t50001\t203.0.113.5\t443\tapi.example.io",
                ],
            ),
            (
                FormatKind::ZeekJson,
                vec![r#"{"ts":1772442900.5,"uid":"Cabcdefghijklmn5","id.orig_h":"10.4.0.9","id.resp_h":"203.0.113.9","host":"pics.example.com"}"#],
            ),
            (
                FormatKind::ZscalerJson,
                vec![r#"{"sourcetype":"zscalernss-web","event":{"time":"Mon Mar 02 09:15:00 2026","login":"a@b.example","eurl":"c.example/","cip":"10.0.0.1"}}"#],
            ),
            (
                FormatKind::ZscalerCsv,
                vec![r#""Mon Mar 02 09:15:00 2026","aiko@clinic.example","HTTPS","drive.example.com:443","Allowed","Drive","Storage","100","2000","0""#],
            ),
            (
                FormatKind::Panos,
                vec!["<14>Mar  2 09:15:01 fw-01 1,2026/03/02 09:15:01,001122334455,TRAFFIC,end,2561,2026/03/02 09:15:00,10.2.3.4,203.0.113.9,198.51.100.1,203.0.113.9,allow-web,,,ssl,vsys1,lan,wan,ethernet1/1,ethernet1/2,fwd,2026/03/02 09:15:00,4711,1,50000,443,40000,443,0x400000,tcp,allow,9000,3000,6000"],
            ),
            (
                FormatKind::CiscoAsa,
                vec!["Mar 02 2026 09:15:00: %ASA-6-302014: Teardown TCP connection 1 for outside:203.0.113.7/443 to inside:10.5.0.9/51515 duration 0:00:01 bytes 99"],
            ),
            (
                FormatKind::Fortigate,
                vec![r#"<189>date=2026-03-02 time=09:15:00 devname="fgt" devid="FG100E" logid="0000000013" type="traffic" subtype="forward" srcip=10.0.0.1 dstip=203.0.113.1"#],
            ),
            (
                FormatKind::Checkpoint,
                vec![r#"<134>1 2026-03-02T09:15:00Z gw CheckPoint 2210 - [action:"Accept"; loguid:"{0x1}"; src:"10.0.0.1"; dst:"203.0.113.1"]"#],
            ),
            (
                FormatKind::Bind,
                vec!["02-Mar-2026 09:15:00.120 queries: info: client @0x7f00aa001122 10.9.8.7#53428 (cloud.example.com): query: cloud.example.com IN A +E(0)K (10.0.0.53)"],
            ),
            (
                FormatKind::Umbrella,
                vec![r#""2026-03-02 09:15:00","Branch","10.7.0.4","198.51.100.9","203.0.113.30","text/html","ALLOWED","https://board.example.com/","","UA","200","350","8200","8100""#],
            ),
            (
                FormatKind::SquidNative,
                vec!["1157689312.049   5006 10.105.21.199 TCP_MISS/200 19763 CONNECT login.yahoo.com:443 badeyek DIRECT/175.16.199.115 -"],
            ),
            (
                FormatKind::SquidCombined,
                vec![r#"10.1.2.3 - - [10/Oct/2026:13:55:36 +0000] "CONNECT api.openai.com:443 HTTP/1.1" 200 0 "-" "-""#],
            ),
        ]
    }

    #[test]
    fn every_format_is_detected_as_itself_only() {
        for (kind, lines) in one_line_each() {
            assert_eq!(detect(&lines), Some(kind), "{lines:?}");
            // No other format claims these lines.
            for &other in FormatKind::ALL {
                if other != kind {
                    for l in &lines {
                        assert!(
                            !other.looks_like(l),
                            "{} claims a {} line: {l}",
                            other.name(),
                            kind.name()
                        );
                    }
                }
            }
            // And every line parses to an event (or is a header).
            let mut p = Parser::new(kind);
            let events = lines.iter().filter_map(|l| p.parse(l).unwrap()).count();
            assert_eq!(events, 1, "{}", kind.name());
        }
    }

    #[test]
    fn names_round_trip_and_state() {
        for &k in FormatKind::ALL {
            assert_eq!(FormatKind::from_name(k.name()), Some(k));
        }
        assert_eq!(FormatKind::from_name("nope"), None);
        assert!(!FormatKind::ZeekTsv.stateless());
        assert!(!FormatKind::Csv.stateless());
        assert!(FormatKind::Panos.stateless());
        assert!(FormatKind::Jsonl.takes_mapping());
        // Generic formats are chosen, never guessed.
        assert_eq!(detect(&["a,b,c", "1,2,3"]), None);
        assert_eq!(detect(&[r#"{"host":"a.example"}"#]), None);
    }

    #[test]
    fn windows_line_endings_and_mapped_parsers() {
        let mut p = Parser::new(FormatKind::Fortigate);
        let e = p
            .parse("date=2026-03-02 time=09:15:00 srcip=10.0.0.1 dstip=203.0.113.1\r")
            .unwrap()
            .unwrap();
        assert_eq!(e.host, "203.0.113.1");
        let mut p = Parser::with_mapping(
            FormatKind::Csv,
            Mapping::parse("host=Site,user=Who").unwrap(),
        );
        assert_eq!(p.parse("Who,Site\r").unwrap(), None);
        let e = p
            .parse("CLINIC\\aiko,https://box.example.com/x\r")
            .unwrap()
            .unwrap();
        assert_eq!(e.host, "box.example.com");
        assert_eq!(e.user.as_deref(), Some("CLINIC\\aiko"));
        let mut p =
            Parser::with_mapping(FormatKind::Jsonl, Mapping::parse("host=dest.name").unwrap());
        let e = p
            .parse(r#"{"dest":{"name":"x.example"}}"#)
            .unwrap()
            .unwrap();
        assert_eq!(e.host, "x.example");
    }

    proptest::proptest! {
        /// Detection and every parser on made-up text (pieces of the
        /// formats' syntax glued at random): no panics, and events name a
        /// host.
        #[test]
        fn parsers_never_panic(pieces in proptest::collection::vec(proptest::sample::select(vec![
            "client @0x1 ", "10.0.0.1#53 ", "query: ", "query '", "%ASA-6-302014: ", "Teardown TCP connection 1 ",
            "for ", "to ", "outside:", "2001:db8::1/443", "(LOCAL\\u) ", "bytes ", "duration ", "date=", "time=",
            "srcip=", "dstip=", "hostname=\"", "\"", ",", ";", "[", "]", "src:\"", "dst:\"", "resource:\"",
            "{", "}", "\"ts\":", "\"id.orig_h\":", "\"uid\":", "\"event\":", "\"url\":", ":", "1772442900.5",
            "#fields\tts\tuid\tid.orig_h\tid.resp_h\thost", "\t", "\n", "\r", "1,2026/03/02 09:15:01,0,TRAFFIC,end",
            "THREAT,url", "https://", "%C3%BC", "%", "[2001:db8::2]:8443", "x.example", " ", "-", "(empty)", "é", "\\",
        ]), 0..40)) {
            let text: String = pieces.concat();
            let lines: Vec<&str> = text.split('\n').collect();
            let _ = detect(&lines);
            for &kind in FormatKind::ALL {
                let mut parser = Parser::new(kind);
                for line in &lines {
                    if let Ok(Some(e)) = parser.parse(line) {
                        proptest::prop_assert!(!e.host.trim().is_empty(), "{}: {:?}", kind.name(), line);
                    }
                }
            }
        }
    }
}
