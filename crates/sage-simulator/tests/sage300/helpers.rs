//! A started simulator plus a reqwest client that speaks to it like a Sage client would.

use crm2sage_sage_simulator::{RunningSage300, Sage300Config, start_sage300};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::Value;

pub(crate) struct Sim {
    pub(crate) sim: RunningSage300,
    pub(crate) client: reqwest::Client,
}

impl Sim {
    pub(crate) async fn start(config: Sage300Config) -> Sim {
        let sim = start_sage300(config).await.expect("simulator starts");
        Sim {
            sim,
            client: reqwest::Client::new(),
        }
    }

    pub(crate) async fn default() -> Sim {
        Sim::start(Sage300Config::default()).await
    }

    /// `path` relative to the company root, e.g. `AR/ARCustomers`.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.sim.company_url())
    }

    /// A request with the right credentials and `Content-Type: application/json`.
    pub(crate) fn req(&self, method: Method, url: &str) -> RequestBuilder {
        self.client
            .request(method, url)
            .basic_auth(self.sim.user(), Some(self.sim.password()))
            .header("Content-Type", "application/json")
    }

    pub(crate) async fn get(&self, path: &str) -> Response {
        self.req(Method::GET, &self.url(path))
            .send()
            .await
            .expect("GET sent")
    }

    pub(crate) async fn get_json(&self, path: &str) -> (StatusCode, Value) {
        json_of(self.get(path).await).await
    }

    pub(crate) async fn post(&self, path: &str, body: &Value) -> Response {
        self.req(Method::POST, &self.url(path))
            .body(body.to_string())
            .send()
            .await
            .expect("POST sent")
    }

    pub(crate) async fn post_json(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        json_of(self.post(path, body).await).await
    }
}

pub(crate) async fn json_of(resp: Response) -> (StatusCode, Value) {
    let status = resp.status();
    let text = resp.text().await.expect("body read");
    let value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    (status, value)
}

/// Asserts an OData error response: the status, the code, the body shape; returns the message.
pub(crate) async fn assert_error(resp: Response, status: u16, code: &str) -> String {
    assert_eq!(resp.status().as_u16(), status, "status");
    let content_type = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap_or_default().to_owned());
    let text = resp.text().await.expect("body");
    let body: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("error body not JSON ({e}): {text}"));
    assert_eq!(body["error"]["code"], code, "code in {text}");
    assert_eq!(body["error"]["message"]["lang"], "en-US", "{text}");
    let message = body["error"]["message"]["value"]
        .as_str()
        .expect("message value")
        .to_owned();
    assert!(!message.is_empty());
    assert_eq!(body.as_object().map(|o| o.len()), Some(1), "{text}");
    assert!(
        content_type.is_some_and(|c| c.starts_with("application/json")),
        "error content type"
    );
    message
}

pub(crate) fn values(body: &Value) -> Vec<Value> {
    body["value"].as_array().expect("value array").clone()
}

pub(crate) fn strings(body: &Value, prop: &str) -> Vec<String> {
    values(body)
        .iter()
        .map(|v| v[prop].as_str().expect("string property").to_owned())
        .collect()
}
