//! What every flavour's `Running…` handle has in common: the address, the credentials, the
//! faults, the request log and shutdown. Each flavour's handle is a struct with the fields
//! `server: Server` and `shared: Arc<Shared>` (its state, with `settings.company`,
//! `settings.users` and `common`); [`running_handle!`] gives it these methods, so both handles
//! have the same shape and names and a new one is written once.

/// Adds the methods every `Running…` handle shares to `$handle`.
macro_rules! running_handle {
    ($handle:ident) => {
        impl $handle {
            /// The bound address.
            pub fn addr(&self) -> std::net::SocketAddr {
                self.server.addr()
            }

            /// The company served.
            pub fn company(&self) -> &str {
                &self.shared.settings.company
            }

            /// The first configured user's ID (logon).
            pub fn user(&self) -> &str {
                self.first_user().0
            }

            /// The first configured user's password.
            pub fn password(&self) -> &str {
                self.first_user().1
            }

            fn first_user(&self) -> (&str, &str) {
                self.shared
                    .settings
                    .users
                    .first()
                    .map_or(("", ""), |(u, p)| (u.as_str(), p.as_str()))
            }

            /// Replaces the faults; applies to requests that arrive afterwards (and to the
            /// `slow_response` of requests in progress). Resets the error-rate PRNG to
            /// `faults.seed`.
            pub fn set_faults(&self, faults: $crate::Faults) {
                self.shared.common.faults.set(faults);
            }

            /// The faults now in force (a `DropAfterCommit::Next(n)` counts down as creates
            /// drop).
            pub fn faults(&self) -> $crate::Faults {
                self.shared.common.faults.get()
            }

            /// Every request answered or dropped so far, in the order they finished.
            pub fn request_log(&self) -> Vec<$crate::LoggedRequest> {
                self.shared.common.log.entries()
            }

            /// Forgets the request log.
            pub fn clear_request_log(&self) {
                self.shared.common.log.clear();
            }

            /// The highest number of requests in flight at once so far.
            pub fn max_in_flight(&self) -> usize {
                self.shared.common.log.max_in_flight()
            }

            #[doc = concat!("Restarts [`", stringify!($handle), "::max_in_flight`] from the number in flight now.")]
            pub fn reset_max_in_flight(&self) {
                self.shared.common.log.reset_max_in_flight();
            }

            /// How many `POST`s to the customer resource the log holds (whatever their
            /// outcome).
            pub fn count_posts(&self) -> usize {
                let suffix = Self::CUSTOMER_POST_SUFFIX;
                self.request_log()
                    .iter()
                    .filter(|r| r.method == "POST" && r.path.ends_with(suffix))
                    .count()
            }

            /// Stops accepting, closes every connection and waits.
            ///
            /// Dropping the returned future before it completes leaves the server stopping:
            /// it still stops, in the background, but may not have closed every connection yet.
            pub async fn shutdown(self) {
                self.server.shutdown().await;
            }
        }

        const _: () = {
            const fn send_sync<T: Send + Sync>() {}
            send_sync::<$handle>();
        };
    };
}

pub(crate) use running_handle;
