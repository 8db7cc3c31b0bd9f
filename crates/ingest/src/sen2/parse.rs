//! The streaming reader: XML events → one small element tree per `Person` (memory bounded by one person) →
//! a pseudonymised [`Sen2Person`]. Names, postcode and UPN live only in that tree and are dropped with it.

use std::io::{self, BufRead, BufReader, Read};

use chrono::NaiveDate;
use highneeds_domain::sen2::{PersonKey, Sen2Header, Sen2Person, Sen2Return};
use highneeds_domain::CensusYear;
use quick_xml::events::Event;
use sha2::{Digest, Sha256};

use super::key::PersonKeyer;
use super::person::{convert_header, convert_person, Check};
use crate::issue::{Issue, Severity};
use crate::{Parsed, SourceFile, MAX_FILE_BYTES};

/// Longest single XML event (a tag or a run of text) accepted.
const MAX_EVENT_BYTES: usize = 1 << 20;
/// Most elements one person may have.
const MAX_PERSON_ELEMENTS: usize = 20_000;
/// Deepest nesting accepted.
const MAX_DEPTH: usize = 64;

/// One element of a captured subtree: lower-case local name, its text, the line it starts on.
#[derive(Debug, Default)]
pub(crate) struct Node {
    pub name: String,
    pub text: String,
    pub line: u64,
    pub children: Vec<Node>,
}

impl Node {
    /// Children with this (lower-case) name.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }
    /// The first child with this (lower-case) name.
    pub fn first(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }
    /// Trimmed text.
    pub fn value(&self) -> &str {
        self.text.trim()
    }
}

/// Reads through to its inner reader, hashing and counting every byte.
struct Hashing<R> {
    inner: R,
    hasher: Sha256,
    bytes: u64,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}

/// Whether the XML declaration names a single-byte Western encoding (Windows-1252 / ISO-8859-1), as some
/// case-management systems write; such a return is decoded to UTF-8 before parsing.
fn declares_western(head: &[u8]) -> bool {
    if !head.starts_with(b"<?xml") {
        return false;
    }
    let end = head
        .iter()
        .position(|&b| b == b'>')
        .unwrap_or(head.len())
        .min(300);
    let decl = String::from_utf8_lossy(&head[..end]).to_ascii_lowercase();
    let Some(at) = decl.find("encoding") else {
        return false;
    };
    let value: String = decl[at + "encoding".len()..]
        .chars()
        .skip_while(|c| *c == '=' || *c == ' ' || *c == '"' || *c == '\'')
        .take_while(|c| *c != '"' && *c != '\'')
        .collect();
    matches!(
        value.as_str(),
        "windows-1252"
            | "cp1252"
            | "iso-8859-1"
            | "iso8859-1"
            | "latin1"
            | "latin-1"
            | "iso-8859-15"
    )
}

/// Windows-1252 bytes 0x80-0x9F (the rest of the range is Latin-1, i.e. the byte's own code point).
const CP1252_HIGH: [char; 32] = [
    '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž', '\u{8f}',
    '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}', 'ž', 'Ÿ',
];

/// Decodes Windows-1252 text to UTF-8 as it is read.
struct Windows1252<R> {
    inner: R,
    out: Vec<u8>,
    pos: usize,
}

impl<R: BufRead> Read for Windows1252<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.out.len() {
            self.out.clear();
            self.pos = 0;
            let chunk = self.inner.fill_buf()?;
            if chunk.is_empty() {
                return Ok(0);
            }
            let mut tmp = [0u8; 4];
            for &b in chunk {
                let c = match b {
                    0x80..=0x9F => CP1252_HIGH[usize::from(b - 0x80)],
                    _ => char::from(b),
                };
                self.out
                    .extend_from_slice(c.encode_utf8(&mut tmp).as_bytes());
            }
            let n = chunk.len();
            self.inner.consume(n);
        }
        let n = buf.len().min(self.out.len() - self.pos);
        buf[..n].copy_from_slice(&self.out[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// The bytes the XML reader sees: the file as it is (UTF-8), or decoded from Windows-1252.
enum Source<R> {
    Plain(BufReader<Hashing<R>>),
    Western(BufReader<Windows1252<BufReader<Hashing<R>>>>),
}

impl<R: Read> Read for Source<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Self::Plain(r) => r.read(buf),
            Self::Western(r) => r.read(buf),
        }
    }
}

