//! `promote --dry-run`: every check a promotion makes — the request, the prerequisites, live
//! promotions and bindings, the field lengths, the live customer-number check and the duplicate
//! guard — and the exact payload it would send, with nothing recorded or sent.

use crate::integration::Integration;
use crate::ports::{ErpConnector, Store};
use crate::promotion::{ExternalUid, PromotionRequest};

use super::Services;
use super::duplicates::DuplicateCandidate;
use super::promote::PromoteError;

/// What a promotion would do.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct DryRun {
    /// The integration it would promote into.
    pub integration: Integration,
    /// The External UID the customer would have.
    pub external_uid: ExternalUid,
    /// The exact body the create would send.
    pub payload: String,
    /// What the duplicate guard found, when the request allows duplicates (a request that
    /// does not is refused with them instead).
    pub duplicates: Vec<DuplicateCandidate>,
}

impl<S, E> Services<S, E>
where
    S: Store + ?Sized,
    E: ErpConnector + ?Sized,
{
    /// Checks `request` as [`Services::promote`] would, looks the customer number up in the ERP
    /// and runs the duplicate guard, and returns the payload the create would send. Writes
    /// nothing to the store (not even the log) and nothing to the ERP: the ERP sees at most two
    /// reads (the number, the name).
    ///
    /// Dropping the future abandons the reads; nothing changes anywhere.
    ///
    /// # Errors
    /// Every refusal [`Services::promote`] makes before creating, with
    /// [`PromoteError::CustomerNoExists`] for a number the ERP already has and
    /// [`PromoteError::Lookup`]-like ERP failures as [`PromoteError::DuplicateCheck`].
    pub async fn promote_dry_run(
        &self,
        request: &PromotionRequest,
    ) -> Result<DryRun, PromoteError> {
        let plan = self.plan(request, false).await?;
        match plan.gateway.find_customer(&plan.customer.key).await {
            Ok(Some(_)) => {
                return Err(PromoteError::CustomerNoExists {
                    customer_no: plan.customer.key.customer_no.clone(),
                });
            }
            Ok(None) => {}
            Err(error) => return Err(PromoteError::DuplicateCheck { error }),
        }
        let duplicates = self
            .guard(
                &plan.integration,
                plan.gateway.as_ref(),
                &plan.account,
                request.allow_duplicate,
            )
            .await?;
        Ok(DryRun {
            payload: plan.gateway.customer_payload(&plan.customer),
            external_uid: plan.request.external_uid(),
            integration: plan.integration,
            duplicates,
        })
    }
}
