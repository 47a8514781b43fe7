//! Live status: a stream of updates for one printer, and a [`Fleet`] of many.
//!
//! [`watch`] turns any printer into a stream: the first item is the current full status, then
//! one item per meaningful change, never two equal ones in a row. Where the printer claims
//! [`Feature::StatusPush`] it follows the server's push channel
//! ([`Printer::status_feed`]); otherwise it polls [`Printer::status`] with adaptive
//! intervals (one implementation for every backend): fast while the printer is between
//! states, right after a change and right after a command this client sent (it reads at once
//! then), slower while a job runs, slowest when idle ([`WatchOptions`] has the defaults).
//! What counts as a change:
//!
//! | field | change |
//! |---|---|
//! | state, raw state, message | any |
//! | job | file, progress (any), layer, layer count |
//! | heaters | a target, or an actual reading moving by [`WatchOptions::reading_step`] (1 °C) or more since the last item |
//! | lights, failure verdict | any |
//!
//! Memory is bounded: a consumer that falls behind gets the latest status, not a queue; a
//! terminal state (Finished, Cancelled, Error) that the poller saw is never coalesced away.
//! When a read fails or the push channel is lost, the stream yields the error once, keeps
//! trying with backoff and jitter (polling meanwhile, and opening the push channel again),
//! and yields a fresh full status ([`Change::Reconnected`]) when the printer answers again.
//! A push channel that cannot be opened at all (a proxy that does not pass WebSockets) is
//! tried again now and then, and the printer is polled in between.
//! Dropping the stream stops its poller.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use std::sync::Arc;
//! use futures_util::StreamExt;
//! use polyprint::watch::{watch, Change, WatchOptions};
//! use polyprint::{Printer, PrinterState, sim::VirtualPrinter};
//!
//! let printer = VirtualPrinter::new();
//! let every = std::time::Duration::from_millis(50);
//! let mut updates = watch(Arc::new(printer.clone()), WatchOptions::every(every));
//! let first = updates.next().await.unwrap().unwrap();
//! assert_eq!((first.change, first.status.state), (Change::First, PrinterState::Idle));
//! printer.start_print("demo-cube.gcode").await.unwrap();
//! let next = updates.next().await.unwrap().unwrap();
//! assert_eq!(next.status.state, PrinterState::Printing);
//! # }
//! ```

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::stream::{BoxStream, Stream, StreamExt};
use tokio::sync::Notify;

use crate::error::{Error, Result};
use crate::feature::Feature;
use crate::printer::Printer;
use crate::state::{PrinterState, PrinterStatus};

/// A printer's pushed statuses: see [`Printer::status_feed`].
pub type StatusFeed = BoxStream<'static, Result<PrinterStatus>>;

/// Counts the commands a client sent, so a [`watch`] of the same printer reads again at once
/// and polls fast for a while after each. Cheap to clone; clones share the count. A
/// [`Transport`](crate::transport::Transport) counts every command it sends.
#[derive(Clone, Debug)]
pub struct Commands {
    count: Arc<tokio::sync::watch::Sender<u64>>,
}

impl Default for Commands {
    fn default() -> Self {
        Commands::new()
    }
}

impl Commands {
    /// A count at zero.
    pub fn new() -> Commands {
        Commands {
            count: Arc::new(tokio::sync::watch::Sender::new(0)),
        }
    }

    /// One more command was sent.
    pub fn note(&self) {
        self.count.send_modify(|n| *n += 1);
    }

    /// How many were sent so far.
    pub fn count(&self) -> u64 {
        *self.count.borrow()
    }

    /// A receiver that wakes at each new command.
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.count.subscribe()
    }
}

/// Why an update was yielded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Change {
    /// The first status of the stream.
    First,
    /// Something changed since the last item.
    Changed,
    /// The printer answers again after errors: a fresh full status.
    Reconnected,
}

impl Change {
    /// Its name in documents: `first`, `changed`, `reconnected`.
    pub fn as_str(self) -> &'static str {
        match self {
            Change::First => "first",
            Change::Changed => "changed",
            Change::Reconnected => "reconnected",
        }
    }
}

/// One item of a status stream.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct StatusUpdate {
    /// Why it was yielded.
    pub change: Change,
    /// The full status.
    pub status: PrinterStatus,
}

