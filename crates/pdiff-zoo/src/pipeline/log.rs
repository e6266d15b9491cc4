//! The run log: every line goes to stderr (above the progress bars) and, with a Unix
//! timestamp, to `run.log`.

use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

use anyhow::{Context, Result};

/// An append-only log file mirrored on stderr.
pub struct RunLog {
    file: Mutex<std::fs::File>,
}

impl RunLog {
    /// Opens (appends to) `path`.
    pub fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("opening the run log {}", path.display()))?;
        Ok(Self { file: Mutex::new(file) })
    }

    /// Writes one line.
    pub fn line(&self, text: &str) {
        crate::progress::println(text);
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        if let Ok(mut file) = self.file.lock() {
            let _ = writeln!(file, "{secs} {text}");
        }
    }
}
