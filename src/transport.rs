//! The one HTTP layer every adapter goes through.
//!
//! * reqwest with rustls; timeouts on connect and on the whole request.
//! * Retries with exponential backoff, full jitter and `Retry-After`, **only** for requests
//!   marked [`Idempotency::Safe`]. A [`Idempotency::Command`] is sent once, whatever happens.
//! * Credentials ([`Secret`]) are injected per request and never appear in `Debug`, logs or
//!   errors; errors name the endpoint without userinfo or query.
//! * Response bodies are capped ([`HttpConfig::max_response_bytes`]); what cannot be decoded
//!   becomes [`Error::Protocol`] with a short snippet, never a panic.
//! * Each attempt is logged in a `tracing` span with method, path, status and duration.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::StreamExt;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE, RETRY_AFTER};
use reqwest::Method;
use serde::de::DeserializeOwned;
use tracing::Instrument;
use url::Url;

use crate::error::{Error, Result};
use crate::printer::{CheckedUpload, ProgressFn, UploadProgress, UploadSource};

/// A credential. Its `Debug` prints `Secret(***)` and its `Display` `***`; read it with
/// [`Secret::expose`].
///
/// ```
/// use polyprint::transport::Secret;
///
/// let key = Secret::new("hunter2");
/// assert_eq!(format!("{key:?} {key}"), "Secret(***) ***");
/// assert_eq!(key.expose(), "hunter2");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Arc<str>);

impl Secret {
    /// Wraps a credential.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(Arc::from(value.into()))
    }
    /// The credential itself. Do not log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Secret::new(s)
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Secret::new(s)
    }
}

/// How requests authenticate.
#[derive(Clone, Debug)]
pub enum Auth {
    /// No credentials.
    None,
    /// A header carrying the secret, e.g. `X-Api-Key`.
    Header(HeaderName, Secret),
    /// `Authorization: Bearer <secret>`.
    Bearer(Secret),
    /// `Authorization: Basic`.
    Basic {
        /// User name.
        user: String,
        /// Password.
        password: Secret,
    },
    /// HTTP Digest ([`crate::digest`]): the first request learns the server's challenge from
    /// its 401 and is sent once more with the answer (a 401 is a refusal: nothing was carried
    /// out, so a command is still sent to be carried out once); later requests answer the
    /// kept challenge at once, with a fresh client nonce and the next nonce count. A stale
    /// nonce is answered again the same way.
    Digest {
        /// User name.
        user: String,
        /// Password.
        password: Secret,
    },
}

/// A Digest challenge kept between requests, with the count of its nonce's uses.
#[derive(Default)]
struct DigestState {
    kept: std::sync::Mutex<Option<(crate::digest::Challenge, u32)>>,
}

impl DigestState {
    /// The header for one request under the kept challenge, and the nonce it answers.
    fn answer(
        &self,
        user: &str,
        password: &Secret,
        method: &str,
        uri: &str,
    ) -> Option<(HeaderValue, String)> {
        let mut kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        let (challenge, nc) = kept.as_mut()?;
        *nc = nc.wrapping_add(1);
        let answer = crate::digest::Answer::new(
            challenge,
            user,
            password.expose(),
            method,
            uri,
            *nc,
            &crate::digest::cnonce(),
        );
        let mut v = HeaderValue::from_str(&answer.header()).ok()?;
        v.set_sensitive(true);
        Some((v, challenge.nonce.clone()))
    }

    fn keep(&self, challenge: crate::digest::Challenge) {
        *self.kept.lock().unwrap_or_else(|p| p.into_inner()) = Some((challenge, 0));
    }
}

/// Whether a request may be sent again after a transient failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Idempotency {
    /// Reads and idempotent writes: retried on transient failures.
    Safe,
    /// Anything that starts, pauses, cancels, moves, heats, uploads or deletes: sent once.
    Command,
}

/// Retry policy for [`Idempotency::Safe`] requests.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all, including the first (1 disables retries).
    pub max_attempts: u32,
    /// Backoff before the second attempt; doubled each time, with full jitter.
    pub base_delay: Duration,
    /// Longest backoff.
    pub max_delay: Duration,
    /// Longest `Retry-After` honoured; a longer one ends the retries.
    pub max_retry_after: Duration,
    /// Response statuses that mean "try again" for a safe request. The default is HTTP's
    /// [`RetryPolicy::HTTP_TRANSIENT`]; a vendor with its own temporary statuses adds them
    /// (OctoEverywhere's 601, 602, 609).
    pub retry_statuses: &'static [u16],
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(2),
            max_retry_after: Duration::from_secs(10),
            retry_statuses: RetryPolicy::HTTP_TRANSIENT,
        }
    }
}

impl RetryPolicy {
    /// 429, 502, 503 and 504.
    pub const HTTP_TRANSIENT: &'static [u16] = &[429, 502, 503, 504];

    /// The backoff before attempt `attempt + 1` (attempt counted from 1), with full jitter.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
        let cap = exp.min(self.max_delay);
        let jitter: f64 = rand::random();
        cap.mul_f64(0.5 + jitter / 2.0)
    }
}

/// Transport settings. The defaults, which every adapter's builder starts from:
///
/// | setting | default |
/// |---|---|
/// | [`connect_timeout`](HttpConfig::connect_timeout) | 5 s |
/// | [`request_timeout`](HttpConfig::request_timeout): one attempt | 15 s |
/// | [`deadline`](HttpConfig::deadline): a whole call, retries included | 30 s |
/// | [`retry`](HttpConfig::retry): attempts of a safe request (never of a command) | 4, backoff 100 ms doubling to 2 s with jitter, `Retry-After` honoured up to 10 s |
/// | [`upload_timeout`](HttpConfig::upload_timeout) | 1 h |
/// | [`upload_idle_timeout`](HttpConfig::upload_idle_timeout): an upload without progress | 60 s |
/// | [`max_response_bytes`](HttpConfig::max_response_bytes) | 16 MiB |
///
/// ```
/// use polyprint::transport::HttpConfig;
/// use std::time::Duration;
///
/// let config = HttpConfig::default();
/// assert_eq!(config.request_timeout, Duration::from_secs(15));
/// assert_eq!(config.retry.max_attempts, 4);
/// ```
#[derive(Clone, Debug)]
pub struct HttpConfig {
    /// Time to establish a connection.
    pub connect_timeout: Duration,
    /// Time for one attempt of a request, body included (uploads use
    /// [`HttpConfig::upload_timeout`]).
    pub request_timeout: Duration,
    /// Time for a whole call: every attempt, backoff and `Retry-After` wait of one request
    /// together (uploads excepted: they have [`HttpConfig::upload_timeout`]). A wait the
    /// deadline cannot cover is not started; an attempt is cut short where it would outlast
    /// it, and the [`Error::Timeout`] then says how long the call took.
    pub deadline: Duration,
    /// Time for a whole upload.
    pub upload_timeout: Duration,
    /// How long an upload may go without the server taking a byte before it is given up
    /// (the upload then ends as [`Error::OutcomeUnknown`]: part of the file may be stored).
    pub upload_idle_timeout: Duration,
    /// Retries for safe requests.
    pub retry: RetryPolicy,
    /// Largest response body accepted.
    pub max_response_bytes: usize,
    /// A client to use instead of building one, so that many printers share one connection
    /// pool (a fleet opened through the registry). Its own timeouts then apply to the
    /// connection; build it with [`build_client`] from the same settings.
    pub shared_client: Option<reqwest::Client>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(15),
            deadline: Duration::from_secs(30),
            upload_timeout: Duration::from_secs(3600),
            upload_idle_timeout: Duration::from_secs(60),
            retry: RetryPolicy::default(),
            max_response_bytes: 16 << 20,
            shared_client: None,
        }
    }
}