/// Poll intervals and thresholds for [`watch`].
#[derive(Clone, Debug, PartialEq)]
pub struct WatchOptions {
    /// Between reads while idle, ready or offline (default 10 s: an idle printer rarely
    /// changes by itself, and a command of this client is read at once).
    pub idle: Duration,
    /// Between reads while a job runs (default 2 s).
    pub active: Duration,
    /// Between reads while the printer is between states (warming up, pausing, resuming,
    /// cancelling, busy) and for [`WatchOptions::fast_for`] after any change or command of this client (default 500 ms).
    pub fast: Duration,
    /// How long reads stay fast after a change or a command (default 10 s).
    pub fast_for: Duration,
    /// The smallest move of a heater's actual reading that counts as a change (default 1 °C).
    pub reading_step: f64,
    /// The longest wait between reads after errors (backoff doubles up to this; default 30 s).
    pub max_backoff: Duration,
}

impl Default for WatchOptions {
    fn default() -> Self {
        WatchOptions {
            idle: Duration::from_secs(10),
            active: Duration::from_secs(2),
            fast: Duration::from_millis(500),
            fast_for: Duration::from_secs(10),
            reading_step: 1.0,
            max_backoff: Duration::from_secs(30),
        }
    }
}

impl WatchOptions {
    /// Every interval the same (tests, demos): `every` between reads, no backoff above it.
    pub fn every(every: Duration) -> WatchOptions {
        WatchOptions {
            idle: every,
            active: every,
            fast: every,
            fast_for: Duration::ZERO,
            max_backoff: every,
            ..WatchOptions::default()
        }
    }
}

/// Whether `next` differs from `prev` enough to be yielded (see the module table).
pub fn changed(prev: &PrinterStatus, next: &PrinterStatus, reading_step: f64) -> bool {
    if prev.state != next.state
        || prev.raw_state != next.raw_state
        || prev.message != next.message
        || prev.lights != next.lights
        || prev.failure.as_ref().map(|f| f.verdict) != next.failure.as_ref().map(|f| f.verdict)
    {
        return true;
    }
    let job = |s: &PrinterStatus| {
        s.job
            .as_ref()
            .map(|j| (j.file.clone(), j.progress, j.layer, j.layer_count))
    };
    if job(prev) != job(next) || prev.heaters.len() != next.heaters.len() {
        return true;
    }
    prev.heaters.iter().zip(&next.heaters).any(|(a, b)| {
        a.heater != b.heater
            || a.target != b.target
            || (a.actual - b.actual).abs() >= reading_step
            || a.actual.is_nan() != b.actual.is_nan()
    })
}

fn terminal(state: PrinterState) -> bool {
    matches!(
        state,
        PrinterState::Finished | PrinterState::Cancelled | PrinterState::Error
    )
}

/// The most items held for a consumer that is behind: the latest plus terminal states.
const MAX_HELD: usize = 16;

/// Items waiting for the consumer: the latest wins, but a terminal state is kept.
#[derive(Default)]
struct Held {
    items: VecDeque<Result<StatusUpdate>>,
}

impl Held {
    fn push(&mut self, item: Result<StatusUpdate>) {
        let keep_last = match self.items.back() {
            Some(Ok(u)) => terminal(u.status.state) || u.change != Change::Changed,
            Some(Err(_)) => true,
            None => true,
        };
        if !keep_last {
            self.items.pop_back();
        }
        self.items.push_back(item);
        while self.items.len() > MAX_HELD {
            self.items.pop_front();
        }
    }
}

struct Shared {
    held: Mutex<Held>,
    ready: Notify,
}

/// A printer's status stream; see the module docs. Stops its poller when dropped.
pub struct StatusStream {
    shared: Arc<Shared>,
    poller: tokio::task::JoinHandle<()>,
    waiting: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
}

impl Drop for StatusStream {
    fn drop(&mut self) {
        self.poller.abort();
    }
}