impl<R: Read> BufRead for Source<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        match self {
            Self::Plain(r) => r.fill_buf(),
            Self::Western(r) => r.fill_buf(),
        }
    }
    fn consume(&mut self, amount: usize) {
        match self {
            Self::Plain(r) => r.consume(amount),
            Self::Western(r) => r.consume(amount),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Capture {
    Header,
    Person,
    /// An element we do not know: read and dropped, with a warning.
    Unknown,
}

struct Reader<'k> {
    check: Check<'k>,
    open: Vec<String>,
    capture: Option<Capture>,
    stack: Vec<Node>,
    /// Elements in the subtree being captured.
    captured: usize,
    /// Depth inside an unknown element being skipped.
    skipped: usize,
    header: Option<Sen2Header>,
    header_seen: bool,
    persons_seen: bool,
    message_closed: bool,
    persons: Vec<Sen2Person>,
    keys: rustc_hash::FxHashSet<PersonKey>,
    person_no: u64,
    line: u64,
    /// Set when reading must stop (a schema-level error already recorded).
    stop: bool,
}

/// Resolve an entity reference (`amp`, `#x41`, …) to its text.
fn entity(name: &str) -> Option<String> {
    match name {
        "amp" => Some("&".into()),
        "lt" => Some("<".into()),
        "gt" => Some(">".into()),
        "apos" => Some("'".into()),
        "quot" => Some("\"".into()),
        _ => {
            let num = name.strip_prefix('#')?;
            let code = match num.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => num.parse().ok()?,
            };
            char::from_u32(code)
                .filter(|c| *c != '\0')
                .map(String::from)
        }
    }
}

impl<'k> Reader<'k> {
    fn new(name: &str, keyer: &'k PersonKeyer) -> Self {
        Self {
            check: Check::new(name, keyer),
            open: Vec::new(),
            capture: None,
            stack: Vec::new(),
            captured: 0,
            skipped: 0,
            header: None,
            header_seen: false,
            persons_seen: false,
            message_closed: false,
            persons: Vec::new(),
            keys: rustc_hash::FxHashSet::default(),
            person_no: 0,
            line: 1,
            stop: false,
        }
    }

    fn error(&mut self, line: Option<u64>, element: Option<String>, rule: String) {
        self.check.error(line, element, None, rule);
        self.stop = true;
    }

    /// An element starts (and, when `empty`, ends at once): checked against where it stands, then captured,
    /// skipped or entered.
    fn start(&mut self, raw_name: &str, line: u64, empty: bool) {
        let local = raw_name.rsplit(':').next().unwrap_or(raw_name);
        let name = local.to_ascii_lowercase();
        if self.open.len() >= MAX_DEPTH {
            self.error(
                Some(line),
                None,
                format!("elements nested more than {MAX_DEPTH} deep: not a SEN2 return"),
            );
            return;
        }
        let opened = if self.capture == Some(Capture::Unknown) {
            // Skipped without being kept: only its depth is tracked.
            self.skipped += 1;
            true
        } else if self.capture.is_some() {
            self.start_captured(&name, line)
        } else {
            match self.open.iter().map(String::as_str).collect::<Vec<_>>()[..] {
                [] => self.start_root(local, &name, line),
                ["message"] => self.start_in_message(local, &name, line),
                ["message", "persons"] => {
                    self.start_in_persons(local, &name, line);
                    true
                }
                _ => true,
            }
        };
        if !opened {
            return;
        }
        self.open.push(name);
        if empty {
            self.end();
        }
    }

    /// An element inside the header or a person being captured: kept in its tree; false (an error) past
    /// [`MAX_PERSON_ELEMENTS`] elements.
    fn start_captured(&mut self, name: &str, line: u64) -> bool {
        self.stack.push(Node {
            name: name.to_string(),
            line,
            ..Node::default()
        });
        self.captured += 1;
        if self.captured > MAX_PERSON_ELEMENTS {
            let what = if self.capture == Some(Capture::Person) {
                format!("Person {}", self.person_no)
            } else {
                "Header".into()
            };
            self.error(
                Some(line),
                Some(what),
                format!("more than {MAX_PERSON_ELEMENTS} elements in one person or header: not a SEN2 return"),
            );
            return false;
        }
        true
    }

    /// The root element: `<Message>`, once; false (an error) for anything else or anything after `</Message>`.
    fn start_root(&mut self, local: &str, name: &str, line: u64) -> bool {
        if self.message_closed {
            self.error(
                Some(line),
                Some(local.to_string()),
                "an element after </Message>: a file holds one return".into(),
            );
            return false;
        }
        if name != "message" {
            self.error(
                Some(line),
                Some(local.to_string()),
                format!("not a SEN2 return: the root element is <{local}>, expected <Message>"),
            );
            return false;
        }
        true
    }

