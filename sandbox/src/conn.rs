//! A TCP listener for `axum::serve` whose connections a handler can cut: `Misbehaviour::DropConnection`
//! needs the socket closed without any response, which a handler cannot express through HTTP.
//!
//! Each accepted stream carries a kill switch that is also handed to the handler (as connect info).
//! Once it is set, writes fail, so hyper abandons the connection before a single response byte is
//! sent, and dropping the stream closes the socket.

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

pub(crate) struct KillableListener(pub TcpListener);

/// The handler's handle on its connection.
#[derive(Clone, Debug, Default)]
pub(crate) struct Conn {
    killed: Arc<AtomicBool>,
}

impl Conn {
    /// From now on the connection neither reads nor writes; hyper then drops it.
    pub fn kill(&self) {
        self.killed.store(true, Ordering::SeqCst);
    }
}

pub(crate) struct KillableIo {
    inner: TcpStream,
    killed: Arc<AtomicBool>,
}

impl KillableIo {
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
                    return (
                        KillableIo {
                            inner: stream,
                            killed: conn.killed.clone(),
                        },
                        conn,
                    );
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

impl AsyncRead for KillableIo {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        if self.killed() {
            return Poll::Ready(Err(dropped()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for KillableIo {
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