impl Stream for StatusStream {
    type Item = Result<StatusUpdate>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            // The poller runs until the stream is dropped: the stream never ends by itself.
            let item = {
                let mut held = self.shared.held.lock().unwrap_or_else(|p| p.into_inner());
                held.items.pop_front()
            };
            if let Some(item) = item {
                self.waiting = None;
                return Poll::Ready(Some(item));
            }
            let shared = self.shared.clone();
            let waiting = self
                .waiting
                .get_or_insert_with(|| Box::pin(async move { shared.ready.notified().await }));
            match waiting.as_mut().poll(cx) {
                Poll::Ready(()) => self.waiting = None,
                Poll::Pending => {
                    // An item may have arrived between the check and the registration.
                    let held = self.shared.held.lock().unwrap_or_else(|p| p.into_inner());
                    if held.items.is_empty() {
                        return Poll::Pending;
                    }
                }
            }
        }
    }
}

/// Watches `printer`: see the module docs. Needs a tokio runtime.
pub fn watch(printer: Arc<dyn Printer>, options: WatchOptions) -> StatusStream {
    let shared = Arc::new(Shared {
        held: Mutex::new(Held::default()),
        ready: Notify::new(),
    });
    let poller = tokio::spawn(poll(printer, options, shared.clone()));
    StatusStream {
        shared,
        poller,
        waiting: None,
    }
}

/// Turns statuses into items: the first, then changes, and a fresh one after errors.
struct Emitter {
    shared: Arc<Shared>,
    reading_step: f64,
    fast_for: Duration,
    last: Option<PrinterStatus>,
    failing: bool,
    fast_until: tokio::time::Instant,
}

impl Emitter {
    fn send(&self, item: Result<StatusUpdate>) {
        self.shared
            .held
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(item);
        self.shared.ready.notify_one();
    }

    fn status(&mut self, status: PrinterStatus) {
        let change = match (&self.last, self.failing) {
            (None, _) => Some(Change::First),
            (Some(_), true) => Some(Change::Reconnected),
            (Some(prev), false) => {
                changed(prev, &status, self.reading_step).then_some(Change::Changed)
            }
        };
        self.failing = false;
        if let Some(change) = change {
            if change == Change::Changed {
                self.fast_for_a_while();
            }
            self.send(Ok(StatusUpdate {
                change,
                status: status.clone(),
            }));
            self.last = Some(status);
        }
    }

    /// Reports the first error of a run of them.
    fn error(&mut self, e: Error) {
        if !self.failing {
            self.send(Err(e));
            self.failing = true;
        }
    }

    fn fast_for_a_while(&mut self) {
        self.fast_until = tokio::time::Instant::now() + self.fast_for;
    }

    fn fast(&self) -> bool {
        tokio::time::Instant::now() < self.fast_until
    }
}

/// A backoff with jitter: half to all of `backoff`, which then doubles up to `max`.
fn jittered(backoff: &mut Duration, max: Duration) -> Duration {
    let jitter: f64 = rand::random();
    let wait = backoff.mul_f64(0.5 + jitter / 2.0);
    *backoff = (*backoff * 2).min(max.max(*backoff));
    wait
}

/// Resolves at the next command the printer's client sends; never, when it keeps no count.
async fn next_command(commands: &mut Option<tokio::sync::watch::Receiver<u64>>) {
    match commands {
        Some(rx) => {
            if rx.changed().await.is_err() {
                *commands = None;
                std::future::pending::<()>().await;
            }
        }
        None => std::future::pending::<()>().await,
    }
}

