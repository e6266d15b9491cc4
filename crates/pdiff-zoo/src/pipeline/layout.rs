//! Where everything lives in a zoo folder.

use std::path::{Path, PathBuf};

/// Paths inside a zoo folder (`exports/<zoo>/`).
#[derive(Debug, Clone)]
pub struct ZooLayout {
    root: PathBuf,
}

impl ZooLayout {
    /// The zoo at `root`.
    pub fn new(root: &Path) -> Self {
        Self { root: root.to_path_buf() }
    }

    /// The zoo folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The recipe the zoo was made with (copied verbatim).
    pub fn recipe(&self) -> PathBuf {
        self.root.join("recipe.toml")
    }

    /// The run log (appended to).
    pub fn run_log(&self) -> PathBuf {
        self.root.join("run.log")
    }

    /// `manifest.json`.
    pub fn manifest(&self) -> PathBuf {
        self.root.join("manifest.json")
    }

    /// `report.html`.
    pub fn report(&self) -> PathBuf {
        self.root.join("report.html")
    }

    /// The report's data (`report.json`), from which `pdiff-zoo report` re-renders.
    pub fn report_data(&self) -> PathBuf {
        self.root.join("report.json")
    }

    /// Intermediate files of one architecture (model, collection, fit, generated vectors).
    pub fn work(&self, arch: &str) -> PathBuf {
        self.root.join("work").join(arch)
    }

    /// The trained base model of `arch`.
    pub fn model(&self, arch: &str) -> PathBuf {
        self.work(arch).join("model.safetensors")
    }

    /// The checkpoint collection of `arch`.
    pub fn collection(&self, arch: &str) -> PathBuf {
        self.work(arch).join("collection.safetensors")
    }

    /// The fitted p-diffs of `arch`, one per candidate fit seed: `pdiff`, then `pdiff-1`, ….
    pub fn fits(&self, arch: &str, candidates: usize) -> Vec<PathBuf> {
        (0..candidates.max(1))
            .map(|c| match c {
                0 => self.work(arch).join("pdiff"),
                c => self.work(arch).join(format!("pdiff-{c}")),
            })
            .collect()
    }

    /// Generated vectors of `arch` with their scores.
    pub fn generated(&self, arch: &str) -> PathBuf {
        self.work(arch).join("generated.safetensors")
    }

    /// Noise-added baseline of `arch` with its scores.
    pub fn noise(&self, arch: &str) -> PathBuf {
        self.work(arch).join("noise_added.safetensors")
    }

    /// Trained vs generated vs noise-added comparison of `arch`.
    pub fn comparison(&self, arch: &str) -> PathBuf {
        self.work(arch).join("comparison.json")
    }

    /// The similarity matrix of `arch` for the report.
    pub fn similarity(&self, arch: &str) -> PathBuf {
        self.work(arch).join("similarity.json")
    }

    /// Records of the exported members of `arch`.
    pub fn exported(&self, arch: &str) -> PathBuf {
        self.work(arch).join("exported.json")
    }

    /// Records of the ensembles of `arch`.
    pub fn ensembles_record(&self, arch: &str) -> PathBuf {
        self.work(arch).join("ensembles.json")
    }

    /// Relative path (from the zoo folder) of a member's ONNX file.
    pub fn member_onnx(id: &str) -> String {
        format!("members/{id}/model.onnx")
    }

    /// Relative path (from the zoo folder) of an ensemble's ONNX file.
    pub fn ensemble_onnx(id: &str) -> String {
        format!("ensembles/{id}/model.onnx")
    }
}