/// A request body.
#[derive(Debug)]
pub enum Body {
    /// No body.
    Empty,
    /// A JSON document.
    Json(Vec<u8>),
    /// Bytes with a content type.
    Bytes(&'static str, Bytes),
    /// A multipart form with one streamed file part (OctoPrint-style uploads).
    MultipartFile {
        /// The form field name of the file.
        field: &'static str,
        /// Extra text fields.
        fields: Vec<(&'static str, String)>,
        /// The upload.
        upload: Box<CheckedUploadBody>,
    },
    /// The raw bytes of an upload, streamed (PUT-style uploads).
    RawUpload(&'static str, Box<CheckedUploadBody>),
}

/// The part of a [`CheckedUpload`] a body needs (it is not `Debug` because of the callback).
pub struct CheckedUploadBody(pub CheckedUpload);

impl std::fmt::Debug for CheckedUploadBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "upload {} ({} bytes)", self.0.name, self.0.size)
    }
}

impl Body {
    /// Serialises a value as JSON.
    pub fn json<T: serde::Serialize + ?Sized>(value: &T) -> Body {
        Body::Json(serde_json::to_vec(value).expect("serialising a request body cannot fail"))
    }
}

/// A request, relative to the transport's base URL.
#[derive(Debug)]
pub struct Request {
    /// Method.
    pub method: Method,
    /// Path and query, relative to the base URL (a leading `/` is allowed).
    pub path: String,
    /// Body.
    pub body: Body,
    /// Whether it may be repeated.
    pub idempotency: Idempotency,
    /// Extra headers.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// Skip the transport's credentials (public endpoints, or an explicit header set here).
    pub no_auth: bool,
}

impl Request {
    /// A safe GET.
    pub fn get(path: impl Into<String>) -> Request {
        Request::new(Method::GET, path, Idempotency::Safe)
    }

    /// A command POST with a JSON body.
    pub fn command(path: impl Into<String>, body: Body) -> Request {
        let mut r = Request::new(Method::POST, path, Idempotency::Command);
        r.body = body;
        r
    }

    /// Any request.
    pub fn new(method: Method, path: impl Into<String>, idempotency: Idempotency) -> Request {
        Request {
            method,
            path: path.into(),
            body: Body::Empty,
            idempotency,
            headers: Vec::new(),
            no_auth: false,
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Request {
        self.headers.push((name, value));
        self
    }
}

/// A response whose body was read whole (within the cap).
#[derive(Clone, Debug)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Headers.
    pub headers: HeaderMap,
    /// Body.
    pub body: Bytes,
}

impl Response {
    /// 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The `Content-Type`, if any.
    pub fn content_type(&self) -> Option<&str> {
        self.headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok())
    }

    /// Decodes the body as JSON (with [`json_from_bytes`]), or explains why not with a short
    /// snippet.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        json_from_bytes(&self.body).map_err(|e| {
            Error::protocol_from(
                format!(
                    "HTTP {} body is not the JSON expected ({e}): {}",
                    self.status,
                    self.snippet()
                ),
                e,
            )
        })
    }

    /// The first 200 characters of the body, as text, on one line.
    pub fn snippet(&self) -> String {
        snippet(&self.body)
    }

    /// The server's `Retry-After`, in seconds form.
    pub fn retry_after(&self) -> Option<Duration> {
        retry_after(&self.headers)
    }
}

/// Decodes a JSON body as `T`: what every adapter's reads go through.
///
/// The whole body is checked as UTF-8 once and then parsed as text. That accepts and refuses
/// exactly what `serde_json::from_slice` does, for about 15% fewer instructions on a status
/// document: `from_slice` checks every string on its own (BENCHMARKS.md, table 1).
///
/// ```
/// let v: Vec<u8> = polyprint::transport::json_from_bytes(b"[1, 2]").unwrap();
/// assert_eq!(v, [1, 2]);
/// assert!(polyprint::transport::json_from_bytes::<String>(b"\"\xff\"").is_err());
/// ```
pub fn json_from_bytes<T: DeserializeOwned>(body: &[u8]) -> serde_json::Result<T> {
    let text = std::str::from_utf8(body).map_err(|e| {
        <serde_json::Error as serde::de::Error>::custom(format!(
            "invalid UTF-8 after byte {}",
            e.valid_up_to()
        ))
    })?;
    serde_json::from_str(text)
}

/// The first 200 characters of a body as one line of text. In a JSON body, the values of
/// keys that name a credential (`auth_token`, `apikey`, `password`, `secret`, ...) are shown
/// as `***`: a vendor's own tokens (Obico's `auth_token`) never reach an error message.
pub fn snippet(body: &[u8]) -> String {
    let redacted = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .filter(|v| v.is_object() || v.is_array())
        .map(|mut v| {
            redact_credentials(&mut v);
            v.to_string().into_bytes()
        });
    let body = redacted.as_deref().unwrap_or(body);
    let text = String::from_utf8_lossy(body);
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(200)
        .collect();
    let one_line = one_line.trim().to_string();
    if text.chars().count() > 200 {
        format!("{one_line}…")
    } else if one_line.is_empty() {
        "(empty body)".to_string()
    } else {
        one_line
    }
}

/// Replaces, anywhere in `v`, the value of every key that names a credential with `***`.
fn redact_credentials(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, child) in map.iter_mut() {
                let k = k.to_ascii_lowercase();
                let secret = [
                    "token",
                    "apikey",
                    "api_key",
                    "password",
                    "secret",
                    "authorization",
                ]
                .iter()
                .any(|s| k.contains(s));
                if secret && !child.is_null() {
                    *child = serde_json::Value::String("***".into());
                } else {
                    redact_credentials(child);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(redact_credentials),
        _ => {}
    }
}

/// The heading of an HTML error page (its `<h1>`, else its `<title>`), trimmed to 120
/// characters; `None` when the body is not such a page. Servers answer some failures with HTML
/// (OctoPrint's 500s, Obico's ML failure); this turns them into a message a person can read.
pub fn html_heading(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    ["h1", "title"].iter().find_map(|tag| {
        let start = text.find(&format!("<{tag}>"))? + tag.len() + 2;
        let end = text[start..].find(&format!("</{tag}>"))? + start;
        let heading: String = text[start..end].trim().chars().take(120).collect();
        (!heading.is_empty()).then_some(heading)
    })
}

/// Unreserved characters stay; everything else in a URL path segment is percent-encoded.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes one URL path segment (a UUID, a file name): `/` is encoded too.
pub fn encode_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    push_encoded_segment(&mut out, segment);
    out
}

