//! The fixed-response HTTP/1.1 server the benchmarks talk to (the hidden `serve` subcommand).
//!
//! It answers canned bodies, read once at start-up from the real recorded samples, chosen by
//! the request path's *suffix* (so `/p17/api/job` and `/api/job` get the same answer and one
//! port can stand for a hundred printers). Keep-alive, `Expect: 100-continue`,
//! `Content-Length` and chunked request bodies are handled; OctoEverywhere's status answers
//! the plugin's envelope as `text/json`, as the plugin does; request bodies are read and
//! discarded, so it doubles as the upload sink. It runs on a single-threaded tokio runtime in
//! its own process, listens on 127.0.0.1 only, prints `PORTS <p1> <p2> …` on stdout once it
//! listens, and exits when its stdin closes (so it never outlives the bench). With
//! `--delay-ms D` it waits D ms before each answer, like a real server's work.

use std::io::{self, BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Largest request head accepted.
const MAX_HEAD: usize = 64 * 1024;
/// Largest read while discarding a body.
const DISCARD_CHUNK: usize = 256 * 1024;

/// The recorded samples: the repository's `adapters/` folder, where each adapter keeps the
/// samples its tests read in `<adapter>/tests/fixtures/samples/`. The sample names below are
/// relative to it.
pub fn samples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../adapters")
}

/// OctoPrint's recorded answers, relative to [`samples_dir`].
pub const OCTOPRINT_SAMPLES: &str = "octoprint/tests/fixtures/samples/octoprint";
/// Obico's samples, relative to [`samples_dir`].
pub const OBICO_SAMPLES: &str = "obico/tests/fixtures/samples/obico";
/// Prusa Connect's samples, relative to [`samples_dir`].
pub const PRUSA_CONNECT_SAMPLES: &str = "prusa-connect/tests/fixtures/samples/prusa-connect";
/// Moonraker's recordings (bodies as sent), relative to [`samples_dir`].
pub const MOONRAKER_SAMPLES: &str = "moonraker/tests/fixtures/samples/moonraker";
/// PrusaLink's recordings: line 1 is the status and headers, the body follows.
pub const PRUSALINK_SAMPLES: &str = "prusalink/tests/fixtures/samples/prusalink";

/// A complete canned JSON response, head and body.
fn response(status: u16, reason: &str, body: &[u8]) -> Bytes {
    response_typed(status, reason, "application/json", body)
}

/// A complete canned response with the given `Content-Type`, head and body.
fn response_typed(status: u16, reason: &str, content_type: &str, body: &[u8]) -> Bytes {
    let mut r = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    Bytes::from(r)
}

/// The path suffix of OctoEverywhere's status (`<base>/octoeverywhere-command-api/` + `status`).
pub const OE_STATUS_SUFFIX: &str = "/octoeverywhere-command-api/status";
/// The recorded OctoEverywhere status answer: the plugin's whole envelope
/// (`{"Status": 200, "Result": {...}}`), as the API docs show it.
pub const OE_STATUS_SAMPLE: &str =
    "octoeverywhere/tests/fixtures/samples/obico-docs/oe_status_response.json";

/// The OctoEverywhere status body: the sample as recorded when it is already the plugin's
/// envelope (an object with `Status`), as it is; otherwise the sample taken as the `Result`
/// and wrapped the way the plugin (and the adapter's mock) answers, `{"Status": 200,
/// "Result": ...}`.
pub fn oe_envelope(sample: Vec<u8>) -> io::Result<Vec<u8>> {
    let v: serde_json::Value = serde_json::from_slice(&sample).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{OE_STATUS_SAMPLE}: {e}"),
        )
    })?;
    if v.get("Status").is_some() {
        Ok(sample)
    } else {
        Ok(serde_json::json!({ "Status": 200, "Result": v })
            .to_string()
            .into_bytes())
    }
}

