//! A deterministic Squid native access log for benchmarks and tests: a
//! hospital's mix of destinations (catalog apps, a long tail of unknown
//! sites, CDNs), about 10,000 users behind DHCP addresses, realistic
//! result codes and sizes, CONNECT tunnels, and about 1 % malformed lines.
//! The same seed and size give the same bytes.

use std::io::{self, Write};

/// SplitMix64: small, fast and reproducible (not for anything secret).
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// Skewed towards small values: a few popular items, a long tail.
    fn skewed(&mut self, n: u64) -> u64 {
        let a = self.below(n);
        let b = self.below(n);
        let c = self.below(n);
        a.min(b).min(c)
    }
}

const POPULAR: &[&str] = &[
    "outlook.office365.com",
    "teams.microsoft.com",
    "login.microsoftonline.com",
    "www.google.com",
    "drive.google.com",
    "docs.google.com",
    "app.box.com",
    "www.dropbox.com",
    "zoom.us",
    "us02web.zoom.us",
    "slack.com",
    "files.slack.com",
    "chatgpt.com",
    "api.openai.com",
    "claude.ai",
    "gemini.google.com",
    "www.docusign.net",
    "app.hubspot.com",
    "login.salesforce.com",
    "web.whatsapp.com",
    "www.wetransfer.com",
    "www.canva.com",
    "github.com",
    "www.notion.so",
    "trello.com",
    "www.evernote.com",
    "www.deepl.com",
    "doxy.me",
    "www.surveymonkey.com",
    "www.linkedin.com",
    "www.facebook.com",
    "www.youtube.com",
    "i.ytimg.com",
    "update.microsoft.com",
    "ocsp.digicert.com",
    "epic.com",
    "www.uptodate.com",
    "pubmed.ncbi.nlm.nih.gov",
    "mychart.example-health.org",
];

const TLDS: &[&str] = &[
    "com", "net", "io", "co.jp", "org", "app", "ai", "de", "co.uk", "jp",
];
const WORDS: &[&str] = &[
    "med", "care", "cloud", "scan", "note", "chart", "form", "sign", "share", "sync", "data",
    "rad", "lab", "path", "vault", "link", "desk", "flow", "box", "hub", "mail", "meet", "dict",
];
const CODES: &[&str] = &[
    "TCP_MISS/200",
    "TCP_MISS/200",
    "TCP_MISS/200",
    "TCP_TUNNEL/200",
    "TCP_TUNNEL/200",
    "TCP_HIT/200",
    "TCP_REFRESH_MODIFIED/200",
    "TCP_MISS/304",
    "TCP_MISS/302",
    "TCP_MISS/404",
    "TCP_DENIED/403",
    "TCP_MISS/500",
];
const TYPES: &[&str] = &[
    "text/html",
    "application/json",
    "image/png",
    "application/octet-stream",
    "-",
];

/// The long tail: made-up domains, stable per index.
fn tail_host(i: u64, out: &mut String) {
    out.clear();
    let w1 = WORDS[(i % WORDS.len() as u64) as usize];
    let w2 = WORDS[((i / 7) % WORDS.len() as u64) as usize];
    let tld = TLDS[((i / 3) % TLDS.len() as u64) as usize];
    let prefix = match i % 4 {
        0 => "www.",
        1 => "app.",
        _ => "",
    };
    out.push_str(prefix);
    out.push_str(w1);
    out.push_str(w2);
    out.push_str(&(i % 997).to_string());
    out.push('.');
    out.push_str(tld);
}

/// Writes about `target_bytes` of log (whole lines) to `out`; returns the
/// number of lines.
pub fn squid_native(out: &mut dyn Write, target_bytes: u64, seed: u64) -> io::Result<u64> {
    let mut rng = Mix(seed ^ 0x6D61_6D6F_7269);
    let mut written = 0u64;
    let mut lines = 0u64;
    let mut ts: u64 = 1_780_000_000_000; // milliseconds
    let mut line = String::with_capacity(256);
    let mut host = String::with_capacity(64);
    let mut w = io::BufWriter::with_capacity(1 << 20, out);
    while written < target_bytes {
        line.clear();
        ts += rng.below(40);
        let user = rng.skewed(10_000);
        let ip_tail = user % 4000;
        if rng.below(100) == 0 {
            // A malformed line: cut short, or garbage in a numeric field.
            match rng.below(3) {
                0 => line.push_str(&format!("{}.{:03} 12 10.20.", ts / 1000, ts % 1000)),
                1 => line.push_str(&format!(
                    "{}.{:03} 5 10.20.{}.{} TCP_MISS/200 12k GET http://bad.example/ - DIRECT/- -",
                    ts / 1000,
                    ts % 1000,
                    ip_tail / 250,
                    ip_tail % 250
                )),
                _ => line.push_str("\u{1}\u{2}binary noise from a rotated log"),
            }
        } else {
            let popular = rng.below(100) < 70;
            if popular {
                host.clear();
                host.push_str(POPULAR[rng.skewed(POPULAR.len() as u64) as usize]);
            } else {
                tail_host(rng.skewed(50_000), &mut host);
            }
            let code = CODES[rng.below(CODES.len() as u64) as usize];
            let tunnel = code.starts_with("TCP_TUNNEL");
            let size = match rng.below(10) {
                0..=5 => rng.below(5_000) + 200,
                6..=8 => rng.below(200_000),
                _ => rng.below(20_000_000),
            };
            let elapsed = rng.below(3_000);
            let user_field = match user % 5 {
                0 => "-".to_string(),
                1 => format!("HOSPITAL\\u{user:05}"),
                2 => format!("u{user:05}@hospital.example"),
                _ => format!("u{user:05}"),
            };
            use std::fmt::Write as _;
            let _ = write!(
                line,
                "{}.{:03} {:>6} 10.20.{}.{} {} {} ",
                ts / 1000,
                ts % 1000,
                elapsed,
                ip_tail / 250,
                ip_tail % 250,
                code,
                size
            );
            if tunnel {
                let _ = write!(line, "CONNECT {host}:443 ");
            } else {
                let method = if rng.below(5) == 0 { "POST" } else { "GET" };
                let _ = write!(line, "{method} http://{host}/p/{} ", rng.below(100_000));
            }
            let _ = write!(
                line,
                "{user_field} HIER_DIRECT/203.0.113.{} {}",
                rng.below(250),
                TYPES[rng.below(TYPES.len() as u64) as usize]
            );
        }
        line.push('\n');
        w.write_all(line.as_bytes())?;
        written += line.len() as u64;
        lines += 1;
    }
    w.flush()?;
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::{detect, FormatKind, Parser};

    #[test]
    fn deterministic_and_mostly_valid() {
        let mut a = Vec::new();
        let mut b = Vec::new();
        let n = squid_native(&mut a, 200_000, 7).expect("write");
        squid_native(&mut b, 200_000, 7).expect("write");
        assert_eq!(a, b);
        let text = String::from_utf8(a).expect("utf-8");
        let first: Vec<&str> = text.lines().take(20).collect();
        assert_eq!(detect(&first), Some(FormatKind::SquidNative));
        let mut p = Parser::new(FormatKind::SquidNative);
        let bad = text.lines().filter(|l| p.parse(l).is_err()).count() as u64;
        assert!(bad > 0 && bad * 100 < n * 3, "{bad} malformed of {n}");
    }
}
