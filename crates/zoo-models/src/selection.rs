//! Which parameters p-diff learns, and how they flatten into one vector.

use burn::module::Module;
use serde::{Deserialize, Serialize};

use crate::params::{
    NamedTensor, TensorInfo, TensorKind, named_tensors, tensor_infos, write_tensors,
};
use crate::{LoadReport, Model, ModelError};

/// A parameter selection: glob patterns over dotted names, or the default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Selection {
    /// The affine weight and bias of the last `n` normalization layers.
    #[default]
    LastNorms,
    /// Parameters whose dotted names match any of these globs (`layer4.1.bn*.weight`).
    Patterns(Vec<String>),
}

/// Ordered names and shapes of the selected tensors: the meaning of each value of a flat
/// parameter vector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParamLayout {
    /// Selected tensors in model order.
    pub tensors: Vec<TensorInfo>,
}

/// How many normalization layers the default selection takes.
pub const DEFAULT_NORM_LAYERS: usize = 2;

impl Selection {
    /// Resolves the selection against a model.
    pub fn resolve(&self, arch: &str, model: &Model) -> Result<ParamLayout, ModelError> {
        let infos = tensor_infos(model);
        let tensors: Vec<TensorInfo> = match self {
            Selection::LastNorms => {
                let norms = model.norm_layers();
                let last = &norms[norms.len().saturating_sub(DEFAULT_NORM_LAYERS)..];
                infos
                    .into_iter()
                    .filter(|t| t.kind == TensorKind::Param)
                    .filter(|t| {
                        last.iter().any(|layer| {
                            t.name == format!("{layer}.weight") || t.name == format!("{layer}.bias")
                        })
                    })
                    .collect()
            }
            Selection::Patterns(patterns) => {
                let mut builder = globset::GlobSetBuilder::new();
                for pattern in patterns {
                    let glob = globset::GlobBuilder::new(pattern)
                        .literal_separator(false)
                        .build()
                        .map_err(|e| ModelError::BadPattern {
                            pattern: pattern.clone(),
                            reason: e.to_string(),
                        })?;
                    builder.add(glob);
                }
                let set = builder.build().map_err(|e| ModelError::BadPattern {
                    pattern: patterns.join(","),
                    reason: e.to_string(),
                })?;
                infos
                    .into_iter()
                    .filter(|t| t.kind == TensorKind::Param && set.is_match(&t.name))
                    .collect()
            }
        };
        if tensors.is_empty() {
            let patterns = match self {
                Selection::LastNorms => vec!["<last normalization layers>".to_string()],
                Selection::Patterns(p) => p.clone(),
            };
            return Err(ModelError::EmptySelection { arch: arch.to_string(), patterns });
        }
        Ok(ParamLayout { tensors })
    }
}

impl ParamLayout {
    /// Total number of values.
    pub fn len(&self) -> usize {
        self.tensors.iter().map(TensorInfo::numel).sum()
    }

    /// Whether the layout selects nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Dotted names of the selected tensors.
    pub fn names(&self) -> Vec<String> {
        self.tensors.iter().map(|t| t.name.clone()).collect()
    }

    /// The selected tensors of `model`, concatenated in layout order.
    pub fn flatten(&self, model: &Model) -> Vec<f32> {
        let all = named_tensors(model);
        let mut out = Vec::with_capacity(self.len());
        for info in &self.tensors {
            let tensor = all
                .iter()
                .find(|t| t.name == info.name)
                .expect("layout was resolved against this architecture");
            out.extend_from_slice(&tensor.data);
        }
        out
    }

    /// Splits a flat vector into named tensors.
    pub fn unflatten(&self, values: &[f32]) -> Result<Vec<NamedTensor>, ModelError> {
        if values.len() != self.len() {
            return Err(ModelError::VectorLength { expected: self.len(), got: values.len() });
        }
        let mut offset = 0;
        Ok(self
            .tensors
            .iter()
            .map(|info| {
                let n = info.numel();
                let data = values[offset..offset + n].to_vec();
                offset += n;
                NamedTensor {
                    name: info.name.clone(),
                    shape: info.shape.clone(),
                    data,
                    kind: info.kind,
                }
            })
            .collect())
    }

    /// Writes a flat vector into `model`. Fails unless every selected tensor was applied
    /// with its exact shape; the report lists what happened.
    pub fn splice<M: Module>(
        &self,
        arch: &str,
        model: M,
        values: &[f32],
    ) -> Result<(M, LoadReport), ModelError> {
        let tensors = self.unflatten(values)?;
        let (model, mut report) = write_tensors(model, &tensors);
        // A splice writes a subset: the model's other tensors are not "missing".
        report.missing.clear();
        if !report.is_clean() || report.applied.len() != self.tensors.len() {
            return Err(ModelError::UncleanSplice {
                arch: arch.to_string(),
                summary: report.summary(),
            });
        }
        Ok((model, report))
    }
}
