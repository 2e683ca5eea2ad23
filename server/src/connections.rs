//! The accept loop: serves the router over HTTP/1.1 with the timeouts and the
//! connection cap of [`Limits`], and shuts down gracefully.
//!
//! A new connection must send its first request's headers within the header timeout; a
//! kept-alive one may then wait the idle timeout for its next request, whose headers must
//! again arrive within the header timeout of its first byte. A request's body must arrive
//! within the body timeout of its headers. At the connection cap, the connection that has been
//! idle longest (no request in progress, so nothing is lost) is closed to make room; when every
//! connection has a request in progress the new one is closed at once. A flood of silent
//! connections therefore never keeps the health check out.

use crate::limits::Limits;
use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, Semaphore, watch};
use tower::ServiceExt;

/// A request body that did not arrive within the body timeout.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within the body timeout")]
pub struct BodyTimedOut;

/// What the loop knows of one connection.
struct Connection {
    epoch: Instant,
    in_flight: AtomicUsize,
    /// Milliseconds since `epoch` when it last had no request in progress.
    idle_since: AtomicU64,
    /// Milliseconds since `epoch` (plus one; zero for none) of the first byte of a request
    /// whose headers have not all arrived.
    head_started: AtomicU64,
    close: Notify,
}

impl Connection {
    fn new(epoch: Instant) -> Connection {
        let now = epoch.elapsed().as_millis() as u64;
        Connection {
            epoch,
            in_flight: AtomicUsize::new(0),
            idle_since: AtomicU64::new(now),
            // A new connection is opened to send a request: its headers are due at once.
            head_started: AtomicU64::new(now + 1),
            close: Notify::new(),
        }
    }

