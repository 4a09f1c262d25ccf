//! Servers that run on a thread of their own, so they work from any async runtime (or none).

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::thread;

use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// A server running on its own thread and tokio runtime, stopped when dropped.
#[derive(Debug)]
pub(crate) struct Background {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
}

impl Background {
    /// Binds `127.0.0.1:0` and runs `serve(listener)` on a new thread until dropped.
    pub(crate) fn start<F, Fut>(name: &str, serve: F) -> io::Result<Self>
    where
        F: FnOnce(TcpListener) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        Self::start_on(name, 0, serve)
    }

    /// [`start`](Self::start) on 127.0.0.1:`port` (0: a free port).
    pub(crate) fn start_on<F, Fut>(name: &str, port: u16, serve: F) -> io::Result<Self>
    where
        F: FnOnce(TcpListener) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        let std_listener = std::net::TcpListener::bind(("127.0.0.1", port))?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<io::Result<()>>();
        thread::Builder::new().name(format!("oauth2-kit-testkit-{name}")).spawn(move || {
            runtime.block_on(async move {
                let listener = match TcpListener::from_std(std_listener) {
                    Ok(listener) => listener,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                let _ = ready_tx.send(Ok(()));
                tokio::select! {
                    () = serve(listener) => {}
                    _ = stopped => {}
                }
            });
            // Dropping the runtime here cancels every connection task.
        })?;
        ready_rx.recv().map_err(|_| io::Error::other("server thread ended before it was ready"))??;
        Ok(Self { addr, stop: Some(stop) })
    }

    /// The address the server listens on.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
