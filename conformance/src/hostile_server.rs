//! A server on 127.0.0.1 that answers like an attacker or a broken proxy would: a body that
//! drips a byte at a time, headers that never end, a flood of headers, a body declared as
//! 2 GB, a chunked body that never ends. It speaks raw HTTP/1.1 over TCP (a mock framework
//! cannot misbehave like this), stops writing after 30 s or 2 GB per connection, and stops
//! accepting when dropped.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How the server answers every request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behaviour {
    /// A 200 with a declared 1,000-byte JSON body, sent one byte every 100 ms.
    Drip,
    /// A status line, then one more header every 20 ms, never a blank line.
    EndlessHeaders,
    /// A 200 with 20,000 headers before a small body.
    HeaderFlood,
    /// A 200 declaring `Content-Length: 2147483648`, then zeros.
    HugeDeclared,
    /// A 200 with a chunked body of `[` characters that does not end (up to 2 GB).
    HugeChunked,
}

impl Behaviour {
    /// Every behaviour.
    pub const ALL: [Behaviour; 5] = [
        Behaviour::Drip,
        Behaviour::EndlessHeaders,
        Behaviour::HeaderFlood,
        Behaviour::HugeDeclared,
        Behaviour::HugeChunked,
    ];
}

/// The longest a connection is served.
const LIFETIME: Duration = Duration::from_secs(30);
/// The most bytes written to a connection.
const MAX_BYTES: u64 = 2 << 30;

/// A running hostile server; stops accepting when dropped.
pub struct HostileServer {
    url: String,
    task: tokio::task::JoinHandle<()>,
}

impl HostileServer {
    /// Starts one on a free port of 127.0.0.1.
    pub async fn start(behaviour: Behaviour) -> std::io::Result<HostileServer> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let _ = tokio::time::timeout(LIFETIME, serve(socket, behaviour)).await;
                });
            }
        });
        Ok(HostileServer { url, task })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for HostileServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(mut socket: TcpStream, behaviour: Behaviour) -> std::io::Result<()> {
    // The request head (the body, if any, is not waited for).
    let mut buf = vec![0u8; 64 * 1024];
    let _ = socket.read(&mut buf).await?;
    match behaviour {
        Behaviour::Drip => {
            socket
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n")
                .await?;
            for _ in 0..1000 {
                socket.write_all(b" ").await?;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        Behaviour::EndlessHeaders => {
            socket.write_all(b"HTTP/1.1 200 OK\r\n").await?;
            for i in 0u64.. {
                socket
                    .write_all(format!("x-more-{i}: a\r\n").as_bytes())
                    .await?;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        Behaviour::HeaderFlood => {
            let mut head = String::from("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n");
            for i in 0..20_000 {
                head.push_str(&format!("x-flood-{i}: {}\r\n", "a".repeat(16)));
            }
            head.push_str("content-length: 2\r\n\r\n{}");
            socket.write_all(head.as_bytes()).await?;
        }
        Behaviour::HugeDeclared => {
            socket
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2147483648\r\n\r\n")
                .await?;
            let zeros = vec![b'0'; 1 << 20];
            let mut sent = 0u64;
            while sent < MAX_BYTES {
                socket.write_all(&zeros).await?;
                sent += zeros.len() as u64;
            }
        }
        Behaviour::HugeChunked => {
            socket
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n")
                .await?;
            let chunk = format!("{:x}\r\n{}\r\n", 1 << 20, "[".repeat(1 << 20));
            let mut sent = 0u64;
            while sent < MAX_BYTES {
                socket.write_all(chunk.as_bytes()).await?;
                sent += 1 << 20;
            }
        }
    }
    Ok(())
}
