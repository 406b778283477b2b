//! Flattening marked-up text (OSCAL prose, VSAQ's HTML snippets) to plain
//! text: whitespace runs collapse to one space, block boundaries become one
//! newline, nothing leads or trails.

/// Accumulates text pieces, collapsing whitespace as it goes so callers can
/// feed raw XML text nodes with their indentation and line wraps.
#[derive(Debug, Default, Clone)]
pub(crate) struct TextSink {
    out: String,
    pending_space: bool,
    pending_break: bool,
    /// Just after a label: the label's own paragraph break is not a new line.
    after_label: bool,
}

impl TextSink {
    pub(crate) fn push(&mut self, text: &str) {
        for ch in text.chars() {
            if ch.is_whitespace() {
                // Leading whitespace is dropped rather than remembered.
                if !self.out.is_empty() {
                    self.pending_space = true;
                }
                continue;
            }
            if self.pending_break {
                self.out.push('\n');
            } else if self.pending_space {
                self.out.push(' ');
            }
            self.pending_break = false;
            self.pending_space = false;
            self.after_label = false;
            self.out.push(ch);
        }
    }

    /// Ends a paragraph or list item: the next text starts on a new line.
    pub(crate) fn block_break(&mut self) {
        if self.after_label {
            self.space();
        } else if !self.out.is_empty() {
            self.pending_break = true;
        }
    }

    /// An item label ("a.", "1.") on a new line, run into the item's text.
    pub(crate) fn label(&mut self, label: &str) {
        self.block_break();
        self.push(label);
        self.space();
        self.after_label = !label.trim().is_empty();
    }

    /// A word boundary, for pieces that sit side by side (a label and its
    /// item text) without whitespace between them in the source.
    pub(crate) fn space(&mut self) {
        if !self.out.is_empty() {
            self.pending_space = true;
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.out.is_empty()
    }

    pub(crate) fn finish(self) -> String {
        self.out
    }
}

/// Element names after which a reader expects a new line.
pub(crate) fn is_block_element(name: &str) -> bool {
    matches!(
        name,
        "p" | "li"
            | "ol"
            | "ul"
            | "table"
            | "tr"
            | "pre"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "blockquote"
            | "div"
            | "br"
    )
}

/// Strips tags from an HTML snippet (VSAQ texts are short, trusted-shape
/// fragments such as `<p>..</p><ul><li>..</li></ul>`), turning block tags into
/// line breaks and decoding the handful of entities those files use. Not a
/// general HTML parser: malformed markup degrades to text, never to an error.
pub(crate) fn html_to_text(html: &str) -> String {
    let mut sink = TextSink::default();
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        push_decoded(&mut sink, &rest[..lt]);
        let after = &rest[lt + 1..];
        match after.find('>') {
            Some(gt) => {
                let tag = after[..gt].trim().trim_start_matches('/');
                let name: String = tag
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric())
                    .map(|c| c.to_ascii_lowercase())
                    .collect();
                // Inline tags (`<b>`, `<a>`) sit inside words' flow, so only
                // block tags separate anything.
                if is_block_element(&name) {
                    sink.block_break();
                }
                rest = &after[gt + 1..];
            }
            None => {
                // A lone '<' is text.
                push_decoded(&mut sink, "<");
                rest = after;
            }
        }
    }
    push_decoded(&mut sink, rest);
    sink.finish()
}

fn push_decoded(sink: &mut TextSink, text: &str) {
    if !text.contains('&') {
        sink.push(text);
        return;
    }
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        sink.push(&rest[..amp]);
        let after = &rest[amp + 1..];
        let decoded = after
            .find(';')
            .filter(|&semi| semi <= 10)
            .and_then(|semi| decode_entity(&after[..semi]).map(|ch| (ch, semi)));
        match decoded {
            Some((ch, semi)) => {
                let mut buf = [0u8; 4];
                sink.push(ch.encode_utf8(&mut buf));
                rest = &after[semi + 1..];
            }
            None => {
                sink.push("&");
                rest = after;
            }
        }
    }
    sink.push(rest);
}

fn decode_entity(name: &str) -> Option<char> {
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse().ok()?,
        };
        return char::from_u32(code);
    }
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => ' ',
        "mdash" => '—',
        "ndash" => '–',
        "hellip" => '…',
        "rsquo" => '’',
        "lsquo" => '‘',
        "rdquo" => '”',
        "ldquo" => '“',
        "trade" => '™',
        "reg" => '®',
        "copy" => '©',
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collapses_whitespace_and_breaks_blocks() {
        let mut sink = TextSink::default();
        sink.push("\n   The  organizational\n     mission ");
        sink.label("a.");
        sink.block_break();
        sink.push("Define");
        assert_eq!(sink.finish(), "The organizational mission\na. Define");
    }

    #[test]
    fn html_snippets_become_text() {
        assert_eq!(
            html_to_text("<p>Use a <a href='x'>DMZ</a> &mdash; always.</p><ul><li>One</li><li>Two &amp; 3</li></ul>"),
            "Use a DMZ — always.\nOne\nTwo & 3"
        );
        assert_eq!(html_to_text("a < b &unknown; c"), "a < b &unknown; c");
    }
}
