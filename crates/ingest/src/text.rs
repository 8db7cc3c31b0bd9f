//! Text files as Excel saves them: UTF-8 with or without a byte-order mark, Windows-1252 (Excel's "CSV (Comma
//! delimited)" on an English Windows) and ISO-8859-1, and UTF-16 with a byte-order mark ("Unicode Text").
//!
//! Every reader turns a file's bytes into UTF-8 here, before anything else looks at them. The encoding is either
//! stated by the user ([`TextEncoding`], `--encoding`) or detected: a byte-order mark decides; else text that is
//! valid UTF-8 is UTF-8; else it is read as Windows-1252 and a warning names the encoding and the first character
//! that decided it, so a wrong guess is seen, never silently mangled. Bytes that no text encoding explains (NUL,
//! control characters) are refused, naming the line.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use encoding_rs::{Encoding, UTF_16BE, UTF_16LE, WINDOWS_1252};

/// An encoding a user can state for a text file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TextEncoding {
    Utf8,
    /// Excel's default for "CSV (Comma delimited)" on an English Windows.
    Windows1252,
    /// Latin-1: Windows-1252 without the printable characters at 0x80-0x9F (€, ‘, ’, “, ”, –, …), which are
    /// control characters here and so refused.
    Iso8859_1,
}

impl TextEncoding {
    pub const NAMES: &'static str = "utf-8, windows-1252, iso-8859-1";

    pub fn name(self) -> &'static str {
        match self {
            TextEncoding::Utf8 => "UTF-8",
            TextEncoding::Windows1252 => "Windows-1252",
            TextEncoding::Iso8859_1 => "ISO-8859-1",
        }
    }
}

impl fmt::Display for TextEncoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for TextEncoding {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "utf-8" | "utf8" => Ok(TextEncoding::Utf8),
            "windows-1252" | "cp1252" | "cp-1252" | "ansi" => Ok(TextEncoding::Windows1252),
            "iso-8859-1" | "latin-1" | "latin1" | "iso8859-1" => Ok(TextEncoding::Iso8859_1),
            _ => Err(format!(
                "{s:?} is not an encoding this reads (one of {})",
                TextEncoding::NAMES
            )),
        }
    }
}

/// A text file turned into UTF-8.
#[derive(Debug)]
pub(crate) struct Decoded<'a> {
    /// UTF-8 text, without a byte-order mark.
    pub bytes: Cow<'a, [u8]>,
    /// A note for the user when the encoding was guessed from something other than valid UTF-8.
    pub note: Option<String>,
}

/// Where in the original text a problem is: 1-based line.
fn line_of(text: &[u8], offset: usize) -> u64 {
    1 + text[..offset.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count() as u64
}

/// A character no text file holds: NUL and the C0 and C1 controls other than tab, line feed, carriage return and
/// form feed.
fn is_control(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\u{c}')
}

/// The first control character of some UTF-8 text, with its line.
fn first_control(text: &str) -> Option<(u64, char)> {
    text.char_indices()
        .find(|(_, c)| is_control(*c))
        .map(|(i, c)| (line_of(text.as_bytes(), i), c))
}

/// The first character outside ASCII, with its line (what decided a guessed encoding).
fn first_non_ascii(text: &str) -> Option<(u64, char)> {
    text.char_indices()
        .find(|(_, c)| !c.is_ascii())
        .map(|(i, c)| (line_of(text.as_bytes(), i), c))
}

fn not_text(line: u64, what: &str) -> (Option<u64>, String) {
    (
        Some(line),
        format!(
            "{what}: this is not a text file (binary data?); save the sheet as CSV UTF-8, or as a workbook"
        ),
    )
}

/// Decode with `encoding`, refusing malformed sequences and control characters.
fn decode_strict<'a>(
    bytes: &'a [u8],
    encoding: &'static Encoding,
    said: &str,
) -> Result<Cow<'a, str>, (Option<u64>, String)> {
    let (text, had_errors) = encoding.decode_without_bom_handling(bytes);
    if had_errors {
        let valid = text.find('\u{FFFD}').unwrap_or(0);
        return Err((
            Some(line_of(text.as_bytes(), valid)),
            format!("is not {said} text (a byte sequence that {said} does not allow)"),
        ));
    }
    if let Some((line, c)) = first_control(&text) {
        return Err(not_text(
            line,
            &format!("holds the control character U+{:04X}", c as u32),
        ));
    }
    Ok(text)
}

