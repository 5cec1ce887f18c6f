//! The guard every reference sync passes through, whatever the flavour: one per gateway,
//! holding what this sync of a kind has seen (the pages' URLs, the rows' codes, the rows and
//! the count the server announced). It refuses, with an error naming the resource, what would
//! make a sync loop or lie:
//!
//! - a next page that was already read in this sync (A→B→A), or a page with no new rows that
//!   still links to another one (a server ignoring `$skip`);
//! - more pages than the announced count allows (`count / first page + 1`);
//! - a list that ends with fewer rows than the count announced (never a short snapshot).
//!
//! And when a page ends without a next link while the count says more rows exist (the Sage
//! 300 Developer Reference's own envelope), it says to go on ([`PageVerdict`] carries the
//! rows read so far, for the flavour's `$skip` or `startIndex`).

use std::collections::HashSet;
use std::sync::{Mutex, PoisonError};

use crm2sage_domain::ReferenceKind;
use url::Url;

/// What one sync of one kind has seen so far.
#[derive(Debug)]
struct SyncSeen {
    kind: ReferenceKind,
    urls: HashSet<String>,
    codes: HashSet<String>,
    rows: u64,
    first_page_rows: u64,
    pages: u64,
    count: Option<u64>,
}

/// The guard; see the module docs.
#[derive(Debug, Default)]
pub(crate) struct PagingGuard {
    seen: Mutex<Option<SyncSeen>>,
}

/// One page as the guard judges it.
#[derive(Debug)]
pub(crate) struct PageFacts<'a> {
    /// The kind, and the resource it is read from (for the messages).
    pub(crate) kind: ReferenceKind,
    pub(crate) resource: &'a str,
    /// Whether this is the first page of a sync (no cursor).
    pub(crate) first: bool,
    /// The URL it was read from.
    pub(crate) url: &'a Url,
    /// Rows on the page as sent (before any row is dropped).
    pub(crate) rows: u64,
    /// Rows before this page, as its URL says (`$skip`, `startIndex - 1`; 0 if it says
    /// nothing): where the count starts when a sync is picked up mid-way (a new gateway given
    /// a cursor).
    pub(crate) offset: u64,
    /// The codes of the rows kept.
    pub(crate) codes: Vec<String>,
    /// The count the page announced, if any.
    pub(crate) count: Option<u64>,
    /// Whether the page carries a next link.
    pub(crate) linked: bool,
}

/// What to do after a page the guard accepted.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum PageVerdict {
    /// Follow the page's next link (it was checked).
    FollowLink,
    /// No link, but the count says more rows exist: ask for the page after `rows` rows.
    ContinueAfter(u64),
    /// The list is complete.
    Done,
}

