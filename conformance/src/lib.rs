//! # polyprint-conformance
//!
//! The suite every polyprint backend passes, against its mock and, where one can run, a real
//! server. An adapter author writes no harness: the backend's [`polyprint::Descriptor`] says
//! how to open it, how to start its mock and what to expect of it, and two generic harnesses
//! do the rest, [`MockHarness`] (a fresh mock per case, with control behind the wire) and
//! [`LiveHarness`] (a live server named by an endpoint or by `POLYPRINT_LIVE_*` variables).
//! [`trials`] turns the suite into one cargo test per case × target.
//!
//! * [`cases`]: plain `pub async fn case_x(t: &Target, h: &dyn Harness) -> Outcome`, grouped by
//!   feature (status, lifecycle, files, manual controls, errors, faults, input validation),
//!   plus a generated refusal case for every feature a target lacks;
//! * [`run_suite`]: runs each case on a fresh target where the target's features and controls
//!   allow it, and says why it skipped the others;
//! * [`Report`]: the case × target table (`pass` / `FAIL` / `skip(reason)`).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use polyprint_conformance::{run_suite, Report, RunOptions, SimHarness};
//!
//! let options = RunOptions { filter: Some("status.".into()), ..RunOptions::default() };
//! let report = run_suite(&SimHarness::new(), &options).await;
//! assert_eq!(report.failures(), 0, "{report}");
//! println!("{}", Report::table(&[report]));
//! # }
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

pub mod cases;
pub mod embedded;
pub mod harness;
pub mod hostile;
pub mod hostile_server;
pub mod live;
pub mod mocked;
pub mod outcome;
pub mod report;
pub mod runner;
pub mod trials;
pub mod wait;

pub use embedded::SimHarness;
pub use harness::{Harness, MockControl, Target};
pub use live::LiveHarness;
pub use mocked::MockHarness;
pub use outcome::Outcome;
pub use report::{Report, Row};
pub use runner::{gate, run_case, run_suite, Probe, RunOptions};
