//! [`PrusaLink`]: the client, and its [`Backend`] implementation.
//!
//! Every request goes through [`polyprint::transport::Transport`], with the API key in
//! `X-Api-Key` or HTTP Digest for user `maker` ([`Credential`]). Reads are
//! [`Idempotency::Safe`]; commands, uploads and deletes are [`Idempotency::Command`] and sent
//! once.

use std::time::{Duration, Instant};

use polyprint::builder::{self, Connection};
use polyprint::transport::{
    encode_path, Auth, Body, CheckedUploadBody, HttpConfig, Idempotency, Request, Response, Secret,
    Transport,
};
use polyprint::validate::FileName;
use polyprint::{
    async_trait, Backend, BackendExt, CheckedUpload, Command, Error, Feature, Features, FileEntry,
    PrinterInfo, PrinterStatus, Result,
};
use reqwest::header::{HeaderName, HeaderValue};
use reqwest::Method;

use crate::errors::{check, error_for, title, NOT_CURRENT_JOB};
use crate::mapping::{entry, file_entries, map_status, unavailable};
use crate::wire::{
    FileInfo, InfoResponse, JobResponse, StatusResponse, StorageResponse, VersionResponse,
};
use crate::BACKEND;

/// How long [`Printer::upload`](polyprint::Printer::upload) waits for an uploaded file to
/// show (PrusaLink takes 0.07–0.24 s; a print started before gets 404), and
/// [`Printer::delete_file`](polyprint::Printer::delete_file) for a deleted one to go.
pub const UPLOAD_VISIBLE_WITHIN: Duration = Duration::from_secs(3);

/// The title of PrusaLink's 503 while it starts or has no printer yet.
const UNAVAILABLE_TITLE: &str = "Printer Unavailable.";

/// How deep [`Printer::list_files`](polyprint::Printer::list_files) follows folders.
const MAX_FOLDER_DEPTH: usize = 8;
/// How many folders one listing reads at most.
const MAX_FOLDERS: usize = 200;

/// The features PrusaLink's v1 API offers. See the crate docs for what is left out and why.
pub fn base_features() -> Features {
    Feature::PrintStart
        | Feature::PauseResume
        | Feature::Cancel
        | Feature::FileList
        | Feature::FileUpload
        | Feature::FileDelete
}

/// How a client proves who it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Credential {
    /// `X-Api-Key` (PrusaLink's "API key" in its settings).
    ApiKey(Secret),
    /// HTTP Digest (MD5-sess), user `maker` on a stock printer.
    Digest {
        /// The user.
        user: String,
        /// The password.
        password: Secret,
    },
}

impl Credential {
    /// `user:password` is Digest, anything else an API key (PrusaLink's keys have no `:`).
    pub fn parse(text: &str) -> Credential {
        match text.split_once(':') {
            Some((user, password)) if !user.is_empty() => Credential::Digest {
                user: user.to_string(),
                password: Secret::new(password),
            },
            _ => Credential::ApiKey(Secret::new(text)),
        }
    }

    fn auth(self) -> Auth {
        match self {
            Credential::ApiKey(key) => Auth::Header(HeaderName::from_static("x-api-key"), key),
            Credential::Digest { user, password } => Auth::Digest { user, password },
        }
    }
}

