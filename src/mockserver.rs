//! What every adapter's mock server shares: a `wiremock` server that hands each request to a
//! dialect handler, a request journal, and fault injection.
//!
//! An adapter's `mock` feature writes only its dialect: a [`Dialect`] that answers one request
//! from the [`VirtualPrinter`]. [`MockServer::start`] wraps it so that every request is
//! journaled, and faults injected with [`MockServer::inject`] are served *instead of* the
//! dialect's answer (a faulted request never reaches the virtual printer).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use wiremock::{Mock, Request, Respond, ResponseTemplate};

use crate::sim::VirtualPrinter;

pub use crate::mocksocket::{MockSocket, MockSocketRx, MockSocketTx, SocketDialect};

/// Answers one request in a vendor's dialect, from the virtual printer.
pub trait Dialect: Send + Sync + 'static {
    /// The answer.
    fn respond(&self, request: &Request, printer: &VirtualPrinter) -> ResponseTemplate;
}

impl<F> Dialect for F
where
    F: Fn(&Request, &VirtualPrinter) -> ResponseTemplate + Send + Sync + 'static,
{
    fn respond(&self, request: &Request, printer: &VirtualPrinter) -> ResponseTemplate {
        self(request, printer)
    }
}

/// One request as the mock received it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recorded {
    /// Method, upper case.
    pub method: String,
    /// Path, without the query.
    pub path: String,
    /// Query string, if any.
    pub query: Option<String>,
    /// Headers, names lower case.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
    /// Whether a fault answered it instead of the dialect.
    pub faulted: bool,
}

impl Recorded {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Something going wrong on purpose.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// The next `count` requests are answered with this status and a short text body.
    Status {
        /// Status code, e.g. 503.
        status: u16,
        /// How many requests.
        count: u32,
    },
    /// The next `count` requests are answered 200 with a body that is not valid JSON.
    Malformed {
        /// How many requests.
        count: u32,
    },
    /// The next `count` requests are answered 200 with a JSON document cut off in the middle.
    /// (hyper refuses to send fewer bytes than a declared `Content-Length`, so the cut is in
    /// the document, not the framing; a connection lost before any answer is [`Fault::Drop`].)
    Truncated {
        /// How many requests.
        count: u32,
    },
    /// The next `count` requests have their connection closed with no response at all.
    Drop {
        /// How many requests.
        count: u32,
    },
    /// The next `count` requests are answered with this redirect status (301, 302, 303, 307,
    /// 308) and a `Location` (another origin, for the hostile cases), without being carried
    /// out.
    Redirect {
        /// The redirect status.
        status: u16,
        /// Where to.
        location: String,
        /// How many requests.
        count: u32,
    },
    /// The next `count` requests are answered 400 with a JSON body that echoes the request's
    /// method, path and headers (credential included) in the fields vendors put their
    /// messages in (`error`, `message`, `detail`), as a debugging proxy might.
    EchoHeaders {
        /// How many requests.
        count: u32,
    },
    /// The next `count` requests are carried out as usual, but their answer is sent only after
    /// `delay`: an answer that arrives after the client's timeout, when the command has
    /// already taken effect.
    Late {
        /// How long the answer waits.
        delay: Duration,
        /// How many requests.
        count: u32,
    },
    /// A counted fault (status, malformed, truncated, drop, redirect, echo, late) that applies to commands
    /// only (any method but GET and HEAD): reads in between pass untouched and do not use it
    /// up. [`MockServer::inject`] panics on any other fault inside.
    OnCommands(Box<Fault>),
    /// Every request waits this long before its answer, until cleared.
    Latency(Duration),
    /// Requests are never answered (within an hour), until cleared.
    Hang,
    /// Every open push socket ([`MockServer::start_with_socket`]) is closed at once, without a
    /// close frame (a lost connection), and new ones are closed as they come, until cleared.
    SocketsDown,
    /// Every request is answered as the dialect answers a bad credential, until cleared.
    /// The dialect decides what that is; see the `auth_failure` given to [`MockServer::start`].
    ExpiredAuth,
}

