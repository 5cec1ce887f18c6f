//! What every flavour's `Running…` handle has in common: the address, the credentials, the
//! faults, the request log and shutdown. [`running_handle!`] defines each flavour's handle as a
//! struct of the server and `Arc<Shared>` (the flavour's state, with `settings.company` and
//! `common`: the users, faults and log) with these methods, so both handles have the same shape
//! and names and a new one is written once.

/// Defines the handle `$handle` (documented by the attributes given) with the methods every
/// `Running…` handle shares; `$label` names the flavour in the debug log, `$root` is the path of
/// [`base_url`](crate::RunningSage300::base_url) and `$posts` the resource `count_posts` counts.
macro_rules! running_handle {
    ($(#[$meta:meta])* $handle:ident, $label:literal, root: $root:literal, posts: $posts:literal) => {
        $(#[$meta])*
        #[derive(Debug)]
        pub struct $handle {
            server: $crate::server::Server,
            shared: std::sync::Arc<Shared>,
        }

        impl $handle {
            /// Serves `shared` on `addr` through the shared pipeline.
            async fn bind(
                addr: std::net::SocketAddr,
                shared: Shared,
            ) -> Result<Self, $crate::SimulatorError> {
                let shared = std::sync::Arc::new(shared);
                let server = $crate::pipeline::serve(addr, shared.clone()).await?;
                tracing::debug!(
                    addr = %server.addr(),
                    company = %shared.settings.company,
                    "{} simulator listening",
                    $label
                );
                Ok($handle { server, shared })
            }

            #[doc = concat!("The root an integration is configured with: `http://127.0.0.1:PORT/", $root, "`.")]
            pub fn base_url(&self) -> String {
                format!("http://{}/{}", self.server.addr(), $root)
            }

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

            /// The first configured user's password, as the simulator was started with it (see
            /// [`set_password`](Self::set_password) and
            /// [`current_password`](Self::current_password)).
            pub fn password(&self) -> &str {
                self.first_user().1
            }

            /// Changes the first user's password (a rotation): requests that arrive afterwards
            /// must carry `password`; the old one is answered 401.
            pub fn set_password(&self, password: &str) {
                self.shared.common.set_password(password);
            }

            /// The first user's password now.
            pub fn current_password(&self) -> String {
                self.shared.common.current_password()
            }

            fn first_user(&self) -> (&str, &str) {
                self.shared
                    .common
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

            #[doc = concat!("How many `POST`s to `", $posts, "` the log holds (whatever their outcome).")]
            pub fn count_posts(&self) -> usize {
                self.request_log()
                    .iter()
                    .filter(|r| r.method == "POST" && r.path.ends_with(concat!("/", $posts)))
                    .count()
            }

            /// How many `POST`s to the resource whose last path segment is `name` (e.g.
            /// `ARShipToLocations`, `SO_ShipToAddress`) the log holds, whatever their outcome.
            /// For the creates that committed, see `creates`.
            pub fn count_posts_to(&self, name: &str) -> usize {
                self.request_log()
                    .iter()
                    .filter(|r| {
                        r.method == "POST"
                            && r.path.rsplit('/').next().is_some_and(|last| last == name)
                    })
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