    /// A child of `<Message>`: the header (captured), the persons, or an unknown element (skipped with a
    /// warning); false when it is an error.
    fn start_in_message(&mut self, local: &str, name: &str, line: u64) -> bool {
        match name {
            "header" => self.start_header(name, line),
            "persons" => self.start_persons(line),
            _ => {
                self.check.tally_unknown("Message", local, line, None);
                self.begin(Capture::Unknown, name.to_string(), line);
                true
            }
        }
    }

    /// `<Header>`: captured; false (an error) when it is the second one.
    fn start_header(&mut self, name: &str, line: u64) -> bool {
        if self.header_seen {
            self.error(
                Some(line),
                Some("Header".into()),
                "a second <Header>".into(),
            );
            return false;
        }
        self.header_seen = true;
        self.begin(Capture::Header, name.to_string(), line);
        true
    }

    /// `<Persons>`: entered; false (an error) when it is the second one or no usable header came before it.
    fn start_persons(&mut self, line: u64) -> bool {
        if self.persons_seen {
            self.error(
                Some(line),
                Some("Persons".into()),
                "a second <Persons>".into(),
            );
            return false;
        }
        if self.header.is_none() {
            self.error(
                Some(line),
                Some("Persons".into()),
                "<Persons> before a usable <Header>: the header (collection year, reference date) must come first".into(),
            );
            return false;
        }
        self.persons_seen = true;
        true
    }

    /// A child of `<Persons>`: a person (captured), or an unknown element (skipped with a warning).
    fn start_in_persons(&mut self, local: &str, name: &str, line: u64) {
        if name == "person" {
            self.person_no += 1;
            self.begin(Capture::Person, name.to_string(), line);
        } else {
            self.check.tally_unknown("Persons", local, line, None);
            self.begin(Capture::Unknown, name.to_string(), line);
        }
    }

    fn begin(&mut self, capture: Capture, name: String, line: u64) {
        self.capture = Some(capture);
        self.captured = 1;
        self.stack.push(Node {
            name,
            line,
            ..Node::default()
        });
    }

    fn end(&mut self) {
        let closed = self.open.pop();
        if self.capture.is_none() {
            if closed.as_deref() == Some("message") {
                self.message_closed = true;
            }
            return;
        }
        if self.capture == Some(Capture::Unknown) && self.skipped > 0 {
            self.skipped -= 1;
            return;
        }
        let Some(node) = self.stack.pop() else { return };
        if let Some(parent) = self.stack.last_mut() {
            parent.children.push(node);
            return;
        }
        let capture = self.capture.take();
        match capture {
            Some(Capture::Header) => {
                self.header = convert_header(&node, &mut self.check);
                if self.header.is_none() {
                    self.stop = true;
                }
            }
            Some(Capture::Person) => {
                let Some(header) = &self.header else { return };
                let header = header.clone();
                if let Some(p) = convert_person(&node, self.person_no, &header, &mut self.check) {
                    if !self.keys.insert(p.key) {
                        self.check.tally(
                            "Person",
                            ("person", "persons"),
                            "listed again with the same name and date of birth (counted once in the stock)",
                            node.line,
                            Some(self.person_no),
                        );
                    }
                    self.persons.push(p);
                }
            }
            Some(Capture::Unknown) | None => {}
        }
    }

    fn text(&mut self, s: &str, line: u64) {
        if self.capture == Some(Capture::Unknown) {
            return;
        }
        if let Some(node) = self.stack.last_mut() {
            if node.text.len() + s.len() > MAX_EVENT_BYTES {
                self.error(
                    Some(line),
                    None,
                    "an element's text is longer than 1 MiB: not a SEN2 return".into(),
                );
                return;
            }
            node.text.push_str(s);
        } else if !s.trim().is_empty() {
            let rule = if self.open.is_empty() {
                "text outside the root element: not an XML SEN2 return"
            } else {
                "text where only elements belong (between <Message>, <Persons> or <Header> children)"
            };
            self.error(Some(line), None, rule.into());
        }
    }
}

/// Parse a SEN2 return from a stream. Person identities are replaced by keys made with `keyer` as each person
/// is read. The file's SHA-256 covers every byte read.
pub fn parse_sen2<R: Read>(name: &str, input: R, keyer: &PersonKeyer) -> Parsed<Sen2Return> {
    let (mut xml, utf16) = open_xml(input);
    let mut r = Reader::new(name, keyer);
    if utf16 {
        r.error(
            Some(1),
            None,
            "the file is UTF-16 text: a SEN2 return is UTF-8 XML (save or export it as UTF-8)"
                .into(),
        );
    }
    let saw_root = read_events(&mut xml, &mut r);
    if !r.stop {
        check_structure(&mut r, saw_root);
    }
    finish(name, xml, r)
}

