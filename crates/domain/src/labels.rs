//! Closed vocabularies ("labels") shared by the UI, the API, the importers and
//! the database. Each label has one canonical snake_case spelling; parsing is
//! forgiving about case, spaces and hyphens because people type inventories by
//! hand.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown {kind} '{value}' (expected one of: {expected})")]
pub struct ParseLabelError {
    pub kind: &'static str,
    pub value: String,
    pub expected: String,
}

/// Lower-cases and turns spaces, hyphens and slashes into underscores so that
/// "Medical Device", "medical-device" and "MEDICAL_DEVICE" all compare equal.
pub(crate) fn normalise_label(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut last_underscore = false;
    for ch in raw.trim().chars() {
        let ch = ch.to_ascii_lowercase();
        if ch == ' ' || ch == '-' || ch == '/' || ch == '_' {
            if !last_underscore && !out.is_empty() {
                out.push('_');
            }
            last_underscore = true;
        } else {
            out.push(ch);
            last_underscore = false;
        }
    }
    while out.ends_with('_') {
        out.pop();
    }
    out
}

/// Declares a closed vocabulary: canonical names, extra accepted spellings,
/// `as_str`, `parse`, `ALL`, serde in canonical form.
macro_rules! label_enum {
    (
        $(#[$meta:meta])*
        $name:ident, $kind:literal {
            $( $(#[$vmeta:meta])* $variant:ident = $canon:literal $(| $alias:literal)* ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $(
                $(#[$vmeta])*
                #[serde(rename = $canon)]
                $variant
            ),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $canon),+
                }
            }

            pub fn parse(raw: &str) -> Result<Self, $crate::labels::ParseLabelError> {
                let key = $crate::labels::normalise_label(raw);
                match key.as_str() {
                    $( $canon $(| $alias)* => Ok($name::$variant), )+
                    _ => Err($crate::labels::ParseLabelError {
                        kind: $kind,
                        value: raw.to_string(),
                        expected: [$($canon),+].join(", "),
                    }),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                // `pad` honours width and alignment, so labels line up in tables.
                f.pad(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::labels::ParseLabelError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }
    };
}

pub(crate) use label_enum;

#[cfg(test)]
mod tests {
    use super::normalise_label;

    #[test]
    fn normalises_case_spaces_and_hyphens() {
        assert_eq!(normalise_label("  Medical Device "), "medical_device");
        assert_eq!(normalise_label("billing/RCM"), "billing_rcm");
        assert_eq!(normalise_label("multi-tenant"), "multi_tenant");
        assert_eq!(normalise_label("__x__"), "x");
    }
}
