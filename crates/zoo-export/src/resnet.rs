//! ResNet → ONNX, mirroring `zoo_models::resnet` (torchvision v1.5 and the CIFAR ResNets):
//! `conv1 → bn1 → relu (→ maxpool)`, residual blocks (basic or bottleneck, projection
//! shortcut `downsample.{0,1}` run first), `GlobalAveragePool → Flatten → Gemm(fc)`.
//! BatchNorm is written in inference form with the running statistics.

use zoo_models::resnet::{ResNet, ResidualBlock};
use zoo_onnx::Value;

use crate::error::Result;
use crate::layers::Ctx;

/// Emits the network on `x` (`[N, C, H, W]`) and returns the logits `[N, classes]`.
pub(crate) fn emit(ctx: &mut Ctx, x: &Value, net: &ResNet) -> Result<Value> {
    let y = ctx.conv(x, "conv1", &net.conv1)?;
    let y = ctx.batch_norm(&y, "bn1", &net.bn1)?;
    let mut y = ctx.g.relu(&y, "relu")?;
    if let Some(pool) = &net.maxpool {
        y = ctx.max_pool(&y, "maxpool", pool)?;
    }
    let stages = [("layer1", &net.layer1), ("layer2", &net.layer2), ("layer3", &net.layer3)];
    for (stage, blocks) in stages.into_iter().chain([("layer4", &net.layer4)]) {
        for (i, block) in blocks.iter().enumerate() {
            y = emit_block(ctx, &y, &format!("{stage}.{i}"), block)?;
        }
    }
    let pooled = ctx.g.global_average_pool(&y, "avgpool")?;
    let flat = ctx.g.flatten(&pooled, "flatten", 1)?;
    ctx.linear(&flat, "fc", &net.fc, 2)
}

fn emit_block(ctx: &mut Ctx, x: &Value, name: &str, block: &ResidualBlock) -> Result<Value> {
    let identity = match &block.downsample {
        Some((conv, bn)) => {
            let y = ctx.conv(x, &format!("{name}.downsample.0"), conv)?;
            ctx.batch_norm(&y, &format!("{name}.downsample.1"), bn)?
        }
        None => x.clone(),
    };
    let y = ctx.conv(x, &format!("{name}.conv1"), &block.conv1)?;
    let y = ctx.batch_norm(&y, &format!("{name}.bn1"), &block.bn1)?;
    let y = ctx.g.relu(&y, &format!("{name}.relu1"))?;
    let y = ctx.conv(&y, &format!("{name}.conv2"), &block.conv2)?;
    let mut y = ctx.batch_norm(&y, &format!("{name}.bn2"), &block.bn2)?;
    match (&block.conv3, &block.bn3) {
        (Some(conv3), Some(bn3)) => {
            let r = ctx.g.relu(&y, &format!("{name}.relu2"))?;
            let c = ctx.conv(&r, &format!("{name}.conv3"), conv3)?;
            y = ctx.batch_norm(&c, &format!("{name}.bn3"), bn3)?;
        }
        (None, None) => {}
        _ => return Err(ctx.unsupported(name, "a block with conv3 but no bn3 (or the reverse)")),
    }
    let sum = ctx.g.add(&y, &identity, &format!("{name}.add"))?;
    Ok(ctx.g.relu(&sum, &format!("{name}.relu"))?)
}
