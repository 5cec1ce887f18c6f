//! Reference pages: the next page is prefetched.
//!
//! Parsing a 1,000-row page into typed rows takes 1–2 ms, and the domain's pipelined sync asks
//! for page N+1 only once `reference_page` has returned page N's cursor. So that the parse is
//! not on the sync's critical path, the gateway starts the next GET itself, as soon as page N's
//! body has arrived and **before** parsing it:
//!
//! 1. [`wire::scan_next_link`] finds the link without parsing the page — the string value of
//!    the last `"@odata.nextLink"` (or v3 `"odata.nextLink"`) key, which OData writes last — and
//!    it is resolved exactly as the parsed link is (`Sage300Urls::next_page` against page N's
//!    URL). The GET ([`get_ok`]: same retries, the list timeout) runs on a spawned Tokio task
//!    (the [`HttpClient`] is shared through an `Arc`); no runtime, no prefetch.
//! 2. Page N is then parsed as before, and **the cursor returned is always the parse's**. The
//!    prefetch is kept (at most one per gateway, `Sage300Gateway::prefetch`) only if the parsed
//!    next URL equals the scanned one; a disagreement, a refused page or any other early return
//!    drops it, and dropping a [`Prefetch`] aborts its task.
//! 3. Every `reference_page` call takes the pending prefetch. A call for that kind with a
//!    cursor that resolves to the prefetched URL awaits its task instead of sending a GET (a
//!    task that ended without an answer — a panic, a runtime shutting down — is
//!    `ErpReadError::Unreachable`); any other call (another cursor, another kind, a first page,
//!    languages) aborts it. Dropping the gateway aborts it too.
//! 4. The prefetched GET's failures (a timeout, a 5xx after its retries, a 401…) are returned by
//!    the call that asks for that page, and its body is parsed by that call: the errors are the
//!    ones the GET would have given without a prefetch, and they appear when they did before.
//!
//! Customer lookups and creates never touch the prefetch. Gateways are cached by the domain's
//! services, so a sync that stops between pages (a store failure) leaves at most one GET, which
//! ends within its timeout, and its page held until the next reference call on this gateway or
//! the gateway's drop.

use std::sync::{Arc, PoisonError};

use crm2sage_domain::ReferenceKind;
use crm2sage_domain::ports::ErpReadError;
use tokio::task::JoinHandle;
use tracing::Instrument as _;
use url::Url;

use super::{Sage300Gateway, get_ok, wire};
use crate::http::Answer;

/// A GET of a reference page under way on its own task, started as soon as the page linking
/// to it arrived. Dropping it aborts the task (a finished one has nothing left to abort).
pub(super) struct Prefetch {
    pub(super) kind: ReferenceKind,
    /// The page's URL, as the page that linked to it resolves the link.
    pub(super) url: Url,
    handle: JoinHandle<Result<Answer, ErpReadError>>,
}

impl Drop for Prefetch {
    fn drop(&mut self) {
        self.handle.abort();
    }
}

impl Prefetch {
    /// The GET's outcome, exactly as [`get_ok`] gives it; a task that ended without one (it
    /// panicked, or the runtime is shutting down) is `Unreachable`. If this future is dropped
    /// while waiting, the task is aborted.
    pub(super) async fn answer(mut self) -> Result<Answer, ErpReadError> {
        match (&mut self.handle).await {
            Ok(result) => result,
            Err(e) => Err(ErpReadError::Unreachable(format!(
                "the request for {} ended without an answer: {e}",
                self.url
            ))),
        }
    }
}