/// Appends one URL path segment to `out`, percent-encoded as [`encode_segment`] does: for
/// building a path or query in one buffer.
///
/// ```
/// let mut path = String::from("files/");
/// polyprint::transport::push_encoded_segment(&mut path, "my part.gcode");
/// assert_eq!(path, "files/my%20part.gcode");
/// ```
pub fn push_encoded_segment(out: &mut String, segment: &str) {
    out.extend(percent_encoding::utf8_percent_encode(segment, SEGMENT));
}

/// Percent-encodes a relative path segment by segment; the `/` between segments stays.
pub fn encode_path(path: &str) -> String {
    path.split('/')
        .map(encode_segment)
        .collect::<Vec<_>>()
        .join("/")
}

/// A URL as typed, for a message about it: userinfo (`user:password@`) becomes `***@`, and
/// the query and fragment are dropped, since that is where credentials hide. Works on text
/// that does not parse as a URL too.
pub fn redacted_url_text(text: &str) -> String {
    let text = text.split(['?', '#']).next().unwrap_or("");
    let (scheme, rest) = match text.find("://") {
        Some(i) => text.split_at(i + 3),
        None => ("", text),
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}***{}", &rest[at..]),
        None => text.to_string(),
    }
}

/// How many redirects within the configured origin a read follows.
const MAX_REDIRECTS: u32 = 5;

/// A URL as it may be shown: scheme, host, port and path, without userinfo, query or
/// fragment (where credentials hide).
pub fn shown_url(url: &Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_query(None);
    shown.set_fragment(None);
    shown.to_string()
}

/// `user:password` in base64, as HTTP Basic auth sends it.
fn basic_encoded(user: &str, password: &Secret) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{}", password.expose()))
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = headers.get(RETRY_AFTER)?.to_str().ok()?;
    v.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// An HTTP client bound to one base URL and one credential. Cheap to clone; clones share the
/// connection pool. Several transports can share one pool through [`Transport::with_client`].
#[derive(Clone)]
pub struct Transport {
    client: reqwest::Client,
    base: Url,
    endpoint: Arc<str>,
    auth: Auth,
    /// The credential header, built once (marked sensitive); `None` for no auth.
    auth_header: Option<(HeaderName, HeaderValue)>,
    /// The kept challenge, for [`Auth::Digest`] (clones share it).
    digest: Option<Arc<DigestState>>,
    config: HttpConfig,
    commands: crate::watch::Commands,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("endpoint", &self.endpoint)
            .field("auth", &self.auth)
            .finish()
    }
}