impl PagingGuard {
    /// Judges `page`, then `next` (the URL the link resolves to, when the page has one).
    pub(crate) fn judge(
        &self,
        page: PageFacts<'_>,
        next: Option<&Url>,
    ) -> Result<PageVerdict, String> {
        let mut guard = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        if page.first || guard.as_ref().is_none_or(|s| s.kind != page.kind) {
            *guard = Some(SyncSeen {
                kind: page.kind,
                urls: HashSet::new(),
                codes: HashSet::new(),
                rows: if page.first { 0 } else { page.offset },
                first_page_rows: page.rows,
                pages: 0,
                count: None,
            });
        }
        let Some(seen) = guard.as_mut() else {
            return Err("the paging state was lost".to_owned());
        };
        let what = format!("{} ({})", page.kind, page.resource);
        seen.urls.insert(page.url.to_string());
        seen.pages += 1;
        // A link may skip ahead (`$skip=100` after 2 rows): the rows "before" a page are
        // whichever is further, those read or those its URL skips.
        seen.rows = (seen.rows + page.rows).max(page.offset + page.rows);
        let mut new_codes = 0usize;
        let coded = !page.codes.is_empty();
        for code in page.codes {
            if seen.codes.insert(code) {
                new_codes += 1;
            }
        }
        let fresh = page.rows > 0 && (!coded || new_codes > 0);
        if page.count.is_some() {
            seen.count = page.count;
        }
        let result = (|| {
            if let Some(count) = seen.count
                && seen.first_page_rows > 0
            {
                let allowed = count.div_ceil(seen.first_page_rows) + 1;
                if seen.pages > allowed {
                    return Err(format!(
                        "{what}: page {} although the server announced {count} rows in pages \
                         of {}; the paging does not end",
                        seen.pages, seen.first_page_rows
                    ));
                }
            }
            if page.linked {
                let Some(next) = next else {
                    return Err(format!("{what}: the next link could not be resolved"));
                };
                if seen.urls.contains(next.as_str()) {
                    return Err(format!(
                        "{what}: the next link points at a page already read in this sync \
                         ({next}); the paging loops"
                    ));
                }
            }
            let more_by_count = seen.count.is_some_and(|c| seen.rows < c);
            if !page.linked && more_by_count && page.rows == 0 {
                return Err(short_list(
                    page.kind,
                    page.resource,
                    seen.rows,
                    seen.count.unwrap_or(0),
                ));
            }
            if (page.linked || more_by_count) && !fresh {
                return Err(format!(
                    "{what}: page {} ({}) brought no new rows but the list goes on; the server \
                     repeats its pages (does it ignore $skip?)",
                    seen.pages, page.url
                ));
            }
            if page.linked {
                return Ok(PageVerdict::FollowLink);
            }
            if more_by_count {
                return Ok(PageVerdict::ContinueAfter(seen.rows));
            }
            Ok(PageVerdict::Done)
        })();
        if result != Ok(PageVerdict::FollowLink)
            && !matches!(result, Ok(PageVerdict::ContinueAfter(_)))
        {
            *guard = None;
        }
        result
    }

    /// Checks that the page after `rows` rows, `next`, was not read yet in this sync.
    pub(crate) fn check_unseen(&self, what: &str, next: &Url) -> Result<(), String> {
        let guard = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        if guard
            .as_ref()
            .is_some_and(|s| s.urls.contains(next.as_str()))
        {
            return Err(format!(
                "{what}: the page after this one ({next}) was already read in this sync; the \
                 paging loops"
            ));
        }
        Ok(())
    }
}

/// A short-list error: the server stopped with fewer rows than it announced.
pub(crate) fn short_list(kind: ReferenceKind, resource: &str, rows: u64, count: u64) -> String {
    format!(
        "{kind} ({resource}): the server announced {count} rows but the list ended after {rows}; \
         the previous data is kept"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(&format!("http://h/{s}")).expect("url")
    }

    fn facts<'a>(
        url: &'a Url,
        first: bool,
        codes: &[&str],
        count: Option<u64>,
        linked: bool,
    ) -> PageFacts<'a> {
        PageFacts {
            kind: ReferenceKind::Terms,
            resource: "AR/ARTerms",
            first,
            url,
            rows: codes.len() as u64,
            offset: 0,
            codes: codes.iter().map(|c| (*c).to_owned()).collect(),
            count,
            linked,
        }
    }

    #[test]
    fn a_cycle_is_refused() {
        let g = PagingGuard::default();
        let (a, b) = (url("a"), url("b"));
        assert_eq!(
            g.judge(facts(&a, true, &["1"], None, true), Some(&b)),
            Ok(PageVerdict::FollowLink)
        );
        let err = g
            .judge(facts(&b, false, &["2"], None, true), Some(&a))
            .expect_err("loop");
        assert!(err.contains("AR/ARTerms") && err.contains("loops"), "{err}");
    }

    #[test]
    fn the_count_continues_a_page_without_link_and_repeats_fail() {
        let g = PagingGuard::default();
        let (a, b) = (url("a"), url("b"));
        assert_eq!(
            g.judge(facts(&a, true, &["1", "2"], Some(5), false), None),
            Ok(PageVerdict::ContinueAfter(2))
        );
        let err = g
            .judge(facts(&b, false, &["1", "2"], None, false), None)
            .expect_err("repeat");
        assert!(err.contains("no new rows"), "{err}");
    }
}