/// A printer behind PrusaLink. Built with [`PrusaLink::builder`] (or [`PrusaLink::new`] for a
/// URL and an API key); building sends nothing.
///
/// ```
/// # #[cfg(feature = "mock")]
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> polyprint::Result<()> {
/// use polyprint::{Printer, PrinterState};
/// use polyprint_prusalink::mock::{PrusaLinkMock, MOCK_API_KEY};
/// use polyprint_prusalink::PrusaLink;
///
/// // A PrusaLink that answers like the real one, over an embedded virtual printer.
/// let server = PrusaLinkMock::start(polyprint::sim::VirtualPrinter::default()).await;
///
/// let printer = PrusaLink::new(&server.uri(), MOCK_API_KEY)?;
/// assert_eq!(printer.status().await?.state, PrinterState::Idle);
/// # Ok(()) }
/// # #[cfg(not(feature = "mock"))]
/// # fn main() {}
/// ```
#[derive(Clone, Debug)]
pub struct PrusaLink {
    transport: Transport,
    name: String,
}

/// The variable [`PrusaLinkBuilder::from_env`] reads the printer's URL from.
pub const ENV_URL: &str = "PRUSALINK_URL";
/// The variable [`PrusaLinkBuilder::from_env`] reads the API key from.
pub const ENV_API_KEY: &str = "PRUSALINK_API_KEY";
/// The variable [`PrusaLinkBuilder::from_env`] reads the Digest user from (without a key).
pub const ENV_USER: &str = "PRUSALINK_USER";
/// The variable [`PrusaLinkBuilder::from_env`] reads the Digest password from (without a key).
pub const ENV_PASSWORD: &str = "PRUSALINK_PASSWORD";

/// Builds a [`PrusaLink`]: from [`PrusaLink::builder`] or [`PrusaLinkBuilder::from_env`].
///
/// ```
/// use polyprint::Backend;
/// use polyprint_prusalink::PrusaLink;
///
/// // With the API key from the printer's settings...
/// let by_key = PrusaLink::builder("http://127.0.0.1:8080").api_key("my-api-key").build()?;
/// // ...or with Digest, user `maker` and the password shown on the printer.
/// let by_digest = PrusaLink::builder("http://127.0.0.1:8080")
///     .digest("maker", "printer-password")
///     .name("MK3S by the window")
///     .build()?;
/// assert_eq!(by_digest.describe().name, "MK3S by the window");
///
/// // One of the two is required; nothing is sent without it.
/// let err = PrusaLink::builder("http://127.0.0.1:8080").build().unwrap_err();
/// assert_eq!(err.kind(), polyprint::ErrorKind::InvalidArgument);
/// # Ok::<(), polyprint::Error>(())
/// ```
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct PrusaLinkBuilder {
    connection: Connection,
    credential: Option<Credential>,
}

impl PrusaLinkBuilder {
    /// A builder from [`ENV_URL`] (`PRUSALINK_URL`) and either [`ENV_API_KEY`]
    /// (`PRUSALINK_API_KEY`) or [`ENV_USER`] and [`ENV_PASSWORD`] (`PRUSALINK_USER`,
    /// `PRUSALINK_PASSWORD`) for Digest; the key wins when both are set.
    pub fn from_env() -> Result<PrusaLinkBuilder> {
        let builder = PrusaLink::builder(builder::require_env(ENV_URL)?);
        if let Some(key) = builder::env_var(ENV_API_KEY)? {
            return Ok(builder.api_key(key));
        }
        match (builder::env_var(ENV_USER)?, builder::env_var(ENV_PASSWORD)?) {
            (Some(user), Some(password)) => Ok(builder.digest(user, password)),
            _ => Err(Error::invalid(
                ENV_API_KEY,
                format!("is not set (nor are both {ENV_USER} and {ENV_PASSWORD})"),
            )),
        }
    }

    /// Signs in with the API key (`X-Api-Key`).
    pub fn api_key(self, key: impl Into<Secret>) -> Self {
        self.credential(Credential::ApiKey(key.into()))
    }

    /// Signs in with HTTP Digest (user `maker` on a stock printer).
    pub fn digest(self, user: impl Into<String>, password: impl Into<Secret>) -> Self {
        self.credential(Credential::Digest {
            user: user.into(),
            password: password.into(),
        })
    }

    /// Signs in with `credential` (see [`Credential::parse`] for a `user:password` or key text).
    pub fn credential(mut self, credential: Credential) -> Self {
        self.credential = Some(credential);
        self
    }

    /// Transport settings (default: [`HttpConfig::default`], whose values are tabled there). A
    /// 503 is retried like any transient answer (a proxy in front may send one); when
    /// PrusaLink's own 503 "Printer Unavailable" (the daemon starting) persists, a status
    /// shows it as Offline.
    pub fn http(mut self, config: HttpConfig) -> Self {
        self.connection.set_http(config);
        self
    }

    /// A shared `reqwest::Client`, so a fleet of printers shares one connection pool.
    pub fn client(mut self, client: reqwest::Client) -> Self {
        self.connection.set_client(client);
        self
    }

    /// Names the printer for people (default: `PrusaLink at <host:port>`).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.connection.set_name(name);
        self
    }

    /// The client. [`polyprint::Error::InvalidArgument`] without a credential, for a URL that
    /// is not `http(s)://host[:port][/path]` or a key a header cannot carry; nothing is sent.
    pub fn build(self) -> Result<PrusaLink> {
        let credential = self.credential.ok_or_else(|| {
            Error::invalid("credential", "PrusaLink needs an API key or a Digest user")
        })?;
        let transport = self.connection.transport(credential.auth())?;
        let name = match self.connection.name() {
            Some(name) => name.to_string(),
            None => format!("PrusaLink at {}", transport.host_label()),
        };
        Ok(PrusaLink { transport, name })
    }
}