/// The XML reader over an input of at most [`MAX_FILE_BYTES`] + 1 bytes.
type Xml<R> = quick_xml::Reader<Source<io::Take<R>>>;

/// The XML reader over the input, counted and hashed as it is read (at most [`MAX_FILE_BYTES`] + 1 bytes),
/// decoded from Windows-1252 when its declaration says so; and whether the input looks like UTF-16.
fn open_xml<R: Read>(input: R) -> (Xml<R>, bool) {
    let hashing = Hashing {
        inner: input.take(MAX_FILE_BYTES + 1),
        hasher: Sha256::new(),
        bytes: 0,
    };
    let mut input = BufReader::with_capacity(64 * 1024, hashing);
    // UTF-16 (a Windows "Unicode" save) is not what COLLECT returns are: say so rather than "bad root".
    let utf16 = match input.fill_buf() {
        Ok(head) => {
            head.starts_with(&[0xFF, 0xFE])
                || head.starts_with(&[0xFE, 0xFF])
                || (head.len() >= 4 && (head[1] == 0 || head[0] == 0) && head[2..4].contains(&0))
        }
        Err(_) => false,
    };
    let western = matches!(input.fill_buf(), Ok(head) if declares_western(head));
    let source = if western {
        Source::Western(BufReader::with_capacity(
            64 * 1024,
            Windows1252 {
                inner: input,
                out: Vec::new(),
                pos: 0,
            },
        ))
    } else {
        Source::Plain(input)
    };
    let mut xml = quick_xml::Reader::from_reader(source);
    {
        let c = xml.config_mut();
        c.trim_text(false);
        c.check_end_names = true;
        c.expand_empty_elements = false;
    }
    (xml, utf16)
}

/// Feed every XML event to the reader until the end, the first fatal error or the reader's stop; whether any
/// element was seen.
fn read_events<R: Read>(xml: &mut Xml<R>, r: &mut Reader) -> bool {
    let mut buf = Vec::with_capacity(4096);
    let mut saw_root = false;
    while !r.stop {
        buf.clear();
        let line = r.line;
        let event = match xml.read_event_into(&mut buf) {
            Ok(e) => e,
            Err(e) => {
                let rule = xml_error_rule(&e, xml.error_position());
                r.error(Some(r.line), None, rule);
                break;
            }
        };
        if event.len() > MAX_EVENT_BYTES {
            r.error(
                Some(line),
                None,
                "a tag or text longer than 1 MiB: not a SEN2 return".into(),
            );
            break;
        }
        r.line += event.matches('\n').count() as u64;
        match event {
            Event::Start(e) => {
                saw_root = true;
                r.start(e.name().as_ref(), line, false);
            }
            Event::Empty(e) => {
                saw_root = true;
                r.start(e.name().as_ref(), line, true);
            }
            Event::End(_) => r.end(),
            Event::Text(t) => {
                let s = t.xml10_content();
                r.text(&s, line);
            }
            Event::CData(t) => {
                let s = t.xml10_content();
                r.text(&s, line);
            }
            Event::GeneralRef(e) => match entity(&e) {
                Some(s) => r.text(&s, line),
                // The entity's name is not quoted: in a personal element it is part of a name.
                None => r.error(
                    Some(line),
                    None,
                    "not well-formed XML: an undefined entity (an & in text must be written &amp;)"
                        .into(),
                ),
            },
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
            Event::Eof => break,
        }
    }
    saw_root
}

/// The rule broken where quick-xml stopped. Its own message can quote the text it choked on (a name, a UPN): it
/// is only classified here, never shown.
fn xml_error_rule(e: &quick_xml::Error, position: u64) -> String {
    let msg = e.to_string();
    let lower = msg.to_lowercase();
    if msg.contains("end of input") || lower.contains("eof") {
        "the file ends in the middle of a tag: it is truncated".to_string()
    } else if lower.contains("utf-8") || lower.contains("decode") {
        "is not UTF-8 text here: a SEN2 return is UTF-8 XML (was it saved as Windows-1252 or \
         Latin-1? export or save it as UTF-8)"
            .to_string()
    } else {
        format!("not well-formed XML at byte {position} (a tag not closed, mismatched or broken)")
    }
}

