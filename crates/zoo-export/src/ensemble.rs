//! [`ensemble`]: K exported members in one ONNX graph that runs them all on the same input and
//! outputs the mean of their softmax probabilities (`probabilities` `[batch, classes]`) and,
//! optionally, every member's logits (`member_logits` `[batch, K, classes]`).
//!
//! Members are merged at the protobuf level, so any file [`export_model`](crate::export_model)
//! wrote (or read back from disk) can join: every initializer, node and value of member `i`
//! is prefixed `m{i}.` (`m0.layer1.0.bn1.weight`, `m0.logits`), except the shared graph input.

use std::collections::BTreeMap;

use zoo_onnx::proto::{GraphProto, ValueInfoProto};
use zoo_onnx::{Dim, GraphBuilder, dims};

use crate::error::{ExportError, Result};
use crate::metadata::{Metadata, Source};
use crate::{INPUT_NAME, LOGITS_NAME, MEMBER_LOGITS_NAME, PROBABILITIES_NAME};

/// How to build an ensemble.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EnsembleOptions {
    /// Also output `member_logits` `[batch, K, classes]`.
    pub member_logits: bool,
    /// Ensemble test accuracy in percent, written as `accuracy` when known.
    pub accuracy: Option<f64>,
    /// Recipe hash (default: the first member's).
    pub recipe_hash: Option<String>,
    /// Ensemble id written as `member` (default: none).
    pub id: Option<String>,
}

/// The prefix of member `i`'s names in an ensemble graph.
pub fn member_prefix(i: usize) -> String {
    format!("m{i}.")
}

fn shape_of(v: &ValueInfoProto) -> Option<Vec<Dim>> {
    use zoo_onnx::proto::tensor_shape_proto::dimension::Value as D;
    use zoo_onnx::proto::type_proto::Value as T;
    let Some(T::TensorType(t)) = v.type_.value.as_ref() else { return None };
    t.shape
        .dim
        .iter()
        .map(|d| match d.value.as_ref()? {
            D::DimValue(n) => usize::try_from(*n).ok().map(Dim::Fixed),
            D::DimParam(_) => Some(Dim::Batch),
            _ => None,
        })
        .collect()
}

