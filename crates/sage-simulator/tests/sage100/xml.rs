//! A tiny XML tree read with quick-xml, so tests check structure by local names.

use quick_xml::XmlVersion;
use quick_xml::events::Event;
use quick_xml::reader::Reader;

#[derive(Debug, Clone, Default)]
pub(crate) struct Node {
    /// The qualified name as written (`sdata:payload`).
    pub(crate) qname: String,
    pub(crate) attrs: Vec<(String, String)>,
    pub(crate) children: Vec<Node>,
    pub(crate) text: String,
}

impl Node {
    pub(crate) fn local(&self) -> &str {
        self.qname.rsplit(':').next().unwrap_or_default()
    }

    pub(crate) fn attr(&self, qname: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == qname)
            .map(|(_, v)| v.as_str())
    }

    /// Direct children with this local name.
    pub(crate) fn all(&self, local: &str) -> Vec<&Node> {
        self.children
            .iter()
            .filter(|c| c.local() == local)
            .collect()
    }

    /// The one direct child with this local name.
    pub(crate) fn one(&self, local: &str) -> &Node {
        let found = self.all(local);
        assert_eq!(found.len(), 1, "one <{local}> in <{}>", self.qname);
        found[0]
    }

    pub(crate) fn text_of(&self, local: &str) -> String {
        self.one(local).text.clone()
    }
}

/// Parses a whole document; panics on malformed XML.
pub(crate) fn parse(xml: &str) -> Node {
    try_parse(xml).unwrap_or_else(|e| panic!("malformed XML ({e}): {xml}"))
}

pub(crate) fn try_parse(xml: &str) -> Result<Node, String> {
    let mut reader = Reader::from_str(xml);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Node> = vec![Node::default()];
    loop {
        match reader.read_event().map_err(|e| e.to_string())? {
            Event::Start(e) => stack.push(node(&e)?),
            Event::Empty(e) => {
                let n = node(&e)?;
                stack.last_mut().ok_or("stack")?.children.push(n);
            }
            Event::End(_) => {
                let n = stack.pop().ok_or("unbalanced")?;
                stack.last_mut().ok_or("unbalanced")?.children.push(n);
            }
            Event::Text(t) => stack
                .last_mut()
                .ok_or("stack")?
                .text
                .push_str(&t.xml10_content()),
            Event::CData(t) => stack
                .last_mut()
                .ok_or("stack")?
                .text
                .push_str(&t.xml10_content()),
            Event::GeneralRef(r) => {
                let s = if r.is_char_ref() {
                    r.resolve_char_ref()
                        .map_err(|e| e.to_string())?
                        .ok_or("char ref")?
                        .to_string()
                } else {
                    quick_xml::escape::resolve_predefined_entity(&r.xml10_content())
                        .ok_or("unknown entity")?
                        .to_owned()
                };
                stack.last_mut().ok_or("stack")?.text.push_str(&s);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if stack.len() != 1 {
        return Err("document ends inside an element".into());
    }
    let mut root = stack.pop().ok_or("stack")?;
    if root.children.len() != 1 {
        return Err(format!("{} root elements", root.children.len()));
    }
    Ok(root.children.remove(0))
}

fn node(e: &quick_xml::events::BytesStart<'_>) -> Result<Node, String> {
    let mut attrs = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(|e| e.to_string())?;
        let v = a
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|e| e.to_string())?;
        attrs.push((a.key.as_ref().to_owned(), v.into_owned()));
    }
    Ok(Node {
        qname: e.name().as_ref().to_owned(),
        attrs,
        ..Node::default()
    })
}
