//! ConvNeXt → ONNX, mirroring `zoo_models::convnext` (timm `convnext.py`): patchify Conv +
//! LayerNorm2d stem; per stage an optional LayerNorm2d + 2×2 stride-2 Conv downsampling, then
//! blocks of depthwise 7×7 Conv (`group = channels`), channels-last LayerNorm, MLP with exact
//! GELU, layer scale `gamma` and the residual add; head of global mean, LayerNorm and Gemm.

use zoo_models::convnext::{ConvNext, ConvNextBlock};
use zoo_onnx::Value;

use crate::error::{ExportError, Result};
use crate::layers::Ctx;

/// Checks that `[C, H, W]` inputs survive the stem and every downsampling.
pub(crate) fn check_input(arch: &str, input: [usize; 3], net: &ConvNext) -> Result<()> {
    let [_, h, w] = input;
    let bad = |reason: String| ExportError::InputShape {
        arch: arch.to_string(),
        got: input.to_vec(),
        reason,
    };
    let stem = &net.stem.0;
    if h < stem.kernel_size[0] || w < stem.kernel_size[1] {
        return Err(bad(format!("smaller than the {:?} stem patch", stem.kernel_size)));
    }
    let (mut h, mut w) = (
        (h - stem.kernel_size[0]) / stem.stride[0] + 1,
        (w - stem.kernel_size[1]) / stem.stride[1] + 1,
    );
    for (s, stage) in net.stages.iter().enumerate() {
        if let Some((_, conv)) = &stage.downsample {
            if h < conv.kernel_size[0] || w < conv.kernel_size[1] {
                return Err(bad(format!(
                    "feature maps of {h}×{w} cannot be downsampled in stage {s}"
                )));
            }
            (h, w) = (
                (h - conv.kernel_size[0]) / conv.stride[0] + 1,
                (w - conv.kernel_size[1]) / conv.stride[1] + 1,
            );
        }
    }
    Ok(())
}

/// Emits the network on `x` (`[N, C, H, W]`) and returns the logits `[N, classes]`.
pub(crate) fn emit(ctx: &mut Ctx, x: &Value, net: &ConvNext) -> Result<Value> {
    let y = ctx.conv(x, "stem.0", &net.stem.0)?;
    let mut y = ctx.layer_norm_2d(&y, "stem.1", &net.stem.1.inner)?;
    for (s, stage) in net.stages.iter().enumerate() {
        if let Some((norm, conv)) = &stage.downsample {
            let name = format!("stages.{s}.downsample");
            let n = ctx.layer_norm_2d(&y, &format!("{name}.0"), &norm.inner)?;
            y = ctx.conv(&n, &format!("{name}.1"), conv)?;
        }
        for (b, block) in stage.blocks.iter().enumerate() {
            y = emit_block(ctx, &y, &format!("stages.{s}.blocks.{b}"), block)?;
        }
    }
    let pooled = ctx.g.reduce_mean(&y, "head/pool", &[2, 3], false)?; // [N, C]
    let normed = ctx.layer_norm(&pooled, "head.norm", &net.head.norm)?;
    ctx.linear(&normed, "head.fc", &net.head.fc, 2)
}

fn emit_block(ctx: &mut Ctx, x: &Value, name: &str, block: &ConvNextBlock) -> Result<Value> {
    let y = ctx.conv(x, &format!("{name}.conv_dw"), &block.conv_dw)?;
    let y = ctx.g.transpose(&y, &format!("{name}/to_nhwc"), &[0, 2, 3, 1])?; // [N, H, W, C]
    let y = ctx.layer_norm(&y, &format!("{name}.norm"), &block.norm)?;
    let y = ctx.linear(&y, &format!("{name}.mlp.fc1"), &block.mlp.fc1, 4)?;
    let y = ctx.g.gelu(&y, &format!("{name}.mlp.act"))?;
    let y = ctx.linear(&y, &format!("{name}.mlp.fc2"), &block.mlp.fc2, 4)?;
    let gamma = ctx.param(&format!("{name}.gamma"))?;
    let y = ctx.g.mul(&y, &gamma, &format!("{name}.layer_scale"))?;
    let y = ctx.g.transpose(&y, &format!("{name}/to_nchw"), &[0, 3, 1, 2])?; // [N, C, H, W]
    Ok(ctx.g.add(x, &y, &format!("{name}.add"))?)
}