fn meta(model: &zoo_onnx::Model) -> BTreeMap<String, String> {
    model.metadata().into_iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// Builds the ensemble graph of `members` (each an exported network with input `input` and
/// output `logits`). Members must share the input shape, class count, opset, and — when
/// present — dataset, labels and input normalization. The metadata is the first member's
/// (`arch`/`family` joined with `+` when members differ), with `source = ensemble` and
/// `members` listing the member ids (or `m0,m1,…`).
pub fn ensemble(members: &[zoo_onnx::Model], opts: &EnsembleOptions) -> Result<zoo_onnx::Model> {
    let Some(first) = members.first() else {
        return Err(ExportError::Ensemble("no members".into()));
    };
    let opset =
        first.opset().ok_or_else(|| ExportError::Ensemble("member 0 has no opset".into()))?;
    let signature = |i: usize, m: &zoo_onnx::Model| -> Result<(Vec<Dim>, Vec<Dim>)> {
        let g = m.graph();
        let fail = |what: String| ExportError::Ensemble(format!("member {i}: {what}"));
        let [input] = g.input.as_slice() else {
            return Err(fail(format!("{} graph inputs, expected one", g.input.len())));
        };
        if input.name != INPUT_NAME {
            return Err(fail(format!("input is `{}`, expected `{INPUT_NAME}`", input.name)));
        }
        let output = g
            .output
            .iter()
            .find(|o| o.name == LOGITS_NAME)
            .ok_or_else(|| fail(format!("no output `{LOGITS_NAME}`")))?;
        let (Some(i_dims), Some(o_dims)) = (shape_of(input), shape_of(output)) else {
            return Err(fail("input or output without a tensor shape".into()));
        };
        if o_dims.len() != 2 || i_dims.len() != 4 {
            return Err(fail(format!(
                "input rank {} / logits rank {}",
                i_dims.len(),
                o_dims.len()
            )));
        }
        if m.opset() != Some(opset) {
            return Err(fail(format!("opset {:?} differs from member 0's {opset}", m.opset())));
        }
        Ok((i_dims, o_dims))
    };
    let (input_dims, logits_dims) = signature(0, first)?;
    let Dim::Fixed(classes) = logits_dims[1] else {
        return Err(ExportError::Ensemble("member 0: the class dimension is not fixed".into()));
    };
    let first_meta = meta(first);
    let mut archs: Vec<String> = Vec::new();
    let mut families: Vec<String> = Vec::new();
    let mut ids = Vec::new();
    for (i, m) in members.iter().enumerate() {
        let (i_dims, o_dims) = signature(i, m)?;
        if i_dims != input_dims || o_dims != logits_dims {
            return Err(ExportError::Ensemble(format!(
                "member {i} takes {i_dims:?} → {o_dims:?}, member 0 {input_dims:?} → {logits_dims:?}"
            )));
        }
        let md = meta(m);
        for key in ["dataset", "labels", "input_mean", "input_std"] {
            if let (Some(a), Some(b)) = (first_meta.get(key), md.get(key))
                && a != b
            {
                return Err(ExportError::Ensemble(format!(
                    "member {i} has {key} `{b}`, member 0 `{a}`"
                )));
            }
        }
        for (key, list) in [("arch", &mut archs), ("family", &mut families)] {
            let value = md.get(key).cloned().unwrap_or_default();
            if !value.is_empty() && !list.contains(&value) {
                list.push(value);
            }
        }
        ids.push(md.get("member").filter(|s| !s.is_empty()).cloned().unwrap_or(format!("m{i}")));
    }

    // The head: softmax per member, mean; optional stacked member logits.
    let mut head = GraphBuilder::with_opset("ensemble", opset)?;
    head.set_producer_version(crate::PDIFF_ZOO_VERSION);
    head.set_doc_string(format!(
        "pdiff-zoo ensemble of {} members: input `{INPUT_NAME}`, output `{PROBABILITIES_NAME}` \
         (mean of member softmax probabilities){}",
        members.len(),
        if opts.member_logits {
            format!(", `{MEMBER_LOGITS_NAME}` [batch, K, classes]")
        } else {
            String::new()
        }
    ));
    let mut logits = Vec::new();
    let mut probs = Vec::new();
    for i in 0..members.len() {
        let l =
            head.input(&format!("{}{LOGITS_NAME}", member_prefix(i)), &dims![batch, classes])?;
        probs.push(head.softmax(&l, &format!("ensemble/m{i}/softmax"), -1)?);
        logits.push(l);
    }
    let prob_refs: Vec<_> = probs.iter().collect();
    let mean = head.mean(&prob_refs, "ensemble/mean")?;
    head.output(&mean, PROBABILITIES_NAME, &dims![batch, classes])?;
    if opts.member_logits {
        let stacked: Vec<_> = logits
            .iter()
            .enumerate()
            .map(|(i, l)| head.unsqueeze(l, &format!("ensemble/m{i}/unsqueeze"), &[1]))
            .collect::<zoo_onnx::Result<_>>()?;
        let refs: Vec<_> = stacked.iter().collect();
        let all = head.concat(&refs, "ensemble/member_logits", 1)?;
        head.output(&all, MEMBER_LOGITS_NAME, &dims![batch, members.len(), classes])?;
    }
    let get = |k: &str| first_meta.get(k).cloned().unwrap_or_default();
    let parse = |k: &str| crate::metadata::parse_floats(&get(k)).unwrap_or_default();
    let metadata = Metadata {
        dataset: get("dataset"),
        labels: if get("labels").is_empty() {
            Vec::new()
        } else {
            get("labels").split(',').map(String::from).collect()
        },
        input_mean: if get("input_mean").is_empty() { Vec::new() } else { parse("input_mean") },
        input_std: if get("input_std").is_empty() { Vec::new() } else { parse("input_std") },
        source: Source::Ensemble,
        member: opts.id.clone().unwrap_or_default(),
        accuracy: opts.accuracy,
        recipe_hash: opts.recipe_hash.clone().unwrap_or_else(|| get("recipe_hash")),
        extra: vec![
            ("members".to_string(), ids.join(",")),
            ("member_count".to_string(), members.len().to_string()),
        ],
    };
    let channels = match input_dims[1] {
        Dim::Fixed(c) => c,
        Dim::Batch => 0,
    };
    let entries = metadata.entries_for(&archs.join("+"), &families.join("+"), channels, classes)?;
    for (k, v) in entries {
        head.set_metadata(k, v);
    }
    let head = head.build()?.into_proto();

    // Merge: member graphs (renamed), then the head.
    let mut proto = head.clone();
    let mut graph = GraphProto::new();
    graph.name = "ensemble".into();
    graph.input = first.graph().input.clone();
    for (i, m) in members.iter().enumerate() {
        let p = member_prefix(i);
        let rename = |n: &str| {
            if n.is_empty() || n == INPUT_NAME { n.to_string() } else { format!("{p}{n}") }
        };
        let g = m.graph();
        graph.initializer.extend(g.initializer.iter().map(|t| {
            let mut t = t.clone();
            t.name = rename(&t.name);
            t
        }));
        graph.node.extend(g.node.iter().map(|n| {
            let mut n = n.clone();
            n.name = format!("{p}{}", n.name);
            n.input = n.input.iter().map(|s| rename(s)).collect();
            n.output = n.output.iter().map(|s| rename(s)).collect();
            n
        }));
        graph.value_info.extend(g.value_info.iter().map(|v| {
            let mut v = v.clone();
            v.name = rename(&v.name);
            v
        }));
    }
    let head_graph = &head.graph;
    graph.initializer.extend(head_graph.initializer.iter().cloned());
    graph.node.extend(head_graph.node.iter().cloned());
    graph.output = head_graph.output.clone();
    proto.graph = protobuf::MessageField::some(graph);
    Ok(zoo_onnx::Model::from_proto(proto))
}

/// The reference an ensemble graph is checked against: the mean over members of the row-wise
/// softmax of their `[rows, classes]` logits, computed in f64.
pub fn mean_softmax(member_logits: &[Vec<f32>], classes: usize) -> Result<Vec<f32>> {
    let Some(first) = member_logits.first() else {
        return Err(ExportError::Ensemble("no member logits".into()));
    };
    if classes == 0
        || !first.len().is_multiple_of(classes)
        || member_logits.iter().any(|l| l.len() != first.len())
    {
        return Err(ExportError::Ensemble(format!(
            "member logits of lengths {:?} are not equal whole rows of {classes} classes",
            member_logits.iter().map(Vec::len).collect::<Vec<_>>()
        )));
    }
    let mut mean = vec![0f64; first.len()];
    for logits in member_logits {
        for (out, row) in mean.chunks_mut(classes).zip(logits.chunks(classes)) {
            let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
            let exp: Vec<f64> = row.iter().map(|&v| (v as f64 - max).exp()).collect();
            let sum: f64 = exp.iter().sum();
            for (o, e) in out.iter_mut().zip(exp) {
                *o += e / sum / member_logits.len() as f64;
            }
        }
    }
    Ok(mean.into_iter().map(|v| v as f32).collect())
}
