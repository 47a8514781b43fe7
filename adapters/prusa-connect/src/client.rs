//! [`PrusaConnectClient`]: the Prusa-specific surface of the `/app/` API, typed.
//!
//! Every request goes through polyprint's [`Transport`]: reads are retried on transient
//! failures, commands (anything that starts, stops, moves, heats, uploads, deletes or invites)
//! are sent exactly once. Error bodies (`{"message", "code"}`) become [`Error`] kinds here.

use std::sync::Arc;

use bytes::Bytes;
use polyprint::transport::{
    Body, CheckedUploadBody, HttpConfig, Idempotency, Request, Response, Transport,
};
use polyprint::{CheckedUpload, Error, Result};
use reqwest::header::{HeaderName, HeaderValue, AUTHORIZATION, IF_NONE_MATCH};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde_json::{json, Map, Value};

use crate::auth::{Credentials, TokenKeeper};
use crate::commands::CommandSet;
use crate::wire::{self, Page};

/// Every failure tag a job's failure reason may carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FailureTag {
    /// Ignored (clears the question).
    Ignored,
    /// Clogged nozzle.
    CloggedNozzle,
    /// The print came off the bed.
    NonAdherentBed,
    /// Under-extrusion.
    UnderExtrusion,
    /// Over-extrusion.
    OverExtrusion,
    /// Stringing or oozing.
    StringingOrOozing,
    /// Gaps in thin walls.
    GapsInThinWalls,
    /// Overheating.
    Overheating,
    /// Layer shifting.
    LayerShifting,
    /// Spaghetti.
    SpaghettiMonster,
    /// Layer separation.
    LayerSeparation,
    /// Warping.
    Warping,
    /// Poor bridging.
    PoorBridging,
    /// Something else (say what in `other`).
    Other,
}

impl FailureTag {
    /// Every tag.
    pub const ALL: [FailureTag; 14] = [
        FailureTag::Ignored,
        FailureTag::CloggedNozzle,
        FailureTag::NonAdherentBed,
        FailureTag::UnderExtrusion,
        FailureTag::OverExtrusion,
        FailureTag::StringingOrOozing,
        FailureTag::GapsInThinWalls,
        FailureTag::Overheating,
        FailureTag::LayerShifting,
        FailureTag::SpaghettiMonster,
        FailureTag::LayerSeparation,
        FailureTag::Warping,
        FailureTag::PoorBridging,
        FailureTag::Other,
    ];

    /// The wire name, e.g. `SPAGHETTI_MONSTER`.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureTag::Ignored => "IGNORED",
            FailureTag::CloggedNozzle => "CLOGGED_NOZZLE",
            FailureTag::NonAdherentBed => "NON_ADHERENT_BED",
            FailureTag::UnderExtrusion => "UNDER_EXTRUSION",
            FailureTag::OverExtrusion => "OVER_EXTRUSION",
            FailureTag::StringingOrOozing => "STRINGING_OR_OOZING",
            FailureTag::GapsInThinWalls => "GAPS_IN_THIN_WALLS",
            FailureTag::Overheating => "OVERHEATING",
            FailureTag::LayerShifting => "LAYER_SHIFTING",
            FailureTag::SpaghettiMonster => "SPAGHETTI_MONSTER",
            FailureTag::LayerSeparation => "LAYER_SEPARATION",
            FailureTag::Warping => "WARPING",
            FailureTag::PoorBridging => "POOR_BRIDGING",
            FailureTag::Other => "OTHER",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<FailureTag> {
        FailureTag::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// Which jobs to list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JobQuery {
    /// Job states to keep (`FIN_OK`, `FIN_STOPPED`, ...); repeated on the wire. Empty: all.
    pub states: Vec<String>,
    /// Page size.
    pub limit: Option<u32>,
    /// Offset.
    pub offset: Option<u32>,
}

impl JobQuery {
    fn query(&self) -> String {
        let mut q = Vec::new();
        for s in &self.states {
            q.push(format!("state={}", enc(s)));
        }
        if let Some(l) = self.limit {
            q.push(format!("limit={l}"));
        }
        if let Some(o) = self.offset {
            q.push(format!("offset={o}"));
        }
        if q.is_empty() {
            String::new()
        } else {
            format!("?{}", q.join("&"))
        }
    }
}

/// A time window for stats, unix seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// Start.
    pub from: i64,
    /// End.
    pub to: i64,
}