impl PrusaLink {
    /// A builder for the printer at `base_url` (e.g. `http://192.168.1.20`).
    pub fn builder(base_url: impl Into<String>) -> PrusaLinkBuilder {
        PrusaLinkBuilder {
            connection: Connection::new(base_url),
            credential: None,
        }
    }

    /// A client for the printer at `base_url` with an API key: the short form of
    /// `PrusaLink::builder(base_url).api_key(api_key).build()`.
    pub fn new(base_url: &str, api_key: impl Into<Secret>) -> Result<PrusaLink> {
        PrusaLink::builder(base_url).api_key(api_key).build()
    }

    /// The transport, for PrusaLink endpoints this crate does not wrap.
    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str, what: &str) -> Result<T> {
        let r = self.transport.send(Request::get(path)).await?;
        check(r, what)?.json()
    }

    /// `GET /api/version`: PrusaLink's and the firmware's versions, the printer kind.
    pub async fn version(&self) -> Result<VersionResponse> {
        self.get_json("api/version", "version").await
    }

    /// `GET /api/v1/info`: name, location, nozzle, serial number.
    pub async fn printer_info(&self) -> Result<InfoResponse> {
        self.get_json("api/v1/info", "printer info").await
    }

    /// `GET /api/v1/storage`: the storages, with free and total space.
    pub async fn storage(&self) -> Result<StorageResponse> {
        self.get_json("api/v1/storage", "storage").await
    }

    /// `GET /api/v1/status` as PrusaLink sends it; `Ok(Err(message))` for its 503 "Printer
    /// Unavailable" (starting, or no printer connected yet).
    pub async fn raw_status(&self) -> Result<std::result::Result<StatusResponse, String>> {
        let r = self.transport.send(Request::get("api/v1/status")).await?;
        if r.status == 503 && crate::errors::title(&r) == UNAVAILABLE_TITLE {
            return Ok(Err(crate::errors::server_message(&r)));
        }
        check(r, "status")?.json().map(Ok)
    }

    /// `GET /api/v1/job` as PrusaLink sends it: `None` for its 204 (no running or paused
    /// job, also in FINISHED and STOPPED).
    pub async fn job(&self) -> Result<Option<JobResponse>> {
        let r = self.transport.send(Request::get("api/v1/job")).await?;
        if r.status == 204 {
            return Ok(None);
        }
        check(r, "job")?.json().map(Some)
    }

    /// The current job's id, read now; InvalidState without a running or paused job.
    async fn current_job_id(&self, action: &str) -> Result<u64> {
        let status = match self.raw_status().await? {
            Ok(s) => s,
            Err(message) => return Err(Error::InvalidState { message }),
        };
        status
            .job
            .and_then(|j| j.id)
            .ok_or_else(|| Error::InvalidState {
                message: format!(
                    "no job to {action}: PrusaLink's printer is {}",
                    if status.printer.state.is_empty() {
                        "in no state"
                    } else {
                        status.printer.state.as_str()
                    }
                ),
            })
    }

    /// Sends one job command for the current job. A 404 "Not Current Job" means the job
    /// changed between the read of its id and the command (nothing was carried out): the id
    /// is read again and, when another job now runs, the command is sent once for it.
    async fn job_command(&self, method: Method, action: &'static str) -> Result<()> {
        let mut id = self.current_job_id(action).await?;
        let mut refreshed = false;
        loop {
            let path = match action {
                "cancel" => format!("api/v1/job/{id}"),
                other => format!("api/v1/job/{id}/{other}"),
            };
            let r = self
                .transport
                .send(Request::new(method.clone(), path, Idempotency::Command))
                .await?;
            if r.status == 404 && title(&r) == NOT_CURRENT_JOB && !refreshed {
                refreshed = true;
                let fresh = self.current_job_id(action).await?;
                if fresh != id {
                    id = fresh;
                    continue;
                }
            }
            return check(r, "job").map(drop);
        }
    }

    fn file_path(file: &str) -> String {
        format!("api/v1/files/local/{}", encode_path(file))
    }

    /// `GET /api/v1/files/local/<path>`: a file's entry (with its metadata) or a folder's
    /// listing.
    pub async fn file_info(&self, path: &str) -> Result<FileInfo> {
        self.get_json(&PrusaLink::file_path(path), &format!("file {path}"))
            .await
    }

    /// Waits until a file's listing is as an upload or a delete left it: shown (`Some` with
    /// its entry) or gone (`None`). PrusaLink's file tree follows the disk late (a new file
    /// shows 0.07–0.24 s after its 201, a deleted one goes about 0.12 s after its 204; a
    /// print started before gets 404). Gives up after [`UPLOAD_VISIBLE_WITHIN`] with what it
    /// saw last, logged.
    async fn wait_listed(&self, name: &FileName, shown: bool) -> Result<Option<FileInfo>> {
        let started = Instant::now();
        loop {
            let r = self
                .transport
                .send(Request::get(PrusaLink::file_path(name.as_str())))
                .await?;
            let info = match r.status {
                404 => None,
                _ if r.is_success() => Some(r.json::<FileInfo>()?),
                _ => return Err(error_for(&r, &format!("file {name}"))),
            };
            if info.is_some() == shown || started.elapsed() >= UPLOAD_VISIBLE_WITHIN {
                if info.is_some() != shown {
                    tracing::warn!(file = %name, shown, "the listing has not caught up");
                }
                return Ok(info);
            }
            tokio::time::sleep(Duration::from_millis(40)).await;
        }
    }
}

