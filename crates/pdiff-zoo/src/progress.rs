//! Progress bars on stderr (hidden when stderr is not a terminal; epoch lines still print).
//! Every bar joins one process-wide stack, so architectures that run in parallel each keep a
//! line, and log lines print above the bars instead of through them.

use std::sync::LazyLock;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

static BARS: LazyLock<MultiProgress> =
    LazyLock::new(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));

/// A bar for `total` steps with a message slot.
pub fn bar(total: u64, prefix: &str) -> ProgressBar {
    let bar = BARS.add(ProgressBar::new(total));
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix:>10} [{elapsed_precise}] {bar:30} {pos}/{len} ETA {eta} {msg}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar.set_prefix(prefix.to_string());
    bar
}

/// Prints `text` on stderr above the bars.
pub fn println(text: &str) {
    BARS.suspend(|| eprintln!("{text}"));
}