/// Canned answers by path suffix.
struct Routes {
    /// `(suffix, response)`, first match wins.
    by_suffix: Vec<(&'static str, Bytes)>,
    /// `…/api/v1/printers/<id>/` (Obico).
    obico_printer: Bytes,
    /// `…/app/printers/<uuid>` and its `/supported-commands` and `/cameras` (Prusa Connect).
    prusa_printer: Bytes,
    prusa_commands: Bytes,
    prusa_cameras: Bytes,
    /// `POST …/api/files/local` (OctoPrint upload).
    upload: Bytes,
    not_found: Bytes,
}

impl Routes {
    fn load(dir: &Path) -> io::Result<Routes> {
        let read = |rel: &str| {
            std::fs::read(dir.join(rel))
                .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", dir.join(rel).display())))
        };
        let ok = |rel: &str| read(rel).map(|b| response(200, "OK", &b));
        let octo = |name: &str| format!("{OCTOPRINT_SAMPLES}/{name}");
        // A recording's body: everything after its first line.
        let body_of = |rel: &str| {
            read(&format!("{PRUSALINK_SAMPLES}/{rel}")).map(|b| {
                let start = b
                    .iter()
                    .position(|c| *c == b'\n')
                    .map_or(b.len(), |i| i + 1);
                response(200, "OK", &b[start..])
            })
        };
        let prusa = |rel: &str| format!("{PRUSA_CONNECT_SAMPLES}/{rel}");
        Ok(Routes {
            by_suffix: vec![
                ("/api/printer", ok(&octo("printer_printing.json"))?),
                ("/api/job", ok(&octo("job_printing.json"))?),
                ("/api/version", ok(&octo("version.json"))?),
                ("/api/server", ok(&octo("server.json"))?),
                ("/api/connection", ok(&octo("connection_printing.json"))?),
                ("/api/settings", ok(&octo("settings.json"))?),
                ("/api/files", ok(&octo("files_list_recursive.json"))?),
                // Moonraker (Klipper).
                (
                    "/server/info",
                    ok(&format!("{MOONRAKER_SAMPLES}/server_info.json"))?,
                ),
                (
                    "/printer/objects/query",
                    ok(&format!("{MOONRAKER_SAMPLES}/objects_query_printing.json"))?,
                ),
                // What a watch's first feature check reads (a status does not).
                (
                    "/printer/objects/list",
                    ok(&format!("{MOONRAKER_SAMPLES}/printer_objects_list.json"))?,
                ),
                (
                    "/printer/gcode/help",
                    response(
                        200,
                        "OK",
                        br#"{"result":{"G28":"Home","M104":"Set temperature"}}"#,
                    ),
                ),
                (
                    "/server/webcams/list",
                    response(200, "OK", br#"{"result":{"webcams":[]}}"#),
                ),
                // PrusaLink.
                ("/api/v1/status", body_of("status_printing.json")?),
                ("/api/v1/job", body_of("job_printing.json")?),
                (
                    "/api/v1/version/",
                    response(200, "OK", br#"{"version":"bench"}"#),
                ),
                // The plugin answers its envelope on HTTP 200 as `text/json`.
                (
                    OE_STATUS_SUFFIX,
                    response_typed(
                        200,
                        "OK",
                        "text/json",
                        &oe_envelope(read(OE_STATUS_SAMPLE)?)?,
                    ),
                ),
            ],
            obico_printer: ok(&format!("{OBICO_SAMPLES}/printer_octoprint_paused.json"))?,
            prusa_printer: ok(&prusa("ha-prusa-connect/printer_detail.json"))?,
            prusa_commands: ok(&prusa("ha-prusa-connect/supported_commands.json"))?,
            prusa_cameras: ok(&prusa("transcribed/seed-capture/printer_cameras.json"))?,
            upload: read(&octo("upload_gcode.json")).map(|b| response(201, "CREATED", &b))?,
            not_found: response(404, "NOT FOUND", br#"{"error":"not found"}"#),
        })
    }

    fn answer(&self, method: &str, target: &str) -> &Bytes {
        let path = target.split('?').next().unwrap_or(target);
        if method == "POST" && path.ends_with("/api/files/local") {
            return &self.upload;
        }
        if path.ends_with('/') {
            if let Some(i) = path.find("/api/v1/printers/") {
                let id = &path[i + "/api/v1/printers/".len()..path.len() - 1];
                if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) {
                    return &self.obico_printer;
                }
            }
        }
        if let Some(i) = path.find("/app/printers/") {
            let rest = &path[i + "/app/printers/".len()..];
            return match rest.split_once('/') {
                None if !rest.is_empty() => &self.prusa_printer,
                Some((_, "supported-commands")) => &self.prusa_commands,
                Some((_, "cameras")) => &self.prusa_cameras,
                _ => &self.not_found,
            };
        }
        self.by_suffix
            .iter()
            .find(|(suffix, _)| path.ends_with(suffix))
            .map_or(&self.not_found, |(_, r)| r)
    }
}

/// How a request's body is framed.
enum Framing {
    Length(u64),
    Chunked,
}

/// What the server needs from a request head.
struct Head {
    method: String,
    target: String,
    framing: Framing,
    expect_continue: bool,
    close: bool,
}

fn parse_head(head: &[u8]) -> io::Result<Head> {
    let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_string());
    let text = std::str::from_utf8(head).map_err(|_| bad("head is not UTF-8"))?;
    let mut lines = text.split("\r\n");
    let mut request_line = lines.next().unwrap_or_default().split(' ');
    let method = request_line.next().unwrap_or_default().to_string();
    let target = request_line
        .next()
        .ok_or_else(|| bad("no target"))?
        .to_string();
    let http10 = request_line.next() == Some("HTTP/1.0");
    let mut head = Head {
        method,
        target,
        framing: Framing::Length(0),
        expect_continue: false,
        close: http10,
    };
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            let n = value.parse().map_err(|_| bad("bad content-length"))?;
            if !matches!(head.framing, Framing::Chunked) {
                head.framing = Framing::Length(n);
            }
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            if value.to_ascii_lowercase().contains("chunked") {
                head.framing = Framing::Chunked;
            }
        } else if name.eq_ignore_ascii_case("expect") {
            head.expect_continue = value.eq_ignore_ascii_case("100-continue");
        } else if name.eq_ignore_ascii_case("connection") {
            head.close = value.eq_ignore_ascii_case("close");
        }
    }
    Ok(head)
}

