//! OSCAL catalog import (XML or JSON) into a [`Framework`].
//!
//! Both syntaxes are read into the same shape: groups and controls in
//! document order, each with its parent, title and the text of its
//! `statement` part flattened to plain text (parameters rendered as `{id}`).
//!
//! Element kinds: NIST's CSF catalogs mark functions, categories and
//! subcategories with `class="function"` etc.; everything else maps by
//! position (group → group, control → control, control in a control →
//! enhancement).
//!
//! Withdrawn elements carry `prop name="status" value="withdrawn"`. The CSF 2.0
//! catalog NIST publishes keeps the withdrawn CSF 1.1 subcategories without
//! that flag; when a CSF catalog has no status props at all, a subcategory
//! without implementation examples is taken as withdrawn, and so is a category
//! whose subcategories all are. That yields the published 22 categories and
//! 106 subcategories.

use std::collections::HashMap;
use std::fmt;

use mamori_domain::framework::{ElementKind, Framework, FrameworkElement};
use quick_xml::escape::EscapeError;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;
use serde::Deserialize;
use thiserror::Error;

use crate::plain_text::{is_block_element, TextSink};

/// The OSCAL XML namespace.
pub const OSCAL_NS: &str = "http://csrc.nist.gov/ns/oscal/1.0";

/// How deep groups, controls and parts may nest. Real catalogs use under
/// ten levels; the bound keeps hostile input from exhausting the stack.
pub const MAX_NESTING: usize = 64;

/// XML elements open at once (prose markup included); the XML reader keeps
/// its own stack, so this bounds memory rather than recursion.
const MAX_XML_DEPTH: usize = 4 * MAX_NESTING;

/// A location in the file, shown only when known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line(pub Option<usize>);

impl fmt::Display for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(line) => write!(f, ", line {line}"),
            None => Ok(()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum OscalError {
    #[error("{file}: the file is empty")]
    Empty { file: String },

    #[error(
        "{file}: not an OSCAL catalog: expected XML (starting with '<') or JSON (starting \
         with '{{'), but the file starts with {found}"
    )]
    UnknownSyntax { file: String, found: String },

    #[error("{file}, line {line}, column {column} (byte {byte}): malformed XML: {message}")]
    Xml {
        file: String,
        line: usize,
        column: usize,
        byte: u64,
        message: String,
    },

    #[error("{file}, line {line}, column {column}: {message}")]
    Json {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },

    #[error("{file}: not an OSCAL catalog: {found}")]
    NotACatalog { file: String, found: String },

    #[error("{file}{line}: {element} has no {field}")]
    MissingField {
        file: String,
        line: Line,
        element: String,
        field: &'static str,
    },

    #[error("{file}{line}: groups, controls and parts nest deeper than {limit} levels")]
    TooDeep {
        file: String,
        line: Line,
        limit: usize,
    },

    #[error("{file}{line}: id '{id}' is used by two elements")]
    DuplicateId {
        file: String,
        line: Line,
        id: String,
    },

    #[error("{file}: the catalog has no groups or controls")]
    NoElements { file: String },
}

/// Reads an OSCAL catalog, XML or JSON, chosen by the first non-blank byte.
pub fn parse_oscal_catalog(file_name: &str, bytes: &[u8]) -> Result<Framework, OscalError> {
    match first_significant_byte(bytes) {
        None => Err(OscalError::Empty {
            file: file_name.to_string(),
        }),
        Some(b'<') => parse_xml(file_name, bytes),
        Some(b'{') => parse_json(file_name, bytes),
        Some(other) => Err(OscalError::UnknownSyntax {
            file: file_name.to_string(),
            found: describe_byte(other),
        }),
    }
}

/// The first byte that is not whitespace, after a UTF-8 byte-order mark.
pub(crate) fn first_significant_byte(bytes: &[u8]) -> Option<u8> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    bytes.iter().copied().find(|b| !b.is_ascii_whitespace())
}

