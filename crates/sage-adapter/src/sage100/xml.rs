//! SData XML on the wire: one streaming pass (quick-xml) over a feed, an entry, a diagnosis
//! body or `$schema`, matching every element by its **local name** whatever its prefix or
//! namespace; and the Atom entry a create sends.

use quick_xml::XmlVersion;
use quick_xml::escape::{escape, resolve_predefined_entity};
use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;

use crate::errors::excerpt;

pub(crate) const NS_ATOM: &str = "http://www.w3.org/2005/Atom";
pub(crate) const NS_SDATA: &str = "http://schemas.sage.com/sdata/2008/1";
pub(crate) const NS_XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// A body that is not the documented shape: why, and an excerpt.
pub(crate) fn protocol(what: &str, body: &[u8]) -> String {
    format!("{what}: {}", excerpt(body))
}

/// One `<entry>`: its resource element's local name and columns in document order. `None` is
/// `xsi:nil="true"`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Entry {
    /// The resource element (`AR_Customer`), when the entry has a payload.
    pub(crate) resource: Option<String>,
    /// `(column, value)` pairs; a column holding child elements (a related resource) is left
    /// out.
    pub(crate) columns: Vec<(String, Option<String>)>,
}

impl Entry {
    /// The trimmed, non-empty text of `column`.
    pub(crate) fn text(&self, column: &str) -> Option<&str> {
        self.columns
            .iter()
            .find(|(c, _)| c == column)
            .and_then(|(_, v)| v.as_deref())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    }
}

/// One `<diagnosis>`, read by local names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Diagnosis {
    pub(crate) severity: Option<String>,
    pub(crate) sdata_code: Option<String>,
    pub(crate) application_code: Option<String>,
    pub(crate) message: Option<String>,
}

impl Diagnosis {
    /// `error` or `fatal` (the severities that mean "this failed").
    pub(crate) fn is_error(&self) -> bool {
        self.severity
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("error") || s.eq_ignore_ascii_case("fatal"))
    }
}

/// What one SData document says: entries, OpenSearch totals, the `next` link, diagnoses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Document {
    /// Local name of the root element (`feed`, `entry`, `diagnoses`, `diagnosis`, `schema`…).
    pub(crate) root: String,
    pub(crate) entries: Vec<Entry>,
    pub(crate) total_results: Option<u64>,
    pub(crate) start_index: Option<u64>,
    pub(crate) items_per_page: Option<u64>,
    /// `<link rel="next" href="…">` of the feed, as written.
    pub(crate) next_link: Option<String>,
    /// Every `<diagnosis>` anywhere in the document (but inside a payload).
    pub(crate) diagnoses: Vec<Diagnosis>,
    /// `$schema`: the names of the resource kinds (`sme:role="resourceKind"`).
    pub(crate) resource_kinds: Vec<String>,
    /// `$schema`: the names of the top-level `xs:element`s (used when no role is marked).
    pub(crate) top_elements: Vec<String>,
    /// `$schema`: (element name, URL segment) for each element whose `sme:path` or
    /// `sme:pluralName` is a plain path segment (see [`super::urls::plain_segment`]).
    pub(crate) kind_paths: Vec<(String, String)>,
}

/// What an element is, from its local name and its parent's role.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Role {
    Feed,
    Entry,
    Payload,
    Resource,
    Column {
        name: String,
        nil: bool,
        nested: bool,
    },
    Nested,
    FeedMeta(String),
    Diagnosis,
    DiagnosisField(String),
    Other,
}

fn local(e: &BytesStart<'_>) -> String {
    e.local_name().as_ref().to_owned()
}

/// The unescaped value of the attribute whose local name is `name`.
fn attribute(e: &BytesStart<'_>, name: &str) -> Result<Option<String>, String> {
    for a in e.attributes() {
        let a = a.map_err(|err| format!("a malformed attribute ({err})"))?;
        if a.key.local_name().as_ref() == name {
            let v = a
                .normalized_value(XmlVersion::Implicit1_0)
                .map_err(|err| format!("a malformed attribute value ({err})"))?;
            return Ok(Some(v.into_owned()));
        }
    }
    Ok(None)
}

