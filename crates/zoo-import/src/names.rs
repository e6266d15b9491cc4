//! From checkpoint names to state-dict keys: choosing the wrapped state dict of a training
//! checkpoint, stripping DDP / wrapper prefixes, and mapping torchvision's ConvNeXt names to
//! timm's (the names our ConvNeXt uses).

use zoo_models::NamedTensor;

/// Top-level keys under which training scripts save the model's state dict, in order of
/// preference (timm's `state_dict` before its `state_dict_ema`; torchvision's `model`).
pub const WRAPPERS: [&str; 4] = ["state_dict", "model", "state_dict_ema", "model_ema"];

/// Prefixes removed while every name carries them: DDP / DataParallel (`module.`), wrapper
/// modules (`model.`) and `torch.compile` (`_orig_mod.`).
pub const PREFIXES: [&str; 3] = ["module.", "model.", "_orig_mod."];

/// Tensors under their state-dict keys.
#[derive(Debug, Default)]
pub struct Unwrapped {
    /// The tensors to import.
    pub tensors: Vec<NamedTensor>,
    /// Names (as in the file) left out because they lie outside the chosen wrapper.
    pub outside: Vec<String>,
    /// What was done, for the report.
    pub renames: Vec<String>,
}

/// Unwraps checkpoint names into state-dict keys.
pub fn unwrap(tensors: Vec<NamedTensor>) -> Unwrapped {
    let mut out = Unwrapped::default();
    let mut tensors = tensors;
    // A training checkpoint: keep the state dict under the first wrapper key present, when
    // the file also holds something else (optimizer state, an EMA copy).
    if let Some(wrapper) = WRAPPERS.iter().find(|w| {
        let prefix = format!("{w}.");
        tensors.iter().any(|t| t.name.starts_with(&prefix))
    }) {
        let prefix = format!("{wrapper}.");
        let (inside, outside): (Vec<_>, Vec<_>) =
            tensors.into_iter().partition(|t| t.name.starts_with(&prefix));
        out.outside = outside.into_iter().map(|t| t.name).collect();
        tensors = inside;
        for t in &mut tensors {
            t.name = t.name[prefix.len()..].to_string();
        }
        out.renames.push(format!("took the state dict under `{wrapper}`"));
    }
    // Prefixes every name shares.
    while let Some(prefix) = PREFIXES
        .iter()
        .find(|p| !tensors.is_empty() && tensors.iter().all(|t| t.name.starts_with(**p)))
    {
        for t in &mut tensors {
            t.name = t.name[prefix.len()..].to_string();
        }
        out.renames.push(format!("stripped prefix `{prefix}`"));
    }
    if is_torchvision_convnext(&tensors) {
        for t in &mut tensors {
            if let Some(name) = torchvision_convnext_to_timm(&t.name) {
                if t.name.ends_with(".layer_scale") {
                    // torchvision keeps the layer scale as [C, 1, 1], timm as [C].
                    t.shape.retain(|&d| d != 1);
                    if t.shape.is_empty() {
                        t.shape.push(1);
                    }
                }
                t.name = name;
            }
        }
        out.renames.push("mapped torchvision ConvNeXt names to timm's".to_string());
    }
    out.tensors = tensors;
    out
}

/// True when the names are torchvision's ConvNeXt (`features.1.0.block.0.weight`,
/// `features.1.0.layer_scale`).
fn is_torchvision_convnext(tensors: &[NamedTensor]) -> bool {
    tensors.iter().any(|t| t.name.starts_with("features.") && t.name.ends_with(".layer_scale"))
}