fn describe_byte(byte: u8) -> String {
    if byte.is_ascii_graphic() {
        format!("'{}'", byte as char)
    } else {
        format!("byte 0x{byte:02X}")
    }
}

/// 1-based line and column of a byte offset.
fn line_col(bytes: &[u8], offset: usize) -> (usize, usize) {
    let offset = offset.min(bytes.len());
    let before = &bytes[..offset];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let column = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    (line, column)
}

// ---------------------------------------------------------------------------
// Shared assembly
// ---------------------------------------------------------------------------

#[derive(Debug, Default)]
struct Metadata {
    uuid: String,
    title: TextSink,
    version: TextSink,
    props: Vec<(String, String)>,
}

/// An element being read, with what the withdrawn inference needs.
#[derive(Debug)]
struct Pending {
    id: String,
    parent: Option<usize>,
    kind: ElementKind,
    title: TextSink,
    statement: TextSink,
    overview: TextSink,
    examples: usize,
    withdrawn: bool,
}

struct Builder<'a> {
    file: &'a str,
    pending: Vec<Pending>,
    index_by_id: HashMap<String, usize>,
    has_csf_classes: bool,
    has_status_props: bool,
    unnamed_groups: usize,
}

impl<'a> Builder<'a> {
    fn new(file: &'a str) -> Self {
        Builder {
            file,
            pending: Vec::new(),
            index_by_id: HashMap::new(),
            has_csf_classes: false,
            has_status_props: false,
            unnamed_groups: 0,
        }
    }

    /// Opens a group or control; returns its index.
    fn open(
        &mut self,
        is_group: bool,
        id: Option<String>,
        class: Option<&str>,
        parent: Option<usize>,
        line: Line,
    ) -> Result<usize, OscalError> {
        let id = match id
            .map(|id| id.trim().to_string())
            .filter(|id| !id.is_empty())
        {
            Some(id) => id,
            // OSCAL makes a group's id optional; the framework needs one for
            // parent links, so unnamed groups are numbered in document order.
            None if is_group => {
                self.unnamed_groups += 1;
                format!("group-{}", self.unnamed_groups)
            }
            None => {
                return Err(OscalError::MissingField {
                    file: self.file.to_string(),
                    line,
                    element: "a control".to_string(),
                    field: "id",
                })
            }
        };
        let parent_kind = parent.map(|p| self.pending[p].kind);
        let kind = match class {
            Some("function") => ElementKind::Function,
            Some("category") => ElementKind::Category,
            Some("subcategory") => ElementKind::Subcategory,
            _ if is_group => ElementKind::Group,
            _ => match parent_kind {
                Some(ElementKind::Control | ElementKind::Enhancement) => ElementKind::Enhancement,
                _ => ElementKind::Control,
            },
        };
        if matches!(
            kind,
            ElementKind::Function | ElementKind::Category | ElementKind::Subcategory
        ) {
            self.has_csf_classes = true;
        }
        let index = self.pending.len();
        if self.index_by_id.insert(id.clone(), index).is_some() {
            return Err(OscalError::DuplicateId {
                file: self.file.to_string(),
                line,
                id,
            });
        }
        self.pending.push(Pending {
            id,
            parent,
            kind,
            title: TextSink::default(),
            statement: TextSink::default(),
            overview: TextSink::default(),
            examples: 0,
            withdrawn: false,
        });
        Ok(index)
    }

    fn prop(&mut self, index: usize, name: &str, value: &str) {
        if name == "status" {
            self.has_status_props = true;
            if value.eq_ignore_ascii_case("withdrawn") {
                self.pending[index].withdrawn = true;
            }
        }
    }

