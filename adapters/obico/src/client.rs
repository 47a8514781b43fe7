//! The Obico client for one printer id: constructors, the printer's kind (agent or agentless),
//! and every REST call this backend makes, including the depth the common trait does not carry
//! (the agentless print session, failure prediction, confirming a dispatched command).
//!
//! Every path ends with a slash, as Obico's router requires.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::Bytes;
use polyprint::builder::Connection;
use polyprint::transport::{
    Auth, Body, CheckedUploadBody, HttpConfig, Idempotency, Request, Secret, Transport,
};
use polyprint::validate::FileName;
use polyprint::{
    CheckedUpload, Error, Feature, Features, PrinterState, PrinterStatus, Result, Snapshot,
    UploadSource,
};
use reqwest::header::HeaderName;
use reqwest::Method;

use crate::errors::check;
use crate::mapping::status_from;
use crate::wire::{Envelope, ObicoPrint, ObicoPrinter, PredictResponse, Prediction, Version};

/// How the token is sent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TokenHeader {
    /// `Authorization: Bearer <token>` (Obico's OAuth guide; the default).
    #[default]
    Bearer,
    /// `X-API-KEY: <token>` (accepted through a middleware that also opens a session).
    XApiKey,
}

/// What drives the printer, as far as Obico knows. It decides the printer's features.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PrinterKind {
    /// Not fetched yet: the declared features apply.
    Unknown,
    /// An agent (OctoPrint-Obico or moonraker-obico) is linked: pause, resume and cancel go to
    /// it, and its `pic` gives snapshots.
    Agent {
        /// `octoprint_obico`, `moonraker_obico`, or `None` if unnamed.
        agent_name: Option<String>,
    },
    /// No agent ever connected (an OAuth "agentless" printer): the application runs print
    /// sessions itself (start, finish) and asks for predictions.
    Agentless,
}

impl PrinterKind {
    /// The kind of a printer document: an agent name or a status means an agent.
    pub fn of(printer: &ObicoPrinter) -> PrinterKind {
        if printer.agent_name.is_some() || printer.status.is_some() {
            PrinterKind::Agent {
                agent_name: printer.agent_name.clone(),
            }
        } else {
            PrinterKind::Agentless
        }
    }

    /// The features of a printer of this kind.
    ///
    /// * Agent: pause/resume, cancel, webcam snapshot, failure detection, job history.
    /// * Agentless: failure detection and job history. Obico's agentless `start_print` opens a
    ///   prediction *session*; it starts nothing on a printer, and Obico stores no files, so it
    ///   is not [`Feature::PrintStart`]. The session lifecycle is on the client:
    ///   [`Obico::start_print_session`], [`Obico::finish_print`], [`Obico::predict`].
    /// * Unknown: the union of both (see [`Obico::refresh`]).
    ///
    /// Never: jog, home, extrude, temperature, G-code, lights (Obico has no REST route for
    /// them), file list, upload or delete.
    pub fn features(&self) -> Features {
        let common = Feature::FailureDetection | Feature::JobHistory;
        match self {
            PrinterKind::Agentless => common,
            PrinterKind::Agent { .. } | PrinterKind::Unknown => {
                common | Feature::Cancel | Feature::PauseResume | Feature::WebcamSnapshot
            }
        }
    }
}

/// How an agentless print session ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FinishStatus {
    /// It ran to its end (`status: "success"`).
    Success,
    /// It was cancelled (`status: "cancelled"`).
    Cancelled,
}

#[derive(Debug)]
struct Cache {
    kind: PrinterKind,
    name: Option<String>,
}

