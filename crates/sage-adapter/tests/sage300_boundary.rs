//! The Sage 300 gateway against servers that behave like the real world rather than the
//! reference: IIS refusing symbols in a URL path, servers asking to wait (`Retry-After`),
//! redirects, session cookies, and paging envelopes that lie or loop.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crm2sage_domain::ReferenceKind;
use crm2sage_domain::ports::{CreateCustomerError, ErpGateway, ErpReadError};
use crm2sage_sage_adapter::ClientSettings;
use percent_encoding::percent_decode_str;
use support::{connect, customer, key};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

async fn gateway_with(server: &MockServer, settings: ClientSettings) -> Arc<dyn ErpGateway> {
    let i = support::integration(
        &format!("{}/Sage300WebApi", server.uri()),
        "SAMLTD",
        "ADMIN",
    );
    connect(&i, "ADMIN", settings).await
}

async fn gateway(server: &MockServer) -> Arc<dyn ErpGateway> {
    gateway_with(server, ClientSettings::for_tests()).await
}

fn json(status: u16, body: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(body.as_bytes().to_vec(), "application/json")
}

fn header<'a>(r: &'a Request, name: &str) -> Option<&'a str> {
    r.headers.get(name).and_then(|v| v.to_str().ok())
}

/// The value of `CustomerNumber eq '…'` in the request's `$filter`, quotes undoubled.
fn filtered_number(r: &Request) -> Option<String> {
    let (_, filter) = r.url.query_pairs().find(|(k, _)| k == "$filter")?;
    let literal = filter
        .strip_prefix("CustomerNumber eq '")?
        .strip_suffix('\'')?;
    Some(literal.replace("''", "'"))
}

/// Answers as IIS + ASP.NET do: a path that (decoded) holds `< > * % & : \ ?` is a 400 "A
/// potentially dangerous Request.Path value was detected", one holding `+` a 404.11 (request
/// filtering: double escaping); a `$filter` lookup answers a list with that customer.
fn iis(r: &Request) -> ResponseTemplate {
    let path = percent_decode_str(r.url.path())
        .decode_utf8_lossy()
        .into_owned();
    if path.contains(['<', '>', '*', '%', '&', ':', '\\', '?']) {
        return ResponseTemplate::new(400).set_body_raw(
            b"<html><h2>Bad Request</h2>A potentially dangerous Request.Path value was detected from the client</html>".to_vec(),
            "text/html",
        );
    }
    if path.contains('+') {
        return ResponseTemplate::new(404).set_body_raw(
            b"<html>HTTP Error 404.11 - Not Found: double escape sequence</html>".to_vec(),
            "text/html",
        );
    }
    match filtered_number(r) {
        Some(number) => json(
            200,
            &serde_json::json!({"value": [{"CustomerNumber": number, "CustomerName": "Found"}]})
                .to_string(),
        ),
        None => json(
            404,
            r#"{"error":{"code":"RecordNotFound","message":{"lang":"en-US","value":"A Record cannot be found"}}}"#,
        ),
    }
}

#[tokio::test]
async fn numbers_with_symbols_iis_refuses_in_a_path_are_looked_up_by_filter() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(iis)
        .mount(&server)
        .await;
    let g = gateway(&server).await;
    for number in [
        "AT&T", "A<B", "A>B", "A*B", "50%", "A:B", "A\\B", "WHY?", "A+B", "A/B", "O'BRI&EN",
    ] {
        let found = g.find_customer(&key(number)).await;
        let found = found.unwrap_or_else(|e| panic!("{number}: {e}"));
        assert_eq!(
            found
                .map(|c| c.key.customer_no.as_str().to_owned())
                .as_deref(),
            Some(number),
            "{number}"
        );
    }
    // Nothing went to the key path, and `'` stayed doubled in the literal.
    for r in server.received_requests().await.unwrap() {
        assert!(r.url.path().ends_with("/AR/ARCustomers"), "{}", r.url);
    }
    // A plain number still uses the key path.
    assert_eq!(g.find_customer(&key("PLAIN")).await, Ok(None));
}