#[derive(Default)]
pub(crate) struct Faults {
    queue: VecDeque<(Fault, u32)>,
    latency: Option<Duration>,
    hang: bool,
    expired_auth: bool,
    pub(crate) sockets_down: bool,
}

impl Faults {
    /// The fault for the next request (a read: GET or HEAD), using up one of a counted fault.
    pub(crate) fn take(&mut self, read: bool) -> Option<Fault> {
        if self.hang {
            return Some(Fault::Hang);
        }
        if self.expired_auth {
            return Some(Fault::ExpiredAuth);
        }
        let (fault, left) = self.queue.front_mut()?;
        if read && matches!(fault, Fault::OnCommands(_)) {
            return None;
        }
        let fault = match fault {
            Fault::OnCommands(inner) => (**inner).clone(),
            other => other.clone(),
        };
        *left -= 1;
        if *left == 0 {
            self.queue.pop_front();
        }
        Some(fault)
    }
}

#[derive(Default)]
pub(crate) struct Shared {
    pub(crate) journal: Vec<Recorded>,
    pub(crate) faults: Faults,
}

type AuthFailure = Arc<dyn Fn() -> ResponseTemplate + Send + Sync>;

struct Responder {
    dialect: Box<dyn Dialect>,
    printer: VirtualPrinter,
    shared: Arc<Mutex<Shared>>,
    auth_failure: AuthFailure,
}

/// A JSON document cut off in the middle.
pub const TRUNCATED_BODY: &str =
    "{\"state\": {\"text\": \"Printing\", \"flags\": {\"operational\": tr";

/// A body that is not JSON.
pub const MALFORMED_BODY: &str = "{\"state\": {\"text\": \"Operational\", \"flags\": <html>oops";

impl Respond for Responder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let (fault, latency) = {
            let mut shared = self.shared.lock().unwrap_or_else(|p| p.into_inner());
            let f = &mut shared.faults;
            let read = matches!(request.method.as_str(), "GET" | "HEAD");
            let fault = f.take(read);
            let latency = f.latency;
            shared.journal.push(Recorded {
                method: request.method.as_str().to_string(),
                path: request.url.path().to_string(),
                query: request.url.query().map(str::to_string),
                headers: request
                    .headers
                    .iter()
                    .map(|(k, v)| {
                        (
                            k.as_str().to_string(),
                            String::from_utf8_lossy(v.as_bytes()).into_owned(),
                        )
                    })
                    .collect(),
                body: request.body.clone(),
                faulted: fault.is_some(),
            });
            (fault, latency)
        };
        let template = match fault {
            None => self.dialect.respond(request, &self.printer),
            Some(Fault::Late { delay, .. }) => self
                .dialect
                .respond(request, &self.printer)
                .set_delay(delay),
            Some(Fault::Status { status, .. }) => {
                ResponseTemplate::new(status).set_body_raw(status_text(status), "text/plain")
            }
            Some(Fault::Malformed { .. }) => {
                ResponseTemplate::new(200).set_body_raw(MALFORMED_BODY, "application/json")
            }
            Some(Fault::Truncated { .. }) => {
                ResponseTemplate::new(200).set_body_raw(TRUNCATED_BODY, "application/json")
            }
            // A panic in a responder ends hyper's connection task: the client sees the
            // connection closed with no response, which is exactly a dropped connection.
            Some(Fault::Redirect {
                status, location, ..
            }) => ResponseTemplate::new(status).insert_header("location", location.as_str()),
            Some(Fault::EchoHeaders { .. }) => {
                let mut echo = format!("{} {}", request.method, request.url.path());
                for (k, v) in request.headers.iter() {
                    echo.push_str(&format!("; {k}: {}", String::from_utf8_lossy(v.as_bytes())));
                }
                let body = serde_json::json!({ "error": echo, "message": echo, "detail": echo });
                ResponseTemplate::new(400).set_body_json(body)
            }
            Some(Fault::Drop { .. }) => {
                std::panic::resume_unwind(Box::new("polyprint mock: dropping the connection"))
            }
            Some(Fault::Hang) => ResponseTemplate::new(200).set_delay(Duration::from_secs(3600)),
            Some(Fault::ExpiredAuth) => (self.auth_failure)(),
            Some(Fault::Latency(_)) => unreachable!("latency is not queued"),
            Some(Fault::SocketsDown) => unreachable!("sockets down is not queued"),
            Some(Fault::OnCommands(_)) => unreachable!("unwrapped when taken from the queue"),
        };
        match latency {
            Some(d) => template.set_delay(d),
            None => template,
        }
    }
}