/// After a read that did not stop early: an empty file, a truncated one, or one without a header or persons.
fn check_structure(r: &mut Reader, saw_root: bool) {
    if !saw_root {
        r.check.error(
            None,
            None,
            None,
            "empty: no XML elements (a SEN2 return starts with <Message>)".into(),
        );
    } else if !r.open.is_empty() || !r.message_closed {
        let inside = r.open.last().cloned().unwrap_or_else(|| "message".into());
        r.check.error(
            Some(r.line),
            None,
            None,
            format!("the file ends inside <{inside}> before </Message>: it is truncated"),
        );
    } else {
        if !r.header_seen {
            r.check.error(
                None,
                Some("Header".into()),
                None,
                "no <Header>: not a SEN2 return".into(),
            );
        }
        if !r.persons_seen {
            r.check.error(
                None,
                Some("Persons".into()),
                None,
                "no <Persons>: not a SEN2 return".into(),
            );
        }
    }
}

/// Hash the rest of the file (so the hash is of every byte), refuse one over [`MAX_FILE_BYTES`], and return the
/// return with its issues and source file.
fn finish<R: Read>(name: &str, xml: Xml<R>, mut r: Reader) -> Parsed<Sen2Return> {
    let mut inner = xml.into_inner();
    let _ = io::copy(&mut inner, &mut io::sink());
    let hashing = match inner {
        Source::Plain(b) => b.into_inner(),
        Source::Western(b) => b.into_inner().inner.into_inner(),
    };
    if hashing.bytes > MAX_FILE_BYTES {
        r.check.error(
            None,
            None,
            None,
            format!("file is larger than {MAX_FILE_BYTES} bytes: too big to be one LA's return"),
        );
    }
    let digest = hashing.hasher.finalize();
    let sha256: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    let persons = r.persons.len() as u64;
    let source = SourceFile {
        name: name.to_string(),
        path: std::path::PathBuf::from(name),
        sha256,
        rows: persons,
    };
    let issues = r.check.finish();
    let value = r.header.map(|header| Sen2Return {
        header,
        persons: r.persons,
    });
    Parsed::new(value, issues, vec![source])
}

/// Read a SEN2 return from a file, streaming (never the whole file in memory).
pub fn read_sen2(path: &std::path::Path, keyer: &PersonKeyer) -> Parsed<Sen2Return> {
    let name = crate::display_name(path);
    let fail = |rule: String| {
        Parsed::failed(
            vec![Issue {
                file: name.clone(),
                sheet: None,
                line: None,
                column: None,
                value: None,
                rule,
                severity: Severity::Error,
            }],
            Vec::new(),
        )
    };
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => return fail("is a directory, not a file".into()),
        Ok(m) if !m.is_file() => return fail(crate::NOT_REGULAR.into()),
        Ok(m) if m.len() > MAX_FILE_BYTES => {
            return fail(format!(
                "file is larger than {MAX_FILE_BYTES} bytes: too big to be one LA's return"
            ))
        }
        Ok(_) => {}
        Err(e) => return fail(format!("cannot read the file: {e}")),
    }
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => return fail(format!("cannot read the file: {e}")),
    };
    let mut parsed = parse_sen2(&name, file, keyer);
    for s in &mut parsed.sources {
        s.path = path.to_path_buf();
    }
    parsed
}

/// Whether bytes look like a SEN2 return: XML whose first element is `Message` (any case). Reads at most the
/// first 64 KiB.
pub fn looks_like_sen2(mut input: impl BufRead) -> bool {
    let mut head = Vec::new();
    if input
        .by_ref()
        .take(64 * 1024)
        .read_to_end(&mut head)
        .is_err()
    {
        return false;
    }
    let mut xml = quick_xml::Reader::from_reader(&head[..]);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match xml.read_event_into(&mut buf) {
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) => {
                let n = e.name();
                let n = n.as_ref();
                return n
                    .rsplit(':')
                    .next()
                    .unwrap_or(n)
                    .eq_ignore_ascii_case("message");
            }
            Ok(Event::Text(t)) if t.trim().is_empty() => {}
            Ok(Event::Decl(_) | Event::Comment(_) | Event::PI(_) | Event::DocType(_)) => {}
            _ => return false,
        }
    }
}

/// A date written `YYYY-MM-DD` (an `xs:date`; a time part after `T` is ignored).
pub(crate) fn parse_date(s: &str) -> Option<NaiveDate> {
    let t = s.trim();
    let day = t.split('T').next().unwrap_or(t);
    NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()
}

/// A collection year.
pub(crate) fn parse_year(s: &str) -> Option<CensusYear> {
    let t = s.trim();
    if t.len() != 4 {
        return None;
    }
    CensusYear::new(t.parse().ok()?).ok()
}
