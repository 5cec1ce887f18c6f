//! Atom + SData XML: namespaces, escaping for the hand-written documents, the diagnosis body, and
//! reading a POSTed Atom entry by local names whatever the prefixes.

use std::borrow::Cow;

use quick_xml::XmlVersion;
use quick_xml::events::Event;
use quick_xml::reader::Reader;

pub(crate) const NS_ATOM: &str = "http://www.w3.org/2005/Atom";
pub(crate) const NS_SDATA: &str = "http://schemas.sage.com/sdata/2008/1";
pub(crate) const NS_HTTP: &str = "http://schemas.sage.com/sdata/http/2008/1";
pub(crate) const NS_OPENSEARCH: &str = "http://a9.com/-/spec/opensearch/1.1/";
pub(crate) const NS_XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";
pub(crate) const NS_SME: &str = "http://schemas.sage.com/sdata/sme/2007";

/// The namespace declarations every feed and entry carries.
pub(crate) fn namespace_decls() -> String {
    format!(
        r#"xmlns="{NS_ATOM}" xmlns:sdata="{NS_SDATA}" xmlns:http="{NS_HTTP}" xmlns:opensearch="{NS_OPENSEARCH}" xmlns:xsi="{NS_XSI}""#
    )
}

/// Escapes text or an attribute value (`& < > ' "` and CR).
pub(crate) fn esc(s: &str) -> Cow<'_, str> {
    quick_xml::escape::escape(s)
}

/// One `<sdata:diagnosis>`'s content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Diagnosis {
    pub(crate) severity: &'static str,
    pub(crate) sdata_code: &'static str,
    pub(crate) application_code: String,
    pub(crate) message: String,
    pub(crate) payload_path: Option<String>,
}

/// Writes a diagnosis body: `<sdata:diagnoses><sdata:diagnosis>…` when `prefixed`, else a bare
/// `<diagnosis xmlns="…sdata/2008/1">`.
pub(crate) fn diagnosis_xml(d: &Diagnosis, prefixed: bool) -> String {
    let p = if prefixed { "sdata:" } else { "" };
    let mut inner = String::new();
    let mut field = |name: &str, value: &str| {
        if value.is_empty() {
            inner.push_str(&format!("<{p}{name}/>"));
        } else {
            inner.push_str(&format!("<{p}{name}>{}</{p}{name}>", esc(value)));
        }
    };
    field("severity", d.severity);
    field("sdataCode", d.sdata_code);
    field("applicationCode", &d.application_code);
    field("message", &d.message);
    if let Some(path) = &d.payload_path {
        field("payloadPath", path);
    }
    let decl = r#"<?xml version="1.0" encoding="utf-8"?>"#;
    if prefixed {
        format!(
            r#"{decl}<sdata:diagnoses xmlns:sdata="{NS_SDATA}"><sdata:diagnosis>{inner}</sdata:diagnosis></sdata:diagnoses>"#
        )
    } else {
        format!(r#"{decl}<diagnosis xmlns="{NS_SDATA}">{inner}</diagnosis>"#)
    }
}

/// The resource a POSTed entry carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PostedResource {
    /// Local name of the payload's element, e.g. `AR_Customer`.
    pub(crate) kind: String,
    /// Columns in document order; `None` for `xsi:nil="true"`.
    pub(crate) columns: Vec<(String, Option<String>)>,
}

/// Why a POSTed body is not an entry the simulator can read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EntryError {
    pub(crate) message: String,
    pub(crate) path: Option<String>,
}

fn entry_err<T>(message: impl Into<String>, path: Option<String>) -> Result<T, EntryError> {
    Err(EntryError {
        message: message.into(),
        path,
    })
}

