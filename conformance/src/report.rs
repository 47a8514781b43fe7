//! A run's results: rows of (case, target, outcome), and the case × target table.

use std::fmt;

use crate::outcome::Outcome;

/// One case's outcome against one target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// The case, e.g. `status.paused`.
    pub case: String,
    /// The target (the harness's name).
    pub target: String,
    /// How it went.
    pub outcome: Outcome,
}

/// The results of running the suite against one target.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// The target (the harness's name).
    pub target: String,
    /// One row per case, in suite order.
    pub rows: Vec<Row>,
}

impl Report {
    /// An empty report for a target.
    pub fn new(target: impl Into<String>) -> Report {
        Report {
            target: target.into(),
            rows: Vec::new(),
        }
    }

    /// Records a case's outcome.
    pub fn push(&mut self, case: impl Into<String>, outcome: Outcome) {
        self.rows.push(Row {
            case: case.into(),
            target: self.target.clone(),
            outcome,
        });
    }

    /// The outcome of a case, if it ran (or was skipped) here.
    pub fn outcome(&self, case: &str) -> Option<&Outcome> {
        self.rows
            .iter()
            .find(|r| r.case == case)
            .map(|r| &r.outcome)
    }

    /// How many cases failed.
    pub fn failures(&self) -> usize {
        self.rows.iter().filter(|r| r.outcome.is_fail()).count()
    }

    /// How many cases passed.
    pub fn passes(&self) -> usize {
        self.rows.iter().filter(|r| r.outcome.is_pass()).count()
    }

    /// How many cases were skipped.
    pub fn skips(&self) -> usize {
        self.rows.iter().filter(|r| r.outcome.is_skip()).count()
    }

    /// A one-line summary: `target: N pass, N FAIL, N skip`.
    pub fn summary(&self) -> String {
        format!(
            "{}: {} pass, {} FAIL, {} skip",
            self.target,
            self.passes(),
            self.failures(),
            self.skips()
        )
    }

    /// Renders several targets side by side: one row per case (in first-seen order), one
    /// column per target, cells `pass`, `FAIL [n]` or `skip(reason)`; failure details are
    /// listed below the table by their number `n`, then one summary line per target.
    pub fn table(reports: &[Report]) -> String {
        let mut cases: Vec<&str> = Vec::new();
        for report in reports {
            for row in &report.rows {
                if !cases.contains(&row.case.as_str()) {
                    cases.push(&row.case);
                }
            }
        }
        let mut failures: Vec<String> = Vec::new();
        let mut grid: Vec<Vec<String>> = Vec::new();
        for case in &cases {
            let mut line = vec![case.to_string()];
            for report in reports {
                line.push(match report.outcome(case) {
                    None => "-".to_string(),
                    Some(Outcome::Pass) => "pass".to_string(),
                    Some(Outcome::Skip(r)) => format!("skip({r})"),
                    Some(Outcome::Fail(m)) => {
                        failures.push(format!(
                            "[{}] {case} @ {}: {m}",
                            failures.len() + 1,
                            report.target
                        ));
                        format!("FAIL [{}]", failures.len())
                    }
                });
            }
            grid.push(line);
        }
        let mut header = vec!["case".to_string()];
        header.extend(reports.iter().map(|r| r.target.clone()));
        let columns = header.len();
        let widths: Vec<usize> = (0..columns)
            .map(|c| {
                grid.iter()
                    .chain(std::iter::once(&header))
                    .map(|l| l[c].chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let render = |line: &[String]| -> String {
            let cells: Vec<String> = line
                .iter()
                .zip(&widths)
                .map(|(cell, w)| format!("{cell:<w$}"))
                .collect();
            format!("| {} |", cells.join(" | ")).trim_end().to_string()
        };
        let mut out = String::new();
        out.push_str(&render(&header));
        out.push('\n');
        let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        out.push_str(&format!("|-{}-|\n", rule.join("-|-")));
        for line in &grid {
            out.push_str(&render(line));
            out.push('\n');
        }
        if !failures.is_empty() {
            out.push_str("\nFailures:\n");
            for f in &failures {
                out.push_str(f);
                out.push('\n');
            }
        }
        out.push('\n');
        for report in reports {
            out.push_str(&report.summary());
            out.push('\n');
        }
        out
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&Report::table(std::slice::from_ref(self)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_merges_targets_and_counts() {
        let mut a = Report::new("alpha");
        a.push("status.idle", Outcome::Pass);
        a.push(
            "status.offline",
            Outcome::fail("expected offline, got idle"),
        );
        let mut b = Report::new("beta");
        b.push("status.idle", Outcome::skip("needs mock control"));
        b.push("extra.case", Outcome::Pass);
        assert_eq!(a.failures(), 1);
        assert_eq!(b.failures(), 0);
        assert_eq!((b.passes(), b.skips()), (1, 1));
        let table = Report::table(&[a, b]);
        let lines: Vec<&str> = table.lines().collect();
        assert!(
            lines[0].starts_with("| case")
                && lines[0].contains("alpha")
                && lines[0].contains("beta")
        );
        let idle = lines.iter().find(|l| l.contains("status.idle")).unwrap();
        assert!(
            idle.contains("pass") && idle.contains("skip(needs mock control)"),
            "{idle}"
        );
        let offline = lines
            .iter()
            .find(|l| l.starts_with("| status.offline"))
            .unwrap();
        assert!(offline.contains("FAIL [1]"), "{offline}");
        assert_eq!(
            offline.split('|').nth(3).map(str::trim),
            Some("-"),
            "{offline}"
        );
        assert!(table.contains("[1] status.offline @ alpha: expected offline, got idle"));
        assert!(table.contains("alpha: 1 pass, 1 FAIL, 0 skip"));
    }
}
