//! A TCP listener for `axum::serve` whose connections a handler can cut: `Misbehaviour::DropConnection`
//! needs the socket closed without any response, which a handler cannot express through HTTP.
//!
//! Each accepted stream carries a kill switch that is also handed to the handler (as connect info).
//! Once it is set, writes fail, so hyper abandons the connection before a single response byte is
//! sent, and dropping the stream closes the socket. The HTTPS listener (`tls.rs`) wraps its TLS
//! streams alike, so the same faults cut HTTPS connections.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

use crate::tls::Transport;

pub(crate) struct KillableListener(pub TcpListener);

/// The handler's handle on its connection.
#[derive(Clone, Debug, Default)]
pub(crate) struct Conn {
    killed: Arc<AtomicBool>,
    /// Plain HTTP, or TLS with the client certificate's merchant ([`crate::tls`]).
    pub transport: Transport,
}

impl Conn {
    /// A connection over `transport`.
    pub fn over(transport: Transport) -> Conn {
        Conn { killed: Arc::default(), transport }
    }

    /// `inner`, cut when this connection is killed.
    pub fn wrap<S>(&self, inner: S) -> KillableIo<S> {
        KillableIo { inner, killed: self.killed.clone() }
    }

    /// From now on the connection neither reads nor writes; hyper then drops it.
    pub fn kill(&self) {
        self.killed.store(true, Ordering::SeqCst);
    }
}

pub(crate) struct KillableIo<S = TcpStream> {
    inner: S,
    killed: Arc<AtomicBool>,
}

impl<S> KillableIo<S> {
    fn killed(&self) -> bool {
        self.killed.load(Ordering::SeqCst)
    }
}

impl Listener for KillableListener {
    type Io = KillableIo;
    type Addr = Conn;

    async fn accept(&mut self) -> (KillableIo, Conn) {
        loop {
            match self.0.accept().await {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    let conn = Conn::default();
                    return (conn.wrap(stream), conn);
                }
                // Out of file descriptors and the like: wait a little, as axum's own listener does.
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    }

    fn local_addr(&self) -> io::Result<Conn> {
        self.0.local_addr().map(|_| Conn::default())
    }
}

impl Connected<IncomingStream<'_, KillableListener>> for Conn {
    fn connect_info(stream: IncomingStream<'_, KillableListener>) -> Self {
        stream.remote_addr().clone()
    }
}

fn dropped() -> io::Error {
    io::Error::new(io::ErrorKind::ConnectionAborted, "test server dropped the connection")
}

impl<S: AsyncRead + Unpin> AsyncRead for KillableIo<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        if self.killed() {
            return Poll::Ready(Err(dropped()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for KillableIo<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if self.killed() {
            return Poll::Ready(Err(dropped()));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if self.killed() {
            return Poll::Ready(Err(dropped()));
        }
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.killed() {
            return Poll::Ready(Err(dropped()));
        }
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.killed() {
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