async fn poll(printer: Arc<dyn Printer>, options: WatchOptions, shared: Arc<Shared>) {
    let mut emit = Emitter {
        shared,
        reading_step: options.reading_step,
        fast_for: options.fast_for,
        last: None,
        failing: false,
        fast_until: tokio::time::Instant::now(),
    };
    let mut backoff = options.fast;
    // Push where the printer has it; a printer whose features cannot be read yet is asked
    // again after a backoff.
    let mut push = loop {
        match printer.features().await {
            Ok(f) => break f.contains(Feature::StatusPush),
            Err(e) => {
                emit.error(e);
                tokio::time::sleep(jittered(&mut backoff, options.max_backoff)).await;
            }
        }
    };
    let mut push_backoff = options.fast;
    let mut next_push = tokio::time::Instant::now();
    let mut commands = printer.commands().map(|c| c.subscribe());
    loop {
        if push && tokio::time::Instant::now() >= next_push {
            match printer.status_feed().await {
                Ok(feed) => {
                    follow(&printer, feed, &mut emit).await;
                    push_backoff = options.fast;
                }
                // The printer does not push after all: poll from now on.
                Err(e) if e.kind() == crate::error::ErrorKind::Unsupported => push = false,
                // The push channel cannot be opened (down, or a proxy that does not pass
                // WebSockets): poll meanwhile, and try it again later.
                Err(e) => {
                    tracing::debug!(error = %e, "push channel unavailable; polling");
                    // A refusal that will not go away by itself (no such route, a proxy's
                    // answer, a bad session): wait the longest before asking again.
                    if !e.is_retryable() {
                        push_backoff = options.max_backoff;
                    }
                }
            }
            next_push =
                tokio::time::Instant::now() + jittered(&mut push_backoff, options.max_backoff);
        }
        let wait = match printer.status().await {
            Ok(status) => {
                backoff = options.fast;
                let between = matches!(
                    status.state,
                    PrinterState::WarmingUp
                        | PrinterState::Pausing
                        | PrinterState::Resuming
                        | PrinterState::Cancelling
                        | PrinterState::Busy
                );
                let active = status.state.has_active_job();
                emit.status(status);
                if between || emit.fast() {
                    options.fast
                } else if active {
                    options.active
                } else {
                    options.idle
                }
            }
            Err(e) => {
                emit.error(e);
                jittered(&mut backoff, options.max_backoff)
            }
        };
        // While push is to be tried again, wake for it.
        let wait = if push {
            wait.min(next_push.saturating_duration_since(tokio::time::Instant::now()))
        } else {
            wait
        };
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = next_command(&mut commands) => {
                // A command of this client: read at once, then fast for a while.
                emit.fast_for_a_while();
            }
        }
    }
}

/// Where a printer is, for an error: its endpoint, or its id where it has none.
fn shown_endpoint(printer: &dyn Printer) -> String {
    let info = printer.info();
    info.endpoint.unwrap_or(info.id)
}

/// Follows an open push feed until it ends; its end is reported as an error (the caller
/// polls, and reconnects later).
async fn follow(printer: &Arc<dyn Printer>, mut feed: StatusFeed, emit: &mut Emitter) {
    loop {
        match feed.next().await {
            Some(Ok(status)) => emit.status(status),
            Some(Err(e)) => return emit.error(e),
            None => {
                return emit.error(Error::unreachable(
                    shown_endpoint(printer.as_ref()),
                    "the push channel was closed",
                ));
            }
        }
    }
}

/// Many printers of any backends, polled together.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use std::sync::Arc;
/// use std::time::Duration;
/// use polyprint::watch::Fleet;
/// use polyprint::{Printer, sim::VirtualPrinter};
///
/// let fleet = Fleet::new(vec![
///     Arc::new(VirtualPrinter::new()) as Arc<dyn Printer>,
///     Arc::new(VirtualPrinter::new()),
/// ]);
/// let sweep = fleet.sweep(8, Duration::from_secs(5)).await;
/// assert!(sweep.iter().all(|(_, status)| status.is_ok()));
/// # }
/// ```
#[derive(Clone, Default)]
pub struct Fleet {
    printers: Vec<Arc<dyn Printer>>,
}

impl Fleet {
    /// A fleet of these printers.
    pub fn new(printers: Vec<Arc<dyn Printer>>) -> Fleet {
        Fleet { printers }
    }

    /// The printers.
    pub fn printers(&self) -> &[Arc<dyn Printer>] {
        &self.printers
    }

    /// Every printer's status, in the fleet's order, at most `concurrency` reads at once,
    /// each bounded by `deadline` (a printer that does not answer in time is an
    /// [`Error::Timeout`]; the others are not held up).
    pub async fn sweep(
        &self,
        concurrency: usize,
        deadline: Duration,
    ) -> Vec<(Arc<dyn Printer>, Result<PrinterStatus>)> {
        let reads = self.printers.iter().cloned().map(|p| async move {
            let status = match tokio::time::timeout(deadline, p.status()).await {
                Ok(r) => r,
                Err(_) => Err(Error::Timeout {
                    endpoint: shown_endpoint(p.as_ref()),
                    after: deadline,
                }),
            };
            (p, status)
        });
        futures_util::stream::iter(reads)
            .buffered(concurrency.max(1))
            .collect()
            .await
    }