/// A snapshot image with its validator, for conditional re-reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Image {
    /// MIME type.
    pub content_type: String,
    /// Bytes.
    pub bytes: Bytes,
    /// `ETag`, if sent.
    pub etag: Option<String>,
}

pub(crate) use polyprint::transport::encode_segment as enc;

/// Maps a failed response to an [`Error`], from its status and `{"message","code"}` body.
pub fn error_of(r: &Response) -> Error {
    let body: Option<wire::ApiError> = serde_json::from_slice(&r.body).ok();
    let message = match &body {
        Some(b) => match &b.reason {
            Some(reason) => format!("{} ({}): {reason}", b.message, b.code),
            None => format!("{} ({})", b.message, b.code),
        },
        None => r.snippet(),
    };
    match r.status {
        400 | 413 | 422 => Error::invalid("request", message),
        429 => Error::RateLimited {
            retry_after: r.retry_after(),
        },
        status => Error::from_status(status, message),
    }
}

/// The typed Prusa Connect client, for one account (one bearer token). Cheap to clone.
#[derive(Clone, Debug)]
pub struct PrusaConnectClient {
    transport: Transport,
    tokens: Arc<TokenKeeper>,
}

impl PrusaConnectClient {
    /// The credentials this client sends or may refresh with (access and refresh tokens),
    /// for scrubbing from errors.
    pub fn secrets(&self) -> Vec<polyprint::transport::Secret> {
        let mut out = self.transport.secrets();
        out.extend(self.tokens.secrets());
        out
    }

    /// The commands this client has sent (see [`polyprint::watch::Commands`]).
    pub fn commands(&self) -> &polyprint::watch::Commands {
        self.transport.commands()
    }

    /// A client for `base_url` (e.g. [`crate::DEFAULT_BASE_URL`]).
    pub fn new(
        base_url: &str,
        credentials: impl Into<Credentials>,
        config: HttpConfig,
    ) -> Result<Self> {
        let client = polyprint::transport::build_client(&config)?;
        PrusaConnectClient::with_client(client, base_url, credentials, config)
    }

    /// Like [`PrusaConnectClient::new`], over a shared `reqwest::Client` (one connection pool
    /// for a fleet).
    pub fn with_client(
        client: reqwest::Client,
        base_url: &str,
        credentials: impl Into<Credentials>,
        config: HttpConfig,
    ) -> Result<Self> {
        let transport =
            Transport::with_client(client, base_url, polyprint::transport::Auth::None, config)?;
        Ok(PrusaConnectClient::over(transport, credentials.into()))
    }

    /// A client over a transport without auth (the bearer token is added per request; a
    /// refresh uses the transport's settings).
    pub(crate) fn over(transport: Transport, credentials: Credentials) -> Self {
        let config = transport.config().clone();
        PrusaConnectClient {
            transport,
            tokens: Arc::new(TokenKeeper::new(credentials, config)),
        }
    }

    /// The base URL, without credentials.
    pub fn endpoint(&self) -> &str {
        self.transport.endpoint()
    }

    /// Refreshes the access token now (needs a refresh token).
    pub async fn refresh_token(&self) -> Result<()> {
        self.tokens.refresh().await
    }

    /// Sends a request with the bearer token (refreshed first if about to expire).
    pub async fn send(&self, mut request: Request) -> Result<Response> {
        if !request.no_auth {
            self.tokens.ensure_fresh().await?;
            let mut v = HeaderValue::from_str(&format!("Bearer {}", self.tokens.access().expose()))
                .map_err(|_| Error::invalid("access token", "not a valid header value"))?;
            v.set_sensitive(true);
            request.headers.push((AUTHORIZATION, v));
        }
        self.transport.send(request).await
    }

    async fn ok(&self, request: Request) -> Result<Response> {
        let r = self.send(request).await?;
        if r.is_success() {
            Ok(r)
        } else {
            Err(error_of(&r))
        }
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.ok(Request::get(path)).await?.json()
    }

    async fn get_page<T: DeserializeOwned>(&self, path: &str, key: &str) -> Result<Page<T>> {
        Page::from_value(self.get::<Value>(path).await?, key)
    }