/// The client for `config`: its [`HttpConfig::shared_client`] when set, else a new reqwest
/// client with the config's timeouts (share it across transports for fleets).
pub fn build_client(config: &HttpConfig) -> Result<reqwest::Client> {
    if let Some(shared) = &config.shared_client {
        return Ok(shared.clone());
    }
    reqwest::Client::builder()
        .connect_timeout(config.connect_timeout)
        .timeout(config.request_timeout)
        .pool_idle_timeout(Duration::from_secs(60))
        .tcp_nodelay(true)
        // Redirects are the transport's to decide (see `Transport::send`): reqwest would carry
        // custom credential headers such as X-Api-Key to another origin, and turn a POST into
        // a GET.
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("polyprint/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| Error::invalid("HTTP client", e.to_string()))
}

/// Checks a base URL: http or https, a host, no query or fragment. Userinfo is refused (give
/// credentials separately so they stay secret). A trailing `/` is added.
pub fn parse_base_url(base: &str) -> Result<Url> {
    let mut url = Url::parse(base.trim()).map_err(|e| {
        Error::invalid(
            "URL",
            format!("{:?} is not a URL: {e}", redacted_url_text(base)),
        )
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Error::invalid("URL", "must start with http:// or https://"));
    }
    if url.host_str().is_none_or(|h| h.is_empty()) {
        return Err(Error::invalid("URL", "has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::invalid(
            "URL",
            "must not carry credentials; pass them as a key or token",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::invalid("URL", "must not have a query or fragment"));
    }
    if !url.path().ends_with('/') {
        let p = format!("{}/", url.path());
        url.set_path(&p);
    }
    Ok(url)
}

impl Transport {
    /// A transport with its own connection pool.
    pub fn new(base: &str, auth: Auth, config: HttpConfig) -> Result<Transport> {
        let client = build_client(&config)?;
        Transport::with_client(client, base, auth, config)
    }

    /// A transport over a shared client (and so a shared pool).
    pub fn with_client(
        client: reqwest::Client,
        base: &str,
        auth: Auth,
        config: HttpConfig,
    ) -> Result<Transport> {
        let base = parse_base_url(base)?;
        let endpoint: Arc<str> = Arc::from(base.as_str().trim_end_matches('/'));
        let header = |name: HeaderName, value: String| {
            let mut v = HeaderValue::from_str(&value).map_err(|_| {
                Error::invalid("credential", "contains characters a header cannot carry")
            })?;
            v.set_sensitive(true);
            Ok::<_, Error>(Some((name, v)))
        };
        let auth_header = match &auth {
            Auth::None | Auth::Digest { .. } => None,
            Auth::Basic { user, password } => header(
                reqwest::header::AUTHORIZATION,
                format!("Basic {}", basic_encoded(user, password)),
            )?,
            Auth::Header(name, secret) => header(name.clone(), secret.expose().to_string())?,
            Auth::Bearer(secret) => header(
                reqwest::header::AUTHORIZATION,
                format!("Bearer {}", secret.expose()),
            )?,
        };
        Ok(Transport {
            client,
            base,
            endpoint,
            digest: matches!(auth, Auth::Digest { .. }).then(Default::default),
            auth,
            auth_header,
            config,
            commands: crate::watch::Commands::new(),
        })
    }

    /// The commands this transport has sent (clones share the count): an adapter's
    /// [`Backend::commands`](crate::Backend::commands).
    pub fn commands(&self) -> &crate::watch::Commands {
        &self.commands
    }

    /// The credential header this transport sends to its own origin, for a channel opened
    /// beside the HTTP requests ([`Transport::websocket`]).
    pub(crate) fn auth_header(&self) -> Option<(HeaderName, HeaderValue)> {
        self.auth_header.clone()
    }

    /// The credential this transport sends, as the server may echo it: the secret itself
    /// and, for Basic auth, the encoded header value too. See [`crate::Backend::secrets`].
    pub fn secrets(&self) -> Vec<Secret> {
        match &self.auth {
            Auth::None => Vec::new(),
            Auth::Header(_, s) | Auth::Bearer(s) => vec![s.clone()],
            Auth::Basic { user, password } => {
                vec![password.clone(), Secret::new(basic_encoded(user, password))]
            }
            Auth::Digest { password, .. } => vec![password.clone()],
        }
    }

    /// The host and, when not the scheme's default, the port (`octopi.local`,
    /// `127.0.0.1:5000`): how adapters name a printer for people.
    pub fn host_label(&self) -> String {
        let host = self.base.host_str().unwrap_or_default();
        match self.base.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_string(),
        }
    }

    /// The base URL, without credentials.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The settings.
    pub fn config(&self) -> &HttpConfig {
        &self.config
    }

    /// The full URL of a relative path.
    pub fn url(&self, path: &str) -> Result<Url> {
        self.base
            .join(path.trim_start_matches('/'))
            .map_err(|e| Error::invalid("path", format!("{path:?}: {e}")))
    }

    /// Sends a request; retries it if it is [`Idempotency::Safe`] and the failure transient.
    /// Returns every HTTP status as a [`Response`]: mapping statuses to errors is the
    /// adapter's job (vendors differ). Transport failures are errors.
    pub async fn send(&self, request: Request) -> Result<Response> {
        let attempts = match request.idempotency {
            Idempotency::Safe => self.config.retry.max_attempts.max(1),
            Idempotency::Command => 1,
        };
        if request.idempotency == Idempotency::Command {
            self.commands.note();
        }
        let mut request = request;
        let mut attempt = 1;
        let started = Instant::now();
        let deadline = self.config.deadline;
        loop {
            let last = attempt >= attempts;
            let left = deadline.saturating_sub(started.elapsed());
            let outcome = self
                .send_once(&mut request, attempt, self.config.request_timeout.min(left))
                .await;
            let left = deadline.saturating_sub(started.elapsed());
            let wait = match &outcome {
                _ if last => None,
                Ok(r) if self.config.retry.retry_statuses.contains(&r.status) => {
                    match r.retry_after() {
                        Some(d) if d > self.config.retry.max_retry_after => None,
                        Some(d) => Some(d.max(self.config.retry.backoff(attempt))),
                        None => Some(self.config.retry.backoff(attempt)),
                    }
                }
                Err(e) if e.is_retryable() => Some(self.config.retry.backoff(attempt)),
                _ => None,
            };
            match wait {
                // A wait the deadline cannot cover (and the attempt after it) is not started.
                Some(d) if d >= left => return self.bounded(outcome, started),
                None => return self.bounded(outcome, started),
                Some(d) => {
                    tracing::debug!(attempt, delay_ms = d.as_millis() as u64, "retrying");
                    tokio::time::sleep(d).await;
                    attempt += 1;
                }
            }
        }
    }

    /// A call's final outcome; a timeout says how long the whole call took.
    fn bounded(&self, outcome: Result<Response>, started: Instant) -> Result<Response> {
        match outcome {
            Err(Error::Timeout { endpoint, .. }) => Err(Error::Timeout {
                endpoint,
                after: started.elapsed(),
            }),
            other => other,
        }
    }

    /// Sends and maps non-2xx statuses with [`Error::from_status`], for adapters without
    /// quirks on that path.
    pub async fn send_ok(&self, request: Request) -> Result<Response> {
        let r = self.send(request).await?;
        if r.is_success() {
            Ok(r)
        } else {
            Err(Error::from_status(r.status, r.snippet()))
        }
    }

    /// GETs JSON, mapping non-2xx statuses with [`Error::from_status`].
    pub async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.send_ok(Request::get(path)).await?.json()
    }

    async fn send_once(
        &self,
        request: &mut Request,
        attempt: u32,
        timeout: Duration,
    ) -> Result<Response> {
        let mut url = self.url(&request.path)?;
        let mut hops = 0;
        let mut challenged = false;
        loop {
            let (response, answered) = self.send_to(request, url.clone(), attempt, timeout).await?;
            if !challenged && self.learn_challenge(&response, answered.as_deref())? {
                // The 401 refused the request; send it once more, answering the challenge.
                challenged = true;
                continue;
            }
            let Some(next) = self.redirect_target(&response, &url) else {
                return Ok(response);
            };
            // A read follows a redirect within the configured origin, a few times; nothing
            // else follows one: not a command (it would be sent again, maybe as a GET), not a
            // read sent elsewhere (the credential would follow it or the answer be someone
            // else's).
            let followable = request.idempotency == Idempotency::Safe
                && matches!(request.method, Method::GET | Method::HEAD)
                && self.same_origin(&next)
                && hops < MAX_REDIRECTS;
            if !followable {
                return Err(Error::Redirected {
                    endpoint: self.endpoint.to_string(),
                    status: response.status,
                    location: shown_url(&next),
                });
            }
            hops += 1;
            url = next;
        }
    }

    /// For [`Auth::Digest`]: whether `response` is a 401 whose challenge is worth answering
    /// (none was answered yet, the nonce went stale or changed); the challenge is then kept.
    /// `answered` is the nonce the request answered, if any. A wrong password gets its 401
    /// back; a challenge polyprint cannot answer is an [`Error::Auth`] saying why.
    fn learn_challenge(&self, response: &Response, answered: Option<&str>) -> Result<bool> {
        let Some(state) = &self.digest else {
            return Ok(false);
        };
        if response.status != 401 {
            return Ok(false);
        }
        let Some(header) = response
            .headers
            .get_all(reqwest::header::WWW_AUTHENTICATE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.trim_start().to_ascii_lowercase().starts_with("digest"))
        else {
            return Ok(false);
        };
        let challenge = crate::digest::Challenge::parse(header)?;
        let fresh = match answered {
            None => true,
            Some(nonce) => challenge.stale || challenge.nonce != nonce,
        };
        if fresh {
            state.keep(challenge);
        }
        Ok(fresh)
    }

    /// Where a redirect answer points, resolved against the request's URL; `None` for any
    /// other answer.
    fn redirect_target(&self, response: &Response, from: &Url) -> Option<Url> {
        if !matches!(response.status, 301 | 302 | 303 | 307 | 308) {
            return None;
        }
        let location = response
            .headers
            .get(reqwest::header::LOCATION)?
            .to_str()
            .ok()?;
        from.join(location.trim()).ok()
    }

    /// Whether `url` is on the configured origin (scheme, host and port).
    fn same_origin(&self, url: &Url) -> bool {
        url.scheme() == self.base.scheme()
            && url.host_str() == self.base.host_str()
            && url.port_or_known_default() == self.base.port_or_known_default()
    }

    async fn send_to(
        &self,
        request: &mut Request,
        url: Url,
        attempt: u32,
        timeout: Duration,
    ) -> Result<(Response, Option<String>)> {
        let span = tracing::debug_span!(
            "http",
            method = %request.method,
            path = %url.path(),
            attempt,
            status = tracing::field::Empty,
            ms = tracing::field::Empty,
        );
        let started = Instant::now();
        // Credentials go only to the configured origin, never to another host a server
        // pointed us at (a webcam image URL, a download link).
        let same_origin = self.same_origin(&url);
        // What a Digest answer covers: the request-target as sent.
        let target = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        };
        let command = request.idempotency == Idempotency::Command;
        let activity = match &request.body {
            Body::MultipartFile { upload, .. } | Body::RawUpload(_, upload) => {
                Some(Activity::new(upload.0.size))
            }
            _ => None,
        };
        async {
            let mut builder = self
                .client
                .request(request.method.clone(), url)
                .timeout(timeout);
            let mut answered = None;
            if !request.no_auth && same_origin {
                if let Some((name, value)) = &self.auth_header {
                    builder = builder.header(name.clone(), value.clone());
                }
                if let (Some(state), Auth::Digest { user, password }) = (&self.digest, &self.auth) {
                    if let Some((value, nonce)) =
                        state.answer(user, password, request.method.as_str(), &target)
                    {
                        builder = builder.header(reqwest::header::AUTHORIZATION, value);
                        answered = Some(nonce);
                    }
                }
            }
            for (k, v) in &request.headers {
                builder = builder.header(k.clone(), v.clone());
            }
            builder = match &mut request.body {
                Body::Empty => builder,
                Body::Json(bytes) => builder
                    .header(CONTENT_TYPE, "application/json")
                    .body(bytes.clone()),
                Body::Bytes(ct, bytes) => builder.header(CONTENT_TYPE, *ct).body(bytes.clone()),
                Body::MultipartFile {
                    field,
                    fields,
                    upload,
                } => {
                    let up = &upload.0;
                    let part = reqwest::multipart::Part::stream_with_length(
                        upload_body(up, activity.clone().expect("an upload body")).await?,
                        up.size,
                    )
                    .file_name(up.name.base_name().to_string())
                    .mime_str("application/octet-stream")
                    .expect("static mime type");
                    let mut form = reqwest::multipart::Form::new();
                    for (k, v) in fields.iter() {
                        form = form.text(*k, v.clone());
                    }
                    form = form.part(*field, part);
                    builder.multipart(form).timeout(self.config.upload_timeout)
                }
                Body::RawUpload(ct, upload) => builder
                    .header(CONTENT_TYPE, *ct)
                    .header(reqwest::header::CONTENT_LENGTH, upload.0.size)
                    .body(upload_body(&upload.0, activity.clone().expect("an upload body")).await?)
                    .timeout(self.config.upload_timeout),
            };
            let result = match &activity {
                None => builder.send().await,
                Some(a) => tokio::select! {
                    r = builder.send() => r,
                    () = a.stalled(self.config.upload_idle_timeout) => {
                        return Err(Error::OutcomeUnknown {
                            action: "upload".into(),
                            message: format!(
                                "the server took no bytes for {} s after {} of {} bytes; \
                                 a partial file may be stored",
                                self.config.upload_idle_timeout.as_secs_f64(),
                                a.sent.load(std::sync::atomic::Ordering::Relaxed),
                                a.total
                            ),
                        });
                    }
                },
            };
            let mut response = match result {
                Ok(r) => r,
                Err(e) if command && !e.is_connect() => {
                    // The request may have gone out; its answer did not come back.
                    return Err(Error::OutcomeUnknown {
                        action: format!(
                            "{} /{}",
                            request.method,
                            request
                                .path
                                .split('?')
                                .next()
                                .unwrap_or("")
                                .trim_start_matches('/')
                        ),
                        message: self.map_error(e, timeout).to_string(),
                    });
                }
                Err(e) => return Err(self.map_error(e, timeout)),
            };
            let status = response.status().as_u16();
            tracing::Span::current().record("status", status);
            let headers = std::mem::take(response.headers_mut());
            let body = self.read_capped(response, timeout).await?;
            tracing::Span::current().record("ms", started.elapsed().as_millis() as u64);
            tracing::debug!("response");
            Ok((
                Response {
                    status,
                    headers,
                    body,
                },
                answered,
            ))
        }
        .instrument(span)
        .await
    }

    async fn read_capped(&self, response: reqwest::Response, timeout: Duration) -> Result<Bytes> {
        let cap = self.config.max_response_bytes;
        let body_error = |e: reqwest::Error, read: usize| match self.map_error(e, timeout) {
            Error::Timeout { endpoint, after } => Error::Timeout { endpoint, after },
            other => Error::protocol(format!(
                "response body ended early or was corrupt after {read} bytes: {other}"
            )),
        };
        match response.content_length() {
            Some(n) if n as usize > cap => {
                return Err(Error::protocol(format!(
                    "response of {n} bytes is over the limit of {cap} bytes"
                )))
            }
            // The length is declared and within the cap: take the body in one piece.
            Some(_) => return response.bytes().await.map_err(|e| body_error(e, 0)),
            None => {}
        }
        let mut stream = response.bytes_stream();
        let mut buf = bytes::BytesMut::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| body_error(e, buf.len()))?;
            if buf.len() + chunk.len() > cap {
                return Err(Error::protocol(format!(
                    "response is over the limit of {cap} bytes"
                )));
            }
            buf.extend_from_slice(&chunk);
        }
        Ok(buf.freeze())
    }

    fn map_error(&self, e: reqwest::Error, timeout: Duration) -> Error {
        let endpoint = self.endpoint.to_string();
        let e = e.without_url();
        let message = error_chain(&e);
        if e.is_timeout() {
            Error::Timeout {
                endpoint,
                after: timeout,
            }
        } else if e.is_body() || e.is_decode() || not_http(&e) {
            Error::protocol_from(message, e)
        } else {
            Error::Unreachable {
                endpoint,
                message,
                cause: Some(crate::error::Cause::new(e)),
            }
        }
    }
}