/// One Obico printer. A [`polyprint::Printer`] through the core's blanket implementation.
///
/// Commands (pause, resume, cancel, start) return `Ok` once Obico **dispatched** them: for an
/// agent printer, `succeeded: true` only means there was a current print and the command was
/// published to the agent, which may be offline (then the command is lost). Confirm the outcome
/// with [`Obico::confirm`].
///
/// ```
/// # #[cfg(feature = "mock")]
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> polyprint::Result<()> {
/// use std::time::Duration;
/// use polyprint::sim::{VirtualPrinter, DEMO_FILE, PAUSING};
/// use polyprint::{Printer, PrinterState};
/// use polyprint_obico::{mock::ObicoMock, Obico};
///
/// // An Obico server (`mock` feature) whose agent's printer is printing.
/// let server = ObicoMock::start(VirtualPrinter::new()).await;
/// server.printer().start_print(DEMO_FILE).await?;
///
/// // With Obico's own service: Obico::open("https://app.obico.io", token, printer_id).
/// let obico = Obico::open(&server.uri(), server.token(), server.printer_id()).await?;
/// obico.pause().await?; // dispatched to the agent
/// server.printer().advance(PAUSING); // the printer takes its time
/// let status = obico
///     .confirm(|s| s == PrinterState::Paused, Duration::from_secs(5))
///     .await?; // carried out
/// assert_eq!(status.state, PrinterState::Paused);
/// # Ok(()) }
/// # #[cfg(not(feature = "mock"))]
/// # fn main() {}
/// ```
pub struct Obico {
    transport: Transport,
    printer_id: u64,
    cache: Mutex<Cache>,
}

impl std::fmt::Debug for Obico {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Obico")
            .field("endpoint", &self.transport.endpoint())
            .field("printer_id", &self.printer_id)
            .field("kind", &self.kind())
            .finish()
    }
}

/// Builds an [`Obico`]: from [`Obico::builder`].
///
/// ```
/// use polyprint_obico::{Obico, TokenHeader};
///
/// let obico = Obico::builder("https://app.obico.io")
///     .token("oauth-token")
///     .printer_id(123)
///     .build()?;
/// assert_eq!(obico.printer_id(), 123);
///
/// // An agent's own key goes in `X-Api-Key` instead of `Authorization: Bearer`.
/// let by_key = Obico::builder("https://app.obico.io")
///     .token("api-key")
///     .token_header(TokenHeader::XApiKey)
///     .printer_id(123)
///     .build()?;
///
/// // The token and the printer are required; nothing is sent without them.
/// let err = Obico::builder("https://app.obico.io").token("t").build().unwrap_err();
/// assert_eq!(err.kind(), polyprint::ErrorKind::InvalidArgument);
/// # Ok::<(), polyprint::Error>(())
/// ```
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct ObicoBuilder {
    connection: Connection,
    token: Option<Secret>,
    header: TokenHeader,
    printer_id: Option<u64>,
}

impl ObicoBuilder {
    /// The OAuth token (or key). Required.
    pub fn token(mut self, token: impl Into<Secret>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// How the token is sent (default: [`TokenHeader::Bearer`]).
    pub fn token_header(mut self, header: TokenHeader) -> Self {
        self.header = header;
        self
    }

    /// The printer's id on the server. Required.
    pub fn printer_id(mut self, id: u64) -> Self {
        self.printer_id = Some(id);
        self
    }

    /// Transport settings (default: [`HttpConfig::default`], whose values are tabled there).
    pub fn http(mut self, config: HttpConfig) -> Self {
        self.connection.set_http(config);
        self
    }

    /// A shared `reqwest::Client`, so a fleet of printers shares one connection pool.
    pub fn client(mut self, client: reqwest::Client) -> Self {
        self.connection.set_client(client);
        self
    }

    /// The client, which learns the printer's kind on its first status read or
    /// [`Obico::refresh`]. [`polyprint::Error::InvalidArgument`] without a token or a printer
    /// id, for a URL that is not `http(s)://host[:port][/path]` or a token a header cannot
    /// carry; nothing is sent.
    pub fn build(self) -> Result<Obico> {
        let token = self
            .token
            .ok_or_else(|| Error::invalid("token", "is required for Obico"))?;
        let printer_id = self
            .printer_id
            .ok_or_else(|| Error::invalid("printer id", "is required for Obico"))?;
        let auth = match self.header {
            TokenHeader::Bearer => Auth::Bearer(token),
            TokenHeader::XApiKey => Auth::Header(HeaderName::from_static("x-api-key"), token),
        };
        Ok(Obico::with_transport(
            self.connection.transport(auth)?,
            printer_id,
        ))
    }
}

impl Obico {
    /// A builder for the Obico server at `base_url` (the server's root, e.g.
    /// `https://app.obico.io`).
    pub fn builder(base_url: impl Into<String>) -> ObicoBuilder {
        ObicoBuilder {
            connection: Connection::new(base_url),
            token: None,
            header: TokenHeader::Bearer,
            printer_id: None,
        }
    }

    /// A client for printer `printer_id` on the Obico server at `base_url` with a Bearer OAuth
    /// token: the short form of `Obico::builder(base_url).token(token).printer_id(printer_id)
    /// .build()`. Sends nothing; the printer's kind is learnt on the first status read or
    /// [`Obico::refresh`].
    pub fn new(base_url: &str, token: impl Into<Secret>, printer_id: u64) -> Result<Obico> {
        Obico::builder(base_url)
            .token(token)
            .printer_id(printer_id)
            .build()
    }