    fn finish(self, meta: Metadata) -> Result<Framework, OscalError> {
        let Builder {
            file,
            mut pending,
            has_csf_classes,
            has_status_props,
            ..
        } = self;
        if pending.is_empty() {
            return Err(OscalError::NoElements {
                file: file.to_string(),
            });
        }
        if has_csf_classes && !has_status_props {
            infer_csf_withdrawn(&mut pending);
        }
        let ids: Vec<String> = pending.iter().map(|p| p.id.clone()).collect();
        let elements = pending
            .into_iter()
            .map(|p| {
                let mut title = p.title.finish();
                // CSF subcategory titles just repeat the id.
                if title == p.id {
                    title.clear();
                }
                let statement = if p.statement.is_empty() {
                    p.overview.finish()
                } else {
                    p.statement.finish()
                };
                FrameworkElement {
                    parent: p.parent.map(|i| ids[i].clone()),
                    id: p.id,
                    kind: p.kind,
                    title,
                    statement,
                    withdrawn: p.withdrawn,
                }
            })
            .collect();
        let name = meta.title.finish();
        let key = framework_key(&name, &meta.props);
        let source = if meta.uuid.is_empty() {
            file.to_string()
        } else {
            format!("{file} (OSCAL catalog {})", meta.uuid)
        };
        Ok(Framework {
            key,
            name,
            version: meta.version.finish(),
            source,
            elements,
        })
    }
}

fn infer_csf_withdrawn(pending: &mut [Pending]) {
    for p in pending.iter_mut() {
        if p.kind == ElementKind::Subcategory && p.examples == 0 {
            p.withdrawn = true;
        }
    }
    let mut subcategories: HashMap<usize, (usize, usize)> = HashMap::new();
    for p in pending.iter() {
        if let (ElementKind::Subcategory, Some(parent)) = (p.kind, p.parent) {
            let entry = subcategories.entry(parent).or_default();
            entry.0 += 1;
            entry.1 += usize::from(p.withdrawn);
        }
    }
    for (index, p) in pending.iter_mut().enumerate() {
        if p.kind == ElementKind::Category {
            if let Some(&(total, withdrawn)) = subcategories.get(&index) {
                p.withdrawn = total > 0 && total == withdrawn;
            }
        }
    }
}

/// A stable key from the catalog's metadata: `nist-csf-2.0` for NIST's CSF
/// catalogs (from the CPRT framework props or the title),
/// `nist-sp800-53-rev5[-baseline]` for SP 800-53, otherwise the title as a
/// slug.
fn framework_key(title: &str, props: &[(String, String)]) -> String {
    let prop = |name: &str| {
        props
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    if prop("framework-identifier") == Some("CSF") {
        // e.g. CSF_2_0_0 → 2.0
        if let Some(version) = prop("framework-version-identifier") {
            let numbers: Vec<&str> = version
                .split('_')
                .filter(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_digit()))
                .collect();
            if numbers.len() >= 2 {
                return format!("nist-csf-{}.{}", numbers[0], numbers[1]);
            }
        }
    }
    let lower = title.to_ascii_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '.' && c != '-')
        .filter(|w| !w.is_empty())
        .collect();
    if lower.contains("cybersecurity framework") {
        if let Some(version) = words
            .iter()
            .find(|w| w.contains('.') && w.chars().all(|c| c.is_ascii_digit() || c == '.'))
        {
            return format!("nist-csf-{version}");
        }
    }
    if lower.contains("800-53") {
        let mut key = "nist-sp800-53".to_string();
        let revision = words.iter().enumerate().find_map(|(i, w)| {
            if let Some(n) = w.strip_prefix("rev") {
                let n = n.trim_start_matches('.');
                if !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()) {
                    return Some(n.to_string());
                }
            }
            if *w == "revision" || *w == "rev" || *w == "rev." {
                let next = words.get(i + 1)?;
                let major: String = next.chars().take_while(|c| c.is_ascii_digit()).collect();
                if !major.is_empty() {
                    return Some(major);
                }
            }
            None
        });
        if let Some(revision) = revision {
            key.push_str("-rev");
            key.push_str(&revision);
        }
        for baseline in ["low", "moderate", "high", "privacy"] {
            if words.contains(&baseline) {
                key.push('-');
                key.push_str(baseline);
                break;
            }
        }
        return key;
    }
    slug(title)
}