fn number(name: &str, text: &str, body: &[u8]) -> Result<u64, String> {
    text.trim().parse().map_err(|_| {
        protocol(
            &format!("opensearch:{name} `{}` is not a number", text.trim()),
            body,
        )
    })
}

/// Reads an SData document in one pass. Any XML error, a truncated body or a body that is not
/// UTF-8 is an error (with an excerpt), never an empty result.
pub(crate) fn parse(body: &[u8]) -> Result<Document, String> {
    let without_bom = body
        .strip_prefix(b"\xEF\xBB\xBF".as_slice())
        .unwrap_or(body);
    let text = std::str::from_utf8(without_bom)
        .map_err(|e| protocol(&format!("the body is not UTF-8 ({e})"), body))?;
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut doc = Document::default();
    let mut stack: Vec<Role> = Vec::new();
    let mut buffer = String::new();
    let mut entry: Option<Entry> = None;
    let mut diagnosis: Option<Diagnosis> = None;
    let mut root_seen = false;
    loop {
        let at = reader.buffer_position();
        let event = reader
            .read_event()
            .map_err(|e| protocol(&format!("malformed XML at byte {at} ({e})"), body))?;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                let name = local(e);
                if stack.is_empty() {
                    if root_seen {
                        return Err(protocol("more than one root element", body));
                    }
                    root_seen = true;
                    doc.root = name.clone();
                }
                let parent = stack.last();
                let role = match parent {
                    Some(Role::Resource) => Role::Column {
                        nil: attribute(e, "nil")
                            .map_err(|m| protocol(&m, body))?
                            .is_some_and(|v| matches!(v.trim(), "true" | "1")),
                        name,
                        nested: false,
                    },
                    Some(Role::Column { .. } | Role::Nested) => Role::Nested,
                    Some(Role::Payload) => Role::Resource,
                    Some(Role::Diagnosis) => Role::DiagnosisField(name),
                    _ if name == "diagnosis" => Role::Diagnosis,
                    None if name == "feed" => Role::Feed,
                    None | Some(Role::Feed) if name == "entry" => Role::Entry,
                    Some(Role::Entry) if name == "payload" => Role::Payload,
                    Some(Role::Feed)
                        if matches!(
                            name.as_str(),
                            "totalResults" | "startIndex" | "itemsPerPage"
                        ) =>
                    {
                        Role::FeedMeta(name)
                    }
                    Some(Role::Feed) if name == "link" => {
                        let rel = attribute(e, "rel").map_err(|m| protocol(&m, body))?;
                        if rel.is_some_and(|r| r.trim().eq_ignore_ascii_case("next")) {
                            doc.next_link = attribute(e, "href")
                                .map_err(|m| protocol(&m, body))?
                                .filter(|h| !h.trim().is_empty());
                        }
                        Role::Other
                    }
                    _ => {
                        // `$schema`: resource kinds, and the top-level elements.
                        let schema_element = if name == "element" {
                            attribute(e, "name").map_err(|m| protocol(&m, body))?
                        } else {
                            None
                        };
                        if let Some(kind) = schema_element {
                            // The URL comes from `sme:path`, else `sme:pluralName`, when it is
                            // a plain segment; otherwise from the name.
                            let mut segment = None;
                            for a in ["path", "pluralName"] {
                                let v = attribute(e, a).map_err(|m| protocol(&m, body))?;
                                if segment.is_none() {
                                    segment = v
                                        .as_deref()
                                        .and_then(super::urls::plain_segment)
                                        .map(str::to_owned);
                                }
                            }
                            if let Some(segment) = segment {
                                doc.kind_paths.push((kind.clone(), segment));
                            }
                            let role = attribute(e, "role").map_err(|m| protocol(&m, body))?;
                            if role.is_some_and(|r| r.trim() == "resourceKind") {
                                doc.resource_kinds.push(kind.clone());
                            }
                            if stack.len() == 1 {
                                doc.top_elements.push(kind);
                            }
                        }
                        Role::Other
                    }
                };
                if let Some(Role::Column { nested, .. }) = stack.last_mut()
                    && role == Role::Nested
                {
                    *nested = true;
                }
                match &role {
                    Role::Entry => entry = Some(Entry::default()),
                    Role::Resource => {
                        if let Some(entry) = entry.as_mut() {
                            if entry.resource.is_some() {
                                return Err(protocol(
                                    "a payload holds more than one resource element",
                                    body,
                                ));
                            }
                            entry.resource = Some(local(e));
                        }
                    }
                    Role::Diagnosis => diagnosis = Some(Diagnosis::default()),
                    _ => {}
                }
                buffer.clear();
                if empty {
                    close(
                        &role,
                        &mut buffer,
                        &mut entry,
                        &mut diagnosis,
                        &mut doc,
                        body,
                    )?;
                } else {
                    stack.push(role);
                }
            }
            Event::End(_) => {
                let role = stack
                    .pop()
                    .ok_or_else(|| protocol("an end tag without a start", body))?;
                close(
                    &role,
                    &mut buffer,
                    &mut entry,
                    &mut diagnosis,
                    &mut doc,
                    body,
                )?;
                buffer.clear();
            }
            Event::Text(t) => buffer.push_str(&t.xml10_content()),
            Event::CData(t) => buffer.push_str(&t.xml10_content()),
            Event::GeneralRef(r) => {
                if r.is_char_ref() {
                    match r.resolve_char_ref() {
                        Ok(Some(c)) => buffer.push(c),
                        _ => {
                            return Err(protocol(
                                &format!("a bad character reference &{};", r.xml10_content()),
                                body,
                            ));
                        }
                    }
                } else {
                    let name = r.xml10_content();
                    match resolve_predefined_entity(&name) {
                        Some(s) => buffer.push_str(s),
                        None => {
                            return Err(protocol(&format!("an undefined entity &{name};"), body));
                        }
                    }
                }
            }
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
        }
    }
    if !root_seen {
        return Err(protocol("no XML element", body));
    }
    if !stack.is_empty() {
        return Err(protocol("the XML ends inside an element (truncated)", body));
    }
    Ok(doc)
}

