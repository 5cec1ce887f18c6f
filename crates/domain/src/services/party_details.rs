//! A promoted customer's ship-tos and contacts, live from the ERP (for `erp-details`): paged
//! and bounded, whatever the ERP sends.

use crate::ids::AccountId;
use crate::party::PartyKind;
use crate::ports::{ErpConnector, ErpParty, ErpReadError, PageCursor, Store};

use super::Services;
use super::details::DetailsError;

/// At most this many of one kind are read for one customer; past it the listing says it was
/// cut (a customer with more is shown in the ERP itself).
pub const MAX_LIVE_PARTIES: usize = 1_000;

/// At most this many pages are read for one kind: a server sending empty pages with ever new
/// cursors ends in a protocol error, not a loop.
const MAX_PAGES: usize = 200;

/// A customer's parties of one kind as the ERP lists them.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct LiveParties {
    /// Ship-tos or contacts.
    pub kind: PartyKind,
    /// What the ERP listed, in its order (at most [`MAX_LIVE_PARTIES`]).
    pub parties: Vec<ErpParty>,
    /// Whether the ERP had more than were read.
    pub truncated: bool,
}

impl<S, E> Services<S, E>
where
    S: Store + ?Sized,
    E: ErpConnector + ?Sized,
{
    /// Reads the ship-tos and contacts (the `kinds` asked for) of `account`'s promoted
    /// customer live from the ERP, page by page, at most [`MAX_LIVE_PARTIES`] of each; a
    /// server that hands back a cursor it already gave, or pages on past 200 pages, is a
    /// protocol error, not a loop.
    ///
    /// # Dropping the future
    /// Harmless: it only reads.
    ///
    /// # Errors
    /// [`DetailsError`]; an unreachable ERP is an error, never an empty list.
    pub async fn erp_parties(
        &self,
        account: AccountId,
        integration: Option<&str>,
        kinds: &[PartyKind],
    ) -> Result<Vec<LiveParties>, DetailsError> {
        let (integration, _binding, key) = self.promoted_key(account, integration).await?;
        let gateway = self.gateway(&integration).await?;
        let mut out = Vec::new();
        for kind in PartyKind::ALL.into_iter().filter(|k| kinds.contains(k)) {
            let mut parties = Vec::new();
            let mut cursor: Option<PageCursor> = None;
            let mut seen: Vec<String> = Vec::new();
            let truncated = loop {
                let page = gateway.parties_page(&key, kind, cursor.take()).await?;
                parties.extend(page.parties);
                if parties.len() > MAX_LIVE_PARTIES {
                    parties.truncate(MAX_LIVE_PARTIES);
                    break true;
                }
                match page.next {
                    None => break false,
                    Some(_) if seen.len() >= MAX_PAGES => {
                        return Err(DetailsError::Erp(ErpReadError::Protocol {
                            excerpt: format!(
                                "the {} list went on past {MAX_PAGES} pages",
                                kind.label()
                            ),
                        }));
                    }
                    Some(next) if seen.iter().any(|s| s == next.as_str()) => {
                        return Err(DetailsError::Erp(ErpReadError::Protocol {
                            excerpt: format!(
                                "the {} list handed back a page it already gave ({})",
                                kind.label(),
                                next.as_str().chars().take(80).collect::<String>()
                            ),
                        }));
                    }
                    Some(next) => {
                        seen.push(next.as_str().to_owned());
                        cursor = Some(next);
                    }
                }
            };
            out.push(LiveParties {
                kind,
                parties,
                truncated,
            });
        }
        Ok(out)
    }
}