fn status_text(status: u16) -> &'static str {
    match status {
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        429 => "Too Many Requests",
        _ => "Error",
    }
}

/// Transport settings for tests against a mock on this machine: short timeouts and retries
/// a few milliseconds apart (the defaults are meant for real networks).
pub fn quick_http() -> crate::transport::HttpConfig {
    use crate::transport::{HttpConfig, RetryPolicy};
    HttpConfig {
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(5),
        retry: RetryPolicy {
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
            max_retry_after: Duration::from_secs(1),
            ..RetryPolicy::default()
        },
        ..HttpConfig::default()
    }
}

/// What every adapter's mock offers, whatever its dialect: enough for a tool (the CLI's `mock`
/// command, its demo, a test harness) to serve any of them and point a client at it.
pub trait VendorMock: Send + Sync + 'static {
    /// The server: journal and faults.
    fn mock_server(&self) -> &MockServer;
    /// The base URL a client of this backend connects to.
    fn base_url(&self) -> String;
    /// The credential the mock accepts (API key or token).
    fn credential(&self) -> String;
    /// The backend's id of the printer, where the backend addresses printers by id.
    fn printer_id(&self) -> Option<String> {
        None
    }
}

/// The key paths of a JSON value (`.printer.state`; array elements merged under `[]`): what a
/// mock-fidelity test compares between a mock's answer and a real server's, values aside.
///
/// ```
/// let v = serde_json::json!({"a": {"b": 1}, "list": [{"x": 1}, {"y": 2}]});
/// let paths: Vec<String> = polyprint::mockserver::key_paths(&v).into_iter().collect();
/// assert_eq!(paths, [".a", ".a.b", ".list", ".list[].x", ".list[].y"]);
/// ```
pub fn key_paths(v: &serde_json::Value) -> std::collections::BTreeSet<String> {
    fn walk(v: &serde_json::Value, at: String, out: &mut std::collections::BTreeSet<String>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, v) in m {
                    let p = format!("{at}.{k}");
                    out.insert(p.clone());
                    walk(v, p, out);
                }
            }
            serde_json::Value::Array(a) => {
                for v in a {
                    walk(v, format!("{at}[]"), out);
                }
            }
            _ => {}
        }
    }
    let mut out = std::collections::BTreeSet::new();
    walk(v, String::new(), &mut out);
    out
}

/// A running mock server: the dialect over the virtual printer, on 127.0.0.1, with a journal
/// and fault injection. Stops when dropped.
pub struct MockServer {
    /// Always `Some` until dropped (see the `Drop` impl).
    server: Option<wiremock::MockServer>,
    printer: VirtualPrinter,
    shared: Arc<Mutex<Shared>>,
    /// With a push socket: the front door's address and task (see [`crate::mocksocket`]).
    front: Option<(std::net::SocketAddr, tokio::task::JoinHandle<()>)>,
    sockets: crate::mocksocket::OpenSockets,
}

impl MockServer {
    /// Starts a server on a free port of 127.0.0.1. `auth_failure` is what the dialect answers
    /// to a bad credential (used by [`Fault::ExpiredAuth`]).
    pub async fn start(
        dialect: impl Dialect,
        printer: VirtualPrinter,
        auth_failure: impl Fn() -> ResponseTemplate + Send + Sync + 'static,
    ) -> MockServer {
        MockServer::start_on(dialect, printer, auth_failure, None).await
    }

    /// Like [`MockServer::start`], on a given port of 127.0.0.1 (`None` for a free one).
    pub async fn start_on(
        dialect: impl Dialect,
        printer: VirtualPrinter,
        auth_failure: impl Fn() -> ResponseTemplate + Send + Sync + 'static,
        port: Option<u16>,
    ) -> MockServer {
        MockServer::launch(dialect, printer, auth_failure, port, None).await
    }