    /// One stream over every printer: (index in the fleet, update). A printer that fails
    /// yields its error and goes on being watched; it never holds up the others.
    pub fn watch(
        &self,
        options: WatchOptions,
    ) -> BoxStream<'static, (usize, Result<StatusUpdate>)> {
        let streams = self
            .printers
            .iter()
            .cloned()
            .enumerate()
            .map(|(i, p)| watch(p, options.clone()).map(move |u| (i, u)).boxed());
        futures_util::stream::select_all(streams).boxed()
    }
}

#[cfg(all(test, feature = "sim"))]
mod tests {
    use super::*;
    use crate::sim::{VirtualPrinter, DEMO_FILE};
    use crate::state::{Heater, HeaterReading};
    use std::sync::atomic::{AtomicBool, Ordering};

    const TICK: Duration = Duration::from_millis(10);

    async fn next(s: &mut StatusStream) -> StatusUpdate {
        tokio::time::timeout(Duration::from_secs(5), s.next())
            .await
            .expect("an item within 5 s")
            .expect("the stream goes on")
            .unwrap_or_else(|e| panic!("a status, not {e}"))
    }

    #[test]
    fn what_counts_as_a_change() {
        let mut a = PrinterStatus::new(PrinterState::Printing, "Printing");
        a.heaters.push(HeaterReading {
            heater: Heater::Bed,
            actual: 59.6,
            target: Some(60.0),
        });
        let mut b = a.clone();
        b.heaters[0].actual = 60.2;
        assert!(!changed(&a, &b, 1.0), "noise");
        b.heaters[0].actual = 61.0;
        assert!(changed(&a, &b, 1.0), "a degree");
        let mut c = a.clone();
        c.heaters[0].target = Some(0.0);
        assert!(changed(&a, &c, 1.0), "target");
        let mut d = a.clone();
        d.state = PrinterState::Paused;
        assert!(changed(&a, &d, 1.0));
        assert!(!changed(&a, &a.clone(), 1.0));
    }

    #[tokio::test]
    async fn first_then_changes_never_duplicates() {
        let printer = VirtualPrinter::new();
        let mut s = watch(Arc::new(printer.clone()), WatchOptions::every(TICK));
        let first = next(&mut s).await;
        assert_eq!(
            (first.change, first.status.state),
            (Change::First, PrinterState::Idle)
        );
        // Nothing changes: nothing comes, however many polls pass.
        let quiet = tokio::time::timeout(TICK * 20, s.next()).await;
        assert!(quiet.is_err(), "{quiet:?}");
        printer.start_print(DEMO_FILE).await.unwrap();
        let u = next(&mut s).await;
        assert_eq!(
            (u.change, u.status.state),
            (Change::Changed, PrinterState::Printing)
        );
        printer.cancel().await.unwrap();
        let mut states = vec![];
        for _ in 0..50 {
            printer.advance(Duration::from_millis(100));
            if let Ok(Some(Ok(u))) = tokio::time::timeout(TICK * 5, s.next()).await {
                states.push(u.status.state);
            }
            if states.last() == Some(&PrinterState::Cancelled) {
                break;
            }
        }
        assert_eq!(
            states.first(),
            Some(&PrinterState::Cancelling),
            "{states:?}"
        );
        assert_eq!(states.last(), Some(&PrinterState::Cancelled), "{states:?}");
        // Consecutive items always differ.
        let mut all = vec![];
        while let Ok(Some(Ok(u))) = tokio::time::timeout(TICK * 5, s.next()).await {
            all.push(u.status);
        }
        assert!(all.is_empty(), "nothing more once it settled: {all:?}");
    }

    #[tokio::test]
    async fn a_slow_consumer_gets_the_latest_and_every_terminal_state() {
        let printer = VirtualPrinter::new();
        let mut s = watch(Arc::new(printer.clone()), WatchOptions::every(TICK));
        assert_eq!(next(&mut s).await.change, Change::First);
        // While nobody reads: print to the end, then start again.
        printer.start_print(DEMO_FILE).await.unwrap();
        tokio::time::sleep(TICK * 5).await;
        printer.advance(Duration::from_secs(3600));
        tokio::time::sleep(TICK * 5).await;
        printer.start_print(DEMO_FILE).await.unwrap();
        tokio::time::sleep(TICK * 5).await;
        let mut seen = vec![];
        while let Ok(Some(Ok(u))) = tokio::time::timeout(TICK * 10, s.next()).await {
            seen.push(u.status.state);
        }
        assert!(seen.contains(&PrinterState::Finished), "{seen:?}");
        assert_eq!(seen.last(), Some(&PrinterState::Printing), "{seen:?}");
        assert!(seen.len() <= MAX_HELD, "{seen:?}");
    }

