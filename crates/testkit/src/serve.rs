//! Serving a hyper service on a listener the way the gateway's listeners do.

use hyper::body::Incoming;
use hyper::service::Service;
use tokio::net::TcpListener;

/// Serves `service` over HTTP/1.1 on `listener`, one task per connection, until the
/// runtime stops. Adapter crates test their services through this, with the same hyper
/// server the gateway runs.
pub fn serve_http1<S, B>(listener: TcpListener, service: S)
where
    S: Service<http::Request<Incoming>, Response = http::Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let service = service.clone();
            tokio::spawn(async move {
                let io = hyper_util::rt::TokioIo::new(stream);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(io, service)
                    .await;
            });
        }
    });
}