/// timm's name for a torchvision ConvNeXt tensor, `None` for names outside that layout.
///
/// torchvision: `features.0.{0,1}` stem conv / norm; `features.{2s+1}.{j}` the blocks of
/// stage `s` (`block.0` depthwise conv, `block.2` norm, `block.3` / `block.5` MLP,
/// `layer_scale`); `features.{2s}.{0,1}` the downsampling norm / conv before stage `s ≥ 1`;
/// `classifier.{0,2}` head norm / linear.
pub fn torchvision_convnext_to_timm(name: &str) -> Option<String> {
    if let Some(rest) = name.strip_prefix("classifier.") {
        let (index, leaf) = rest.split_once('.')?;
        let layer = match index {
            "0" => "norm",
            "2" => "fc",
            _ => return None,
        };
        return Some(format!("head.{layer}.{leaf}"));
    }
    let rest = name.strip_prefix("features.")?;
    let (feature, rest) = rest.split_once('.')?;
    let feature: usize = feature.parse().ok()?;
    let (index, leaf) = rest.split_once('.')?;
    if feature == 0 {
        return matches!(index, "0" | "1").then(|| format!("stem.{index}.{leaf}"));
    }
    if feature.is_multiple_of(2) {
        let stage = feature / 2;
        return matches!(index, "0" | "1")
            .then(|| format!("stages.{stage}.downsample.{index}.{leaf}"));
    }
    let stage = (feature - 1) / 2;
    let block: usize = index.parse().ok()?;
    let base = format!("stages.{stage}.blocks.{block}");
    if leaf == "layer_scale" {
        return Some(format!("{base}.gamma"));
    }
    let (layer, leaf) = leaf.strip_prefix("block.")?.split_once('.')?;
    let layer = match layer {
        "0" => "conv_dw",
        "2" => "norm",
        "3" => "mlp.fc1",
        "5" => "mlp.fc2",
        _ => return None,
    };
    Some(format!("{base}.{layer}.{leaf}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use zoo_models::TensorKind;

    fn t(name: &str) -> NamedTensor {
        NamedTensor { name: name.into(), shape: vec![1], data: vec![0.0], kind: TensorKind::Param }
    }

    fn names(u: &Unwrapped) -> Vec<&str> {
        u.tensors.iter().map(|t| t.name.as_str()).collect()
    }

    #[test]
    fn checkpoint_wrapper_and_ddp_prefix() {
        let u = unwrap(vec![
            t("state_dict.module.conv1.weight"),
            t("state_dict.module.fc.bias"),
            t("state_dict_ema.module.fc.bias"),
            t("optimizer.state.0.exp_avg"),
        ]);
        assert_eq!(names(&u), ["conv1.weight", "fc.bias"]);
        assert_eq!(u.outside, ["state_dict_ema.module.fc.bias", "optimizer.state.0.exp_avg"]);
        assert_eq!(u.renames.len(), 2);
    }

    #[test]
    fn plain_state_dict_is_untouched() {
        let u = unwrap(vec![t("conv1.weight"), t("model_x.bias")]);
        assert_eq!(names(&u), ["conv1.weight", "model_x.bias"]);
        assert!(u.renames.is_empty() && u.outside.is_empty());
    }

    #[test]
    fn torchvision_convnext_names() {
        let map = |n| torchvision_convnext_to_timm(n).unwrap();
        assert_eq!(map("features.0.0.weight"), "stem.0.weight");
        assert_eq!(map("features.0.1.bias"), "stem.1.bias");
        assert_eq!(map("features.1.2.block.0.weight"), "stages.0.blocks.2.conv_dw.weight");
        assert_eq!(map("features.1.2.block.2.weight"), "stages.0.blocks.2.norm.weight");
        assert_eq!(map("features.5.8.block.3.bias"), "stages.2.blocks.8.mlp.fc1.bias");
        assert_eq!(map("features.7.0.block.5.weight"), "stages.3.blocks.0.mlp.fc2.weight");
        assert_eq!(map("features.3.1.layer_scale"), "stages.1.blocks.1.gamma");
        assert_eq!(map("features.2.0.weight"), "stages.1.downsample.0.weight");
        assert_eq!(map("features.6.1.bias"), "stages.3.downsample.1.bias");
        assert_eq!(map("classifier.0.weight"), "head.norm.weight");
        assert_eq!(map("classifier.2.bias"), "head.fc.bias");
        assert_eq!(torchvision_convnext_to_timm("features.1.0.block.4.weight"), None);
    }
}
