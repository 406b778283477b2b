//! The one translation catalog (`i18n/catalog.toml`): every string a person
//! sees goes through `Tr::t`. A test checks that each key has English and
//! Japanese text and that every key the templates use exists.

use std::collections::HashMap;

use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Locale {
    #[default]
    En,
    Ja,
}

impl Locale {
    pub fn code(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::Ja => "ja",
        }
    }

    pub fn parse(raw: &str) -> Option<Locale> {
        let lang = raw
            .trim()
            .split(['-', '_'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        match lang.as_str() {
            "en" => Some(Locale::En),
            "ja" => Some(Locale::Ja),
            _ => None,
        }
    }

    /// The first supported language of an `Accept-Language` header, by q.
    pub fn from_accept_language(header: &str) -> Option<Locale> {
        let mut best: Option<(f32, Locale)> = None;
        for part in header.split(',') {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or("");
            let q = pieces
                .find_map(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|v| v.parse::<f32>().ok())
                })
                .unwrap_or(1.0);
            if let Some(locale) = Locale::parse(tag) {
                if best.is_none_or(|(bq, _)| q > bq) {
                    best = Some((q, locale));
                }
            }
        }
        best.map(|(_, l)| l)
    }
}

#[derive(Debug, Deserialize)]
struct Entry {
    en: String,
    ja: String,
}

pub struct Catalog {
    entries: HashMap<String, Entry>,
}

pub const CATALOG_TOML: &str = include_str!("../i18n/catalog.toml");

impl Catalog {
    pub fn builtin() -> Self {
        Self::parse(CATALOG_TOML)
            .unwrap_or_else(|e| panic!("the translation catalog is invalid: {e}"))
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let entries: HashMap<String, Entry> = toml::from_str(text).map_err(|e| e.to_string())?;
        Ok(Self { entries })
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }

    pub fn lookup(&self, locale: Locale, key: &str) -> Option<&str> {
        self.entries.get(key).map(|e| match locale {
            Locale::En => e.en.as_str(),
            Locale::Ja => e.ja.as_str(),
        })
    }

    pub fn is_complete(&self) -> Vec<String> {
        self.entries
            .iter()
            .filter(|(_, e)| e.en.trim().is_empty() || e.ja.trim().is_empty())
            .map(|(k, _)| k.clone())
            .collect()
    }
}

/// A translator bound to one locale; templates call `tr.t("key")`.
#[derive(Clone)]
pub struct Tr {
    pub locale: Locale,
    catalog: std::sync::Arc<Catalog>,
}

impl Tr {
    pub fn new(catalog: std::sync::Arc<Catalog>, locale: Locale) -> Self {
        Self { locale, catalog }
    }

    pub fn t<'a>(&'a self, key: &'a str) -> &'a str {
        match self.catalog.lookup(self.locale, key) {
            Some(text) => text,
            None => {
                tracing::warn!(key, "missing translation");
                key
            }
        }
    }

    /// `t` with `{name}` placeholders filled in.
    pub fn tf(&self, key: &str, args: &[(&str, &str)]) -> String {
        let mut text = self.t(key).to_string();
        for (name, value) in args {
            text = text.replace(&format!("{{{name}}}"), value);
        }
        text
    }

    /// Label of a closed vocabulary value: `label("tier", "critical")`.
    pub fn label(&self, kind: &str, value: &str) -> String {
        let key = format!("{kind}.{value}");
        match self.catalog.lookup(self.locale, &key) {
            Some(text) => text.to_string(),
            None => value.replace('_', " "),
        }
    }

    /// Whole numbers with thousands separators (the same in en and ja).
    pub fn number(&self, n: impl Into<i128>) -> String {
        let n: i128 = n.into();
        let digits = n.unsigned_abs().to_string();
        let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
        if n < 0 {
            out.push('-');
        }
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(c);
        }
        out
    }

    /// A stored UTC timestamp as "2026-12-03 16:05 UTC" / "2026年12月03日 16:05 UTC".
    pub fn datetime(&self, stored: &str) -> String {
        let date = stored.get(0..10).unwrap_or(stored);
        let time = stored.get(11..16).unwrap_or("");
        match self.locale {
            Locale::En => format!("{date} {time} UTC"),
            Locale::Ja => {
                let parts: Vec<&str> = date.split('-').collect();
                if parts.len() == 3 {
                    format!("{}年{}月{}日 {time} UTC", parts[0], parts[1], parts[2])
                } else {
                    format!("{date} {time} UTC")
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_best_supported() {
        assert_eq!(
            Locale::from_accept_language("ja,en-US;q=0.9"),
            Some(Locale::Ja)
        );
        assert_eq!(
            Locale::from_accept_language("fr, en;q=0.5, ja;q=0.7"),
            Some(Locale::Ja)
        );
        assert_eq!(Locale::from_accept_language("fr"), None);
    }

    #[test]
    fn every_entry_has_both_languages() {
        let catalog = Catalog::builtin();
        assert!(
            catalog.is_complete().is_empty(),
            "{:?}",
            catalog.is_complete()
        );
    }

    #[test]
    fn numbers_and_dates_are_formatted_per_locale() {
        let tr = Tr::new(std::sync::Arc::new(Catalog::builtin()), Locale::Ja);
        assert_eq!(tr.number(1234567), "1,234,567");
        assert_eq!(tr.number(-5), "-5");
        assert_eq!(
            tr.datetime("2026-12-03T16:05:00.000000Z"),
            "2026年12月03日 16:05 UTC"
        );
    }
}