fn slug(title: &str) -> String {
    let mut out = String::new();
    for ch in title.chars() {
        if ch.is_ascii_alphanumeric() || ch == '.' {
            out.push(ch.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
        if out.len() >= 64 {
            break;
        }
    }
    let trimmed = out.trim_end_matches(['-', '.']);
    if trimmed.is_empty() {
        "oscal-catalog".to_string()
    } else {
        trimmed.to_string()
    }
}

// ---------------------------------------------------------------------------
// XML
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Statement,
    Overview,
}

#[derive(Debug, Clone, Copy)]
enum Frame {
    Catalog,
    Metadata,
    MetaTitle,
    MetaVersion,
    Node(usize),
    NodeTitle(usize),
    /// A statement/overview part or one of its sub-parts.
    Part(usize, Target),
    /// Prose markup inside a captured part; `true` for block elements.
    Prose(usize, Target, bool),
    /// Content that does not go into the framework.
    Skip,
}

struct XmlParser<'a> {
    file: &'a str,
    bytes: &'a [u8],
    reader: NsReader<&'a [u8]>,
    builder: Builder<'a>,
    meta: Metadata,
    stack: Vec<Frame>,
    nesting: usize,
    /// Where the event being handled starts, for errors about an element.
    event_start: u64,
}

fn parse_xml(file: &str, bytes: &[u8]) -> Result<Framework, OscalError> {
    let mut reader = NsReader::from_reader(bytes);
    reader.config_mut().check_end_names = true;
    let mut parser = XmlParser {
        file,
        bytes,
        reader,
        builder: Builder::new(file),
        meta: Metadata::default(),
        stack: Vec::new(),
        nesting: 0,
        event_start: 0,
    };
    parser.run()?;
    let XmlParser { builder, meta, .. } = parser;
    builder.finish(meta)
}

impl<'a> XmlParser<'a> {
    /// The line where the current element's tag starts.
    fn line(&self) -> Line {
        let offset = usize::try_from(self.event_start).unwrap_or(usize::MAX);
        Line(Some(line_col(self.bytes, offset).0))
    }

    fn xml_error(&self, offset: u64, message: String) -> OscalError {
        let (line, column) = line_col(self.bytes, usize::try_from(offset).unwrap_or(usize::MAX));
        OscalError::Xml {
            file: self.file.to_string(),
            line,
            column,
            byte: offset,
            message,
        }
    }

    fn run(&mut self) -> Result<(), OscalError> {
        let mut seen_root = false;
        loop {
            self.event_start = self.reader.buffer_position();
            let (ns, event) = match self.reader.read_resolved_event() {
                Ok(pair) => pair,
                Err(err) => {
                    return Err(self.xml_error(self.reader.error_position(), err.to_string()))
                }
            };
            let in_oscal_ns = matches!(ns, ResolveResult::Bound(n) if n.0 == OSCAL_NS.as_bytes());
            match event {
                Event::Start(e) => {
                    self.start(&e, in_oscal_ns, &mut seen_root)?;
                }
                Event::Empty(e) => {
                    self.start(&e, in_oscal_ns, &mut seen_root)?;
                    self.end();
                }
                Event::End(_) => self.end(),
                Event::Text(t) => {
                    if self.capturing() {
                        let text = t.unescape().map_err(|err| {
                            // Point at the bad entity, not the start of the text.
                            let within = match &err {
                                quick_xml::Error::Escape(
                                    EscapeError::UnrecognizedEntity(range, _)
                                    | EscapeError::UnterminatedEntity(range),
                                ) => range.start.saturating_sub(1) as u64,
                                _ => 0,
                            };
                            self.xml_error(self.event_start + within, err.to_string())
                        })?;
                        self.push_text(&text);
                    } else if self.stack.is_empty() && !t.iter().all(u8::is_ascii_whitespace) {
                        return Err(self.xml_error(
                            self.event_start,
                            "text outside the root element".to_string(),
                        ));
                    }
                }
                Event::CData(c) if self.capturing() => {
                    let text = String::from_utf8_lossy(&c);
                    self.push_text(&text);
                }
                Event::Eof => break,
                // Declarations, comments, processing instructions, DOCTYPE:
                // nothing to keep (entities declared in a DTD are not
                // expanded, so a DTD cannot inflate the document).
                _ => {}
            }
        }
        if !self.stack.is_empty() {
            return Err(self.xml_error(
                self.reader.buffer_position(),
                "the file ends before all elements are closed (truncated?)".to_string(),
            ));
        }
        if !seen_root {
            return Err(OscalError::NotACatalog {
                file: self.file.to_string(),
                found: "no root element".to_string(),
            });
        }
        Ok(())
    }

