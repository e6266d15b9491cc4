//! ViT → ONNX, mirroring `zoo_models::vit` (timm `vision_transformer.py`): patchify Conv,
//! flatten to tokens, class token (Expand to the batch) and position embedding, pre-norm
//! blocks with fused-qkv multi-head attention (Reshape → Transpose → Gather q/k/v, scaled
//! MatMul, Softmax) and an exact-GELU MLP, final LayerNorm and the head on the class token.

use zoo_models::vit::{Attention, Vit};
use zoo_onnx::{TensorData, Value};

use crate::error::{ExportError, Result};
use crate::layers::Ctx;

/// Checks that `[C, H, W]` inputs give the token count of the network's position embedding.
pub(crate) fn check_input(ctx: &Ctx, arch: &str, input: [usize; 3], net: &Vit) -> Result<()> {
    let [_, h, w] = input;
    let patch = net.patch_embed.proj.kernel_size;
    let stride = net.patch_embed.proj.stride;
    let pos = ctx.shape("pos_embed")?;
    let bad = |reason: String| ExportError::InputShape {
        arch: arch.to_string(),
        got: input.to_vec(),
        reason,
    };
    if h < patch[0] || w < patch[1] {
        return Err(bad(format!("smaller than one {}×{} patch", patch[0], patch[1])));
    }
    let tokens = ((h - patch[0]) / stride[0] + 1) * ((w - patch[1]) / stride[1] + 1) + 1;
    if pos.get(1) != Some(&tokens) {
        return Err(bad(format!(
            "gives {tokens} tokens but the position embedding `pos_embed` {pos:?} has {}",
            pos.get(1).copied().unwrap_or(0)
        )));
    }
    Ok(())
}

/// Emits the network on `x` (`[N, C, H, W]`) and returns the logits `[N, classes]`.
pub(crate) fn emit(ctx: &mut Ctx, x: &Value, net: &Vit) -> Result<Value> {
    let dim = ctx.shape("cls_token")?.last().copied().unwrap_or(0) as i64;
    let y = ctx.conv(x, "patch_embed.proj", &net.patch_embed.proj)?; // [N, dim, h, w]
    let y = ctx.g.reshape(&y, "patch_embed/flatten", &[0, dim, -1])?; // [N, dim, patches]
    let patches = ctx.g.transpose(&y, "patch_embed/tokens", &[0, 2, 1])?; // [N, patches, dim]
    let cls = ctx.param("cls_token")?; // [1, 1, dim]
    let cls = ctx.g.expand_to_batch(&cls, "cls_token/expand", &patches, 3)?; // [N, 1, dim]
    let tokens = ctx.g.concat(&[&cls, &patches], "cls_token/concat", 1)?; // [N, tokens, dim]
    let pos = ctx.param("pos_embed")?;
    let mut y = ctx.g.add(&tokens, &pos, "pos_embed/add")?;
    for (i, block) in net.blocks.iter().enumerate() {
        let name = format!("blocks.{i}");
        let h = ctx.layer_norm(&y, &format!("{name}.norm1"), &block.norm1)?;
        let a = attention(ctx, &h, &format!("{name}.attn"), &block.attn, dim)?;
        y = ctx.g.add(&y, &a, &format!("{name}.add1"))?;
        let h = ctx.layer_norm(&y, &format!("{name}.norm2"), &block.norm2)?;
        let h = ctx.linear(&h, &format!("{name}.mlp.fc1"), &block.mlp.fc1, 3)?;
        let h = ctx.g.gelu(&h, &format!("{name}.mlp.act"))?;
        let h = ctx.linear(&h, &format!("{name}.mlp.fc2"), &block.mlp.fc2, 3)?;
        y = ctx.g.add(&y, &h, &format!("{name}.add2"))?;
    }
    let y = ctx.layer_norm(&y, "norm", &net.norm)?;
    let cls = ctx.g.select(&y, "head/cls", 1, 0)?; // [N, dim]
    ctx.linear(&cls, "head", &net.head, 2)
}

/// Multi-head self-attention on `[N, T, dim]` (public, hidden, for the per-layer tests).
pub fn attention(
    ctx: &mut Ctx,
    x: &Value,
    name: &str,
    attn: &Attention,
    dim: i64,
) -> Result<Value> {
    let heads = attn.heads as i64;
    if heads == 0 || dim % heads != 0 {
        return Err(ctx.unsupported(name, format!("{heads} heads do not divide width {dim}")));
    }
    let head_dim = dim / heads;
    let qkv = ctx.linear(x, &format!("{name}.qkv"), &attn.qkv, 3)?; // [N, T, 3·dim]
    let qkv = ctx.g.reshape(&qkv, &format!("{name}/split"), &[0, 0, 3, heads, head_dim])?;
    let qkv = ctx.g.transpose(&qkv, &format!("{name}/heads"), &[2, 0, 3, 1, 4])?; // [3, N, H, T, hd]
    let q = ctx.g.select(&qkv, &format!("{name}/q"), 0, 0)?; // [N, H, T, hd]
    let k = ctx.g.select(&qkv, &format!("{name}/k"), 0, 1)?;
    let v = ctx.g.select(&qkv, &format!("{name}/v"), 0, 2)?;
    let kt = ctx.g.transpose(&k, &format!("{name}/k_t"), &[0, 1, 3, 2])?; // [N, H, hd, T]
    let scores = ctx.g.matmul(&q, &kt, &format!("{name}/scores"))?; // [N, H, T, T]
    let scale = (head_dim as f64).powf(-0.5) as f32;
    let scale = ctx.g.constant(name, "scale", TensorData::scalar_f32(scale))?;
    let scores = ctx.g.mul(&scores, &scale, &format!("{name}/scaled"))?;
    let weights = ctx.g.softmax(&scores, &format!("{name}/softmax"), -1)?;
    let out = ctx.g.matmul(&weights, &v, &format!("{name}/context"))?; // [N, H, T, hd]
    let out = ctx.g.transpose(&out, &format!("{name}/merge"), &[0, 2, 1, 3])?; // [N, T, H, hd]
    let out = ctx.g.reshape(&out, &format!("{name}/concat_heads"), &[0, 0, dim])?; // [N, T, dim]
    ctx.linear(&out, &format!("{name}.proj"), &attn.proj, 3)
}
