//! Child processes of the bench: the fixed-response server (this binary re-executed with
//! `serve`) and one-shot measurement children (`fleet-child`, `upload-child`) whose CPU and
//! memory are then theirs alone. A server child is killed (by its own pid) when dropped.

use std::io::{self, BufRead, BufReader};
use std::process::{Child, Command, Stdio};

fn this_exe() -> io::Result<std::path::PathBuf> {
    std::env::current_exe()
}

/// A running `serve` child and the ports it listens on (127.0.0.1).
pub struct Server {
    child: Child,
    /// The ports, in order.
    pub ports: Vec<u16>,
}

impl Server {
    /// Starts a server child listening on `ports` ports and waits until it listens.
    pub fn start(ports: usize) -> io::Result<Server> {
        Server::start_with_delay(ports, 0)
    }

    /// Like [`Server::start`], answering each request after `delay_ms` ms.
    pub fn start_with_delay(ports: usize, delay_ms: u64) -> io::Result<Server> {
        let mut child = Command::new(this_exe()?)
            .args(["serve", "--ports", &ports.to_string()])
            .args(["--delay-ms", &delay_ms.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdout = child.stdout.take().expect("piped stdout");
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let ports: Vec<u16> = line
            .strip_prefix("PORTS ")
            .unwrap_or_default()
            .split_whitespace()
            .filter_map(|p| p.parse().ok())
            .collect();
        let mut server = Server { child, ports };
        if server.ports.is_empty() {
            server.stop();
            return Err(io::Error::other(format!(
                "the server child did not start: {line:?}"
            )));
        }
        Ok(server)
    }

    /// The base URL of port `i`.
    pub fn url(&self, i: usize) -> String {
        format!("http://127.0.0.1:{}", self.ports[i % self.ports.len()])
    }

    /// Stops the child (closing its stdin ends it; the kill is for certainty).
    pub fn stop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Runs this binary with `args` to completion and returns its stdout's last line.
pub fn run_self(args: &[String]) -> io::Result<String> {
    let out = Command::new(this_exe()?)
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let last = text.lines().last().unwrap_or_default().to_string();
    if !out.status.success() {
        return Err(io::Error::other(format!(
            "{} failed ({}): {last}",
            args.first().map(String::as_str).unwrap_or("child"),
            out.status
        )));
    }
    Ok(last)
}
