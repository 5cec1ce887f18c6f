//! The promotion log: building an entry and appending it, and the request summary it carries.

use std::time::Instant;

use crate::ids::{AccountId, IntegrationId, PromotionId};
use crate::ports::{ErpConnector, LogEntry, LogEvent, Store};
use crate::promotion::{ErpRequest, PromotionRequest};

use super::Services;

/// The log entry a confirming transaction writes with it.
#[derive(Debug)]
pub(crate) struct LogDraft {
    pub(crate) event: LogEvent,
    pub(crate) request: String,
    pub(crate) started: Instant,
}

/// One log entry being built: who, what happened and since when; the integration, promotion
/// and message are added when known.
#[derive(Debug)]
pub(crate) struct Audit {
    account: AccountId,
    integration: Option<IntegrationId>,
    promotion: Option<PromotionId>,
    event: LogEvent,
    request: String,
    message: Option<String>,
    started: Instant,
}

impl Audit {
    /// An entry for `account`: `event`, the request `summary`, timed from `started`.
    pub(crate) fn new(
        account: AccountId,
        event: LogEvent,
        request: String,
        started: Instant,
    ) -> Self {
        Self {
            account,
            integration: None,
            promotion: None,
            event,
            request,
            message: None,
            started,
        }
    }

    /// The integration it concerns.
    pub(crate) fn integration(mut self, integration: IntegrationId) -> Self {
        self.integration = Some(integration);
        self
    }

    /// The promotion it concerns.
    pub(crate) fn promotion(mut self, promotion: PromotionId) -> Self {
        self.promotion = Some(promotion);
        self
    }

    /// Why (a refusal, a failure, a decision's detail).
    pub(crate) fn message(mut self, message: Option<String>) -> Self {
        self.message = message;
        self
    }
}

impl<S, E> Services<S, E>
where
    S: Store + ?Sized,
    E: ErpConnector + ?Sized,
{
    /// The entry, stamped now, with the time since it started.
    pub(crate) fn entry(&self, audit: Audit) -> LogEntry {
        LogEntry {
            at: self.clock.now(),
            account: audit.account,
            integration: audit.integration,
            promotion: audit.promotion,
            event: audit.event,
            request: audit.request,
            message: audit.message,
            duration_ms: Some(
                u64::try_from(audit.started.elapsed().as_millis()).unwrap_or(u64::MAX),
            ),
        }
    }

    /// The `intent` entry a promotion's intent is recorded with.
    pub(crate) fn intent_entry(
        &self,
        account: AccountId,
        integration: IntegrationId,
        promotion: PromotionId,
        summary: &str,
        started: Instant,
    ) -> LogEntry {
        self.entry(
            Audit::new(account, LogEvent::Intent, summary.to_owned(), started)
                .integration(integration)
                .promotion(promotion),
        )
    }

    /// Appends the entry to the log.
    pub(crate) async fn log(&self, audit: Audit) {
        let entry = self.entry(audit);
        // The log is an audit trail; failing to write it must not change the outcome.
        let _ = self.store.append_log(&entry).await;
    }
}

/// `customer_no=C1 category=RTL tax=CALIF …` for the log.
pub(crate) fn summary_of(request: &ErpRequest) -> String {
    match request {
        ErpRequest::Sage300(r) => {
            let mut s = format!(
                "customer_no={} category={} tax_group={}",
                r.customer_no, r.category, r.tax_group
            );
            if let Some(t) = &r.terms {
                s.push_str(&format!(" terms={t}"));
            }
            s
        }
        ErpRequest::Sage100(r) => {
            let mut s = format!(
                "customer_no={} division={} salesperson={} tax_schedule={}",
                r.customer_no, r.division, r.salesperson, r.tax_schedule
            );
            for (name, value) in [
                ("terms", &r.terms),
                ("ship_method", &r.ship_method),
                ("category", &r.category),
            ] {
                if let Some(v) = value {
                    s.push_str(&format!(" {name}={v}"));
                }
            }
            s
        }
    }
}

/// The request as typed, for the log of a refusal before it parsed.
pub(crate) fn summary_of_raw(request: &PromotionRequest) -> String {
    let mut s = format!("customer_no={}", request.customer_no.trim());
    for (name, value) in [
        ("integration", &request.integration),
        ("category", &request.category),
        ("tax_group", &request.tax_group),
        ("terms", &request.terms),
        ("division", &request.division),
        ("salesperson", &request.salesperson),
        ("ship_method", &request.ship_method),
        ("tax_schedule", &request.tax_schedule),
    ] {
        if let Some(v) = value {
            s.push_str(&format!(" {name}={}", v.trim()));
        }
    }
    s
}