    async fn public<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        let mut r = Request::get(path);
        r.no_auth = true;
        self.ok(r).await?.json()
    }

    async fn write(&self, method: Method, path: &str, body: Option<Value>) -> Result<Response> {
        let mut r = Request::new(method, path, Idempotency::Command);
        if let Some(b) = body {
            r.body = Body::json(&b);
        }
        self.ok(r).await
    }

    // ---- public -------------------------------------------------------------------------

    /// The public app config (`GET /app/config`, sent without credentials).
    pub async fn app_config(&self) -> Result<wire::AppConfig> {
        self.public("app/config").await
    }

    /// The server version (`GET /version.json`, public).
    pub async fn version(&self) -> Result<wire::Version> {
        self.public("version.json").await
    }

    /// Printer types and their parameters (`GET /app/printer-types`, public).
    pub async fn printer_types(&self) -> Result<Vec<wire::PrinterType>> {
        let mut r = Request::get("app/printer-types");
        r.no_auth = true;
        let v: Value = self.ok(r).await?.json()?;
        Ok(Page::from_value(v, "printer_types")?.items)
    }

    // ---- printers -----------------------------------------------------------------------

    /// One page of the account's printers.
    pub async fn printers(&self, limit: u32, offset: u32) -> Result<Page<wire::Printer>> {
        self.get_page(
            &format!("app/printers?limit={limit}&offset={offset}"),
            "printers",
        )
        .await
    }

    /// Every printer, paging until `total` is reached.
    pub async fn all_printers(&self) -> Result<Vec<wire::Printer>> {
        let mut out = Vec::new();
        loop {
            let page = self.printers(100, out.len() as u32).await?;
            let n = page.items.len();
            out.extend(page.items);
            let total = page.pager.and_then(|p| p.total).unwrap_or(0) as usize;
            if n == 0 || out.len() >= total {
                return Ok(out);
            }
        }
    }

    /// A printer's detail.
    pub async fn printer(&self, uuid: &str) -> Result<wire::Printer> {
        self.get(&format!("app/printers/{}", enc(uuid))).await
    }

    /// A printer's supported commands.
    pub async fn supported_commands(&self, uuid: &str) -> Result<CommandSet> {
        let page: Page<wire::CommandDefinition> = self
            .get_page(
                &format!("app/printers/{}/supported-commands", enc(uuid)),
                "commands",
            )
            .await?;
        Ok(CommandSet::new(page.items))
    }

    /// Sends a command already checked against its definition (`POST .../commands/sync`).
    /// Sent once, never retried.
    pub async fn send_command(
        &self,
        uuid: &str,
        name: &str,
        kwargs: Map<String, Value>,
    ) -> Result<wire::CommandResponse> {
        let r = self
            .write(
                Method::POST,
                &format!("app/printers/{}/commands/sync", enc(uuid)),
                Some(json!({ "command": name, "kwargs": kwargs })),
            )
            .await?;
        if r.status == 204 || r.body.is_empty() {
            return Err(Error::protocol("commands/sync answered without a body"));
        }
        r.json()
    }

    /// Checks a command against the printer's supported commands (unknown command, missing
    /// argument, wrong type, value out of range: [`Error::InvalidArgument`] with nothing sent),
    /// then sends it once.
    pub async fn execute_command(
        &self,
        uuid: &str,
        name: &str,
        kwargs: Map<String, Value>,
    ) -> Result<wire::CommandResponse> {
        let set = self.supported_commands(uuid).await?;
        self.execute_checked(&set, uuid, name, kwargs).await
    }

    /// Like [`execute_command`](Self::execute_command) against a list already fetched.
    pub async fn execute_checked(
        &self,
        set: &CommandSet,
        uuid: &str,
        name: &str,
        kwargs: Map<String, Value>,
    ) -> Result<wire::CommandResponse> {
        set.check(name, &kwargs)?;
        self.send_command(uuid, name, kwargs).await
    }

    /// Commands pending for a printer.
    pub async fn pending_commands(&self, uuid: &str) -> Result<Vec<Value>> {
        Ok(self
            .get_page::<Value>(&format!("app/printers/{}/commands", enc(uuid)), "commands")
            .await?
            .items)
    }

    // ---- jobs ---------------------------------------------------------------------------

    /// A printer's jobs, newest first.
    pub async fn printer_jobs(&self, uuid: &str, q: &JobQuery) -> Result<Page<wire::Job>> {
        self.get_page(
            &format!("app/printers/{}/jobs{}", enc(uuid), q.query()),
            "jobs",
        )
        .await
    }

    /// Jobs of every printer the account can see.
    pub async fn team_jobs(&self, q: &JobQuery) -> Result<Page<wire::Job>> {
        self.get_page(&format!("app/jobs{}", q.query()), "jobs")
            .await
    }

    /// A job's detail, with `cancelable.objects` while it runs.
    pub async fn job(&self, uuid: &str, job_id: u64) -> Result<wire::Job> {
        self.get(&format!("app/printers/{}/jobs/{job_id}", enc(uuid)))
            .await
    }

    /// Tags why a job failed (`PATCH .../jobs/{id}`, 204).
    pub async fn set_failure_reason(
        &self,
        uuid: &str,
        job_id: u64,
        tags: &[FailureTag],
        other: Option<&str>,
    ) -> Result<()> {
        if tags.is_empty() {
            return Err(Error::invalid("failure reason", "give at least one tag"));
        }
        let mut reason = json!({ "tag": tags.iter().map(|t| t.as_str()).collect::<Vec<_>>() });
        if let Some(o) = other {
            reason["other"] = o.into();
        }
        self.write(
            Method::PATCH,
            &format!("app/printers/{}/jobs/{job_id}", enc(uuid)),
            Some(json!({ "reason": reason })),
        )
        .await
        .map(drop)
    }

    /// A printer's queue.
    pub async fn queue(
        &self,
        uuid: &str,
        limit: u32,
        offset: u32,
    ) -> Result<Page<wire::PlannedJob>> {
        self.get_page(
            &format!(
                "app/printers/{}/queue?limit={limit}&offset={offset}",
                enc(uuid)
            ),
            "planned_jobs",
        )
        .await
    }

    /// Adds a file on the printer to its queue, at `position` (`set_ready` also marks the
    /// printer ready).
    pub async fn add_to_queue(
        &self,
        uuid: &str,
        path: &str,
        position: u32,
        set_ready: bool,
    ) -> Result<()> {
        self.write(
            Method::POST,
            &format!("app/printers/{}/queue", enc(uuid)),
            Some(json!({ "set_ready": set_ready, "position": position, "path": path })),
        )
        .await
        .map(drop)
    }

    // ---- files --------------------------------------------------------------------------

    /// Files on a printer's storages.
    pub async fn printer_files(&self, uuid: &str) -> Result<Vec<wire::File>> {
        Ok(self
            .get_page(&format!("app/printers/{}/files", enc(uuid)), "files")
            .await?
            .items)
    }

    /// A printer's storages.
    pub async fn storages(&self, uuid: &str) -> Result<Vec<wire::Storage>> {
        Ok(self
            .get_page(&format!("app/printers/{}/storages", enc(uuid)), "storages")
            .await?
            .items)
    }

    /// Files in team storage.
    pub async fn team_files(&self, team_id: u64) -> Result<Page<wire::File>> {
        self.get_page(&format!("app/teams/{team_id}/files"), "files")
            .await
    }

    /// One team file.
    pub async fn team_file(&self, team_id: u64, hash: &str) -> Result<wire::File> {
        self.get(&format!("app/teams/{team_id}/files/{}", enc(hash)))
            .await
    }

    /// A team file's bytes.
    pub async fn download_team_file(&self, team_id: u64, hash: &str) -> Result<Bytes> {
        Ok(self
            .ok(Request::get(format!(
                "app/teams/{team_id}/files/{}/raw",
                enc(hash)
            )))
            .await?
            .body)
    }

    /// Starts an upload into team storage. With `printer` (uuid, destination path) the file is
    /// sent on to that printer.
    pub async fn initiate_upload(
        &self,
        team_id: u64,
        filename: &str,
        size: u64,
        printer: Option<(&str, &str)>,
    ) -> Result<wire::UploadStatus> {
        let mut body = json!({ "filename": filename, "size": size });
        match printer {
            Some((uuid, path)) => {
                body["printer_uuid"] = uuid.into();
                body["path"] = path.into();
                body["force"] = true.into();
            }
            None => body["destination"] = "connect/My Projects".into(),
        }
        self.write(
            Method::POST,
            &format!("app/users/teams/{team_id}/uploads"),
            Some(body),
        )
        .await?
        .json()
    }

    /// Sends an upload's bytes, streamed, with progress (`PUT .../files/raw?upload_id=`).
    pub async fn upload_data(
        &self,
        team_id: u64,
        upload_id: u64,
        upload: CheckedUpload,
    ) -> Result<()> {
        let content_type = match upload.name.extension().as_deref() {
            Some("bgcode" | "bgc" | "bg") => "application/x-bgcode",
            Some("gcode" | "gco" | "g") => "text/x.gcode",
            _ => "application/octet-stream",
        };
        let size = upload.size;
        let mut r = Request::new(
            Method::PUT,
            format!("app/teams/{team_id}/files/raw?upload_id={upload_id}"),
            Idempotency::Command,
        );
        r.body = Body::RawUpload(content_type, Box::new(CheckedUploadBody(upload)));
        r = r.header(
            HeaderName::from_static("upload-size"),
            HeaderValue::from(size),
        );
        self.ok(r).await.map(drop)
    }

    /// Uploads in a team, optionally filtered by state (`UPLOADING`, ...).
    pub async fn uploads(
        &self,
        team_id: u64,
        state: Option<&str>,
    ) -> Result<Vec<wire::UploadStatus>> {
        let q = state
            .map(|s| format!("?state={}", enc(s)))
            .unwrap_or_default();
        Ok(self
            .get_page(&format!("app/users/teams/{team_id}/uploads{q}"), "uploads")
            .await?
            .items)
    }

    // ---- teams --------------------------------------------------------------------------

    /// Teams of the user.
    pub async fn teams(&self) -> Result<Page<wire::Team>> {
        self.get_page("app/users/teams?limit=50&offset=0", "teams")
            .await
    }

    /// A team with its users.
    pub async fn team(&self, team_id: u64) -> Result<wire::Team> {
        self.get(&format!("app/users/teams/{team_id}")).await
    }

    /// Invites someone to a team.
    pub async fn invite_user(&self, team_id: u64, invite: &wire::Invite) -> Result<()> {
        if !invite.email.contains('@') || invite.email.chars().any(char::is_control) {
            return Err(Error::invalid(
                "e-mail",
                format!("{:?} is not an address", invite.email),
            ));
        }
        self.write(
            Method::POST,
            &format!("app/teams/{team_id}/add-user"),
            Some(serde_json::to_value(invite).unwrap_or_default()),
        )
        .await
        .map(drop)
    }

    /// Pending invitations.
    pub async fn invitations(&self) -> Result<Value> {
        self.get("app/invitations").await
    }

    // ---- cameras ------------------------------------------------------------------------

    /// Every camera of the account.
    pub async fn cameras(&self) -> Result<Page<wire::Camera>> {
        self.get_page("app/cameras?limit=50&offset=0", "cameras")
            .await
    }

    /// A printer's cameras.
    pub async fn printer_cameras(&self, uuid: &str) -> Result<Vec<wire::Camera>> {
        Ok(self
            .get_page(&format!("app/printers/{}/cameras", enc(uuid)), "cameras")
            .await?
            .items)
    }

    /// A camera's last snapshot. With `etag`, a 304 answers `Ok(None)`.
    pub async fn snapshot(&self, camera_id: u64, etag: Option<&str>) -> Result<Option<Image>> {
        let mut r = Request::get(format!("app/cameras/{camera_id}/snapshots/last"));
        if let Some(tag) = etag.and_then(|t| HeaderValue::from_str(t).ok()) {
            r = r.header(IF_NONE_MATCH, tag);
        }
        let r = self.send(r).await?;
        if r.status == 304 {
            return Ok(None);
        }
        if !r.is_success() {
            return Err(error_of(&r));
        }
        let content_type = r.content_type().unwrap_or("image/jpeg").to_string();
        if !content_type.starts_with("image/") {
            return Err(Error::protocol(format!(
                "snapshot is {content_type}, not an image: {}",
                r.snippet()
            )));
        }
        let etag = r
            .headers
            .get(reqwest::header::ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        Ok(Some(Image {
            content_type,
            bytes: r.body,
            etag,
        }))
    }

    // ---- stats, events, notifications ---------------------------------------------------

    fn stats_path(uuid: &str, what: &str, w: Window) -> String {
        format!(
            "app/stats/printers/{}/{what}?from={}&to={}",
            enc(uuid),
            w.from,
            w.to
        )
    }

    /// Printing vs not printing, seconds.
    pub async fn stats_usage(&self, uuid: &str, w: Window) -> Result<wire::NamedStats> {
        self.get(&Self::stats_path(uuid, "printing_not_printing", w))
            .await
    }

    /// Material used, per material.
    pub async fn stats_material(&self, uuid: &str, w: Window) -> Result<wire::NamedStats> {
        self.get(&Self::stats_path(uuid, "material_quantity", w))
            .await
    }

    /// Planned tasks per hour.
    pub async fn stats_planned_tasks(&self, uuid: &str, w: Window) -> Result<wire::PlannedTasks> {
        self.get(&Self::stats_path(uuid, "planned_tasks", w)).await
    }

    /// Job outcomes per day.
    pub async fn stats_jobs_success(&self, uuid: &str, w: Window) -> Result<wire::JobsSuccess> {
        self.get(&Self::stats_path(uuid, "jobs_success", w)).await
    }

    /// A printer's events, optionally of one kind.
    pub async fn events(
        &self,
        uuid: &str,
        event: Option<&str>,
        limit: u32,
    ) -> Result<Page<wire::Event>> {
        let mut q = format!("?limit={limit}");
        if let Some(e) = event {
            q.push_str(&format!("&event={}", enc(e)));
        }
        self.get_page(&format!("app/printers/{}/events{q}", enc(uuid)), "events")
            .await
    }

    /// Notifications.
    pub async fn notifications(&self, limit: u32, offset: u32) -> Result<Page<wire::Notification>> {
        self.get_page(
            &format!("app/notifications?limit={limit}&offset={offset}"),
            "notifications",
        )
        .await
    }

    /// How many notifications are unseen.
    pub async fn unseen_notifications(&self) -> Result<u64> {
        let v: Value = self.get("app/notifications/unseen").await?;
        v.get("unseen")
            .and_then(Value::as_u64)
            .ok_or_else(|| Error::protocol("unseen count missing"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_tags_round_trip() {
        for t in FailureTag::ALL {
            assert_eq!(FailureTag::parse(t.as_str()), Some(t));
        }
        assert_eq!(FailureTag::parse("NOPE"), None);
    }

    #[test]
    fn job_queries_repeat_states() {
        let q = JobQuery {
            states: vec!["FIN_OK".into(), "FIN_ERROR".into()],
            limit: Some(5),
            offset: None,
        };
        assert_eq!(q.query(), "?state=FIN_OK&state=FIN_ERROR&limit=5");
        assert_eq!(JobQuery::default().query(), "");
    }

    #[test]
    fn error_bodies_map_to_kinds() {
        let resp = |status: u16, body: &str| Response {
            status,
            headers: Default::default(),
            body: Bytes::from(body.to_string()),
        };
        let e = error_of(&resp(
            401,
            r#"{"message": "Missing or invalid security token", "code": "UNAUTHORIZED"}"#,
        ));
        assert!(matches!(e, Error::Auth { .. }), "{e}");
        assert!(e.to_string().contains("UNAUTHORIZED"));
        let e = error_of(&resp(
            404,
            r#"{"message": "Snapshot not found", "code": "NOT_FOUND_SNAPSHOT"}"#,
        ));
        assert!(matches!(e, Error::NotFound { .. }));
        assert!(matches!(
            error_of(&resp(409, "{}")),
            Error::InvalidState { .. }
        ));
        assert!(matches!(
            error_of(&resp(
                400,
                r#"{"message":"m","code":"BAD_REQUEST","reason":"r"}"#
            )),
            Error::InvalidArgument { .. }
        ));
        assert!(matches!(
            error_of(&resp(503, "maintenance")),
            Error::Api { status: 503, .. }
        ));
    }
}