    /// Like [`MockServer::start_on`], with a push socket on the same port: a WebSocket
    /// upgrade for `socket`'s path goes to it, everything else to `dialect` (see
    /// [`crate::mocksocket`]).
    pub async fn start_with_socket(
        dialect: impl Dialect,
        socket: impl SocketDialect,
        printer: VirtualPrinter,
        auth_failure: impl Fn() -> ResponseTemplate + Send + Sync + 'static,
        port: Option<u16>,
    ) -> MockServer {
        MockServer::launch(dialect, printer, auth_failure, port, Some(Arc::new(socket))).await
    }

    async fn launch(
        dialect: impl Dialect,
        printer: VirtualPrinter,
        auth_failure: impl Fn() -> ResponseTemplate + Send + Sync + 'static,
        port: Option<u16>,
        socket: Option<Arc<dyn SocketDialect>>,
    ) -> MockServer {
        let public = std::net::TcpListener::bind(("127.0.0.1", port.unwrap_or(0)))
            .expect("binding a port on 127.0.0.1 for the mock server");
        // With a socket, wiremock listens behind the front door on a port of its own.
        let listener = match socket {
            Some(_) => std::net::TcpListener::bind(("127.0.0.1", 0))
                .expect("binding a port on 127.0.0.1 for the mock server"),
            None => public.try_clone().expect("a listener's handle"),
        };
        let server = wiremock::MockServer::builder()
            .listener(listener)
            .start()
            .await;
        let shared = Arc::new(Mutex::new(Shared::default()));
        Mock::given(wiremock::matchers::any())
            .respond_with(Responder {
                dialect: Box::new(dialect),
                printer: printer.clone(),
                shared: shared.clone(),
                auth_failure: Arc::new(auth_failure),
            })
            .mount(&server)
            .await;
        let sockets = crate::mocksocket::OpenSockets::default();
        let front = match socket {
            None => {
                drop(public);
                None
            }
            Some(dialect) => {
                let address = public.local_addr().expect("a bound address");
                public
                    .set_nonblocking(true)
                    .expect("a non-blocking listener");
                let listener =
                    tokio::net::TcpListener::from_std(public).expect("a listener on the runtime");
                let door = Arc::new(crate::mocksocket::FrontDoor {
                    upstream: *server.address(),
                    dialect,
                    printer: printer.clone(),
                    shared: shared.clone(),
                    sockets: sockets.clone(),
                });
                Some((address, tokio::spawn(door.run(listener))))
            }
        };
        MockServer {
            server: Some(server),
            printer,
            shared,
            front,
            sockets,
        }
    }

    fn server(&self) -> &wiremock::MockServer {
        self.server.as_ref().expect("present until dropped")
    }

    /// `http://127.0.0.1:PORT`.
    pub fn uri(&self) -> String {
        format!("http://127.0.0.1:{}", self.port())
    }

    /// The port.
    pub fn port(&self) -> u16 {
        match &self.front {
            Some((address, _)) => address.port(),
            None => self.server().address().port(),
        }
    }

    /// The virtual printer behind it.
    pub fn printer(&self) -> &VirtualPrinter {
        &self.printer
    }

    /// Queues a fault (counted faults run one after another; latency, hang and expired auth
    /// hold until [`MockServer::clear_faults`]).
    pub fn inject(&self, fault: Fault) {
        let mut shared = self.shared.lock().unwrap_or_else(|p| p.into_inner());
        let f = &mut shared.faults;
        match fault {
            Fault::Latency(d) => f.latency = Some(d),
            Fault::Hang => f.hang = true,
            Fault::ExpiredAuth => f.expired_auth = true,
            Fault::SocketsDown => {
                f.sockets_down = true;
                self.sockets.close_all();
            }
            Fault::Status { count, .. }
            | Fault::Malformed { count }
            | Fault::Truncated { count }
            | Fault::Drop { count }
            | Fault::EchoHeaders { count }
            | Fault::Late { count, .. }
            | Fault::Redirect { count, .. } => {
                if count > 0 {
                    f.queue.push_back((fault, count));
                }
            }
            Fault::OnCommands(inner) => {
                let count = match &*inner {
                    Fault::Status { count, .. }
                    | Fault::Malformed { count }
                    | Fault::Truncated { count }
                    | Fault::Drop { count }
                    | Fault::EchoHeaders { count }
                    | Fault::Late { count, .. }
                    | Fault::Redirect { count, .. } => *count,
                    other => panic!("Fault::OnCommands takes a counted fault, not {other:?}"),
                };
                if count > 0 {
                    f.queue.push_back((Fault::OnCommands(inner), count));
                }
            }
        }
    }