/// Reads `<entry>…<sdata:payload><Kind><Col>v</Col>…</Kind></sdata:payload></entry>`, matching
/// elements by local name whatever the namespace prefix.
pub(crate) fn parse_entry(xml: &str) -> Result<PostedResource, EntryError> {
    let mut reader = Reader::from_str(xml);
    reader.config_mut().check_end_names = true;
    // Element stack of local names.
    let mut stack: Vec<String> = Vec::new();
    let mut kind: Option<String> = None;
    let mut resource_seen = false;
    let mut payload_seen = false;
    let mut columns: Vec<(String, Option<String>)> = Vec::new();
    // The column being read: name, nil, text.
    let mut current: Option<(String, bool, String)> = None;
    let xml_error = |e: quick_xml::Error, pos: u64| EntryError {
        message: format!("The request body is not well-formed XML (at byte {pos}): {e}"),
        path: None,
    };
    let mut root_seen = false;
    loop {
        let pos = reader.buffer_position();
        let event = reader.read_event().map_err(|e| xml_error(e, pos))?;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                let local = e.local_name().as_ref().to_owned();
                let depth = stack.len();
                if depth == 0 {
                    if root_seen {
                        return entry_err("The request body has more than one root element.", None);
                    }
                    root_seen = true;
                    if local != "entry" {
                        return entry_err(
                            format!("The request body must be an Atom <entry>, not <{local}>."),
                            None,
                        );
                    }
                }
                let in_payload = depth == 2 && stack[1] == "payload";
                if in_payload {
                    if resource_seen {
                        return entry_err(
                            "<sdata:payload> must hold exactly one resource element.",
                            None,
                        );
                    }
                    resource_seen = true;
                    kind = Some(local.clone());
                }
                if depth == 1 && local == "payload" {
                    payload_seen = true;
                }
                if depth == 3 && stack[1] == "payload" {
                    let mut nil = false;
                    for a in e.attributes() {
                        let a = a.map_err(|e| EntryError {
                            message: format!("Malformed attribute on <{local}>: {e}"),
                            path: None,
                        })?;
                        if a.key.local_name().as_ref() == "nil" {
                            let v = a.normalized_value(XmlVersion::Implicit1_0).map_err(|e| {
                                EntryError {
                                    message: format!("Malformed attribute on <{local}>: {e}"),
                                    path: None,
                                }
                            })?;
                            nil = v.trim() == "true" || v.trim() == "1";
                        }
                    }
                    if columns.iter().any(|(c, _)| *c == local) {
                        return entry_err(
                            format!("The column {local} is given more than once."),
                            Some(local),
                        );
                    }
                    if empty {
                        columns.push((local.clone(), if nil { None } else { Some(String::new()) }));
                    } else {
                        current = Some((local.clone(), nil, String::new()));
                    }
                }
                if depth >= 4 && stack[1] == "payload" {
                    let col = stack.get(3).cloned().unwrap_or_default();
                    return entry_err(
                        format!(
                            "The column {col} holds an element <{local}>; nested resources are not supported."
                        ),
                        Some(col),
                    );
                }
                if !empty {
                    stack.push(local);
                }
            }
            Event::End(_) => {
                if stack.len() == 4
                    && let Some((name, nil, text)) = current.take()
                {
                    columns.push((name, if nil { None } else { Some(text) }));
                }
                stack.pop();
            }
            Event::Text(t) => {
                if let Some((_, _, text)) = current.as_mut() {
                    text.push_str(&t.xml10_content());
                }
            }
            Event::CData(t) => {
                if let Some((_, _, text)) = current.as_mut() {
                    text.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                let ch: String = if r.is_char_ref() {
                    match r.resolve_char_ref() {
                        Ok(Some(c)) => c.to_string(),
                        _ => {
                            return entry_err(
                                format!(
                                    "The request body is not well-formed XML: bad character reference &{};",
                                    r.xml10_content()
                                ),
                                None,
                            );
                        }
                    }
                } else {
                    let name = r.xml10_content();
                    match quick_xml::escape::resolve_predefined_entity(&name) {
                        Some(s) => s.to_owned(),
                        None => {
                            return entry_err(
                                format!(
                                    "The request body is not well-formed XML: undefined entity &{name};"
                                ),
                                None,
                            );
                        }
                    }
                };
                if let Some((_, _, text)) = current.as_mut() {
                    text.push_str(&ch);
                }
            }
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
        }
    }
    if !root_seen {
        return entry_err(
            "The request body is empty; an Atom <entry> is expected.",
            None,
        );
    }
    if !stack.is_empty() {
        return entry_err(
            "The request body is not well-formed XML: it ends inside an element.",
            None,
        );
    }
    if !payload_seen {
        return entry_err("The entry has no <sdata:payload>.", None);
    }
    let Some(kind) = kind else {
        return entry_err("<sdata:payload> holds no resource element.", None);
    };
    Ok(PostedResource { kind, columns })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn reads_an_entry_by_local_names() {
        let xml = r#"<?xml version="1.0"?>
<atom:entry xmlns:atom="http://www.w3.org/2005/Atom" xmlns:s="http://schemas.sage.com/sdata/2008/1"
   xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <atom:id/><atom:title/><atom:content/>
  <s:payload>
    <AR_Customer xmlns="">
      <ARDivisionNo>01</ARDivisionNo>
      <CustomerName>A &amp; B &lt;x&gt; &apos;q&apos; &quot;d&quot; &#233;</CustomerName>
      <AddressLine2 xsi:nil="true"/>
      <AddressLine3></AddressLine3>
      <City><![CDATA[<Town>]]></City>
    </AR_Customer>
  </s:payload>
</atom:entry>"#;
        let r = parse_entry(xml).unwrap();
        assert_eq!(r.kind, "AR_Customer");
        assert_eq!(
            r.columns,
            vec![
                ("ARDivisionNo".into(), Some("01".into())),
                (
                    "CustomerName".into(),
                    Some("A & B <x> 'q' \"d\" \u{e9}".into())
                ),
                ("AddressLine2".into(), None),
                ("AddressLine3".into(), Some(String::new())),
                ("City".into(), Some("<Town>".into())),
            ]
        );
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        for bad in [
            "",
            "not xml",
            "<entry><payload><AR_Customer><A>1</B></AR_Customer></payload></entry>",
            "<entry><payload><AR_Customer><A>1</A></AR_Customer></payload>",
            "<feed/>",
            "<entry/>",
            "<entry><payload/></entry>",
            "<entry><payload><X/><Y/></payload></entry>",
            "<entry><payload><X><A><B/></A></X></payload></entry>",
            "<entry><payload><X><A>1</A><A>2</A></X></payload></entry>",
            "<entry><payload><X><A>&bogus;</A></X></payload></entry>",
        ] {
            assert!(parse_entry(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn writes_both_diagnosis_shapes() {
        let d = Diagnosis {
            severity: "error",
            sdata_code: "ApplicationDiagnosis",
            application_code: String::new(),
            message: "A & <B>".into(),
            payload_path: None,
        };
        let p = diagnosis_xml(&d, true);
        assert!(p.contains("<sdata:diagnoses"), "{p}");
        assert!(
            p.contains("<sdata:message>A &amp; &lt;B&gt;</sdata:message>"),
            "{p}"
        );
        let b = diagnosis_xml(&d, false);
        assert!(b.contains(r#"<diagnosis xmlns="http://schemas.sage.com/sdata/2008/1">"#));
    }
}
