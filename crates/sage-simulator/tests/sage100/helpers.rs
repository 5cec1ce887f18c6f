//! A started simulator plus a reqwest client that speaks to it like an SData client would.

use crm2sage_sage_simulator::{RunningSage100, Sage100Config, start_sage100};
use reqwest::{Method, RequestBuilder, Response};

use crate::xml::{self, Node};

pub(crate) const ATOM: &str = "http://www.w3.org/2005/Atom";
pub(crate) const SDATA: &str = "http://schemas.sage.com/sdata/2008/1";

pub(crate) struct Sim {
    pub(crate) sim: RunningSage100,
    pub(crate) client: reqwest::Client,
}

impl Sim {
    pub(crate) async fn start(config: Sage100Config) -> Sim {
        let sim = start_sage100(config).await.expect("simulator starts");
        Sim {
            sim,
            client: reqwest::Client::new(),
        }
    }

    pub(crate) async fn default() -> Sim {
        Sim::start(Sage100Config::default()).await
    }

    /// `path` relative to the company root, e.g. `AR_Customer?count=2`.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.sim.company_url())
    }

    pub(crate) fn req(&self, method: Method, url: &str) -> RequestBuilder {
        self.client
            .request(method, url)
            .basic_auth(self.sim.user(), Some(self.sim.password()))
    }

    pub(crate) async fn get(&self, path: &str) -> Response {
        self.get_url(&self.url(path)).await
    }

    pub(crate) async fn get_url(&self, url: &str) -> Response {
        self.req(Method::GET, url).send().await.expect("GET sent")
    }

    /// GET and parse; asserts 200.
    pub(crate) async fn get_xml(&self, path: &str) -> Node {
        let resp = self.get(path).await;
        ok_xml(resp).await
    }

    pub(crate) async fn post_entry(&self, body: &str) -> Response {
        self.req(Method::POST, &self.url("AR_Customer"))
            .header("Content-Type", "application/atom+xml; type=entry")
            .body(body.to_owned())
            .send()
            .await
            .expect("POST sent")
    }
}

pub(crate) async fn ok_xml(resp: Response) -> Node {
    let status = resp.status();
    let text = resp.text().await.expect("body");
    assert!(status.is_success(), "{status}: {text}");
    xml::parse(&text)
}

/// An Atom entry creating an AR_Customer with these columns (values escaped).
pub(crate) fn entry_body(columns: &[(&str, &str)]) -> String {
    let mut cols = String::new();
    for (c, v) in columns {
        cols.push_str(&format!("<{c}>{}</{c}>", quick_xml::escape::escape(*v)));
    }
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<entry xmlns="{ATOM}" xmlns:sdata="{SDATA}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <id/><title/><content/>
  <sdata:payload><AR_Customer xmlns="">{cols}</AR_Customer></sdata:payload>
</entry>"#
    )
}

/// The columns a valid create needs, plus `extra` (which replace same-named ones).
pub(crate) fn customer<'a>(
    number: &'a str,
    extra: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let mut cols = vec![
        ("ARDivisionNo", "01"),
        ("CustomerNo", number),
        ("CustomerName", "New Customer"),
        ("SalespersonDivisionNo", "01"),
        ("SalespersonNo", "0100"),
    ];
    for (c, v) in extra {
        if let Some(slot) = cols.iter_mut().find(|(n, _)| n == c) {
            slot.1 = v;
        } else {
            cols.push((c, v));
        }
    }
    cols
}

/// The payload resource element of an entry.
pub(crate) fn resource(entry: &Node) -> &Node {
    let payload = entry.one("payload");
    assert_eq!(payload.children.len(), 1, "one resource in the payload");
    &payload.children[0]
}

/// A column of an entry: `Some(text)` or `None` for `xsi:nil="true"`.
pub(crate) fn column(entry: &Node, name: &str) -> Option<String> {
    let col = resource(entry).one(name);
    if col.attr("xsi:nil") == Some("true") {
        assert!(col.text.is_empty());
        None
    } else {
        Some(col.text.clone())
    }
}

/// `column(entry, name)` for every entry of a feed.
pub(crate) fn columns(feed: &Node, name: &str) -> Vec<String> {
    feed.all("entry")
        .iter()
        .map(|e| column(e, name).unwrap_or_default())
        .collect()
}

pub(crate) fn opensearch(feed: &Node) -> (usize, usize, usize) {
    let n = |l: &str| feed.text_of(l).parse::<usize>().expect("number");
    (n("totalResults"), n("startIndex"), n("itemsPerPage"))
}

pub(crate) fn link<'a>(feed: &'a Node, rel: &str) -> Option<&'a str> {
    feed.all("link")
        .into_iter()
        .find(|l| l.attr("rel") == Some(rel))
        .and_then(|l| l.attr("href"))
}

/// Asserts a diagnosis response (prefixed shape): status, sdataCode; returns the message.
pub(crate) async fn assert_diagnosis(resp: Response, status: u16, code: &str) -> String {
    assert_eq!(resp.status().as_u16(), status, "status");
    let ct = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap_or_default().to_owned())
        .unwrap_or_default();
    assert!(ct.starts_with("application/xml"), "{ct}");
    let text = resp.text().await.expect("body");
    let root = xml::parse(&text);
    assert_eq!(root.qname, "sdata:diagnoses", "{text}");
    let d = root.one("diagnosis");
    assert_eq!(d.qname, "sdata:diagnosis");
    assert_eq!(
        d.text_of("severity"),
        if status == 503 { "transient" } else { "error" }
    );
    assert_eq!(d.text_of("sdataCode"), code, "{text}");
    let message = d.text_of("message");
    assert!(!message.is_empty(), "{text}");
    message
}

impl Sim {
    /// A POST whose transport error is returned rather than panicking.
    pub(crate) async fn post_entry_raw(&self, body: &str) -> reqwest::Result<Response> {
        self.req(Method::POST, &self.url("AR_Customer"))
            .header("Content-Type", "application/atom+xml; type=entry")
            .body(body.to_owned())
            .send()
            .await
    }
}

/// An Atom entry carrying one `kind` resource with these columns (values escaped).
pub(crate) fn entry_of(kind: &str, columns: &[(&str, &str)]) -> String {
    entry_body(columns)
        .replace("<AR_Customer xmlns=\"\">", &format!("<{kind} xmlns=\"\">"))
        .replace("</AR_Customer>", &format!("</{kind}>"))
}

impl Sim {
    /// `method` of an Atom entry to `path` (relative to the company root).
    pub(crate) async fn send_entry(&self, method: Method, path: &str, body: &str) -> Response {
        self.req(method, &self.url(path))
            .header("Content-Type", "application/atom+xml; type=entry")
            .body(body.to_owned())
            .send()
            .await
            .expect("request sent")
    }
}