    /// Removes every fault.
    pub fn clear_faults(&self) {
        self.shared.lock().unwrap_or_else(|p| p.into_inner()).faults = Faults::default();
    }

    /// Every request received so far.
    pub fn journal(&self) -> Vec<Recorded> {
        self.shared
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .journal
            .clone()
    }

    /// How many requests were received.
    pub fn request_count(&self) -> usize {
        self.shared
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .journal
            .len()
    }

    /// Forgets the journal.
    pub fn clear_journal(&self) {
        self.shared
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .journal
            .clear();
    }
}

impl Drop for MockServer {
    /// wiremock's own drop blocks (`block_on`) on the server's state, which was seen to hang
    /// a test's async runtime. It runs on a thread of its own instead; the server's port is
    /// released when that thread finishes, moments later.
    fn drop(&mut self) {
        if let Some((_, door)) = self.front.take() {
            door.abort();
        }
        self.sockets.close_all();
        if let Some(server) = self.server.take() {
            std::thread::spawn(move || drop(server));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::{Auth, HttpConfig, Request, RetryPolicy, Transport};
    use crate::Error;

    fn echo(_: &wiremock::Request, p: &VirtualPrinter) -> ResponseTemplate {
        ResponseTemplate::new(200).set_body_json(serde_json::json!({"state": p.view().state}))
    }

    async fn server() -> (MockServer, Transport) {
        let m = MockServer::start(echo, VirtualPrinter::new(), || ResponseTemplate::new(403)).await;
        let cfg = HttpConfig {
            request_timeout: Duration::from_millis(300),
            retry: RetryPolicy {
                max_attempts: 1,
                ..RetryPolicy::default()
            },
            ..HttpConfig::default()
        };
        let t = Transport::new(&m.uri(), Auth::None, cfg).unwrap();
        (m, t)
    }

    #[tokio::test]
    async fn faults_replace_answers_and_are_journaled() {
        let (m, t) = server().await;
        m.inject(Fault::Status {
            status: 503,
            count: 1,
        });
        m.inject(Fault::Malformed { count: 1 });
        m.inject(Fault::Truncated { count: 1 });
        m.inject(Fault::Drop { count: 1 });
        assert_eq!(t.send(Request::get("a")).await.unwrap().status, 503);
        let r = t.send(Request::get("b")).await.unwrap();
        assert!(r.json::<serde_json::Value>().is_err());
        let r = t.send(Request::get("c")).await.unwrap();
        let err = r.json::<serde_json::Value>().unwrap_err();
        assert!(matches!(err, Error::Protocol { .. }), "truncated: {err}");
        let err = t.send(Request::get("d")).await.unwrap_err();
        assert!(matches!(err, Error::Unreachable { .. }), "dropped: {err}");
        let ok = t.send(Request::get("e")).await.unwrap();
        assert_eq!(ok.status, 200);
        let j = m.journal();
        assert_eq!(j.len(), 5);
        assert_eq!(
            j.iter().map(|r| r.faulted).collect::<Vec<_>>(),
            [true, true, true, true, false]
        );
        assert_eq!(j[4].path, "/e");
        m.inject(Fault::Hang);
        let err = t.send(Request::get("f")).await.unwrap_err();
        assert!(matches!(err, Error::Timeout { .. }), "{err}");
        m.clear_faults();
        m.inject(Fault::ExpiredAuth);
        assert_eq!(t.send(Request::get("g")).await.unwrap().status, 403);
    }
}
