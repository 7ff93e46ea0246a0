//! A thin layer over quick-xml's writer.
//!
//! Documents are written element by element through quick-xml so that text and
//! attribute values are always escaped by the library, never by hand. The
//! target is an in-memory `Vec<u8>`, whose writes cannot fail, which is why the
//! helpers below do not return `Result`.

use quick_xml::Writer;
use quick_xml::escape::partial_escape;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

const VEC_WRITE: &str = "writing XML into a Vec<u8> cannot fail";

pub(crate) struct XmlOut {
    writer: Writer<Vec<u8>>,
}

impl XmlOut {
    /// Starts a UTF-8 document with its declaration, indented by two spaces
    /// (readable when an accountant opens the attachment; insignificant to parsers).
    pub(crate) fn new() -> Self {
        let mut writer = Writer::new_with_indent(Vec::new(), b' ', 2);
        writer
            .write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))
            .expect(VEC_WRITE);
        Self { writer }
    }

    /// Starts a fragment without declaration nor indentation (inline SVG in
    /// an HTML page, where a declaration is not allowed).
    pub(crate) fn fragment() -> Self {
        Self {
            writer: Writer::new(Vec::new()),
        }
    }

    /// `<name attrs/>`.
    pub(crate) fn empty_with(&mut self, name: &str, attrs: &[(&str, &str)]) {
        let mut start = BytesStart::new(name);
        for (key, value) in attrs {
            start.push_attribute((*key, *value));
        }
        self.writer
            .write_event(Event::Empty(start))
            .expect(VEC_WRITE);
    }

    /// The fragment as text, without a trailing newline.
    pub(crate) fn finish_fragment(self) -> String {
        String::from_utf8(self.writer.into_inner())
            .expect("quick-xml writes the UTF-8 it was given")
    }

    pub(crate) fn open(&mut self, name: &str, attrs: &[(&str, &str)]) {
        let mut start = BytesStart::new(name);
        for (key, value) in attrs {
            start.push_attribute((*key, *value));
        }
        self.writer
            .write_event(Event::Start(start))
            .expect(VEC_WRITE);
    }

    pub(crate) fn close(&mut self, name: &str) {
        self.writer
            .write_event(Event::End(BytesEnd::new(name)))
            .expect(VEC_WRITE);
    }

    /// `<name attrs>text</name>`. The text is escaped by quick-xml; only `<`,
    /// `>` and `&` need it in element content, so apostrophes in French notes
    /// stay readable ("d'échéance", not "d&apos;échéance").
    pub(crate) fn leaf_with(&mut self, name: &str, attrs: &[(&str, &str)], text: &str) {
        let mut start = BytesStart::new(name);
        for (key, value) in attrs {
            start.push_attribute((*key, *value));
        }
        self.writer
            .write_event(Event::Start(start))
            .expect(VEC_WRITE);
        self.writer
            .write_event(Event::Text(BytesText::from_escaped(partial_escape(text))))
            .expect(VEC_WRITE);
        self.close(name);
    }

    /// `<name/>`: an element the schema requires that has nothing to say.
    pub(crate) fn empty(&mut self, name: &str) {
        self.writer
            .write_event(Event::Empty(BytesStart::new(name)))
            .expect(VEC_WRITE);
    }

    pub(crate) fn leaf(&mut self, name: &str, text: &str) {
        self.leaf_with(name, &[], text);
    }

    pub(crate) fn finish(self) -> String {
        let mut bytes = self.writer.into_inner();
        bytes.push(b'\n');
        String::from_utf8(bytes).expect("quick-xml writes the UTF-8 it was given")
    }
}