/// What an element's end means.
fn close(
    role: &Role,
    buffer: &mut String,
    entry: &mut Option<Entry>,
    diagnosis: &mut Option<Diagnosis>,
    doc: &mut Document,
    body: &[u8],
) -> Result<(), String> {
    match role {
        Role::Column { name, nil, nested } => {
            if let (false, Some(entry)) = (*nested, entry.as_mut()) {
                let value = if *nil {
                    None
                } else {
                    Some(std::mem::take(buffer))
                };
                match entry.columns.iter_mut().find(|(c, _)| c == name) {
                    Some(slot) => slot.1 = value,
                    None => entry.columns.push((name.clone(), value)),
                }
            }
        }
        Role::Entry => {
            if let Some(e) = entry.take() {
                doc.entries.push(e);
            }
        }
        Role::FeedMeta(name) => {
            let n = number(name, buffer, body)?;
            match name.as_str() {
                "totalResults" => doc.total_results = Some(n),
                "startIndex" => doc.start_index = Some(n),
                _ => doc.items_per_page = Some(n),
            }
        }
        Role::DiagnosisField(name) => {
            if let Some(d) = diagnosis.as_mut() {
                let value = Some(buffer.trim().to_owned()).filter(|v| !v.is_empty());
                match name.as_str() {
                    "severity" => d.severity = value,
                    "sdataCode" => d.sdata_code = value,
                    "applicationCode" => d.application_code = value,
                    "message" => d.message = value,
                    _ => {}
                }
            }
        }
        Role::Diagnosis => {
            if let Some(d) = diagnosis.take() {
                doc.diagnoses.push(d);
            }
        }
        Role::Feed | Role::Payload | Role::Resource | Role::Nested | Role::Other => {}
    }
    Ok(())
}

/// The diagnoses of an error body, `None` when the body holds none (an HTML page, plain text,
/// an empty body). Read whatever the `Content-Type` said and whatever the prefix.
pub(crate) fn parse_diagnoses(body: &[u8]) -> Option<Vec<Diagnosis>> {
    let doc = parse(body).ok()?;
    Some(doc.diagnoses).filter(|d| !d.is_empty())
}