#[async_trait]
impl Backend for PrusaLink {
    fn describe(&self) -> PrinterInfo {
        PrinterInfo::new(BACKEND, self.transport.endpoint(), self.name.clone())
            .with_endpoint(self.transport.endpoint())
    }

    fn secrets(&self) -> Vec<Secret> {
        self.transport.secrets()
    }

    fn commands(&self) -> Option<polyprint::watch::Commands> {
        Some(self.transport.commands().clone())
    }

    fn capabilities(&self) -> Features {
        base_features()
    }

    fn accepted_extensions(&self) -> &'static [&'static str] {
        &["gcode", "gco", "g"]
    }

    async fn read_status(&self) -> Result<PrinterStatus> {
        let (status, job) = tokio::join!(self.raw_status(), self.job());
        match status? {
            Err(message) => Ok(unavailable(&message)),
            // The job read only names the file: a failed one leaves the name out.
            Ok(status) => Ok(map_status(&status, job.ok().flatten().as_ref())),
        }
    }

    async fn run(&self, command: Command) -> Result<()> {
        match &command {
            Command::StartPrint(f) => {
                let r = self
                    .transport
                    .send(Request::new(
                        Method::POST,
                        PrusaLink::file_path(f.as_str()),
                        Idempotency::Command,
                    ))
                    .await?;
                check(r, &format!("file {f}")).map(drop)
            }
            Command::Pause => self.job_command(Method::PUT, "pause").await,
            Command::Resume => self.job_command(Method::PUT, "resume").await,
            Command::Cancel => self.job_command(Method::DELETE, "cancel").await,
            Command::DeleteFile(f) => {
                let r = self
                    .transport
                    .send(Request::new(
                        Method::DELETE,
                        PrusaLink::file_path(f.as_str()),
                        Idempotency::Command,
                    ))
                    .await?;
                check(r, &format!("file {f}"))?;
                self.wait_listed(f, false).await.map(drop)
            }
            other => Err(self.unsupported(other.feature())),
        }
    }

    async fn fetch_files(&self) -> Result<Vec<FileEntry>> {
        let root: FileInfo = self.get_json("api/v1/files/local", "file list").await?;
        let mut files = file_entries("", &root);
        let mut folders: Vec<(String, usize)> = subfolders("", &root, 1);
        let mut read = 0;
        while let Some((path, depth)) = folders.pop() {
            if read >= MAX_FOLDERS {
                tracing::warn!("more than {MAX_FOLDERS} folders; the listing stops there");
                break;
            }
            read += 1;
            let folder = self.file_info(&path).await?;
            files.extend(file_entries(&path, &folder));
            if depth < MAX_FOLDER_DEPTH {
                folders.extend(subfolders(&path, &folder, depth + 1));
            }
        }
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(files)
    }

    async fn send_file(&self, upload: CheckedUpload) -> Result<FileEntry> {
        let name = upload.name.clone();
        let size = upload.size;
        let mut request = Request::new(
            Method::PUT,
            PrusaLink::file_path(name.as_str()),
            Idempotency::Command,
        )
        // RFC 8941's boolean: replace a file of the same name, as every backend's upload does.
        .header(
            HeaderName::from_static("overwrite"),
            HeaderValue::from_static("?1"),
        );
        request.body = Body::RawUpload("text/x.gcode", Box::new(CheckedUploadBody(upload)));
        let r: Response = self.transport.send(request).await?;
        check(r, &format!("upload of {name}"))?;
        let shown = self.wait_listed(&name, true).await?;
        let prefix = name
            .as_str()
            .rsplit_once('/')
            .map(|(dir, _)| dir)
            .unwrap_or("");
        Ok(match shown {
            Some(info) if !info.name.is_empty() => entry(prefix, &info),
            _ => {
                let mut v = FileEntry::new(name.as_str().to_string(), name.base_name().to_string());
                v.size = Some(size);
                v
            }
        })
    }
}

