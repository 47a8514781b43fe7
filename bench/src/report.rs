//! Markdown output: a table with a title, a goal and a verdict.

/// One benchmark's table.
pub struct Table {
    /// The heading.
    pub title: String,
    /// What the table measures, one paragraph.
    pub about: String,
    /// Column headers.
    pub header: Vec<String>,
    /// Rows of cells.
    pub rows: Vec<Vec<String>>,
    /// The goal, in words.
    pub goal: String,
    /// `Some(true)` met, `Some(false)` not met, `None` could not be measured.
    pub met: Option<bool>,
    /// Notes printed under the table.
    pub notes: Vec<String>,
}

impl Table {
    /// An empty table.
    pub fn new(title: &str, about: &str, header: &[&str], goal: &str) -> Table {
        Table {
            title: title.into(),
            about: about.into(),
            header: header.iter().map(|s| s.to_string()).collect(),
            rows: Vec::new(),
            goal: goal.into(),
            met: None,
            notes: Vec::new(),
        }
    }

    /// Adds a row.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// Combines a check into the verdict (all checks must hold).
    pub fn check(&mut self, ok: bool) {
        self.met = Some(self.met.unwrap_or(true) && ok);
    }

    /// The table as markdown.
    pub fn render(&self) -> String {
        let mut s = format!("## {}\n\n{}\n\n", self.title, self.about);
        s += &format!("| {} |\n", self.header.join(" | "));
        s += &format!("|{}\n", "---|".repeat(self.header.len()));
        for r in &self.rows {
            s += &format!("| {} |\n", r.join(" | "));
        }
        let verdict = match self.met {
            Some(true) => "**MET**",
            Some(false) => "**NOT MET**",
            None => "**NOT MEASURED**",
        };
        s += &format!("\nGoal: {} — {verdict}\n", self.goal);
        for n in &self.notes {
            s += &format!("\n{n}\n");
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_markdown() {
        let mut t = Table::new("T", "about", &["a", "b"], "fast");
        t.row(vec!["1".into(), "2".into()]);
        t.check(true);
        t.check(false);
        let md = t.render();
        assert!(md.contains("| a | b |\n|---|---|\n| 1 | 2 |"));
        assert!(md.contains("NOT MET"));
    }
}
