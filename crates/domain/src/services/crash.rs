//! Crash points: named places in the promotion path where a test can make the process die.
//! The names always exist; the crashing is compiled only with the feature `crash-points`, which
//! release builds and the published binary never enable.
//!
//! With the feature on, each point asks the crash hook installed with
//! [`Services::with_crash_hook`](super::Services::with_crash_hook) whether to stop there: an
//! in-process test then sees [`PromoteError::Crashed`](super::PromoteError::Crashed) and nothing
//! after the point happens — the lease stays with its (now "dead") holder, exactly as after a
//! real crash. Without a hook, the environment variable `CRM2SAGE_CRASH_AT` names the point at
//! which the process aborts (`std::process::abort`), which is how the binary's crash tests kill
//! it.

use std::fmt;

/// A named place in the promotion path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CrashPoint {
    /// Right after the intent (`creating`, with the lease) is committed, before the ERP is asked.
    AfterIntent,
    /// Right after the ERP's create returned the new customer, before anything else.
    AfterCreate,
    /// Right before the confirming transaction (state `promoted` and the binding).
    BeforeConfirm,
}

impl CrashPoint {
    /// Every point, in path order.
    pub const ALL: [CrashPoint; 3] = [
        CrashPoint::AfterIntent,
        CrashPoint::AfterCreate,
        CrashPoint::BeforeConfirm,
    ];

    /// `after-intent`, `after-create`, `before-confirm`: the values of `CRM2SAGE_CRASH_AT`.
    pub fn as_str(self) -> &'static str {
        match self {
            CrashPoint::AfterIntent => "after-intent",
            CrashPoint::AfterCreate => "after-create",
            CrashPoint::BeforeConfirm => "before-confirm",
        }
    }
}

impl fmt::Display for CrashPoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Decides, at each point, whether to crash there.
#[cfg(feature = "crash-points")]
pub type CrashHook = std::sync::Arc<dyn Fn(CrashPoint) -> bool + Send + Sync>;

/// Without a hook: abort the process when `CRM2SAGE_CRASH_AT` names `point`.
#[cfg(feature = "crash-points")]
pub(crate) fn abort_if_asked(point: CrashPoint) {
    if std::env::var("CRM2SAGE_CRASH_AT").is_ok_and(|at| at == point.as_str()) {
        std::process::abort();
    }
}