/// One connection: reads buffered bytes from `buf` first, then from the socket.
struct Conn {
    sock: TcpStream,
    buf: BytesMut,
    scratch: Vec<u8>,
}

impl Conn {
    /// Reads more into `buf`; `false` at end of stream.
    async fn fill(&mut self) -> io::Result<bool> {
        if self.buf.capacity() - self.buf.len() < 4096 {
            self.buf.reserve(16 * 1024);
        }
        Ok(self.sock.read_buf(&mut self.buf).await? > 0)
    }

    /// The next CRLF-terminated line (without the CRLF).
    async fn line(&mut self) -> io::Result<BytesMut> {
        loop {
            if let Some(i) = find(&self.buf, b"\r\n") {
                let line = self.buf.split_to(i);
                self.buf.advance(2);
                return Ok(line);
            }
            if self.buf.len() > MAX_HEAD {
                return Err(io::Error::new(io::ErrorKind::InvalidData, "line too long"));
            }
            if !self.fill().await? {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
    }

    /// Reads and drops `n` bytes, never reading past them (the next request may follow).
    async fn discard(&mut self, mut n: u64) -> io::Result<()> {
        let buffered = (self.buf.len() as u64).min(n);
        self.buf.advance(buffered as usize);
        n -= buffered;
        while n > 0 {
            let want = (n as usize).min(DISCARD_CHUNK);
            let got = self.sock.read(&mut self.scratch[..want]).await?;
            if got == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            n -= got as u64;
        }
        Ok(())
    }

    async fn discard_chunked(&mut self) -> io::Result<()> {
        // Bounded: at most one iteration per chunk the client sends, and the stream ends.
        loop {
            let line = self.line().await?;
            let size = std::str::from_utf8(&line)
                .ok()
                .and_then(|l| u64::from_str_radix(l.split(';').next()?.trim(), 16).ok())
                .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "bad chunk size"))?;
            if size == 0 {
                // Trailers, up to the empty line.
                while !self.line().await?.is_empty() {}
                return Ok(());
            }
            self.discard(size).await?;
            if !self.line().await?.is_empty() {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "no CRLF after chunk",
                ));
            }
        }
    }

    /// The next request's head, or `None` when the client closed the connection.
    async fn head(&mut self) -> io::Result<Option<Head>> {
        loop {
            if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                let head = self.buf.split_to(i + 4);
                return parse_head(&head[..i]).map(Some);
            }
            if self.buf.len() > MAX_HEAD {
                return Err(io::Error::new(io::ErrorKind::InvalidData, "head too long"));
            }
            if !self.fill().await? {
                return Ok(None);
            }
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

async fn serve_connection(sock: TcpStream, routes: Arc<Routes>, delay: Duration) -> io::Result<()> {
    sock.set_nodelay(true)?;
    let mut conn = Conn {
        sock,
        buf: BytesMut::with_capacity(16 * 1024),
        scratch: vec![0; DISCARD_CHUNK],
    };
    // One iteration per request; ends when the client closes or asks to.
    while let Some(head) = conn.head().await? {
        if head.expect_continue {
            conn.sock
                .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
                .await?;
        }
        match head.framing {
            Framing::Length(n) => conn.discard(n).await?,
            Framing::Chunked => conn.discard_chunked().await?,
        }
        let answer = routes.answer(&head.method, &head.target);
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        conn.sock.write_all(answer).await?;
        if head.close {
            break;
        }
    }
    Ok(())
}

/// `serve [--ports N] [--delay-ms D]`: listens on N ephemeral ports of 127.0.0.1 until stdin
/// closes, answering after D ms.
pub fn main(args: &[String]) -> io::Result<()> {
    let usage = || {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "usage: serve [--ports N] [--delay-ms D]",
        )
    };
    let (mut ports, mut delay_ms) = (1usize, 0u64);
    for pair in args.chunks(2) {
        match pair {
            [flag, n] if flag == "--ports" => ports = n.parse().map_err(|_| usage())?,
            [flag, n] if flag == "--delay-ms" => delay_ms = n.parse().map_err(|_| usage())?,
            _ => return Err(usage()),
        }
    }
    let delay = Duration::from_millis(delay_ms);
    crate::stats::raise_nofile_limit();
    let routes = Arc::new(Routes::load(&samples_dir())?);
    // The parent holds our stdin; when it closes (the bench ended or died), so do we.
    std::thread::spawn(|| {
        let mut sink = String::new();
        let stdin = io::stdin();
        let mut lock = stdin.lock();
        while matches!(lock.read_line(&mut sink), Ok(n) if n > 0) {
            sink.clear();
        }
        std::process::exit(0);
    });
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let mut listeners = Vec::with_capacity(ports);
        for _ in 0..ports {
            listeners.push(TcpListener::bind("127.0.0.1:0").await?);
        }
        let numbers: Vec<String> = listeners
            .iter()
            .map(|l| l.local_addr().map(|a| a.port().to_string()))
            .collect::<io::Result<_>>()?;
        let mut out = io::stdout();
        writeln!(out, "PORTS {}", numbers.join(" "))?;
        out.flush()?;
        let mut tasks = Vec::new();
        for listener in listeners {
            let routes = routes.clone();
            tasks.push(tokio::spawn(async move {
                loop {
                    let Ok((sock, _)) = listener.accept().await else {
                        // Out of descriptors, most likely: let some connections close.
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    };
                    let routes = routes.clone();
                    tokio::spawn(async move {
                        let _ = serve_connection(sock, routes, delay).await;
                    });
                }
            }));
        }
        for t in tasks {
            let _ = t.await;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_match_by_suffix() {
        let r = Routes::load(&samples_dir()).unwrap();
        let body = |m, p| String::from_utf8_lossy(r.answer(m, p)).into_owned();
        assert!(body("GET", "/p17/api/printer").contains("temperature"));
        assert!(body("GET", "/api/job?x=1").contains("progress"));
        assert!(body("GET", "/p3/api/v1/printers/125/").contains("agent_name"));
        assert!(body("GET", "/p3/app/printers/1111-22").contains("temp_nozzle"));
        assert!(body("GET", "/app/printers/1111-22/supported-commands").contains("commands"));
        assert!(body("GET", "/app/printers/1111-22/cameras?limit=5").contains("cameras"));
        assert!(body("GET", "/p3/octoeverywhere-command-api/status").contains("JobStatus"));
        assert!(body("GET", "/p3/api/v1/status").contains("PRINTING"));
        assert!(body("GET", "/p3/server/info").contains("klippy_state"));
        assert!(body("GET", "/p3/printer/objects/query?webhooks").contains("print_stats"));
        assert!(body("GET", "/p3/api/v1/job").contains("time_printing"));
        assert!(body("GET", "/octoeverywhere-command-api/status").contains("text/json"));
        assert!(body("POST", "/p3/api/files/local").starts_with("HTTP/1.1 201"));
        assert!(body("GET", "/nope").starts_with("HTTP/1.1 404"));
    }

    #[test]
    fn oe_status_sample_decodes_and_maps_through_the_adapter() {
        let r = Routes::load(&samples_dir()).unwrap();
        let answer = r.answer("GET", "/p3/octoeverywhere-command-api/status");
        let i = find(answer, b"\r\n\r\n").unwrap() + 4;
        let (_, s) = polyprint_octoeverywhere::bench_internals::status(&answer[i..]).unwrap();
        assert_eq!(s.raw_state, "printing");
        assert_eq!(s.heaters.len(), 3);
        assert!(s.job.is_some() && s.failure.is_some());
        // A bare `Result` is wrapped the way the plugin answers; an envelope is kept as is.
        let wrapped = oe_envelope(br#"{"Features": 1}"#.to_vec()).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&wrapped).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"Status": 200, "Result": {"Features": 1}})
        );
        let kept = br#"{"Status": 200, "Result": {}}"#.to_vec();
        assert_eq!(oe_envelope(kept.clone()).unwrap(), kept);
    }

    /// The adapter's own `status()`, over HTTP, against this server's connection handling.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn oe_status_through_the_adapter() {
        use polyprint::Printer;
        use polyprint_octoeverywhere::OctoEverywhere;
        let routes = Arc::new(Routes::load(&samples_dir()).unwrap());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            let (sock, _) = listener.accept().await.unwrap();
            let _ = serve_connection(sock, routes, Duration::ZERO).await;
        });
        let oe = OctoEverywhere::builder(format!("http://127.0.0.1:{port}/p17/"))
            .bearer("bench-token")
            .client(reqwest::Client::new())
            .build()
            .unwrap();
        let s = oe.status().await.unwrap();
        assert_eq!(s.raw_state, "printing");
        assert_eq!(s.job.unwrap().progress, Some(42.5));
        drop(oe);
        server.abort();
    }

    #[test]
    fn heads_are_parsed() {
        let h = parse_head(
            b"POST /api/files/local HTTP/1.1\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue",
        )
        .unwrap();
        assert_eq!(h.method, "POST");
        assert!(matches!(h.framing, Framing::Chunked));
        assert!(h.expect_continue && !h.close);
        let h = parse_head(b"GET / HTTP/1.1\r\ncontent-length: 12\r\nConnection: close").unwrap();
        assert!(matches!(h.framing, Framing::Length(12)) && h.close);
    }
}