fn into_bytes(text: Cow<'_, str>) -> Cow<'_, [u8]> {
    match text {
        Cow::Borrowed(s) => Cow::Borrowed(s.as_bytes()),
        Cow::Owned(s) => Cow::Owned(s.into_bytes()),
    }
}

/// [`decode`] with nothing stated, a failure reported (at its line, else the file) and `None` returned.
pub(crate) fn decode_or_report<'a>(
    bytes: &'a [u8],
    report: &mut crate::issue::Report,
) -> Option<Decoded<'a>> {
    match decode(bytes, None) {
        Ok(d) => Some(d),
        Err((line, rule)) => {
            match line {
                Some(line) => report.line(line, rule),
                None => report.file(rule),
            }
            None
        }
    }
}

/// Turn a text file's bytes into UTF-8: the stated encoding if given, else the detected one (module docs). An
/// error is the line it concerns (if any) and the rule.
pub(crate) fn decode(
    bytes: &[u8],
    stated: Option<TextEncoding>,
) -> Result<Decoded<'_>, (Option<u64>, String)> {
    if let Some(body) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        if let Some(s @ (TextEncoding::Windows1252 | TextEncoding::Iso8859_1)) = stated {
            return Err((
                Some(1),
                format!("starts with UTF-8's byte-order mark, but the encoding was given as {s}"),
            ));
        }
        let text = decode_strict(body, encoding_rs::UTF_8, "UTF-8")?;
        return Ok(Decoded {
            bytes: into_bytes(text),
            note: None,
        });
    }
    for (bom, enc) in [(&b"\xFF\xFE"[..], UTF_16LE), (&b"\xFE\xFF"[..], UTF_16BE)] {
        if let Some(body) = bytes.strip_prefix(bom) {
            let text = decode_strict(body, enc, enc.name())?;
            return Ok(Decoded {
                bytes: Cow::Owned(text.into_owned().into_bytes()),
                note: None,
            });
        }
    }
    match stated {
        Some(TextEncoding::Utf8) => decode_strict(bytes, encoding_rs::UTF_8, "UTF-8")
            .map_err(|(line, rule)| (line, format!("{rule}; was it saved as Windows-1252 (Excel's \"CSV (Comma delimited)\")? then say --encoding windows-1252")))
            .map(|t| Decoded { bytes: into_bytes(t), note: None }),
        Some(TextEncoding::Windows1252) => decode_strict(bytes, WINDOWS_1252, "Windows-1252")
            .map(|t| Decoded { bytes: into_bytes(t), note: None }),
        Some(TextEncoding::Iso8859_1) => decode_latin1(bytes),
        None => detect(bytes),
    }
}

/// ISO-8859-1: every byte is the character of the same number; 0x80-0x9F are control characters.
fn decode_latin1(bytes: &[u8]) -> Result<Decoded<'_>, (Option<u64>, String)> {
    if let Some(i) = bytes.iter().position(|b| (0x80..=0x9F).contains(b)) {
        return Err((
            Some(line_of(bytes, i)),
            format!(
                "byte 0x{:02X} is a control character in ISO-8859-1: the file is probably Windows-1252 (say \
                 --encoding windows-1252)",
                bytes[i]
            ),
        ));
    }
    let text: String = bytes.iter().map(|b| char::from(*b)).collect();
    if let Some((line, c)) = first_control(&text) {
        return Err(not_text(
            line,
            &format!("holds the control character U+{:04X}", c as u32),
        ));
    }
    Ok(Decoded {
        bytes: Cow::Owned(text.into_bytes()),
        note: None,
    })
}

