//! A progress bar for collectors: sources done out of the total, how many failed, and the last
//! one finished, drawn on stderr only when stderr is a terminal, so that cron prints nothing.
//!
//! Shared by every collector (crawl-switches, which-switch --live, scan-hosts): create one per
//! run, call [`Progress::done`] as each source finishes (from any thread or task; clones share
//! the bar), print through [`Progress::println`] so lines do not tear the bar, and
//! [`Progress::finish`] before the final report.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// One run's progress bar; cheap to clone, and every clone draws the same bar.
#[derive(Clone)]
pub struct Progress {
    bar: ProgressBar,
    failed: Arc<AtomicU64>,
}

impl Progress {
    /// A bar for `total` sources, labelled `label` (`crawl-switches`), visible only when stderr
    /// is a terminal.
    pub fn new(total: u64, label: &str) -> Progress {
        Self::with_target(total, label, std::io::stderr().is_terminal())
    }

    /// A bar that is never drawn: for callers that must stay silent.
    pub fn hidden() -> Progress {
        Self::with_target(0, "", false)
    }

    fn with_target(total: u64, label: &str, visible: bool) -> Progress {
        // Drawn only once fully set up, so that the first frame is already complete.
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden());
        // The template is fixed text: it cannot fail to parse, but never panic over a bar.
        // The message (failures, last source) takes what the line has left, so that the bar
        // never wraps on a narrow terminal.
        if let Ok(style) = ProgressStyle::with_template(
            "{prefix}: [{bar:20}] {pos}/{len} done ({elapsed}), {wide_msg}",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_prefix(label.to_string());
        bar.set_message("0 failed");
        if visible {
            bar.set_draw_target(ProgressDrawTarget::stderr());
            // Redraws the elapsed time while every source is slow to answer.
            bar.enable_steady_tick(Duration::from_millis(250));
        }
        Progress {
            bar,
            failed: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Whether the bar is drawn (stderr is a terminal).
    pub fn is_visible(&self) -> bool {
        !self.bar.is_hidden()
    }

    /// Counts one source as finished, failed unless `ok`, and shows its name as the last one.
    pub fn done(&self, name: &str, ok: bool) {
        let failed = if ok {
            self.failed.load(Ordering::Relaxed)
        } else {
            self.failed.fetch_add(1, Ordering::Relaxed) + 1
        };
        // Names come from configuration or the network: no control characters on a terminal.
        let name: String = name
            .chars()
            .map(|c| if c.is_control() { '?' } else { c })
            .collect();
        self.bar.inc(1);
        self.bar
            .set_message(format!("{failed} failed, last {name}"));
    }

    /// How many sources were reported failed so far.
    pub fn failed(&self) -> u64 {
        self.failed.load(Ordering::Relaxed)
    }

    /// Prints a line on stderr above the bar (or just on stderr when there is no bar).
    pub fn println(&self, line: impl AsRef<str>) {
        if self.is_visible() {
            self.bar.println(line.as_ref());
        } else {
            eprintln!("{}", line.as_ref());
        }
    }

    /// Removes the bar, leaving the terminal as it was before, for the final report.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_failures_from_clones_and_stays_hidden_off_a_terminal() {
        let progress = Progress::with_target(3, "test", false);
        assert!(!progress.is_visible());
        let other = progress.clone();
        progress.done("a", true);
        other.done("b\x1b[2J", false);
        progress.done("c", false);
        assert_eq!(progress.failed(), 2);
        assert_eq!(progress.bar.position(), 3);
        assert!(!progress.bar.message().contains('\x1b'));
        progress.finish();
    }
}
