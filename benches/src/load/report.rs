//! The results table: one column per server measured, one row per
//! metric, printed aligned for a terminal or as Markdown.

use std::fmt;
use std::time::Duration;

/// One measured quantity of one server.
#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    /// What it is, with its unit.
    pub name: &'static str,
    /// Its value, formatted.
    pub value: String,
}

impl Metric {
    /// A metric with a preformatted value.
    pub fn new(name: &'static str, value: impl fmt::Display) -> Self {
        Self { name, value: value.to_string() }
    }
}

/// The results of one scenario on one server.
#[derive(Debug, Clone)]
pub struct Column {
    /// The server (or forwarder) measured.
    pub server: String,
    /// Its metrics, in table order.
    pub metrics: Vec<Metric>,
}

/// How the table is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns.
    #[default]
    Text,
    /// A Markdown table.
    Markdown,
}

/// A scenario's results, side by side.
#[derive(Debug, Clone)]
pub struct Table {
    /// What was run.
    pub title: String,
    /// One per server.
    pub columns: Vec<Column>,
    /// Lines printed under the table (machine, load, ratios).
    pub notes: Vec<String>,
}

impl Table {
    /// The table printed in `format`.
    pub fn render(&self, format: Format) -> String {
        let rows = self.rows();
        let mut header = vec!["metric".to_owned()];
        header.extend(self.columns.iter().map(|c| c.server.clone()));
        let mut out = String::new();
        match format {
            Format::Text => {
                let mut widths: Vec<usize> = header.iter().map(String::len).collect();
                for row in &rows {
                    for (width, cell) in widths.iter_mut().zip(row) {
                        *width = (*width).max(cell.len());
                    }
                }
                out.push_str(&format!("{}\n", self.title));
                for row in std::iter::once(&header).chain(&rows) {
                    let cells: Vec<String> = row
                        .iter()
                        .zip(&widths)
                        .enumerate()
                        .map(
                            |(i, (cell, &w))| {
                                if i == 0 { format!("{cell:<w$}") } else { format!("{cell:>w$}") }
                            },
                        )
                        .collect();
                    out.push_str(&format!("  {}\n", cells.join("  ")));
                }
                for note in &self.notes {
                    out.push_str(&format!("  {note}\n"));
                }
            }
            Format::Markdown => {
                out.push_str(&format!("**{}**\n\n", self.title));
                out.push_str(&format!("| {} |\n", header.join(" | ")));
                let rule: Vec<&str> = header
                    .iter()
                    .enumerate()
                    .map(|(i, _)| if i == 0 { "---" } else { "---:" })
                    .collect();
                out.push_str(&format!("| {} |\n", rule.join(" | ")));
                for row in &rows {
                    out.push_str(&format!("| {} |\n", row.join(" | ")));
                }
                if !self.notes.is_empty() {
                    out.push('\n');
                }
                for note in &self.notes {
                    out.push_str(&format!("{note}\n"));
                }
            }
        }
        out
    }

    /// Rows in the order the metrics first appear; a cell a server lacks
    /// is "-".
    fn rows(&self) -> Vec<Vec<String>> {
        let mut names: Vec<&'static str> = Vec::new();
        for metric in self.columns.iter().flat_map(|c| &c.metrics) {
            if !names.contains(&metric.name) {
                names.push(metric.name);
            }
        }
        names
            .into_iter()
            .map(|name| {
                let mut row = vec![name.to_owned()];
                row.extend(self.columns.iter().map(|c| {
                    c.metrics
                        .iter()
                        .find(|m| m.name == name)
                        .map_or("-".to_owned(), |m| m.value.clone())
                }));
                row
            })
            .collect()
    }
}

/// A duration in milliseconds with three decimals, or "-".
pub fn millis(d: Option<Duration>) -> String {
    d.map_or("-".to_owned(), |d| format!("{:.3}", d.as_secs_f64() * 1e3))
}

/// A count with thousands separators.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A rate per second with thousands separators.
pub fn rate(n: u64, over: Duration) -> String {
    let secs = over.as_secs_f64();
    if secs <= 0.0 {
        return "-".to_owned();
    }
    count((n as f64 / secs).round() as u64)
}

/// Bytes as MiB with one decimal.
pub fn mib(bytes: u64) -> String {
    format!("{:.1}", bytes as f64 / (1024.0 * 1024.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_numbers() {
        assert_eq!(count(0), "0");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(rate(3_000, Duration::from_secs(2)), "1,500");
        assert_eq!(millis(Some(Duration::from_micros(1_500))), "1.500");
        assert_eq!(mib(3 * 1024 * 1024), "3.0");
    }

    #[test]
    fn renders_side_by_side() {
        let table = Table {
            title: "connect".to_owned(),
            columns: vec![
                Column { server: "voix".to_owned(), metrics: vec![Metric::new("clients", 10)] },
                Column {
                    server: "irc".to_owned(),
                    metrics: vec![Metric::new("clients", 10), Metric::new("rss", 1)],
                },
            ],
            notes: vec!["load 0.5".to_owned()],
        };
        let md = table.render(Format::Markdown);
        assert!(md.contains("| metric | voix | irc |"), "{md}");
        assert!(md.contains("| rss | - | 1 |"), "{md}");
        let text = table.render(Format::Text);
        assert!(text.contains("clients    10   10"), "{text}");
    }
}
