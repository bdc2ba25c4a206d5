//! The HTTPS listener: TLS with optional client certificates, HTTP/1.1, one task per connection, on
//! a thread of its own so synchronous tests (a CLI run) and async tests can both use it.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming as Body;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio_rustls::TlsAcceptor;

use crate::RecordedRequest;
use crate::api::{Api, Incoming};
use crate::pki::Pki;

pub(crate) struct Running {
    pub address: SocketAddr,
    shutdown: oneshot::Sender<()>,
    thread: JoinHandle<()>,
}

impl Running {
    pub fn stop(self) {
        // The receiver is gone only if the server loop already ended; nothing left to stop then.
        let _ = self.shutdown.send(());
        let _ = self.thread.join();
    }
}

pub(crate) fn start(
    api: Arc<Api>,
    pki: &Pki,
    log: Arc<Mutex<Vec<RecordedRequest>>>,
) -> io::Result<Running> {
    let acceptor = TlsAcceptor::from(Arc::new(pki.server_config()?));
    let issued = pki.issued();
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0))?;
    listener.set_nonblocking(true)?;
    let address = listener.local_addr()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (shutdown, stopped) = oneshot::channel();
    let thread = std::thread::Builder::new()
        .name("fake-apiserver".to_string())
        .spawn(move || {
            runtime.block_on(async move {
                let Ok(listener) = TcpListener::from_std(listener) else {
                    return;
                };
                let context = Arc::new(Context { api, issued, log });
                tokio::select! {
                    _ = stopped => {}
                    _ = accept_loop(listener, acceptor, context) => {}
                }
            });
            // Dropping the runtime here cancels the connection tasks still open (keep-alive).
        })?;
    Ok(Running {
        address,
        shutdown,
        thread,
    })
}

struct Context {
    api: Arc<Api>,
    issued: Arc<Mutex<BTreeMap<Vec<u8>, String>>>,
    log: Arc<Mutex<Vec<RecordedRequest>>>,
}

async fn accept_loop(listener: TcpListener, acceptor: TlsAcceptor, context: Arc<Context>) {
    loop {
        let Ok((stream, _peer)) = listener.accept().await else {
            // Out of file descriptors and the like: back off instead of spinning.
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            continue;
        };
        let acceptor = acceptor.clone();
        let context = Arc::clone(&context);
        tokio::spawn(async move {
            // A failed handshake (an untrusting client, a closed probe) ends this connection only.
            let Ok(tls) = acceptor.accept(stream).await else {
                return;
            };
            let certificate_user = tls
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|chain| chain.first())
                .and_then(|leaf| {
                    context
                        .issued
                        .lock()
                        .ok()
                        .and_then(|issued| issued.get(leaf.as_ref()).cloned())
                });
            let service = service_fn(move |request: Request<Body>| {
                let reply = answer(&context, &request, certificate_user.as_deref());
                async move { Ok::<_, Infallible>(reply) }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(tls), service)
                .await;
        });
    }
}

fn answer(
    context: &Context,
    request: &Request<Body>,
    certificate_user: Option<&str>,
) -> Response<Full<Bytes>> {
    let header = |name: hyper::header::HeaderName| {
        request
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
    };
    let incoming = Incoming {
        method: request.method().as_str(),
        path: request.uri().path(),
        query: request.uri().query(),
        accept: header(hyper::header::ACCEPT),
        authorization: header(hyper::header::AUTHORIZATION),
        certificate_user,
    };
    let (reply, user) = context.api.handle(&incoming);
    if let Ok(mut log) = context.log.lock() {
        log.push(RecordedRequest {
            method: incoming.method.to_string(),
            path: incoming.path.to_string(),
            query: incoming.query.map(str::to_string),
            user,
            status: reply.status,
        });
    }
    let mut response = Response::new(Full::new(reply.body));
    *response.status_mut() = hyper::StatusCode::from_u16(reply.status)
        .unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    headers.insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static(reply.content_type),
    );
    headers.insert(
        hyper::header::CACHE_CONTROL,
        hyper::header::HeaderValue::from_static("no-cache, private"),
    );
    headers.insert(
        "x-content-type-options",
        hyper::header::HeaderValue::from_static("nosniff"),
    );
    response
}