/// No encoding stated and no byte-order mark: UTF-8 if it is valid UTF-8, else Windows-1252 with a note.
fn detect(bytes: &[u8]) -> Result<Decoded<'_>, (Option<u64>, String)> {
    if let Ok(text) = std::str::from_utf8(bytes) {
        if let Some((line, c)) = first_control(text) {
            return Err(not_text(
                line,
                &format!("holds the control character U+{:04X}", c as u32),
            ));
        }
        return Ok(Decoded {
            bytes: Cow::Borrowed(bytes),
            note: None,
        });
    }
    let text = decode_strict(bytes, WINDOWS_1252, "Windows-1252")?;
    let note = first_non_ascii(&text).map(|(line, c)| {
        format!(
            "is not UTF-8: read as Windows-1252, Excel's \"CSV (Comma delimited)\" (the first character outside \
             ASCII, on line {line}, reads as {c:?}); if that is wrong, say the file's encoding with --encoding \
             ({})",
            TextEncoding::NAMES
        )
    });
    Ok(Decoded {
        bytes: into_bytes(text),
        note,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(d: &Decoded<'_>) -> String {
        String::from_utf8(d.bytes.to_vec()).expect("decoded text is UTF-8")
    }

    #[test]
    fn windows_1252_pound_sign_is_detected_and_noted() {
        // 0xA3 is £ in Windows-1252 and ISO-8859-1; alone it is not UTF-8.
        let d = decode(b"amount\n\xA31,234\n", None).expect("decodes");
        assert_eq!(text(&d), "amount\n£1,234\n");
        let note = d.note.expect("a guessed encoding is reported");
        assert!(note.contains("Windows-1252"), "{note}");
        assert!(note.contains("line 2"), "{note}");
        assert!(note.contains("'£'"), "{note}");
    }

    #[test]
    fn windows_1252_curly_quotes_and_euro_decode_to_their_characters() {
        // 0x80 €, 0x91 ‘, 0x92 ’, 0x96 –: printable in Windows-1252 only.
        let d = decode(b"x\n\x80\x91a\x92\x96\n", None).expect("decodes");
        assert_eq!(text(&d), "x\n€‘a’–\n");
    }

    #[test]
    fn utf8_with_and_without_bom_reads_the_same_and_quietly() {
        let plain = decode("a\n£5\n".as_bytes(), None).expect("decodes");
        let bom = decode("\u{feff}a\n£5\n".as_bytes(), None).expect("decodes");
        assert_eq!(text(&plain), "a\n£5\n");
        assert_eq!(text(&bom), "a\n£5\n");
        assert!(plain.note.is_none() && bom.note.is_none());
        assert!(
            matches!(plain.bytes, Cow::Borrowed(_)),
            "valid UTF-8 is not copied"
        );
    }

    #[test]
    fn utf16_with_bom_is_decoded() {
        let mut le = vec![0xFF, 0xFE];
        for u in "a,£\n".encode_utf16() {
            le.extend_from_slice(&u.to_le_bytes());
        }
        assert_eq!(text(&decode(&le, None).expect("decodes")), "a,£\n");
    }

    #[test]
    fn stated_utf8_refuses_windows_1252_naming_the_line() {
        let (line, rule) = decode(b"a\nb\n\xA3c\n", Some(TextEncoding::Utf8)).expect_err("refused");
        assert_eq!(line, Some(3));
        assert!(rule.contains("windows-1252"), "{rule}");
    }

    #[test]
    fn stated_latin1_refuses_windows_1252_only_characters() {
        let (line, rule) =
            decode(b"a\n\x93quoted\x94\n", Some(TextEncoding::Iso8859_1)).expect_err("refused");
        assert_eq!(line, Some(2));
        assert!(rule.contains("0x93"), "{rule}");
        let d = decode(b"a\n\xA3\xE9\n", Some(TextEncoding::Iso8859_1)).expect("decodes");
        assert_eq!(text(&d), "a\n£é\n");
    }

    #[test]
    fn a_bom_contradicting_the_stated_encoding_is_refused() {
        let (_, rule) =
            decode(b"\xEF\xBB\xBFa\n", Some(TextEncoding::Windows1252)).expect_err("refused");
        assert!(rule.contains("byte-order mark"), "{rule}");
    }

    #[test]
    fn binary_data_is_refused_not_guessed() {
        let (line, rule) = decode(b"a,b\n1,2\n\x00\x01\x02\xFF", None).expect_err("refused");
        assert_eq!(line, Some(3));
        assert!(rule.contains("not a text file"), "{rule}");
        // Windows-1252 leaves 0x81, 0x8D, 0x8F, 0x90 and 0x9D undefined: control characters, refused.
        assert!(decode(b"a\n\x81\n", None).is_err());
    }

    #[test]
    fn encoding_names_parse_as_users_write_them() {
        assert_eq!("UTF8".parse::<TextEncoding>(), Ok(TextEncoding::Utf8));
        assert_eq!(
            "cp1252".parse::<TextEncoding>(),
            Ok(TextEncoding::Windows1252)
        );
        assert_eq!(
            "Latin1".parse::<TextEncoding>(),
            Ok(TextEncoding::Iso8859_1)
        );
        assert!("ebcdic".parse::<TextEncoding>().is_err());
    }
}
