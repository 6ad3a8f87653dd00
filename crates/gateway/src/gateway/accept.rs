//! The accept loop behind every listener: HTTP/1.1 connections, served by `h1`
//! (plain requests) and hyper (the rest).
//!
//! Written out rather than `axum::serve` because that path auto-detects HTTP/2 on
//! every connection (a peeked preface and a rewinding reader on every read) and
//! leaves accepted sockets with Nagle's algorithm on; here each connection is
//! HTTP/1.1 with `TCP_NODELAY`, and belongs to a `JoinSet` so stopping the listener
//! can drain it gracefully and then cut it.

use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::linger::{LINGER, Lingering};

pub(crate) use super::h1::App;

/// Serves `app` on `listener` until `stop` turns true, then waits for open
/// connections to finish their in-flight request. Dropping (aborting) the
/// returned future cuts every connection.
pub(crate) async fn serve<A: App>(
    listener: TcpListener,
    app: A,
    header_timeout: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let (closing, closing_rx) = watch::channel(false);
    // Completed connections are reaped as the loop goes, so the set stays small.
    let mut conns = JoinSet::new();
    let stopped = async move {
        let _ = stop.wait_for(|s| *s).await;
    };
    tokio::pin!(stopped);
    loop {
        tokio::select! {
            biased;
            () = &mut stopped => break,
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    // Answers are written whole; never hold one back for an ACK.
                    let _ = stream.set_nodelay(true);
                    conns.spawn(connection(stream, app.clone(), header_timeout, closing_rx.clone()));
                }
                // Out of file descriptors and the like: back off instead of spinning.
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }
    drop(listener);
    let _ = closing.send(true);
    while conns.join_next().await.is_some() {}
}

async fn connection<A: App>(
    stream: tokio::net::TcpStream,
    app: A,
    header_timeout: Duration,
    closing: watch::Receiver<bool>,
) {
    super::h1::serve(Lingering::new(stream, LINGER), app, header_timeout, closing).await;
}
