//! The duplicate guard: before a customer is created, is the account already in the ERP?
//!
//! It compares the account's [`MatchKeys`] with the customer index (when a customer sync has
//! run for the integration: a local read) and asks the ERP once for customers with exactly the
//! account's name — never more than that one request per promotion.

use crate::account::Account;
use crate::codes::CustomerNo;
use crate::integration::Integration;
use crate::matching::{MatchKeys, MatchReason, score};
use crate::ports::{ErpConnector, ErpCustomerSummary, ErpGateway, ErpReadError, Store, StoreError};
use crate::promotion::ExternalUid;

use super::Services;

/// At most this many index candidates per account are compared.
pub(crate) const CANDIDATES_PER_ACCOUNT: usize = 20;

/// An ERP customer that may be the account already.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct DuplicateCandidate {
    /// Its number.
    pub customer_no: CustomerNo,
    /// Its External UID (with the division on Sage 100).
    pub external_uid: ExternalUid,
    /// Its name in the ERP.
    pub name: String,
    /// What it shares with the account.
    pub reasons: Vec<MatchReason>,
    /// The reasons' score ([`score`]).
    pub score: f64,
}

impl DuplicateCandidate {
    /// The candidate `customer` is for an account with `keys` and postal code `postal`, when
    /// they share a name, phone or e-mail.
    pub(crate) fn of(
        keys: &MatchKeys,
        postal: Option<&str>,
        customer: &ErpCustomerSummary,
    ) -> Option<Self> {
        let theirs = MatchKeys::of(
            &customer.name,
            customer.phone.as_deref(),
            customer.email.as_deref(),
        );
        let (score, reasons) = score(keys, postal, &theirs, customer.postal_code.as_deref());
        (!reasons.is_empty()).then(|| Self {
            customer_no: customer.key.customer_no.clone(),
            external_uid: customer.key.external_uid(),
            name: customer.name.clone(),
            reasons,
            score,
        })
    }
}

/// Sorts candidates best first: by score, then by External UID.
pub(crate) fn best_first(candidates: &mut [DuplicateCandidate]) {
    candidates.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.external_uid.as_str().cmp(b.external_uid.as_str()))
    });
}

/// Why the guard could not look.
#[derive(Debug)]
pub(crate) enum GuardError {
    /// The ERP's name lookup failed.
    Erp(ErpReadError),
    /// The customer index could not be read.
    Store(StoreError),
}

/// The keys an account is compared by.
pub(crate) fn account_keys(account: &Account) -> MatchKeys {
    let d = account.details();
    MatchKeys::of(
        d.name().as_str(),
        d.phone().map(|p| p.as_str()),
        d.email().map(|e| e.as_str()),
    )
}

impl<S, E> Services<S, E>
where
    S: Store + ?Sized,
    E: ErpConnector + ?Sized,
{
    /// The ERP customers that may already be `account`, best first: from the customer index
    /// (when synced) and from one live lookup by exact name.
    pub(crate) async fn possible_duplicates(
        &self,
        integration: &Integration,
        gateway: &dyn ErpGateway,
        account: &Account,
    ) -> Result<Vec<DuplicateCandidate>, GuardError> {
        let keys = account_keys(account);
        let postal = account.details().billing().postal_code();
        let indexed = async {
            if keys.is_empty() {
                return Ok(Vec::new());
            }
            let lists = self
                .store
                .customer_candidates(
                    integration.id(),
                    std::slice::from_ref(&keys),
                    CANDIDATES_PER_ACCOUNT,
                )
                .await?;
            Ok::<_, StoreError>(lists.into_iter().next().unwrap_or_default())
        };
        let live = gateway.customers_named(account.details().name().as_str());
        let (indexed, live) = futures_util::future::join(indexed, live).await;
        let live = live.map_err(GuardError::Erp)?;
        let indexed = indexed.map_err(GuardError::Store)?;
        // A customer the ERP returned for the exact name is the name's candidate even where our
        // normalisation and the ERP's collation disagree.
        let live = live.iter().map(|c| {
            DuplicateCandidate::of(&keys, postal, c).unwrap_or_else(|| DuplicateCandidate {
                customer_no: c.key.customer_no.clone(),
                external_uid: c.key.external_uid(),
                name: c.name.clone(),
                reasons: vec![MatchReason::Name],
                score: MatchReason::Name.weight(),
            })
        });
        let indexed = indexed
            .iter()
            .filter_map(|c| DuplicateCandidate::of(&keys, postal, c));
        let mut found: Vec<DuplicateCandidate> = Vec::new();
        for candidate in live.chain(indexed) {
            if !found
                .iter()
                .any(|f| f.external_uid == candidate.external_uid)
            {
                found.push(candidate);
            }
        }
        best_first(&mut found);
        Ok(found)
    }
}