#[tokio::test]
async fn a_get_waits_as_long_as_retry_after_says_capped() {
    for status in [503u16, 429] {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(status).insert_header("Retry-After", "1"))
            .up_to_n_times(1)
            .with_priority(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .respond_with(json(200, r#"{"value":[]}"#))
            .mount(&server)
            .await;
        let g = gateway(&server).await;
        let started = Instant::now();
        g.test_connection().await.unwrap();
        let waited = started.elapsed();
        // 1 s, jittered by ±50 %: at least half a second (the backoff alone is 5 ms).
        assert!(waited >= Duration::from_millis(500), "{status}: {waited:?}");
        assert!(waited < Duration::from_secs(3), "{status}: {waited:?}");
    }
    // An hour is capped at `max_retry_after` (1 s in the test settings).
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503).insert_header("Retry-After", "3600"))
        .mount(&server)
        .await;
    let g = gateway(&server).await;
    let started = Instant::now();
    let err = g.test_connection().await.unwrap_err();
    assert!(
        matches!(err, ErpReadError::Server { status: 503, .. }),
        "{err:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test]
async fn a_create_is_never_retried_even_when_asked_to_wait() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503).insert_header("Retry-After", "1"))
        .mount(&server)
        .await;
    let g = gateway(&server).await;
    let err = g.create_customer(&customer("C1")).await.unwrap_err();
    assert!(
        matches!(err, CreateCustomerError::Ambiguous { .. }),
        "{err:?}"
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_redirect_says_where_it_pointed_and_is_not_followed() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(302).insert_header("Location", "https://sso.example.com/login"),
        )
        .mount(&server)
        .await;
    let g = gateway(&server).await;
    let err = g.test_connection().await.unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(err, ErpReadError::Server { status: 302, .. }),
        "{err:?}"
    );
    assert!(text.contains("https://sso.example.com/login"), "{text}");
    assert!(text.contains("not followed"), "{text}");
    assert_eq!(server.received_requests().await.unwrap().len(), 1);

    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(303).insert_header("Location", "/elsewhere"))
        .mount(&server)
        .await;
    let err = g.create_customer(&customer("C1")).await.unwrap_err();
    assert!(
        matches!(&err, CreateCustomerError::Ambiguous { reason } if reason.contains("/elsewhere")),
        "{err:?}"
    );
}

/// The session cookie of the first answer is sent back instead of a new Basic login; a 401
/// to a stale cookie is retried once with Basic, and the fresh cookie is used from then on.
#[tokio::test]
async fn the_session_cookie_is_kept_and_a_stale_one_logs_in_again() {
    let server = MockServer::start().await;
    let logins = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&logins);
    Mock::given(method("GET"))
        .respond_with(move |r: &Request| {
            let cookie = header(r, "cookie");
            if header(r, "authorization").is_some() {
                let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
                return json(200, r#"{"value":[]}"#).insert_header(
                    "Set-Cookie",
                    format!("ASP.NET_SessionId=s{n}; path=/; HttpOnly").as_str(),
                );
            }
            match cookie {
                Some("ASP.NET_SessionId=s1") => ResponseTemplate::new(401),
                Some("ASP.NET_SessionId=s2") => json(200, r#"{"value":[]}"#),
                _ => ResponseTemplate::new(500),
            }
        })
        .mount(&server)
        .await;
    let g = gateway(&server).await;
    for _ in 0..4 {
        g.test_connection().await.unwrap();
    }
    let reqs = server.received_requests().await.unwrap();
    let sent: Vec<(Option<&str>, Option<&str>)> = reqs
        .iter()
        .map(|r| (header(r, "authorization"), header(r, "cookie")))
        .collect();
    let basic = Some("Basic QURNSU46QURNSU4=");
    assert_eq!(
        sent,
        vec![
            (basic, None),
            (None, Some("ASP.NET_SessionId=s1")),
            (basic, None),
            (None, Some("ASP.NET_SessionId=s2")),
            (None, Some("ASP.NET_SessionId=s2")),
        ]
    );
    assert_eq!(logins.load(Ordering::SeqCst), 2);
    // The reference data of the same gateway rides on the same session.
    let _ = g.reference_page(ReferenceKind::Terms, None).await;
    let reqs = server.received_requests().await.unwrap();
    assert_eq!(header(&reqs[5], "cookie"), Some("ASP.NET_SessionId=s2"));
}

