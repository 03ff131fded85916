//! How a followed operation's progress is shown: an indicatif bar (percentage, the rendered
//! step, elapsed and ETA) on a terminal, plain lines otherwise (pipes, CI logs), or nothing.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::Value;

/// The bar's length: per-mille of the operation's percentage.
const BAR_LEN: u64 = 1000;

pub enum ProgressView {
    Bar(ProgressBar),
    Lines,
    Quiet,
}

impl ProgressView {
    /// A bar on a terminal, lines otherwise; nothing when `show` is false.
    pub fn new(show: bool) -> Self {
        if !show {
            Self::Quiet
        } else if std::io::stdout().is_terminal() {
            let bar = ProgressBar::with_draw_target(Some(BAR_LEN), ProgressDrawTarget::stdout());
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] [{bar:30}] {percent:>3}% {msg} (ETA {eta})",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            bar.enable_steady_tick(Duration::from_millis(120));
            Self::Bar(bar)
        } else {
            Self::Lines
        }
    }

    /// Shows an operation record's progress (from a stream event).
    pub fn update(&mut self, op: &Value) {
        let p = &op["progress"];
        let pct = p["percentage"].as_f64().unwrap_or(0.0);
        let step = p["current_step"]
            .as_str()
            .unwrap_or(op["status"].as_str().unwrap_or(""));
        match self {
            Self::Bar(bar) => {
                bar.set_position(((pct / 100.0) * BAR_LEN as f64).round() as u64);
                bar.set_message(step.to_owned());
            }
            Self::Lines => println!("[{pct:>5.1}%] {step}"),
            Self::Quiet => {}
        }
    }

    /// Ends the display: a completed operation's bar ends full; others stop where they were.
    pub fn finish(&mut self, op: &Value) {
        if let Self::Bar(bar) = self {
            match op["status"].as_str() {
                Some("completed") => {
                    bar.set_position(BAR_LEN);
                    bar.finish_with_message("done");
                }
                Some(s) => bar.abandon_with_message(s.to_owned()),
                None => bar.abandon(),
            }
        }
    }

    /// Ends the display without a final record (stream lost, Ctrl+C).
    pub fn abandon(&mut self) {
        if let Self::Bar(bar) = self {
            bar.abandon();
        }
    }
}
