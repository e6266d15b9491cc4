//! [`export_model`]: one burn network of the zoo as a full ONNX graph.

use zoo_models::{ArchSpec, Model};
use zoo_onnx::{DEFAULT_OPSET, GraphBuilder, MAX_OPSET, MIN_OPSET, dims};

use crate::error::{ExportError, Result};
use crate::layers::Ctx;
use crate::metadata::Metadata;
use crate::{INPUT_NAME, LOGITS_NAME, convnext, resnet, vit};

/// How to write a network.
#[derive(Clone, Debug, PartialEq)]
pub struct ExportOptions {
    /// ONNX opset ([`MIN_OPSET`]..=[`MAX_OPSET`], default [`DEFAULT_OPSET`]).
    pub opset: u32,
    /// `metadata_props` besides `arch` and `family`.
    pub metadata: Metadata,
}

impl Default for ExportOptions {
    fn default() -> Self {
        ExportOptions { opset: DEFAULT_OPSET, metadata: Metadata::default() }
    }
}

impl ExportOptions {
    /// Default options with this metadata.
    pub fn with_metadata(metadata: Metadata) -> Self {
        ExportOptions { metadata, ..ExportOptions::default() }
    }
}

/// Checks the opset against what the emitters write.
pub fn check_opset(opset: u32) -> Result<()> {
    if (MIN_OPSET..=MAX_OPSET).contains(&opset) {
        Ok(())
    } else {
        Err(ExportError::UnsupportedOpset { opset, min: MIN_OPSET, max: MAX_OPSET })
    }
}

/// Writes `model` (architecture `spec`, already spliced, in inference form) as one ONNX graph:
/// input `input` `[batch, C, H, W]` (dynamic batch), output `logits` `[batch, classes]`, every
/// tensor an initializer under its dotted parameter name, BatchNorm with its running
/// statistics, and the `metadata_props` of `opts`.
///
/// Errors: an opset outside 13..=21, a network that does not match `spec` (family, input
/// channels, token count, classes: [`ExportError::InputShape`]), a layer the exporter does
/// not know ([`ExportError::UnsupportedLayer`] / [`ExportError::Coverage`]), bad metadata.
pub fn export_model(
    model: &Model,
    spec: &ArchSpec,
    opts: &ExportOptions,
) -> Result<zoo_onnx::Model> {
    check_opset(opts.opset)?;
    let entries = opts.metadata.entries(spec)?;
    let mut g = GraphBuilder::with_opset(&spec.name, opts.opset)?;
    g.set_doc_string(format!(
        "{} ({}) exported by pdiff-zoo: input `{INPUT_NAME}` normalized NCHW, output `{LOGITS_NAME}`",
        spec.name,
        spec.family()
    ));
    g.set_producer_version(crate::PDIFF_ZOO_VERSION);
    for (key, value) in entries {
        g.set_metadata(key, value);
    }
    let [c, h, w] = spec.input;
    let x = g.input(INPUT_NAME, &dims![batch, c, h, w])?;
    let mut ctx = Ctx::new(g, &spec.name, model);
    let mismatch = |reason: String| ExportError::InputShape {
        arch: spec.name.clone(),
        got: spec.input.to_vec(),
        reason,
    };
    let (first_conv, head) = match (model, spec.family()) {
        (Model::Resnet(_), zoo_models::Family::Resnet) => ("conv1", "fc"),
        (Model::Vit(_), zoo_models::Family::Vit) => ("patch_embed.proj", "head"),
        (Model::Convnext(_), zoo_models::Family::Convnext) => ("stem.0", "head.fc"),
        _ => {
            return Err(ExportError::UnsupportedLayer {
                arch: spec.name.clone(),
                layer: String::new(),
                reason: format!("the network is not of the spec's family `{}`", spec.family()),
            });
        }
    };
    let conv_shape = ctx.shape(&format!("{first_conv}.weight"))?;
    if conv_shape.get(1) != Some(&c) {
        return Err(mismatch(format!(
            "the network takes {} channels (`{first_conv}.weight` {conv_shape:?})",
            conv_shape.get(1).copied().unwrap_or(0)
        )));
    }
    let head_shape = ctx.shape(&format!("{head}.weight"))?;
    if head_shape.first() != Some(&spec.num_classes) {
        return Err(ExportError::UnsupportedLayer {
            arch: spec.name.clone(),
            layer: head.to_string(),
            reason: format!("{head_shape:?} weight for {} classes", spec.num_classes),
        });
    }
    let logits = match model {
        Model::Resnet(net) => {
            if h == 0 || w == 0 {
                return Err(mismatch("empty image".into()));
            }
            resnet::emit(&mut ctx, &x, net)?
        }
        Model::Vit(net) => {
            vit::check_input(&ctx, &spec.name, spec.input, net)?;
            vit::emit(&mut ctx, &x, net)?
        }
        Model::Convnext(net) => {
            convnext::check_input(&spec.name, spec.input, net)?;
            convnext::emit(&mut ctx, &x, net)?
        }
    };
    let mut g = ctx.finish()?;
    g.output(&logits, LOGITS_NAME, &dims![batch, spec.num_classes])?;
    Ok(g.build()?)
}
