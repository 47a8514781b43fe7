//! The push channel against the mock: login, socket, messages mapped like REST reads, and a
//! watch that follows the socket and survives losing it.
#![cfg(feature = "mock")]

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use polyprint::mockserver::Fault;
use polyprint::sim::{VirtualPrinter, DEMO_FILE};
use polyprint::watch::{watch, Change, WatchOptions};
use polyprint::{Error, Feature, Printer, PrinterState};
use polyprint_octoprint::mock::OctoPrintMock;
use polyprint_octoprint::OctoPrint;

async fn setup() -> (OctoPrintMock, Arc<OctoPrint>) {
    let mock = OctoPrintMock::start(VirtualPrinter::new()).await;
    let client = OctoPrint::builder(mock.uri())
        .api_key(mock.api_key())
        .http(polyprint::mockserver::quick_http())
        .build()
        .unwrap();
    (mock, Arc::new(client))
}

const WAIT: Duration = Duration::from_secs(5);

#[tokio::test]
async fn the_feed_starts_with_the_status_a_read_gives() {
    let (mock, p) = setup().await;
    assert!(p.features().await.unwrap().contains(Feature::StatusPush));
    let mut feed = p.status_feed().await.unwrap();
    let pushed = tokio::time::timeout(WAIT, feed.next())
        .await
        .expect("history at once")
        .unwrap()
        .unwrap();
    assert_eq!(pushed, p.status().await.unwrap());
    // The login was passive, by key; the socket's handshake is journaled.
    let journal = mock.server().journal();
    let login = journal.iter().find(|r| r.path == "/api/login").unwrap();
    assert_eq!(login.body, br#"{"passive":true}"#);
    assert!(journal.iter().any(|r| r.path == "/sockjs/websocket"));
}

#[tokio::test]
async fn a_change_arrives_within_a_push_period_and_maps_like_a_read() {
    let (mock, p) = setup().await;
    let mut feed = p.status_feed().await.unwrap();
    feed.next().await.unwrap().unwrap();
    mock.printer().start_print(DEMO_FILE).await.unwrap();
    let started = std::time::Instant::now();
    let printing = loop {
        let s = tokio::time::timeout(WAIT, feed.next())
            .await
            .expect("a push within 5 s")
            .unwrap()
            .unwrap();
        if s.state == PrinterState::Printing {
            break s;
        }
    };
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    // The virtual printer's clock is manual: nothing moved between the push and this read.
    assert_eq!(printing, p.status().await.unwrap());
}

#[tokio::test]
async fn a_watch_follows_the_socket_instead_of_polling() {
    let (mock, p) = setup().await;
    let mut s = watch(p.clone(), WatchOptions::every(Duration::from_millis(20)));
    let first = tokio::time::timeout(WAIT, s.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(first.change, Change::First);
    mock.server().clear_journal();
    mock.printer().start_print(DEMO_FILE).await.unwrap();
    let u = tokio::time::timeout(WAIT, s.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(u.status.state, PrinterState::Printing);
    // Polling every 20 ms would have read /api/printer dozens of times by now.
    let reads = mock
        .server()
        .journal()
        .iter()
        .filter(|r| r.path == "/api/printer" || r.path == "/api/job")
        .count();
    assert_eq!(reads, 0);
}

#[tokio::test]
async fn a_lost_socket_is_reported_then_followed_again_with_a_fresh_status() {
    let (mock, p) = setup().await;
    let mut s = watch(p.clone(), WatchOptions::every(Duration::from_millis(20)));
    tokio::time::timeout(WAIT, s.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    mock.server().inject(Fault::SocketsDown);
    let lost = tokio::time::timeout(WAIT, s.next()).await.unwrap().unwrap();
    assert!(matches!(lost, Err(Error::Unreachable { .. })), "{lost:?}");
    // While down, reconnects are closed; then the server comes back.
    tokio::time::sleep(Duration::from_millis(200)).await;
    mock.server().clear_faults();
    let back = tokio::time::timeout(WAIT, s.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(back.change, Change::Reconnected);
    let upgrades = mock
        .server()
        .journal()
        .iter()
        .filter(|r| r.path == "/sockjs/websocket")
        .count();
    assert!(upgrades >= 2, "{upgrades}");
}

#[tokio::test]
async fn a_session_the_server_does_not_know_gets_nothing() {
    use polyprint::socket::SocketConfig;
    let (_mock, p) = setup().await;
    let mut socket = p
        .transport()
        .websocket("sockjs/websocket", SocketConfig::default())
        .await
        .unwrap();
    let connected: serde_json::Value = socket.next_json().await.unwrap();
    assert!(connected.get("connected").is_some(), "{connected}");
    socket
        .send_json(&serde_json::json!({"auth": "admin:not-a-session"}))
        .await
        .unwrap();
    // Three push periods without a message.
    let next = tokio::time::timeout(
        Duration::from_millis(1500),
        socket.next_json::<serde_json::Value>(),
    )
    .await;
    assert!(next.is_err(), "{next:?}");
}