/// Whether the server's answer could not be parsed as HTTP (a header flood, a garbled
/// status line): the server answered, with nonsense, so this is no reachability problem.
fn not_http(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut src = Some(e);
    while let Some(err) = src {
        if err
            .downcast_ref::<hyper::Error>()
            .is_some_and(|h| h.is_parse())
        {
            return true;
        }
        src = err.source();
    }
    false
}

/// The error and its sources on one line.
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        let text = inner.to_string();
        if !s.contains(&text) {
            s.push_str(": ");
            s.push_str(&text);
        }
        src = inner.source();
    }
    s
}

/// A streamed body for an upload that reports progress as chunks go out.
/// How far an upload got and when it last moved, for the idle watchdog.
struct Activity {
    last: std::sync::Mutex<Instant>,
    sent: std::sync::atomic::AtomicU64,
    total: u64,
}

impl Activity {
    fn new(total: u64) -> Arc<Activity> {
        Arc::new(Activity {
            last: std::sync::Mutex::new(Instant::now()),
            sent: std::sync::atomic::AtomicU64::new(0),
            total,
        })
    }

    fn moved(&self, sent: u64) {
        self.sent.store(sent, std::sync::atomic::Ordering::Relaxed);
        *self.last.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
    }

    /// Resolves once bytes are left to send and none was taken for `idle`; never once all
    /// are out (the server's answer is then the upload timeout's business).
    async fn stalled(&self, idle: Duration) {
        loop {
            let quiet = self
                .last
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .elapsed();
            let done = self.sent.load(std::sync::atomic::Ordering::Relaxed) >= self.total;
            if !done && quiet >= idle {
                return;
            }
            let wait = if done { idle } else { idle - quiet };
            tokio::time::sleep(wait.max(Duration::from_millis(10))).await;
        }
    }
}

