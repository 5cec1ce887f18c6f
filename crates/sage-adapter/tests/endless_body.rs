//! A server that never stops sending: the gateway reads at most its cap, fails with a typed
//! ERP error, and the process stays small. Its own test binary, so the peak RSS it reads
//! (`VmHWM`) is this test's alone. Prints the figure (`cargo test --test endless_body --
//! --nocapture`).
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod support;

use std::time::{Duration, Instant};

use crm2sage_domain::ports::ErpReadError;
use crm2sage_sage_adapter::ClientSettings;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Answers every connection with a 200 whose chunked JSON body never ends.
async fn endless_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = socket.read(&mut buf).await;
                let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
                if socket.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let chunk = format!("{:x}\r\n{}\r\n", 65536, " ".repeat(65536));
                if socket.write_all(b"6\r\n{\"va: \r\n").await.is_err() {
                    return;
                }
                while socket.write_all(chunk.as_bytes()).await.is_ok() {}
            });
        }
    });
    format!("http://{addr}")
}

/// Peak resident set of this process, in KiB (Linux `VmHWM`).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[tokio::test]
async fn an_endless_body_is_cut_at_the_cap_and_memory_stays_small() {
    let url = endless_server().await;
    let i = support::integration(&format!("{url}/Sage300WebApi"), "SAMLTD", "ADMIN");
    // The default caps; a generous timeout, so it is the cap that ends the read.
    let settings = ClientSettings::default().with_timeout(Duration::from_secs(60));
    let g = support::connect(&i, "ADMIN", settings).await;
    let started = Instant::now();
    let err = g.test_connection().await.unwrap_err();
    let took = started.elapsed();
    let text = err.to_string();
    assert!(matches!(err, ErpReadError::Protocol { .. }), "{err:?}");
    assert!(text.contains("limit"), "{text}");
    // A page read is capped too (the reference list of groups: the page cap).
    let page = g
        .reference_page(crm2sage_domain::ReferenceKind::Category, None)
        .await
        .unwrap_err();
    assert!(matches!(page, ErpReadError::Protocol { .. }), "{page:?}");
    let peak = peak_rss_kib();
    println!("endless body: failed after {took:?}; peak RSS {peak:?} KiB");
    if let Some(kib) = peak {
        assert!(kib < 128 * 1024, "peak RSS {kib} KiB");
    }
}
