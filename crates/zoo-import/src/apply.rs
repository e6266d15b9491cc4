//! Writing a state dict into a freshly built network and judging the outcome.

use burn::prelude::Device;
use serde::Serialize;
use zoo_models::{ArchSpec, Model, write_tensors};

use crate::StateDict;

/// How strict an import is.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImportOptions {
    /// The classifier head is being replaced (another class count): its tensors may mismatch
    /// or be absent; they stay freshly initialized and are reported as `head_replaced`.
    pub replace_head: bool,
    /// Seed of the fresh initialization (what a replaced head keeps).
    pub seed: u64,
}

/// What an import did, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// Model tensors written from the file.
    pub applied: Vec<String>,
    /// Model tensors the file does not have (left freshly initialized).
    pub missing: Vec<String>,
    /// File tensors the model does not have.
    pub unused: Vec<String>,
    /// Names on both sides with different shapes: `(name, expected, given)`.
    pub mismatched: Vec<(String, Vec<usize>, Vec<usize>)>,
    /// File entries deliberately skipped (`num_batches_tracked`, tensors outside the
    /// checkpoint's state dict).
    pub ignored: Vec<String>,
    /// Classifier tensors left freshly initialized because the head is replaced.
    pub head_replaced: Vec<String>,
    /// Renames applied to the file's names (wrappers, prefixes, torchvision → timm).
    pub renames: Vec<String>,
}

impl ImportReport {
    /// True when every model tensor came from the file (except a replaced head) and every
    /// file tensor was used.
    pub fn is_clean(&self) -> bool {
        self.missing.is_empty() && self.unused.is_empty() && self.mismatched.is_empty()
    }

    /// A one-line summary with counts.
    pub fn counts(&self) -> String {
        let mut text = format!(
            "{} applied, {} missing, {} unused, {} mismatched, {} ignored",
            self.applied.len(),
            self.missing.len(),
            self.unused.len(),
            self.mismatched.len(),
            self.ignored.len()
        );
        if !self.head_replaced.is_empty() {
            text += &format!(", {} head tensors replaced", self.head_replaced.len());
        }
        text
    }

    /// Every problem, one per line (empty for a clean report).
    pub fn problems(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for (name, expected, given) in &self.mismatched {
            lines
                .push(format!("mismatched {name}: model expects {expected:?}, file has {given:?}"));
        }
        lines.extend(self.missing.iter().map(|n| format!("missing    {n} (not in the file)")));
        lines.extend(self.unused.iter().map(|n| format!("unused     {n} (not in the model)")));
        lines
    }
}

/// Builds `spec` on `device` and writes `dict` into it. The model is returned whatever the
/// report says; the caller decides whether an unclean report is acceptable.
pub fn import_into(
    spec: &ArchSpec,
    dict: &StateDict,
    options: ImportOptions,
    device: &Device,
) -> (Model, ImportReport) {
    let model = spec.init_seeded(options.seed, device);
    let (model, load) = write_tensors(model, &dict.tensors);
    let mut report = ImportReport {
        applied: load.applied,
        missing: load.missing,
        unused: load.unused,
        mismatched: load.mismatched,
        ignored: dict.ignored.clone(),
        head_replaced: Vec::new(),
        renames: dict.renames.clone(),
    };
    if options.replace_head {
        let head = spec.family().head();
        let is_head = |name: &str| head.contains(&name);
        report.head_replaced.extend(report.missing.iter().filter(|n| is_head(n)).cloned());
        report.missing.retain(|n| !is_head(n));
        report
            .head_replaced
            .extend(report.mismatched.iter().filter(|m| is_head(&m.0)).map(|m| m.0.clone()));
        report.mismatched.retain(|m| !is_head(&m.0));
        report.head_replaced.sort();
    }
    (model, report)
}