    fn capturing(&self) -> bool {
        matches!(
            self.stack.last(),
            Some(
                Frame::MetaTitle
                    | Frame::MetaVersion
                    | Frame::NodeTitle(_)
                    | Frame::Part(..)
                    | Frame::Prose(..)
            )
        )
    }

    fn sink(&mut self, index: usize, target: Target) -> &mut TextSink {
        let p = &mut self.builder.pending[index];
        match target {
            Target::Statement => &mut p.statement,
            Target::Overview => &mut p.overview,
        }
    }

    fn push_text(&mut self, text: &str) {
        match self.stack.last().copied() {
            Some(Frame::MetaTitle) => self.meta.title.push(text),
            Some(Frame::MetaVersion) => self.meta.version.push(text),
            Some(Frame::NodeTitle(i)) => self.builder.pending[i].title.push(text),
            Some(Frame::Part(i, t) | Frame::Prose(i, t, _)) => self.sink(i, t).push(text),
            _ => {}
        }
    }

    fn attr(&self, e: &BytesStart<'_>, name: &str) -> Result<Option<String>, OscalError> {
        let attr = e
            .try_get_attribute(name)
            .map_err(|err| self.xml_error(self.event_start, err.to_string()))?;
        match attr {
            None => Ok(None),
            Some(a) => a
                .decode_and_unescape_value(self.reader.decoder())
                .map(|v| Some(v.into_owned()))
                .map_err(|err| self.xml_error(self.event_start, err.to_string())),
        }
    }

    fn start(
        &mut self,
        e: &BytesStart<'_>,
        in_oscal_ns: bool,
        seen_root: &mut bool,
    ) -> Result<(), OscalError> {
        if self.stack.len() >= MAX_XML_DEPTH {
            return Err(OscalError::TooDeep {
                file: self.file.to_string(),
                line: self.line(),
                limit: MAX_NESTING,
            });
        }
        let local = e.local_name();
        let name = String::from_utf8_lossy(local.as_ref()).into_owned();
        let Some(parent) = self.stack.last().copied() else {
            if *seen_root {
                return Err(self.xml_error(self.event_start, "a second root element".to_string()));
            }
            *seen_root = true;
            if name != "catalog" || !in_oscal_ns {
                let found = if in_oscal_ns {
                    format!("the root element is <{name}>, not <catalog>")
                } else {
                    format!("the root element <{name}> is not in the OSCAL namespace {OSCAL_NS}")
                };
                return Err(OscalError::NotACatalog {
                    file: self.file.to_string(),
                    found,
                });
            }
            self.meta.uuid = self.attr(e, "uuid")?.unwrap_or_default();
            self.stack.push(Frame::Catalog);
            return Ok(());
        };
        // Elements from other namespaces are extensions we do not read.
        let frame = if !in_oscal_ns {
            Frame::Skip
        } else {
            self.child_frame(parent, &name, e)?
        };
        if matches!(frame, Frame::Node(_)) {
            self.nesting += 1;
            if self.nesting > MAX_NESTING {
                return Err(OscalError::TooDeep {
                    file: self.file.to_string(),
                    line: self.line(),
                    limit: MAX_NESTING,
                });
            }
        }
        self.stack.push(frame);
        Ok(())
    }