    #[tokio::test]
    async fn errors_are_reported_once_then_a_fresh_status_after_recovery() {
        let flaky = Arc::new(Wrapped::new(false));
        let mut s = watch(flaky.clone(), WatchOptions::every(TICK));
        assert_eq!(next(&mut s).await.change, Change::First);
        flaky.down.store(true, Ordering::SeqCst);
        let err = tokio::time::timeout(Duration::from_secs(5), s.next())
            .await
            .unwrap()
            .unwrap();
        assert!(matches!(err, Err(Error::Unreachable { .. })), "{err:?}");
        // Reported once, not once per poll.
        assert!(tokio::time::timeout(TICK * 10, s.next()).await.is_err());
        flaky.down.store(false, Ordering::SeqCst);
        let back = next(&mut s).await;
        assert_eq!(
            (back.change, back.status.state),
            (Change::Reconnected, PrinterState::Idle)
        );
    }

    #[tokio::test]
    async fn dropping_the_stream_stops_the_poller() {
        let printer: Arc<dyn Printer> = Arc::new(VirtualPrinter::new());
        let mut s = watch(printer.clone(), WatchOptions::every(TICK));
        next(&mut s).await;
        assert_eq!(Arc::strong_count(&printer), 2);
        drop(s);
        for _ in 0..100 {
            if Arc::strong_count(&printer) == 1 {
                return;
            }
            tokio::time::sleep(TICK).await;
        }
        panic!("the poller still holds the printer");
    }

    /// A virtual printer whose client counts its commands, whose reads fail while `down` is
    /// set, and which pushes its status through the feeds offered when `push` is set.
    struct Wrapped {
        inner: VirtualPrinter,
        commands: Commands,
        down: AtomicBool,
        push: bool,
        feeds: Mutex<Vec<tokio::sync::mpsc::UnboundedReceiver<Result<PrinterStatus>>>>,
    }

    impl Wrapped {
        fn new(push: bool) -> Wrapped {
            Wrapped {
                inner: VirtualPrinter::new(),
                commands: Commands::new(),
                down: AtomicBool::new(false),
                push,
                feeds: Mutex::new(vec![]),
            }
        }

        /// A feed the next `open_feed` hands out, and its sender.
        fn offer_feed(&self) -> tokio::sync::mpsc::UnboundedSender<Result<PrinterStatus>> {
            let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
            self.feeds.lock().unwrap().push(rx);
            tx
        }
    }

    #[async_trait::async_trait]
    impl crate::Backend for Wrapped {
        fn describe(&self) -> crate::PrinterInfo {
            crate::Backend::describe(&self.inner)
        }
        fn capabilities(&self) -> crate::Features {
            let f = crate::Backend::capabilities(&self.inner);
            if self.push {
                f | Feature::StatusPush
            } else {
                f
            }
        }
        async fn read_status(&self) -> Result<PrinterStatus> {
            if self.down.load(Ordering::SeqCst) {
                return Err(Error::unreachable("wrapped", "down"));
            }
            crate::Backend::read_status(&self.inner).await
        }
        async fn run(&self, command: crate::Command) -> Result<()> {
            self.commands.note();
            crate::Backend::run(&self.inner, command).await
        }
        async fn open_feed(&self) -> Result<StatusFeed> {
            let rx = self
                .feeds
                .lock()
                .unwrap()
                .pop()
                .ok_or(Error::unreachable("wrapped", "no feed offered"))?;
            Ok(tokio_stream_of(rx))
        }
        fn commands(&self) -> Option<Commands> {
            Some(self.commands.clone())
        }
    }

