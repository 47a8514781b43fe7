//! The cases, grouped by feature, and the registry that says what each needs.
//!
//! Every case is a plain `pub async fn case_x(t: &Target, h: &dyn Harness) -> Outcome` in
//! its group's module, so an adapter's own tests can call one directly. Each module's
//! `cases()` registers its cases with their requirements, next to their bodies; [`all`]
//! gathers the groups, and the runner gates on the requirements.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use polyprint::{Feature, Features};

use crate::harness::{Harness, Target};
use crate::outcome::Outcome;

/// Registers a case next to its body: `case!(name, features, needs, destructive, fn)`.
macro_rules! case {
    ($name:expr, $features:expr, $needs:ident, $destructive:expr, $f:path) => {
        $crate::cases::Case {
            name: $name.to_string(),
            when: $crate::cases::When::Supports($features),
            needs: $crate::cases::Needs::$needs,
            destructive: $destructive,
            fresh: false,
            run: $crate::cases::case_fn(|t, h| Box::pin($f(t, h))),
        }
    };
}

pub mod claims;
pub mod controls;
pub mod errors;
pub mod faults;
pub mod files;
pub mod hostile;
pub mod input;
pub mod lifecycle;
pub mod status;
pub mod stream;
pub mod unsupported;

/// A boxed, sendable future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A case, callable through the registry.
pub type CaseFn =
    Arc<dyn for<'a> Fn(&'a Target, &'a dyn Harness) -> BoxFuture<'a, Outcome> + Send + Sync>;

/// Which features decide whether a case runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum When {
    /// The target supports all of these (the empty set: always).
    Supports(Features),
    /// The target lacks this one (the generated refusal cases).
    Lacks(Feature),
}

/// What a case needs besides features.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Needs {
    /// Only the printer.
    Printer,
    /// Mock control: the virtual printer behind the target (embedded or served).
    Control,
    /// A served mock: journal and fault injection over HTTP.
    ServedMock,
}

/// One registered case.
#[derive(Clone)]
pub struct Case {
    /// `group.name`, e.g. `status.paused`.
    pub name: String,
    /// When it runs.
    pub when: When,
    /// What it needs besides features.
    pub needs: Needs,
    /// Whether it moves, heats or prints (live targets run these only when allowed).
    pub destructive: bool,
    /// Whether it needs the printer exactly as launched, its features perhaps only declared.
    /// Other cases start on a printer that has confirmed its features (so the requests they
    /// count are their own).
    pub fresh: bool,
    /// The case itself.
    pub run: CaseFn,
}

impl std::fmt::Debug for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Case")
            .field("name", &self.name)
            .field("when", &self.when)
            .field("needs", &self.needs)
            .field("destructive", &self.destructive)
            .field("fresh", &self.fresh)
            .finish()
    }
}

/// Wraps a case function (or closure) for the registry.
pub fn case_fn<F>(f: F) -> CaseFn
where
    F: for<'a> Fn(&'a Target, &'a dyn Harness) -> BoxFuture<'a, Outcome> + Send + Sync + 'static,
{
    Arc::new(f)
}

/// No feature: the case runs on every target.
pub(crate) fn none() -> Features {
    Features::empty()
}

/// Every case of the suite, in the order the table shows them. Each group registers its
/// own cases next to their bodies (`cases()` in each module).
pub fn all() -> Vec<Case> {
    let mut cases = Vec::new();
    cases.extend(status::cases());
    cases.extend(claims::cases());
    cases.extend(lifecycle::cases());
    cases.extend(files::cases());
    cases.extend(controls::cases());
    cases.extend(errors::cases());
    cases.extend(faults::cases());
    cases.extend(hostile::cases());
    cases.extend(stream::cases());
    cases.extend(input::cases());
    cases.extend(unsupported::cases());
    cases
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_grouped() {
        let cases = all();
        let mut names: Vec<&str> = cases.iter().map(|c| c.name.as_str()).collect();
        assert!(
            names.iter().all(|n| n.contains('.')),
            "every case is group.name"
        );
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len(), "duplicate case names");
        assert!(input::BAD_INPUTS.len() >= 20);
        assert_eq!(
            cases
                .iter()
                .filter(|c| matches!(c.when, When::Lacks(_)))
                .count(),
            Feature::all().count()
        );
    }
}