/// Writes the Atom entry for a create: `<entry>` in the Atom namespace with the SData and xsi
/// prefixes, empty `<id/><title/><content/>`, and `<sdata:payload><{resource} xmlns="">` holding
/// `columns` in order, every text escaped.
pub(crate) fn entry_xml(resource: &str, columns: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(512);
    out.push_str(r#"<?xml version="1.0" encoding="utf-8"?>"#);
    out.push_str(&format!(
        r#"<entry xmlns="{NS_ATOM}" xmlns:sdata="{NS_SDATA}" xmlns:xsi="{NS_XSI}">"#
    ));
    out.push_str("<id/><title/><content/><sdata:payload>");
    out.push_str(&format!(r#"<{resource} xmlns="">"#));
    for (name, value) in columns {
        out.push_str(&format!("<{name}>{}</{name}>", escape(*value)));
    }
    out.push_str(&format!("</{resource}></sdata:payload></entry>"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const FEED: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:sdata="http://schemas.sage.com/sdata/2008/1"
      xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/"
      xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <title>AR_Customer</title>
  <opensearch:totalResults>3</opensearch:totalResults>
  <opensearch:startIndex>1</opensearch:startIndex>
  <opensearch:itemsPerPage>2</opensearch:itemsPerPage>
  <link rel="self" href="http://h/AR_Customer?startIndex=1&amp;count=2"/>
  <link rel="next" href="http://h/AR_Customer?startIndex=3&amp;count=2"/>
  <entry>
    <id>http://h/AR_Customer(01;ABF)</id>
    <sdata:payload>
      <AR_Customer sdata:key="01;ABF" xmlns="">
        <ARDivisionNo>01</ARDivisionNo><CustomerNo>ABF</CustomerNo>
        <CustomerName>A &amp; B &lt;x&gt; &apos;q&apos; &quot;d&quot; &#233;</CustomerName>
        <AddressLine2 xsi:nil="true"/>
        <AddressLine3></AddressLine3>
        <City><![CDATA[<Town>]]></City>
        <Contacts><AR_CustomerContact><ContactCode>X</ContactCode></AR_CustomerContact></Contacts>
      </AR_Customer>
    </sdata:payload>
  </entry>
  <entry><sdata:payload><s:AR_Customer xmlns:s="urn:contract"><s:CustomerNo>B</s:CustomerNo></s:AR_Customer></sdata:payload></entry>
</feed>"#;

    #[test]
    fn reads_a_feed_by_local_names() {
        let doc = parse(FEED.as_bytes()).expect("feed");
        assert_eq!(doc.root, "feed");
        assert_eq!(
            (doc.total_results, doc.start_index, doc.items_per_page),
            (Some(3), Some(1), Some(2))
        );
        assert_eq!(
            doc.next_link.as_deref(),
            Some("http://h/AR_Customer?startIndex=3&count=2")
        );
        assert_eq!(doc.entries.len(), 2);
        let e = &doc.entries[0];
        assert_eq!(e.resource.as_deref(), Some("AR_Customer"));
        assert_eq!(
            e.columns,
            vec![
                ("ARDivisionNo".into(), Some("01".into())),
                ("CustomerNo".into(), Some("ABF".into())),
                (
                    "CustomerName".into(),
                    Some("A & B <x> 'q' \"d\" \u{e9}".into())
                ),
                ("AddressLine2".into(), None),
                ("AddressLine3".into(), Some(String::new())),
                ("City".into(), Some("<Town>".into())),
            ]
        );
        assert_eq!(doc.entries[1].text("CustomerNo"), Some("B"));
    }

    #[test]
    fn malformed_and_truncated_bodies_are_errors() {
        let half = &FEED.as_bytes()[..FEED.len() / 2];
        for bad in [
            half,
            b"".as_slice(),
            b"not xml",
            b"<feed><entry></feed>",
            b"<a/><b/>",
            b"<feed>&bogus;</feed>",
            b"\xff\xfe<feed/>",
        ] {
            assert!(parse(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn diagnoses_are_read_whatever_the_prefix() {
        let prefixed = r#"<sdata:diagnoses xmlns:sdata="http://schemas.sage.com/sdata/2008/1"><sdata:diagnosis><sdata:severity>error</sdata:severity><sdata:sdataCode>ApplicationDiagnosis</sdata:sdataCode><sdata:applicationCode/><sdata:message>The record already exists.</sdata:message></sdata:diagnosis></sdata:diagnoses>"#;
        let bare = r#"<diagnosis xmlns="http://schemas.sage.com/sdata/2008/1"><severity>error</severity><sdataCode>ResourceKindNotFound</sdataCode><message>No AR_X</message></diagnosis>"#;
        let p = parse_diagnoses(prefixed.as_bytes()).expect("prefixed");
        assert_eq!(p[0].sdata_code.as_deref(), Some("ApplicationDiagnosis"));
        assert_eq!(p[0].application_code, None);
        assert_eq!(p[0].message.as_deref(), Some("The record already exists."));
        assert!(p[0].is_error());
        let b = parse_diagnoses(bare.as_bytes()).expect("bare");
        assert_eq!(b[0].sdata_code.as_deref(), Some("ResourceKindNotFound"));
        assert_eq!(parse_diagnoses(b"<html><body>oops</body></html>"), None);
        assert_eq!(parse_diagnoses(b"Internal Server Error"), None);
    }

    #[test]
    fn schema_lists_resource_kinds() {
        let xsd = r#"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:sme="http://schemas.sage.com/sdata/sme/2007">
  <xs:element name="AR_Customer" type="AR_Customer--type" sme:role="resourceKind"/>
  <xs:complexType name="AR_Customer--type"><xs:all><xs:element name="CustomerNo" type="xs:string"/></xs:all></xs:complexType>
  <xs:element name="SO_ShipMethod" type="SO_ShipMethod--type" sme:role="resourceKind"/>
</xs:schema>"#;
        let doc = parse(xsd.as_bytes()).expect("schema");
        assert_eq!(doc.resource_kinds, ["AR_Customer", "SO_ShipMethod"]);
        assert_eq!(doc.top_elements, ["AR_Customer", "SO_ShipMethod"]);
        assert!(doc.kind_paths.is_empty());
    }

    #[test]
    fn schema_paths_come_from_sme_path_then_plural_name_when_plain() {
        let xsd = r#"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:sme="http://schemas.sage.com/sdata/sme/2007">
  <xs:element name="A" sme:role="resourceKind" sme:pluralName="As" sme:path="a_path"/>
  <xs:element name="B" sme:role="resourceKind" sme:pluralName="Bs"/>
  <xs:element name="C" sme:role="resourceKind" sme:path="../x" sme:pluralName="Cs"/>
  <xs:element name="D" sme:role="resourceKind" sme:path="d/e" sme:pluralName="d?x"/>
  <xs:element name="E" sme:role="resourceKind" sme:pluralName=" "/>
</xs:schema>"#;
        let doc = parse(xsd.as_bytes()).expect("schema");
        let got: Vec<(&str, &str)> = doc
            .kind_paths
            .iter()
            .map(|(n, p)| (n.as_str(), p.as_str()))
            .collect();
        assert_eq!(got, [("A", "a_path"), ("B", "Bs"), ("C", "Cs")]);
    }

    #[test]
    fn the_entry_is_atom_with_an_unqualified_escaped_payload() {
        let xml = entry_xml(
            "AR_Customer",
            &[
                ("ARDivisionNo", "01"),
                ("CustomerName", "A & B <x> 'q' \"d\""),
            ],
        );
        assert!(xml.contains(r#"<entry xmlns="http://www.w3.org/2005/Atom" xmlns:sdata="http://schemas.sage.com/sdata/2008/1""#), "{xml}");
        assert!(
            xml.contains(r#"<sdata:payload><AR_Customer xmlns=""><ARDivisionNo>01</ARDivisionNo>"#),
            "{xml}"
        );
        assert!(
            xml.contains(
                "<CustomerName>A &amp; B &lt;x&gt; &apos;q&apos; &quot;d&quot;</CustomerName>"
            ),
            "{xml}"
        );
        // What we write, we read back.
        let doc = parse(xml.as_bytes()).expect("round trip");
        assert_eq!(
            doc.entries[0].text("CustomerName"),
            Some("A & B <x> 'q' \"d\"")
        );
    }
}