/// Terms rows `codes` as a Sage 300 list page, with `extra` envelope members (a count, a link).
fn terms_page(codes: &[&str], extra: &str) -> ResponseTemplate {
    let rows: Vec<String> = codes
        .iter()
        .map(|c| format!(r#"{{"TermsCode":"{c}","Description":"Terms {c}"}}"#))
        .collect();
    json(200, &format!(r#"{{"value":[{}]{extra}}}"#, rows.join(",")))
}

fn skip_of(r: &Request) -> u64 {
    r.url
        .query_pairs()
        .find(|(k, _)| k == "$skip")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0)
}

/// Reads every page of terms as a sync does; the pages' codes, or the first error.
async fn sync_terms(g: &dyn ErpGateway) -> Result<Vec<String>, ErpReadError> {
    let mut codes = Vec::new();
    let mut cursor = None;
    for _ in 0..10_000 {
        let page = g.reference_page(ReferenceKind::Terms, cursor).await?;
        codes.extend(page.records.iter().map(|r| r.code.as_str().to_owned()));
        cursor = page.next;
        if cursor.is_none() {
            return Ok(codes);
        }
    }
    panic!("the paging never ended");
}

/// The Developer Reference envelope (`devref_4.2_list_count.json`): `odata.count` as a string
/// and no next link although more rows exist → the rest is asked for with `$skip`.
#[tokio::test]
async fn a_count_without_a_next_link_continues_with_skip() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(|r: &Request| match skip_of(r) {
            0 => terms_page(&["A", "B"], r#","odata.count":"5""#),
            2 => terms_page(&["C", "D"], r#","odata.count":"5""#),
            4 => terms_page(&["E"], r#","odata.count":"5""#),
            _ => ResponseTemplate::new(500),
        })
        .mount(&server)
        .await;
    let g = gateway(&server).await;
    assert_eq!(
        sync_terms(g.as_ref()).await.unwrap(),
        ["A", "B", "C", "D", "E"]
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

/// A server that ignores `$skip` (the same rows again) fails the sync instead of looping or
/// storing a short list; so does one that stops before the count it announced.
#[tokio::test]
async fn a_server_ignoring_skip_or_stopping_short_fails_the_sync() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(terms_page(&["A", "B"], r#","odata.count":"625""#))
        .mount(&server)
        .await;
    let g = gateway(&server).await;
    let err = sync_terms(g.as_ref()).await.unwrap_err();
    assert!(matches!(err, ErpReadError::Protocol { .. }), "{err:?}");
    assert!(err.to_string().contains("AR/ARTerms"), "{err}");

    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(|r: &Request| match skip_of(r) {
            0 => terms_page(&["A", "B"], r#","@odata.count":5"#),
            _ => terms_page(&[], r#","@odata.count":5"#),
        })
        .mount(&server)
        .await;
    let g = gateway(&server).await;
    let err = sync_terms(g.as_ref()).await.unwrap_err().to_string();
    assert!(
        err.contains("AR/ARTerms") && err.contains("announced 5"),
        "{err}"
    );
}

/// A→B→A next links fail fast at the default settings (the figure is printed), and so do a
/// page with no new rows that still links on, and more pages than the count allows.
#[tokio::test]
async fn looping_or_endless_next_links_fail_the_sync_quickly() {
    let server = MockServer::start().await;
    let base = format!("{}/Sage300WebApi/v1.0/-/SAMLTD/AR/ARTerms", server.uri());
    let (a, b) = (format!("{base}?$skip=0"), format!("{base}?$skip=2"));
    Mock::given(method("GET"))
        .respond_with(move |r: &Request| match skip_of(r) {
            0 => terms_page(&["A", "B"], &format!(r#","@odata.nextLink":"{b}""#)),
            _ => terms_page(&["C", "D"], &format!(r#","@odata.nextLink":"{a}""#)),
        })
        .mount(&server)
        .await;
    let g = gateway_with(&server, ClientSettings::default()).await;
    let started = Instant::now();
    let err = sync_terms(g.as_ref()).await.unwrap_err();
    let took = started.elapsed();
    println!("a cycling sync (A→B→A) failed after {took:?}: {err}");
    assert!(err.to_string().contains("loops"), "{err}");
    assert!(err.to_string().contains("AR/ARTerms"), "{err}");
    assert!(took < Duration::from_secs(60), "{took:?}");

    // The same rows behind ever new links.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(|r: &Request| {
            let next = skip_of(r) + 2;
            terms_page(
                &["A", "B"],
                &format!(r#","@odata.nextLink":"ARTerms?$skip={next}""#),
            )
        })
        .mount(&server)
        .await;
    let g = gateway(&server).await;
    let err = sync_terms(g.as_ref()).await.unwrap_err().to_string();
    assert!(err.contains("no new rows"), "{err}");

    // New rows forever, but the count said 4 rows in pages of 2.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(|r: &Request| {
            let skip = skip_of(r);
            let (x, y) = (format!("R{skip}"), format!("R{}", skip + 1));
            terms_page(
                &[&x, &y],
                &format!(
                    r#","@odata.count":4,"@odata.nextLink":"ARTerms?$skip={}""#,
                    skip + 2
                ),
            )
        })
        .mount(&server)
        .await;
    let g = gateway(&server).await;
    let err = sync_terms(g.as_ref()).await.unwrap_err().to_string();
    assert!(err.contains("announced 4"), "{err}");
    assert!(server.received_requests().await.unwrap().len() <= 5);
}

/// A next link on our own server but into another company is refused, not followed.
#[tokio::test]
async fn a_next_link_into_another_company_is_refused() {
    let server = MockServer::start().await;
    let other = format!(
        "{}/Sage300WebApi/v1.0/-/OTHERCO/AR/ARTerms?$skip=2",
        server.uri()
    );
    Mock::given(method("GET"))
        .respond_with(move |r: &Request| {
            if r.url.path().contains("OTHERCO") {
                terms_page(&["THEIRS"], "")
            } else {
                terms_page(&["A", "B"], &format!(r#","@odata.nextLink":"{other}""#))
            }
        })
        .mount(&server)
        .await;
    let g = gateway(&server).await;
    let err = sync_terms(g.as_ref()).await.unwrap_err();
    assert!(matches!(err, ErpReadError::Protocol { .. }), "{err:?}");
    assert!(err.to_string().contains("leaves this company"), "{err}");
    for r in server.received_requests().await.unwrap() {
        assert!(!r.url.path().contains("OTHERCO"), "{}", r.url);
    }
}

/// Numbers from the ERP are kept exactly: no float in between.
#[tokio::test]
async fn numbers_in_a_customer_are_kept_exactly() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(json(
            200,
            r#"{"CustomerNumber":"N1","Big":9007199254740993,"Two":2,"Half":2.5,"Neg":-7}"#,
        ))
        .mount(&server)
        .await;
    let g = gateway(&server).await;
    let found = g.find_customer(&key("N1")).await.unwrap().unwrap();
    let shown = |name: &str| found.record.get(name).map(ToString::to_string);
    assert_eq!(shown("Big").as_deref(), Some("9007199254740993"));
    assert_eq!(shown("Two").as_deref(), Some("2"));
    assert_eq!(shown("Half").as_deref(), Some("2.5"));
    assert_eq!(shown("Neg").as_deref(), Some("-7"));
    assert!(matches!(
        found.record.get("Big"),
        Some(crm2sage_domain::ErpValue::Number(_))
    ));
}

/// A credential echoed by the ERP (its `Authorization` header, the integration's own base64
/// credential, the password) never reaches an error text or a record.
#[tokio::test]
async fn credentials_in_an_erp_answer_are_redacted() {
    use base64::Engine as _;
    let password = "s3cret-pass";
    let own = base64::engine::general_purpose::STANDARD.encode(format!("ADMIN:{password}"));
    let other = base64::engine::general_purpose::STANDARD.encode("OTHER:elsewhere1");
    let server = MockServer::start().await;
    let body = format!(
        r#"{{"error":{{"code":"General","message":{{"lang":"en-US","value":"header Authorization: Basic {other}; own {own}; password {password}"}}}}}}"#
    );
    Mock::given(method("GET"))
        .and(wiremock::matchers::path_regex("ARCustomers$"))
        .respond_with(json(500, &body))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(json(
            200,
            &format!(r#"{{"CustomerNumber":"N1","Comment":"pw {password} / {own}"}}"#),
        ))
        .mount(&server)
        .await;
    let i = support::integration(
        &format!("{}/Sage300WebApi", server.uri()),
        "SAMLTD",
        "ADMIN",
    );
    let g = connect(&i, password, ClientSettings::for_tests()).await;
    let text = g.test_connection().await.unwrap_err().to_string();
    for secret in [password, own.as_str(), other.as_str()] {
        assert!(!text.contains(secret), "{text}");
    }
    assert!(text.contains("[redacted]"), "{text}");
    let found = g.find_customer(&key("N1")).await.unwrap().unwrap();
    let comment = found.record.text("Comment").unwrap_or_default().to_owned();
    assert_eq!(comment, "pw [redacted] / [redacted]");
}