impl Sage300Gateway {
    /// Takes the pending prefetch, if any, out of the gateway.
    pub(super) fn take_prefetch(&self) -> Option<Prefetch> {
        self.prefetch
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    /// Makes `prefetch` the pending one (aborting any other: at most one per gateway).
    pub(super) fn keep_prefetch(&self, prefetch: Prefetch) {
        let previous = self
            .prefetch
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .replace(prefetch);
        drop(previous);
    }

    /// Starts the GET of the page that the page `body` (read from `url`) links to, found by
    /// [`wire::scan_next_link`] before the page is parsed, on its own task. `None` when the
    /// scan finds no usable link or there is no Tokio runtime to spawn on.
    pub(super) fn start_prefetch(
        &self,
        kind: ReferenceKind,
        resource: &str,
        url: &Url,
        body: &[u8],
    ) -> Option<Prefetch> {
        let link = wire::scan_next_link(body)?;
        let next = self.urls.next_page(url, &link, resource).ok()?;
        if &next == url {
            return None;
        }
        let runtime = tokio::runtime::Handle::try_current().ok()?;
        let http = Arc::clone(&self.http);
        let timeout = Some(self.settings.list_timeout);
        let target = next.clone();
        tracing::debug!(%kind, url = %next, "prefetching the next page");
        let handle = runtime.spawn(
            async move { get_ok(&http, &target, timeout).await }
                .instrument(tracing::Span::current()),
        );
        Some(Prefetch {
            kind,
            url: next,
            handle,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crm2sage_domain::ports::ErpGateway;

    use super::*;
    use crate::http::HttpClient;
    use crate::sage300::Sage300Urls;
    use crate::settings::ClientSettings;

    /// A gateway on a port nothing listens on (nothing here sends a request).
    fn gateway() -> Sage300Gateway {
        let settings = Arc::new(ClientSettings::for_tests());
        let client = crate::http::build_client(&settings, None).expect("client");
        let auth = crate::http::basic_authorization("ADMIN", &secrecy::SecretString::from("x"))
            .expect("header");
        let urls = Sage300Urls::new("http://127.0.0.1:9/Sage300WebApi", "SAMLTD").expect("urls");
        Sage300Gateway::new(
            HttpClient::new(client, auth, Arc::clone(&settings)),
            urls,
            settings,
            crate::limits::sage300(),
        )
    }

    /// A prefetch whose task never ends on its own; `dropped` resolves once the task is gone.
    fn endless_prefetch(url: &str) -> (Prefetch, tokio::sync::oneshot::Receiver<()>) {
        let (alive, dropped) = tokio::sync::oneshot::channel::<()>();
        let handle = tokio::spawn(async move {
            let _alive = alive;
            std::future::pending::<()>().await;
            Err(ErpReadError::Unreachable("never".to_owned()))
        });
        let prefetch = Prefetch {
            kind: ReferenceKind::Category,
            url: Url::parse(url).expect("url"),
            handle,
        };
        (prefetch, dropped)
    }

    /// Waits (bounded, so a failure does not hang the suite) until the task behind `dropped`
    /// has been torn down.
    async fn torn_down(dropped: tokio::sync::oneshot::Receiver<()>) -> bool {
        matches!(
            tokio::time::timeout(Duration::from_secs(10), dropped).await,
            Ok(Err(_))
        )
    }

    #[tokio::test]
    async fn dropping_the_gateway_aborts_its_prefetch() {
        let g = gateway();
        let (prefetch, dropped) = endless_prefetch("http://127.0.0.1:9/a");
        g.keep_prefetch(prefetch);
        drop(g);
        assert!(torn_down(dropped).await, "the prefetch's task still runs");
    }

    #[tokio::test]
    async fn a_new_prefetch_aborts_the_pending_one() {
        let g = gateway();
        let (first, first_dropped) = endless_prefetch("http://127.0.0.1:9/a");
        let (second, mut second_dropped) = endless_prefetch("http://127.0.0.1:9/b");
        g.keep_prefetch(first);
        g.keep_prefetch(second);
        assert!(torn_down(first_dropped).await, "at most one per gateway");
        assert!(
            matches!(
                second_dropped.try_recv(),
                Err(tokio::sync::oneshot::error::TryRecvError::Empty)
            ),
            "the newer one is kept"
        );
        assert_eq!(
            g.take_prefetch().map(|p| p.url.to_string()).as_deref(),
            Some("http://127.0.0.1:9/b")
        );
    }

    /// A prefetch whose task died without an answer is a typed error, not a panic.
    #[tokio::test]
    async fn a_prefetch_that_panicked_is_unreachable() {
        let handle = tokio::spawn(async {
            if Url::parse("http://h/").is_ok() {
                panic!("the prefetch task failed");
            }
            Err(ErpReadError::Unreachable("never".to_owned()))
        });
        let prefetch = Prefetch {
            kind: ReferenceKind::Category,
            url: Url::parse("http://127.0.0.1:9/a").expect("url"),
            handle,
        };
        match prefetch.answer().await {
            Err(ErpReadError::Unreachable(m)) => {
                assert!(m.contains("http://127.0.0.1:9/a"), "{m}");
                assert!(m.contains("panicked"), "{m}");
            }
            other => panic!("expected Unreachable, got {other:?}"),
        }
    }

    /// A call that does not ask for the prefetched page aborts the prefetch (here: languages,
    /// which need no request; and a first page, on a server that is not there).
    #[tokio::test]
    async fn any_other_page_aborts_the_prefetch() {
        let g = gateway();
        let (prefetch, dropped) = endless_prefetch("http://127.0.0.1:9/a");
        g.keep_prefetch(prefetch);
        g.reference_page(ReferenceKind::Language, None)
            .await
            .expect("languages");
        assert!(
            torn_down(dropped).await,
            "languages left the prefetch running"
        );

        let (prefetch, dropped) = endless_prefetch("http://127.0.0.1:9/a");
        g.keep_prefetch(prefetch);
        let first = g.reference_page(ReferenceKind::Terms, None).await;
        assert!(
            matches!(first, Err(ErpReadError::Unreachable(_))),
            "{first:?}"
        );
        assert!(
            torn_down(dropped).await,
            "a first page left the prefetch running"
        );
        assert!(g.take_prefetch().is_none());
    }
}