/// A folder's subfolders, with their paths and depth.
fn subfolders(prefix: &str, folder: &FileInfo, depth: usize) -> Vec<(String, usize)> {
    folder
        .children
        .iter()
        .filter(|c| c.kind == "FOLDER" && !c.name.is_empty() && c.name != "." && c.name != "..")
        .map(|c| {
            let path = if prefix.is_empty() {
                c.name.clone()
            } else {
                format!("{prefix}/{}", c.name)
            };
            (path, depth)
        })
        .collect()
}

impl PrusaLink {
    /// Maps a non-2xx answer the way this adapter does.
    pub fn error_for(response: &Response, what: &str) -> Error {
        error_for(response, what)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_parse_and_never_show() {
        assert_eq!(
            Credential::parse("key123"),
            Credential::ApiKey(Secret::new("key123"))
        );
        assert_eq!(
            Credential::parse("maker:pa:ss"),
            Credential::Digest {
                user: "maker".into(),
                password: Secret::new("pa:ss")
            }
        );
        let p = PrusaLink::builder("http://127.0.0.1:1")
            .credential(Credential::parse("maker:hunter2"))
            .build()
            .unwrap();
        assert!(!format!("{p:?}").contains("hunter2"));
        assert_eq!(p.secrets(), vec![Secret::new("hunter2")]);
        assert_eq!(p.describe().name, "PrusaLink at 127.0.0.1:1");
        assert_eq!(
            PrusaLink::file_path("dir/my file (1).gcode"),
            "api/v1/files/local/dir/my%20file%20%281%29.gcode"
        );
    }
}
