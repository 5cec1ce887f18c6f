//! Serving an axum router ourselves, one task per connection, so a handler can close its own
//! connection without answering (the "commit, then drop the connection" fault) and so shutdown
//! can stop everything at once.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tokio::task::{JoinHandle, JoinSet};
use tower_service::Service as _;

use crate::SimulatorError;

/// Put into every request's extensions: notifying it closes the request's connection at once,
/// without a response.
#[derive(Debug, Clone)]
pub(crate) struct ConnectionKiller(Arc<Notify>);

impl ConnectionKiller {
    pub(crate) fn kill(&self) {
        self.0.notify_one();
    }
}

/// A running accept loop.
#[derive(Debug)]
pub(crate) struct Server {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl Server {
    pub(crate) async fn bind(addr: SocketAddr, router: Router) -> Result<Server, SimulatorError> {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| SimulatorError::Bind { addr, source })?;
        let local = listener
            .local_addr()
            .map_err(|source| SimulatorError::Bind { addr, source })?;
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(accept_loop(listener, router, stop_rx));
        Ok(Server {
            addr: local,
            stop,
            task: Some(task),
        })
    }

    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, closes every connection and waits for the loop to end.
    pub(crate) async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

async fn accept_loop(listener: TcpListener, router: Router, mut stop: watch::Receiver<bool>) {
    let mut connections = JoinSet::new();
    loop {
        while connections.try_join_next().is_some() {}
        let accepted = tokio::select! {
            _ = stop.changed() => break,
            accepted = listener.accept() => accepted,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                tracing::warn!(error = %e, "simulator: accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let mut stop = stop.clone();
        connections.spawn(async move {
            let notify = Arc::new(Notify::new());
            let killer = ConnectionKiller(notify.clone());
            let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
                req.extensions_mut().insert(killer.clone());
                let mut router = router.clone();
                async move { router.call(req).await }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                _ = conn => {}
                () = notify.notified() => {}
                _ = stop.changed() => {}
            }
        });
    }
    connections.shutdown().await;
}