    /// A client over a transport built by the caller (its base URL is the server's root and
    /// its auth the token).
    pub fn with_transport(transport: Transport, printer_id: u64) -> Obico {
        Obico {
            transport,
            printer_id,
            cache: Mutex::new(Cache {
                kind: PrinterKind::Unknown,
                name: None,
            }),
        }
    }

    /// [`Obico::new`], then [`Obico::refresh`]: the features are this printer's from the start.
    pub async fn open(base_url: &str, token: impl Into<Secret>, printer_id: u64) -> Result<Obico> {
        let obico = Obico::new(base_url, token, printer_id)?;
        obico.refresh().await?;
        Ok(obico)
    }

    /// The printer id.
    pub fn printer_id(&self) -> u64 {
        self.printer_id
    }

    /// The transport (endpoint and settings).
    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    /// The printer's kind as last seen ([`PrinterKind::Unknown`] before the first fetch).
    pub fn kind(&self) -> PrinterKind {
        self.cache().kind.clone()
    }

    /// The printer's name as last seen.
    pub fn cached_name(&self) -> Option<String> {
        self.cache().name.clone()
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn remember(&self, printer: &ObicoPrinter) {
        let mut c = self.cache();
        c.kind = PrinterKind::of(printer);
        c.name = Some(printer.name.clone()).filter(|n| !n.is_empty());
    }

    fn path(&self, action: &str) -> String {
        if action.is_empty() {
            format!("api/v1/printers/{}/", self.printer_id)
        } else {
            format!("api/v1/printers/{}/{action}/", self.printer_id)
        }
    }

    /// Fetches the printer and learns its kind (and so its features).
    pub async fn refresh(&self) -> Result<PrinterKind> {
        self.printer().await?;
        Ok(self.kind())
    }

    /// `GET /api/v1/printers/{id}/`: the whole printer document. Updates the cached kind.
    pub async fn printer(&self) -> Result<ObicoPrinter> {
        let response = check(self.transport.send(Request::get(self.path(""))).await?)?;
        let printer: ObicoPrinter = response.json()?;
        self.remember(&printer);
        Ok(printer)
    }

    /// `GET /api/v1/version/`: a cheap way to check the token.
    pub async fn version(&self) -> Result<String> {
        let response = check(self.transport.send(Request::get("api/v1/version/")).await?)?;
        Ok(response.json::<Version>()?.version)
    }

    /// Sends one command (never retried) and reads its envelope; `succeeded: false` is
    /// [`Error::InvalidState`].
    async fn command(&self, action: &str, body: Body) -> Result<ObicoPrinter> {
        let request = Request::command(self.path(action), body);
        let response = check(self.transport.send(request).await?)?;
        let envelope: Envelope = response.json()?;
        self.remember(&envelope.printer);
        if envelope.succeeded {
            Ok(envelope.printer)
        } else {
            Err(Error::state(format!(
                "Obico refused {action}: printer {} has no current print",
                self.printer_id
            )))
        }
    }

    /// `POST .../pause_print/`. `Ok` means dispatched to the agent, not done; see
    /// [`Obico::confirm`].
    pub async fn pause_print(&self) -> Result<ObicoPrinter> {
        self.command("pause_print", Body::Empty).await
    }

    /// `POST .../resume_print/` (also acknowledges a pending alert as not failed). `Ok` means
    /// dispatched.
    pub async fn resume_print(&self) -> Result<ObicoPrinter> {
        self.command("resume_print", Body::Empty).await
    }

    /// `POST .../cancel_print/` (also acknowledges a pending alert as failed). `Ok` means
    /// dispatched.
    pub async fn cancel_print(&self) -> Result<ObicoPrinter> {
        self.command("cancel_print", Body::Empty).await
    }

    /// `POST .../start_print/`: opens an agentless print session for `filename` (a label; Obico
    /// stores no file). A session already open is finished as a success first, silently, by
    /// the server. Returns the printer with its new `current_print`.
    pub async fn start_print_session(&self, filename: &str) -> Result<ObicoPrinter> {
        let name = FileName::parse(filename)?;
        self.command(
            "start_print",
            Body::json(&serde_json::json!({ "filename": name.as_str() })),
        )
        .await
    }

    /// `POST .../finish_print/`: closes the agentless print session. With no session open:
    /// [`Error::InvalidState`].
    pub async fn finish_print(&self, status: FinishStatus) -> Result<ObicoPrinter> {
        let status = match status {
            FinishStatus::Success => "success",
            FinishStatus::Cancelled => "cancelled",
        };
        self.command(
            "finish_print",
            Body::json(&serde_json::json!({ "status": status })),
        )
        .await
    }

    /// `POST .../predict/` with a JPEG (multipart field `img`): the model's detections, their
    /// summed score `p` and the print's smoothed statistics. See [`Prediction::verdict`]. Never
    /// retried (each call moves the statistics). No print session open:
    /// [`Error::InvalidState`]; the model failing: [`Error::Api`] 500 with a short snippet.
    pub async fn predict(&self, jpeg: impl Into<Bytes>) -> Result<Prediction> {
        let jpeg = jpeg.into();
        if jpeg.is_empty() {
            return Err(Error::invalid("image", "the JPEG is empty"));
        }
        let upload = CheckedUpload {
            name: FileName::parse("snapshot.jpg")?,
            size: jpeg.len() as u64,
            source: UploadSource::Bytes(jpeg),
            progress: None,
        };
        let mut request = Request::new(Method::POST, self.path("predict"), Idempotency::Command);
        request.body = Body::MultipartFile {
            field: "img",
            fields: Vec::new(),
            upload: Box::new(CheckedUploadBody(upload)),
        };
        let response = check(self.transport.send(request).await?)?;
        Ok(response.json::<PredictResponse>()?.result)
    }

    /// `GET /api/v1/prints/?start=&limit=`, newest first, only this printer's prints.
    pub async fn prints(&self, start: usize, limit: usize) -> Result<Vec<ObicoPrint>> {
        let path = format!(
            "api/v1/prints/?start={start}&limit={limit}&sorting=date_desc&filter_by_printer_ids%5B%5D={}",
            self.printer_id
        );
        let response = check(self.transport.send(Request::get(path)).await?)?;
        response.json()
    }

    /// The latest webcam picture: fetches the printer, then its `pic.img_url`. The token is only
    /// sent when that URL is on the Obico server itself. No picture: [`Error::NotFound`].
    pub async fn latest_picture(&self) -> Result<Snapshot> {
        let printer = self.printer().await?;
        let Some(url) = printer
            .pic
            .and_then(|p| p.img_url)
            .filter(|u| !u.trim().is_empty())
        else {
            return Err(Error::NotFound {
                what: format!(
                    "a recent webcam picture of Obico printer {} (pic is null)",
                    self.printer_id
                ),
            });
        };
        let target = self.transport.url(&url)?;
        let mut request = Request::get(url);
        request.no_auth = target.origin() != self.transport.url("")?.origin();
        let response = check(self.transport.send(request).await?)?;
        let content_type = response
            .content_type()
            .unwrap_or("image/jpeg")
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_string();
        if !content_type.starts_with("image/") {
            return Err(Error::protocol(format!(
                "webcam picture came back as {content_type}: {}",
                response.snippet()
            )));
        }
        Ok(Snapshot::new(content_type, response.body))
    }

    /// The common status (one `GET` of the printer).
    pub async fn status_now(&self) -> Result<PrinterStatus> {
        Ok(status_from(&self.printer().await?))
    }

    /// Polls the status until `expected` holds for its state, or `deadline` passes.
    ///
    /// Commands return once Obico dispatched them; this confirms they were carried out. Polls
    /// every twentieth of the deadline (between 20 ms and 1 s). Returns the status that
    /// matched; when the deadline passes first, [`Error::Timeout`] (whose `after` is the
    /// deadline). Read errors end the wait.
    pub async fn confirm(
        &self,
        expected: impl Fn(PrinterState) -> bool,
        deadline: Duration,
    ) -> Result<PrinterStatus> {
        let started = Instant::now();
        let interval = (deadline / 20).clamp(Duration::from_millis(20), Duration::from_secs(1));
        loop {
            let status = self.status_now().await?;
            if expected(status.state) {
                return Ok(status);
            }
            let elapsed = started.elapsed();
            if elapsed >= deadline {
                tracing::debug!(state = %status.state, "command not confirmed in time");
                return Err(Error::Timeout {
                    endpoint: format!(
                        "{} (printer {} in state {}, waiting for a change)",
                        self.transport.endpoint(),
                        self.printer_id,
                        status.state
                    ),
                    after: deadline,
                });
            }
            tokio::time::sleep(interval.min(deadline - elapsed)).await;
        }
    }
}