async fn upload_body(upload: &CheckedUpload, activity: Arc<Activity>) -> Result<reqwest::Body> {
    let total = upload.size;
    let progress: Option<ProgressFn> = upload.progress.clone();
    let report = move |sent: u64| {
        activity.moved(sent);
        if let Some(p) = &progress {
            p(UploadProgress { sent, total });
        }
    };
    match &upload.source {
        UploadSource::Bytes(bytes) => {
            // Chunk it too, so progress is reported as it goes.
            let bytes = bytes.clone();
            let chunks: Vec<Bytes> = (0..bytes.len())
                .step_by(64 * 1024)
                .map(|i| bytes.slice(i..(i + 64 * 1024).min(bytes.len())))
                .collect();
            let mut sent = 0u64;
            report(0);
            let stream = futures_util::stream::iter(chunks).map(move |c| {
                sent += c.len() as u64;
                report(sent);
                Ok::<Bytes, std::io::Error>(c)
            });
            Ok(reqwest::Body::wrap_stream(stream))
        }
        UploadSource::Path(path) => {
            let file = tokio::fs::File::open(path)
                .await
                .map_err(|e| Error::NotFound {
                    what: format!("local file {}: {e}", path.display()),
                })?;
            let mut sent = 0u64;
            report(0);
            let stream =
                tokio_util::io::ReaderStream::with_capacity(file, 256 * 1024).map(move |chunk| {
                    if let Ok(c) = &chunk {
                        sent += c.len() as u64;
                        report(sent);
                    }
                    chunk
                });
            Ok(reqwest::Body::wrap_stream(stream))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    fn fast() -> HttpConfig {
        HttpConfig {
            request_timeout: Duration::from_millis(500),
            retry: RetryPolicy {
                base_delay: Duration::from_millis(1),
                max_delay: Duration::from_millis(5),
                ..RetryPolicy::default()
            },
            ..HttpConfig::default()
        }
    }

    #[test]
    fn a_body_that_is_not_json_keeps_the_decoder_error_as_its_cause() {
        let r = Response {
            status: 200,
            headers: HeaderMap::new(),
            body: Bytes::from_static(b"{nope"),
        };
        let e = r.json::<serde_json::Value>().unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Protocol);
        let cause = std::error::Error::source(&e).expect("a cause");
        let json = cause
            .source()
            .and_then(|c| c.downcast_ref::<serde_json::Error>());
        assert!(json.is_some_and(|j| j.is_syntax()), "{cause:?}");
    }

    #[test]
    fn secrets_do_not_show() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?} {s}"), "Secret(***) ***");
        let auth = Auth::Header(HeaderName::from_static("x-api-key"), s.clone());
        assert!(!format!("{auth:?}").contains("hunter2"));
        let t = Transport::new("http://127.0.0.1:1", auth, fast()).unwrap();
        assert!(!format!("{t:?}").contains("hunter2"));
        let bad = Auth::Bearer(Secret::new("two\nlines"));
        let err = Transport::new("http://127.0.0.1:1", bad, fast()).unwrap_err();
        assert!(matches!(err, Error::InvalidArgument { .. }), "{err}");
        assert!(!err.to_string().contains("two"), "{err}");
    }

    #[test]
    fn paths_and_html_headings() {
        assert_eq!(encode_path("a/b c.gcode"), "a/b%20c.gcode");
        assert_eq!(encode_path("ü?#.gcode"), "%C3%BC%3F%23.gcode");
        assert_eq!(encode_segment("a/b"), "a%2Fb");
        assert_eq!(
            html_heading(b"<html><title>500: Internal Server Error</title></html>").as_deref(),
            Some("500: Internal Server Error")
        );
        assert_eq!(
            html_heading(b"<title>t</title><h1>Server Error (500)</h1>").as_deref(),
            Some("Server Error (500)")
        );
        assert_eq!(html_heading(b"{\"error\": \"x\"}"), None);
        assert_eq!(html_heading(b"<title> </title>"), None);
    }

    #[test]
    fn snippets_hide_credential_fields() {
        let body = br#"{"id": 7, "auth_token": "0bic0tok3n", "nested": [{"apiKey": "k3y"}], "name": "mk4"}"#;
        let s = snippet(body);
        assert!(!s.contains("0bic0tok3n") && !s.contains("k3y"), "{s}");
        assert!(s.contains("mk4") && s.contains("\"id\":7"), "{s}");
        assert_eq!(snippet(b"plain text"), "plain text");
    }

    #[test]
    fn a_rejected_url_never_shows_its_secrets() {
        for bad in [
            "http://user:hunter2@[::1",
            "http://hunter2@exa mple.com/x",
            "ftp://me:hunter2@h/",
            "http://h:99999/?token=hunter2",
            "http://u:hunter2@h/",
        ] {
            let err = parse_base_url(bad).unwrap_err();
            assert!(!err.to_string().contains("hunter2"), "{bad}: {err}");
        }
        assert_eq!(
            redacted_url_text("http://u:p@h:1/a?k=v"),
            "http://***@h:1/a"
        );
        assert_eq!(redacted_url_text("h/a@b"), "h/a@b");
    }

    #[test]
    fn base_urls() {
        assert_eq!(
            parse_base_url("http://h:5000").unwrap().as_str(),
            "http://h:5000/"
        );
        assert_eq!(
            parse_base_url("https://h/octo").unwrap().as_str(),
            "https://h/octo/"
        );
        for bad in [
            "ftp://h",
            "not a url",
            "http://u:p@h/",
            "http://h/?apikey=x",
            "",
        ] {
            assert!(parse_base_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy::default();
        for attempt in 1..10 {
            let d = p.backoff(attempt);
            assert!(d <= p.max_delay, "{d:?}");
            assert!(d >= p.base_delay / 2, "{d:?}");
        }
        assert!(p.backoff(6) >= Duration::from_secs(1));
    }

    /// A Digest server in a few lines: a fixed nonce, MD5-sess only, and a 401 with the
    /// challenge for anything else (`stale` when told).
    struct DigestServer {
        nonce: std::sync::Mutex<String>,
    }

    impl wiremock::Respond for DigestServer {
        fn respond(&self, r: &wiremock::Request) -> ResponseTemplate {
            let nonce = self.nonce.lock().unwrap().clone();
            let ok = r
                .headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|h| {
                    crate::digest::verify(
                        h,
                        r.method.as_str(),
                        "maker",
                        "pass",
                        "Administrator",
                        &nonce,
                        &["MD5-sess"],
                    )
                });
            if ok {
                return ResponseTemplate::new(204);
            }
            let c = crate::digest::Challenge {
                realm: "Administrator".into(),
                nonce,
                opaque: Some("op".into()),
                algorithm: crate::digest::Algorithm::Md5Sess,
                qop_auth: true,
                stale: false,
            };
            ResponseTemplate::new(401).insert_header("www-authenticate", c.header().as_str())
        }
    }

    #[tokio::test]
    async fn digest_learns_the_challenge_once_and_answers_it_after() {
        let server = MockServer::start().await;
        Mock::given(wiremock::matchers::any())
            .respond_with(DigestServer {
                nonce: std::sync::Mutex::new("n1".into()),
            })
            .mount(&server)
            .await;
        let digest = |password: &str| Auth::Digest {
            user: "maker".into(),
            password: Secret::new(password),
        };
        let t = Transport::new(&server.uri(), digest("pass"), fast()).unwrap();
        // The first command meets the challenge and is carried out once; every later
        // request answers the kept challenge at once.
        let r = t
            .send(Request::command("api/v1/job/1/pause", Body::Empty))
            .await
            .unwrap();
        assert_eq!(r.status, 204);
        for _ in 0..3 {
            let r = t.send(Request::get("api/v1/status?x=1")).await.unwrap();
            assert_eq!(r.status, 204);
        }
        let seen = server.received_requests().await.unwrap();
        let statuses: Vec<bool> = seen
            .iter()
            .map(|r| r.headers.contains_key("authorization"))
            .collect();
        assert_eq!(statuses, [false, true, true, true, true]);
        let ncs: Vec<String> = seen[1..]
            .iter()
            .map(|r| {
                let h = r.headers.get("authorization").unwrap().to_str().unwrap();
                h.split("nc=").nth(1).unwrap()[..8].to_string()
            })
            .collect();
        assert_eq!(ncs, ["00000001", "00000002", "00000003", "00000004"]);
        assert_eq!(t.secrets(), vec![Secret::new("pass")]);

        // A wrong password is a 401 returned as such, after one answered try.
        server.reset().await;
        Mock::given(wiremock::matchers::any())
            .respond_with(DigestServer {
                nonce: std::sync::Mutex::new("n2".into()),
            })
            .mount(&server)
            .await;
        let wrong = Transport::new(&server.uri(), digest("nope"), fast()).unwrap();
        let r = wrong.send(Request::get("api/v1/status")).await.unwrap();
        assert_eq!(r.status, 401);
        assert_eq!(server.received_requests().await.unwrap().len(), 2);
        // A changed nonce (a restarted server) is learnt again: the kept one was n1.
        let r = t.send(Request::get("api/v1/status")).await.unwrap();
        assert_eq!(r.status, 204);
        assert_eq!(server.received_requests().await.unwrap().len(), 4);
    }

    #[tokio::test]
    async fn digest_challenge_it_cannot_answer_is_an_auth_error() {
        let server = MockServer::start().await;
        Mock::given(wiremock::matchers::any())
            .respond_with(ResponseTemplate::new(401).insert_header(
                "www-authenticate",
                r#"Digest realm="r", nonce="n", algorithm=SHA-512-256"#,
            ))
            .mount(&server)
            .await;
        let auth = Auth::Digest {
            user: "u".into(),
            password: Secret::new("p"),
        };
        let t = Transport::new(&server.uri(), auth, fast()).unwrap();
        let e = t.send(Request::get("x")).await.unwrap_err();
        assert!(matches!(e, Error::Auth { .. }), "{e:?}");
        assert!(e.to_string().contains("SHA-512-256"), "{e}");
    }

    #[tokio::test]
    async fn safe_requests_retry_commands_do_not() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(503))
            .up_to_n_times(2)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(200).set_body_string("{}"))
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/cmd"))
            .respond_with(ResponseTemplate::new(503))
            .mount(&server)
            .await;
        let t = Transport::new(&server.uri(), Auth::None, fast()).unwrap();
        let r = t.send(Request::get("/x")).await.unwrap();
        assert_eq!(r.status, 200);
        let r = t
            .send(Request::command("/cmd", Body::json(&serde_json::json!({}))))
            .await
            .unwrap();
        assert_eq!(r.status, 503);
        let reqs = server.received_requests().await.unwrap();
        let gets = reqs.iter().filter(|r| r.method.as_str() == "GET").count();
        let posts = reqs.iter().filter(|r| r.method.as_str() == "POST").count();
        assert_eq!((gets, posts), (3, 1));
    }

    #[tokio::test]
    async fn credentials_stay_with_their_origin() {
        let home = MockServer::start().await;
        let other = MockServer::start().await;
        for s in [&home, &other] {
            Mock::given(method("GET"))
                .respond_with(ResponseTemplate::new(200))
                .mount(s)
                .await;
        }
        let auth = Auth::Header(HeaderName::from_static("x-api-key"), Secret::new("k"));
        let t = Transport::new(&home.uri(), auth, fast()).unwrap();
        t.send(Request::get("a")).await.unwrap();
        t.send(Request::get(format!("{}/img.jpg", other.uri())))
            .await
            .unwrap();
        let at_home = &home.received_requests().await.unwrap()[0];
        assert_eq!(at_home.headers.get("x-api-key").unwrap(), "k");
        let elsewhere = &other.received_requests().await.unwrap()[0];
        assert!(elsewhere.headers.get("x-api-key").is_none());
    }

    #[tokio::test]
    async fn redirects_stay_home_and_commands_never_follow_one() {
        let home = MockServer::start().await;
        let other = MockServer::start().await;
        let away = |p: &str| format!("{}/{p}?apikey=sekrit", other.uri());
        Mock::given(method("GET"))
            .and(path("/moved"))
            .respond_with(ResponseTemplate::new(302).insert_header("location", "/here"))
            .mount(&home)
            .await;
        Mock::given(method("GET"))
            .and(path("/here"))
            .respond_with(ResponseTemplate::new(200).set_body_string("{}"))
            .mount(&home)
            .await;
        Mock::given(method("GET"))
            .and(path("/loop"))
            .respond_with(ResponseTemplate::new(307).insert_header("location", "/loop"))
            .mount(&home)
            .await;
        Mock::given(method("GET"))
            .and(path("/away"))
            .respond_with(ResponseTemplate::new(302).insert_header("location", away("steal")))
            .mount(&home)
            .await;
        for status in [301u16, 302, 303, 307, 308] {
            Mock::given(method("POST"))
                .and(path(format!("/cmd{status}")))
                .respond_with(ResponseTemplate::new(status).insert_header("location", away("cmd")))
                .mount(&home)
                .await;
        }
        Mock::given(wiremock::matchers::any())
            .respond_with(ResponseTemplate::new(200))
            .mount(&other)
            .await;
        let auth = Auth::Header(HeaderName::from_static("x-api-key"), Secret::new("sekrit"));
        let t = Transport::new(&home.uri(), auth, fast()).unwrap();
        // A read follows a redirect within its origin.
        assert_eq!(t.send(Request::get("moved")).await.unwrap().status, 200);
        // A loop ends after a few hops, as a redirect error.
        let err = t.send(Request::get("loop")).await.unwrap_err();
        assert!(
            matches!(err, Error::Redirected { status: 307, .. }),
            "{err}"
        );
        let looped = home
            .received_requests()
            .await
            .unwrap()
            .iter()
            .filter(|r| r.url.path() == "/loop")
            .count();
        assert_eq!(looped, 1 + MAX_REDIRECTS as usize);
        // Not to another origin: the credential would go with it.
        let err = t.send(Request::get("away")).await.unwrap_err();
        assert!(
            matches!(&err, Error::Redirected { status: 302, location, .. } if location.ends_with("/steal")),
            "{err}"
        );
        assert!(!err.to_string().contains("sekrit"), "{err}");
        assert!(!err.is_retryable());
        // A command follows none, changes no method, and is sent once.
        for status in [301u16, 302, 303, 307, 308] {
            let err = t
                .send(Request::command(
                    format!("/cmd{status}"),
                    Body::json(&serde_json::json!({"command": "pause"})),
                ))
                .await
                .unwrap_err();
            assert!(
                matches!(err, Error::Redirected { status: s, .. } if s == status),
                "{err}"
            );
        }
        assert!(other.received_requests().await.unwrap().is_empty());
        let posts = home
            .received_requests()
            .await
            .unwrap()
            .iter()
            .filter(|r| r.method.as_str() == "POST")
            .count();
        assert_eq!(posts, 5);
    }

    /// A server that reads each request and closes the connection without an answer, or
    /// after `delay`; counts the connections.
    async fn answerless(delay: Option<Duration>) -> (String, Arc<std::sync::atomic::AtomicUsize>) {
        use tokio::io::AsyncReadExt;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let count = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let seen = count.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    let _ = socket.read(&mut buf).await;
                    if let Some(d) = delay {
                        tokio::time::sleep(d).await;
                    }
                });
            }
        });
        (url, count)
    }

    /// A silent server: the call ends at its deadline, attempts cut short to fit, and the
    /// error says how long the call took (it said the per-attempt timeout while the call
    /// took four of them).
    #[tokio::test]
    async fn one_deadline_bounds_every_attempt_and_wait() {
        let (url, connections) = answerless(Some(Duration::from_secs(60))).await;
        let config = HttpConfig {
            request_timeout: Duration::from_millis(300),
            deadline: Duration::from_millis(700),
            ..fast()
        };
        let t = Transport::new(&url, Auth::None, config).unwrap();
        let started = Instant::now();
        let err = t.send(Request::get("api/printer")).await.unwrap_err();
        let took = started.elapsed();
        let Error::Timeout { after, .. } = err else {
            panic!("{err}")
        };
        assert!(after >= Duration::from_millis(590), "{after:?}");
        assert!(after <= took, "{after:?} > {took:?}");
        // Two full attempts and a third cut to what was left (two on a slow machine): not
        // the four the retry policy allows.
        let n = connections.load(std::sync::atomic::Ordering::SeqCst);
        assert!((2..=3).contains(&n), "{n} attempts");
    }

    /// A Retry-After longer than what is left of the deadline is not waited for.
    #[tokio::test]
    async fn retry_after_beyond_the_deadline_is_not_waited_for() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(503).insert_header("retry-after", "2"))
            .mount(&server)
            .await;
        let config = HttpConfig {
            deadline: Duration::from_secs(1),
            retry: RetryPolicy {
                max_retry_after: Duration::from_secs(10),
                ..fast().retry
            },
            ..fast()
        };
        let t = Transport::new(&server.uri(), Auth::None, config).unwrap();
        let r = t.send(Request::get("x")).await.unwrap();
        assert_eq!(r.status, 503);
        assert_eq!(server.received_requests().await.unwrap().len(), 1);
    }

    /// A server that stops taking bytes mid-upload: the upload ends at its idle timeout (not
    /// the hour of the upload timeout), as OutcomeUnknown (part of the file may be stored).
    #[tokio::test]
    async fn a_stalled_upload_ends_at_its_idle_timeout() {
        use tokio::io::AsyncReadExt;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                tokio::spawn(async move {
                    // Takes the head and a little of the body, then nothing, for a minute.
                    let mut buf = vec![0u8; 64 * 1024];
                    let _ = socket.read(&mut buf).await;
                    tokio::time::sleep(Duration::from_secs(60)).await;
                    drop(socket);
                });
            }
        });
        let config = HttpConfig {
            upload_idle_timeout: Duration::from_millis(300),
            ..fast()
        };
        let t = Transport::new(&url, Auth::None, config).unwrap();
        let upload = CheckedUpload::new(
            crate::Upload::from_bytes("big.gcode", vec![b'G'; 32 << 20]),
            &["gcode"],
        )
        .await
        .unwrap();
        let started = Instant::now();
        let mut request = Request::new(Method::PUT, "f/big.gcode", Idempotency::Command);
        request.body = Body::RawUpload("text/x.gcode", Box::new(CheckedUploadBody(upload)));
        let err = t.send(request).await.unwrap_err();
        assert!(
            matches!(&err, Error::OutcomeUnknown { action, message } if action == "upload" && message.contains("no bytes")),
            "{err}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{:?}",
            started.elapsed()
        );
    }

    #[tokio::test]
    async fn a_command_whose_answer_is_lost_is_outcome_unknown_and_sent_once() {
        for delay in [None, Some(Duration::from_secs(5))] {
            let (url, connections) = answerless(delay).await;
            let t = Transport::new(&url, Auth::None, fast()).unwrap();
            let err = t
                .send(Request::command(
                    "api/job",
                    Body::json(&serde_json::json!({})),
                ))
                .await
                .unwrap_err();
            assert!(
                matches!(&err, Error::OutcomeUnknown { action, .. } if action == "POST /api/job"),
                "{delay:?}: {err}"
            );
            assert!(!err.is_retryable());
            assert_eq!(connections.load(std::sync::atomic::Ordering::SeqCst), 1);
            let named = err.of_command("cancel");
            assert!(named.to_string().contains("cancel"), "{named}");
        }
        // A read is retried, and is never "outcome unknown".
        let (url, connections) = answerless(None).await;
        let t = Transport::new(&url, Auth::None, fast()).unwrap();
        let err = t.send(Request::get("api/job")).await.unwrap_err();
        assert_ne!(err.kind(), crate::ErrorKind::OutcomeUnknown, "{err}");
        assert_eq!(connections.load(std::sync::atomic::Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn long_retry_after_is_not_waited_for() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "3600"))
            .mount(&server)
            .await;
        let t = Transport::new(&server.uri(), Auth::None, fast()).unwrap();
        let r = t.send(Request::get("/x")).await.unwrap();
        assert_eq!(r.status, 429);
        assert_eq!(r.retry_after(), Some(Duration::from_secs(3600)));
        assert_eq!(server.received_requests().await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn oversized_and_bad_bodies_are_protocol_errors() {
        let server = MockServer::start().await;
        Mock::given(path("/big"))
            .respond_with(ResponseTemplate::new(200).set_body_bytes(vec![b'a'; 2048]))
            .mount(&server)
            .await;
        Mock::given(path("/bad"))
            .respond_with(ResponseTemplate::new(200).set_body_string("{\"a\":"))
            .mount(&server)
            .await;
        let cfg = HttpConfig {
            max_response_bytes: 1024,
            ..fast()
        };
        let t = Transport::new(&server.uri(), Auth::None, cfg).unwrap();
        let err = t.send(Request::get("big")).await.unwrap_err();
        assert!(matches!(err, Error::Protocol { .. }), "{err}");
        let err = t.get_json::<serde_json::Value>("bad").await.unwrap_err();
        assert!(matches!(err, Error::Protocol { .. }), "{err}");
    }

    #[tokio::test]
    async fn closed_port_is_unreachable_and_silence_is_timeout() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let cfg = HttpConfig {
            retry: RetryPolicy {
                max_attempts: 1,
                ..RetryPolicy::default()
            },
            ..fast()
        };
        let t =
            Transport::new(&format!("http://127.0.0.1:{port}"), Auth::None, cfg.clone()).unwrap();
        let err = t.send(Request::get("x")).await.unwrap_err();
        assert!(matches!(err, Error::Unreachable { .. }), "{err}");

        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(30)))
            .mount(&server)
            .await;
        let t = Transport::new(&server.uri(), Auth::None, cfg).unwrap();
        let started = Instant::now();
        let err = t.send(Request::get("x")).await.unwrap_err();
        assert!(matches!(err, Error::Timeout { .. }), "{err}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