    fn child_frame(
        &mut self,
        parent: Frame,
        name: &str,
        e: &BytesStart<'_>,
    ) -> Result<Frame, OscalError> {
        Ok(match parent {
            Frame::Catalog | Frame::Node(_) if name == "group" || name == "control" => {
                let parent_index = match parent {
                    Frame::Node(i) => Some(i),
                    _ => None,
                };
                let id = self.attr(e, "id")?;
                let class = self.attr(e, "class")?;
                let line = self.line();
                let index =
                    self.builder
                        .open(name == "group", id, class.as_deref(), parent_index, line)?;
                Frame::Node(index)
            }
            Frame::Catalog if name == "metadata" => Frame::Metadata,
            Frame::Metadata => match name {
                "title" => Frame::MetaTitle,
                "version" => Frame::MetaVersion,
                "prop" => {
                    if let (Some(n), Some(v)) = (self.attr(e, "name")?, self.attr(e, "value")?) {
                        self.meta.props.push((n, v));
                    }
                    Frame::Skip
                }
                _ => Frame::Skip,
            },
            Frame::Node(i) => match name {
                "title" => Frame::NodeTitle(i),
                "prop" => {
                    if let (Some(n), Some(v)) = (self.attr(e, "name")?, self.attr(e, "value")?) {
                        self.builder.prop(i, &n, &v);
                    }
                    Frame::Skip
                }
                "part" => match self.attr(e, "name")?.as_deref() {
                    Some("statement") => Frame::Part(i, Target::Statement),
                    Some("overview") => Frame::Part(i, Target::Overview),
                    Some("example") => {
                        self.builder.pending[i].examples += 1;
                        Frame::Skip
                    }
                    _ => Frame::Skip,
                },
                _ => Frame::Skip,
            },
            Frame::Part(i, t) => match name {
                "part" => {
                    self.sink(i, t).block_break();
                    Frame::Part(i, t)
                }
                "prop" => {
                    // An item's label ("a.", "1.") leads its text.
                    if self.attr(e, "name")?.as_deref() == Some("label") {
                        if let Some(label) = self.attr(e, "value")? {
                            self.sink(i, t).label(&label);
                        }
                    }
                    Frame::Skip
                }
                "title" | "link" => Frame::Skip,
                _ => self.prose_frame(i, t, name, e)?,
            },
            Frame::Prose(i, t, _) => self.prose_frame(i, t, name, e)?,
            Frame::NodeTitle(_) | Frame::MetaTitle | Frame::MetaVersion => {
                if name == "insert" {
                    let id = self.attr(e, "id-ref")?.unwrap_or_default();
                    self.push_text(&format!("{{{id}}}"));
                    Frame::Skip
                } else {
                    // Inline markup in a title keeps capturing.
                    parent
                }
            }
            Frame::Catalog | Frame::Skip => Frame::Skip,
        })
    }

    fn prose_frame(
        &mut self,
        i: usize,
        t: Target,
        name: &str,
        e: &BytesStart<'_>,
    ) -> Result<Frame, OscalError> {
        if name == "insert" {
            let id = self.attr(e, "id-ref")?.unwrap_or_default();
            self.sink(i, t).push(&format!("{{{id}}}"));
            return Ok(Frame::Skip);
        }
        let block = is_block_element(name);
        if block {
            self.sink(i, t).block_break();
        }
        Ok(Frame::Prose(i, t, block))
    }