    fn now(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    fn is_idle(&self) -> bool {
        self.in_flight.load(Ordering::Acquire) == 0
    }

    fn begin(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        self.head_started.store(0, Ordering::Release);
        InFlight(self.clone())
    }

    /// Whether its headers or its next request are overdue.
    fn overdue(&self, limits: &Limits) -> bool {
        if !self.is_idle() {
            return false;
        }
        let now = self.now();
        match self.head_started.load(Ordering::Acquire) {
            0 => {
                now.saturating_sub(self.idle_since.load(Ordering::Acquire))
                    >= limits.idle_timeout.as_millis() as u64
            }
            started => now.saturating_sub(started - 1) >= limits.header_timeout.as_millis() as u64,
        }
    }
}

/// A request in progress on its connection, until its response's body is sent or dropped.
struct InFlight(Arc<Connection>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let now = self.0.now();
        self.0.idle_since.store(now, Ordering::Release);
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The socket, noting the first byte of a request that arrives while the connection is idle.
struct Watched {
    stream: TcpStream,
    connection: Arc<Connection>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.stream).poll_read(cx, buf);
        if buf.filled().len() > before && self.connection.is_idle() {
            let now = self.connection.now() + 1;
            let _ = self.connection.head_started.compare_exchange(
                0,
                now,
                Ordering::AcqRel,
                Ordering::Acquire,
            );
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

/// A body that keeps its request counted as in progress, or that must end by a deadline.
struct Tracked {
    inner: Body,
    deadline: Option<Pin<Box<tokio::time::Sleep>>>,
    _in_flight: Option<InFlight>,
}

impl http_body::Body for Tracked {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame);
        }
        if let Some(deadline) = &mut self.deadline
            && deadline.as_mut().poll(cx).is_ready()
        {
            return Poll::Ready(Some(Err(axum::Error::new(BodyTimedOut))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// The open connections, to find the one idle longest.
#[derive(Default)]
struct Registry {
    next_id: AtomicU64,
    open: Mutex<HashMap<u64, Arc<Connection>>>,
}

impl Registry {
    fn add(&self, connection: Arc<Connection>) -> u64 {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.lock().insert(id, connection);
        id
    }

    fn remove(&self, id: u64) {
        self.lock().remove(&id);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<Connection>>> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Closes the connection idle longest; false if every one has a request in progress.
    fn close_idlest(&self) -> bool {
        let open = self.lock();
        let idlest = open
            .values()
            .filter(|c| c.is_idle())
            .min_by_key(|c| c.idle_since.load(Ordering::Acquire));
        match idlest {
            Some(connection) => {
                connection.close.notify_one();
                true
            }
            None => false,
        }
    }
}

/// Serves `app` on `listener` until `shutdown` completes, then lets requests in progress finish.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let limits = Arc::new(limits);
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let registry = Arc::new(Registry::default());
    let epoch = Instant::now();
    let (stop, stopping) = watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, address) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: wait rather than spin.
                    tracing::warn!(%error, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let slot = match slots.clone().try_acquire_owned() {
            Ok(slot) => slot,
            Err(_) if registry.close_idlest() => {
                match tokio::time::timeout(Duration::from_secs(1), slots.clone().acquire_owned())
                    .await
                {
                    Ok(Ok(slot)) => slot,
                    _ => continue,
                }
            }
            Err(_) => {
                tracing::debug!(%address, "connection refused: every connection is busy");
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let connection = Arc::new(Connection::new(epoch));
        let id = registry.add(connection.clone());
        let (app, limits, registry, stopping) = (
            app.clone(),
            limits.clone(),
            registry.clone(),
            stopping.clone(),
        );
        tokio::spawn(async move {
            serve_connection(stream, address, app, &limits, connection, stopping).await;
            registry.remove(id);
            drop(slot);
        });
    }
    drop(listener);
    let _ = stop.send(true);
    let _ = slots
        .acquire_many(limits.max_connections as u32)
        .await
        .map(drop);
    Ok(())
}

async fn serve_connection(
    stream: TcpStream,
    address: SocketAddr,
    app: Router,
    limits: &Limits,
    connection: Arc<Connection>,
    mut stopping: watch::Receiver<bool>,
) {
    let io = TokioIo::new(Watched {
        stream,
        connection: connection.clone(),
    });
    let body_timeout = limits.body_timeout;
    let on_request = connection.clone();
    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
        let in_flight = on_request.begin();
        let app = app.clone();
        async move {
            let mut request = request.map(|body| {
                Body::new(Tracked {
                    inner: Body::new(body),
                    deadline: Some(Box::pin(tokio::time::sleep(body_timeout))),
                    _in_flight: None,
                })
            });
            request.extensions_mut().insert(ConnectInfo(address));
            let response = app.oneshot(request).await.unwrap_or_else(|e| match e {});
            Ok::<_, Infallible>(response.map(|body| Tracked {
                inner: body,
                deadline: None,
                _in_flight: Some(in_flight),
            }))
        }
    });
    let serving = hyper::server::conn::http1::Builder::new()
        .serve_connection(io, service)
        .with_upgrades();
    let mut serving = std::pin::pin!(serving);
    let tick = (limits.header_timeout.min(limits.idle_timeout) / 4)
        .clamp(Duration::from_millis(20), Duration::from_secs(1));
    let mut ticks = tokio::time::interval(tick);
    let mut draining = *stopping.borrow();
    if draining {
        serving.as_mut().graceful_shutdown();
    }
    loop {
        tokio::select! {
            served = serving.as_mut() => {
                if let Err(error) = served {
                    tracing::debug!(%address, %error, "connection ended");
                }
                return;
            }
            _ = ticks.tick() => {
                if connection.overdue(limits) {
                    tracing::debug!(%address, "connection closed: headers or next request overdue");
                    return;
                }
            }
            () = connection.close.notified() => {
                if connection.is_idle() {
                    tracing::debug!(%address, "idle connection closed to make room");
                    return;
                }
            }
            changed = stopping.changed(), if !draining => {
                if changed.is_err() || *stopping.borrow() {
                    draining = true;
                    serving.as_mut().graceful_shutdown();
                }
            }
        }
    }
}