    fn tokio_stream_of(
        mut rx: tokio::sync::mpsc::UnboundedReceiver<Result<PrinterStatus>>,
    ) -> StatusFeed {
        futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx)).boxed()
    }

    #[tokio::test]
    async fn a_command_of_this_client_is_read_at_once() {
        let printer = Arc::new(Wrapped::new(false));
        // Idle polls an hour apart: only the command can bring the change in time.
        let options = WatchOptions {
            idle: Duration::from_secs(3600),
            active: Duration::from_secs(3600),
            fast: TICK,
            fast_for: Duration::from_secs(1),
            ..WatchOptions::default()
        };
        let mut s = watch(printer.clone(), options);
        assert_eq!(next(&mut s).await.change, Change::First);
        printer.start_print(DEMO_FILE).await.unwrap();
        let u = tokio::time::timeout(Duration::from_secs(2), s.next())
            .await
            .expect("the command's effect within 2 s")
            .unwrap()
            .unwrap();
        assert_eq!(u.status.state, PrinterState::Printing);
    }

    #[tokio::test]
    async fn a_pushing_printer_is_followed_and_reconnected() {
        let printer = Arc::new(Wrapped::new(true));
        let feed = printer.offer_feed();
        let mut s = watch(printer.clone(), WatchOptions::every(TICK));
        let idle = PrinterStatus::new(PrinterState::Idle, "Operational");
        let printing = PrinterStatus::new(PrinterState::Printing, "Printing");
        feed.send(Ok(idle.clone())).unwrap();
        let first = next(&mut s).await;
        assert_eq!(
            (first.change, first.status.raw_state.as_str()),
            (Change::First, "Operational")
        );
        // A repeated push is not an item; a change is.
        feed.send(Ok(idle.clone())).unwrap();
        feed.send(Ok(printing.clone())).unwrap();
        let u = next(&mut s).await;
        assert_eq!(
            (u.change, u.status.state),
            (Change::Changed, PrinterState::Printing)
        );
        // The channel closes: reported once; a read between reconnects brings a fresh status
        // (the virtual printer behind is idle); the next feed is followed again.
        let again = printer.offer_feed();
        drop(feed);
        let err = tokio::time::timeout(Duration::from_secs(5), s.next())
            .await
            .unwrap()
            .unwrap();
        assert!(matches!(err, Err(Error::Unreachable { .. })), "{err:?}");
        let back = next(&mut s).await;
        assert_eq!(
            (back.change, back.status.state),
            (Change::Reconnected, PrinterState::Idle)
        );
        again.send(Ok(printing.clone())).unwrap();
        let pushed = next(&mut s).await;
        assert_eq!(
            (pushed.change, pushed.status.raw_state.as_str()),
            (Change::Changed, "Printing")
        );
    }

    #[tokio::test]
    async fn a_push_channel_that_cannot_open_is_replaced_by_polling() {
        let printer = Arc::new(Wrapped::new(true));
        let mut s = watch(printer.clone(), WatchOptions::every(TICK));
        let first = next(&mut s).await;
        assert_eq!(
            (first.change, first.status.state),
            (Change::First, PrinterState::Idle)
        );
        printer.inner.start_print(DEMO_FILE).await.unwrap();
        assert_eq!(next(&mut s).await.status.state, PrinterState::Printing);
    }

    #[tokio::test]
    async fn a_fleet_watches_every_printer() {
        let a = VirtualPrinter::new();
        let b = VirtualPrinter::new();
        let fleet = Fleet::new(vec![Arc::new(a.clone()), Arc::new(b.clone())]);
        let mut all = fleet.watch(WatchOptions::every(TICK));
        let mut firsts = vec![];
        for _ in 0..2 {
            let (i, u) = all.next().await.unwrap();
            assert_eq!(u.unwrap().change, Change::First);
            firsts.push(i);
        }
        firsts.sort_unstable();
        assert_eq!(firsts, [0, 1]);
        b.start_print(DEMO_FILE).await.unwrap();
        let (i, u) = tokio::time::timeout(Duration::from_secs(5), all.next())
            .await
            .unwrap()
            .unwrap();
        assert_eq!((i, u.unwrap().status.state), (1, PrinterState::Printing));
        let sweep = fleet.sweep(1, Duration::from_secs(5)).await;
        let states: Vec<_> = sweep
            .iter()
            .map(|(_, s)| s.as_ref().unwrap().state)
            .collect();
        assert_eq!(states, [PrinterState::Idle, PrinterState::Printing]);
    }
}