    fn end(&mut self) {
        match self.stack.pop() {
            Some(Frame::Node(_)) => self.nesting = self.nesting.saturating_sub(1),
            Some(Frame::Part(i, t)) => self.sink(i, t).block_break(),
            // Only block elements end a line; `</em>` does not.
            Some(Frame::Prose(i, t, true)) => self.sink(i, t).block_break(),
            _ => {}
        }
    }
}

// ---------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------

#[derive(Deserialize)]
struct JsonDocument {
    catalog: Option<JsonCatalog>,
}

#[derive(Deserialize)]
struct JsonCatalog {
    uuid: String,
    metadata: JsonMetadata,
    #[serde(default)]
    groups: Vec<JsonNode>,
    #[serde(default)]
    controls: Vec<JsonNode>,
}

#[derive(Deserialize)]
struct JsonMetadata {
    title: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    props: Vec<JsonProp>,
}

#[derive(Deserialize)]
struct JsonProp {
    name: String,
    value: String,
}

/// A group or a control: the two share every field read here.
#[derive(Deserialize)]
struct JsonNode {
    id: Option<String>,
    class: Option<String>,
    #[serde(default)]
    title: String,
    #[serde(default)]
    props: Vec<JsonProp>,
    #[serde(default)]
    parts: Vec<JsonPart>,
    #[serde(default)]
    groups: Vec<JsonNode>,
    #[serde(default)]
    controls: Vec<JsonNode>,
}

#[derive(Deserialize)]
struct JsonPart {
    name: String,
    #[serde(default)]
    prose: Option<String>,
    #[serde(default)]
    props: Vec<JsonProp>,
    #[serde(default)]
    parts: Vec<JsonPart>,
}

fn parse_json(file: &str, bytes: &[u8]) -> Result<Framework, OscalError> {
    let json_error = |err: serde_json::Error| OscalError::Json {
        file: file.to_string(),
        line: err.line(),
        column: err.column(),
        message: err.to_string(),
    };
    // serde_json's own recursion limit (128) keeps deep input from
    // overflowing the stack while deserialising.
    let document: JsonDocument = serde_json::from_slice(bytes).map_err(json_error)?;
    let Some(catalog) = document.catalog else {
        let keys: Vec<String> =
            serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(bytes)
                .map(|map| map.keys().cloned().collect())
                .unwrap_or_default();
        return Err(OscalError::NotACatalog {
            file: file.to_string(),
            found: if keys.is_empty() {
                "the JSON object has no \"catalog\" member".to_string()
            } else {
                format!(
                    "the JSON object has no \"catalog\" member (found: {})",
                    keys.join(", ")
                )
            },
        });
    };
    let mut builder = Builder::new(file);
    let mut meta = Metadata {
        uuid: catalog.uuid,
        ..Metadata::default()
    };
    meta.title.push(&catalog.metadata.title);
    meta.version.push(&catalog.metadata.version);
    meta.props = catalog
        .metadata
        .props
        .into_iter()
        .map(|p| (p.name, p.value))
        .collect();
    for group in &catalog.groups {
        walk_json(&mut builder, group, true, None, 1)?;
    }
    for control in &catalog.controls {
        walk_json(&mut builder, control, false, None, 1)?;
    }
    builder.finish(meta)
}

fn walk_json(
    builder: &mut Builder<'_>,
    node: &JsonNode,
    is_group: bool,
    parent: Option<usize>,
    depth: usize,
) -> Result<(), OscalError> {
    if depth > MAX_NESTING {
        return Err(OscalError::TooDeep {
            file: builder.file.to_string(),
            line: Line(None),
            limit: MAX_NESTING,
        });
    }
    let index = builder.open(
        is_group,
        node.id.clone(),
        node.class.as_deref(),
        parent,
        Line(None),
    )?;
    builder.pending[index]
        .title
        .push(&prose_to_text(&node.title));
    for prop in &node.props {
        builder.prop(index, &prop.name, &prop.value);
    }
    for part in &node.parts {
        match part.name.as_str() {
            "statement" => {
                let mut sink = std::mem::take(&mut builder.pending[index].statement);
                flatten_part(builder.file, &mut sink, part, depth + 1)?;
                builder.pending[index].statement = sink;
            }
            "overview" => {
                let mut sink = std::mem::take(&mut builder.pending[index].overview);
                flatten_part(builder.file, &mut sink, part, depth + 1)?;
                builder.pending[index].overview = sink;
            }
            "example" => builder.pending[index].examples += 1,
            _ => {}
        }
    }
    for group in &node.groups {
        walk_json(builder, group, true, Some(index), depth + 1)?;
    }
    for control in &node.controls {
        walk_json(builder, control, false, Some(index), depth + 1)?;
    }
    Ok(())
}

fn flatten_part(
    file: &str,
    sink: &mut TextSink,
    part: &JsonPart,
    depth: usize,
) -> Result<(), OscalError> {
    if depth > MAX_NESTING {
        return Err(OscalError::TooDeep {
            file: file.to_string(),
            line: Line(None),
            limit: MAX_NESTING,
        });
    }
    if let Some(prose) = &part.prose {
        sink.push(&prose_to_text(prose));
    }
    for sub in &part.parts {
        sink.block_break();
        if let Some(label) = sub.props.iter().find(|p| p.name == "label") {
            sink.label(&label.value);
        }
        flatten_part(file, sink, sub, depth + 1)?;
    }
    Ok(())
}

/// OSCAL JSON prose is Markdown with `{{ insert: param, id }}` placeholders;
/// placeholders become `{id}`, as in the XML reading, the rest is kept.
fn prose_to_text(prose: &str) -> String {
    let mut out = String::with_capacity(prose.len());
    let mut rest = prose;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        match after.find("}}") {
            Some(close) => {
                let inner = after[..close].trim();
                match inner.strip_prefix("insert:") {
                    Some(args) => {
                        let id = args.rsplit(',').next().unwrap_or("").trim();
                        out.push('{');
                        out.push_str(id);
                        out.push('}');
                    }
                    None => {
                        out.push_str("{{");
                        out.push_str(&after[..close]);
                        out.push_str("}}");
                    }
                }
                rest = &after[close + 2..];
            }
            None => {
                out.push_str("{{");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_from_metadata() {
        let csf = vec![
            ("framework-identifier".to_string(), "CSF".to_string()),
            (
                "framework-version-identifier".to_string(),
                "CSF_2_0_0".to_string(),
            ),
        ];
        assert_eq!(framework_key("anything", &csf), "nist-csf-2.0");
        assert_eq!(
            framework_key(
                "NIST Special Publication 800-53 Revision 5.1.1 MODERATE IMPACT BASELINE",
                &[]
            ),
            "nist-sp800-53-rev5-moderate"
        );
        assert_eq!(
            framework_key("NIST SP 800-53 Rev5 catalog", &[]),
            "nist-sp800-53-rev5"
        );
        assert_eq!(
            framework_key("NIST Cybersecurity Framework 1.1", &[]),
            "nist-csf-1.1"
        );
        assert_eq!(
            framework_key("Acme Controls (v2)!", &[]),
            "acme-controls-v2"
        );
        assert_eq!(framework_key("???", &[]), "oscal-catalog");
    }

    #[test]
    fn json_inserts_become_braced_ids() {
        assert_eq!(
            prose_to_text("Require {{ insert: param, ac-02_odp.01 }} for {{x}} and {{ open"),
            "Require {ac-02_odp.01} for {{x}} and {{ open"
        );
    }

    #[test]
    fn line_and_column_of_an_offset() {
        assert_eq!(line_col(b"ab\ncd\nef", 4), (2, 2));
        assert_eq!(line_col(b"", 10), (1, 1));
    }
}
