//! Golden tests of the graph builder: names, initializers, opset import, dynamic batch,
//! metadata, per-opset emitter forms, file writing. No ONNX Runtime here (see zoo-verify).

use zoo_onnx::proto::tensor_shape_proto::dimension;
use zoo_onnx::proto::type_proto;
use zoo_onnx::proto::{GraphProto, ValueInfoProto};
use zoo_onnx::{
    BatchNorm, Dim, ElemType, GemmAttrs, GraphBuilder, LayerNorm, Model, OnnxError, TensorData,
    dims,
};

fn f32s(dims: &[usize]) -> TensorData {
    let n = dims.iter().product::<usize>();
    TensorData::f32(dims, (0..n).map(|i| i as f32).collect::<Vec<_>>()).unwrap()
}

fn op_types(g: &GraphProto) -> Vec<&str> {
    g.node.iter().map(|n| n.op_type.as_str()).collect()
}

fn shape_of(vi: &ValueInfoProto) -> Vec<String> {
    let Some(type_proto::Value::TensorType(t)) = &vi.type_.value else {
        panic!("not a tensor type")
    };
    t.shape
        .dim
        .iter()
        .map(|d| match &d.value {
            Some(dimension::Value::DimValue(v)) => v.to_string(),
            Some(dimension::Value::DimParam(p)) => p.clone(),
            _ => "?".into(),
        })
        .collect()
}

/// conv → bn → relu → gap → flatten → gemm, the shape of a ResNet tail.
fn small_cnn(opset: u32) -> Model {
    let mut g = GraphBuilder::with_opset("cnn", opset).unwrap();
    let x = g.input("input", &dims![batch, 3, 8, 8]).unwrap();
    let w = g.initializer("layer1.0.conv1.weight", f32s(&[4, 3, 3, 3])).unwrap();
    let y = g.conv(&x, "layer1.0.conv1", &w, None, &Default::default()).unwrap();
    let p = |g: &mut GraphBuilder, leaf: &str| {
        g.initializer(&format!("layer1.0.bn1.{leaf}"), f32s(&[4])).unwrap()
    };
    let (scale, bias, mean, var) = (
        p(&mut g, "weight"),
        p(&mut g, "bias"),
        p(&mut g, "running_mean"),
        p(&mut g, "running_var"),
    );
    let y = g
        .batch_norm(
            &y,
            "layer1.0.bn1",
            BatchNorm { scale: &scale, bias: &bias, mean: &mean, var: &var, epsilon: 1e-5 },
        )
        .unwrap();
    let y = g.relu(&y, "layer1.0.relu").unwrap();
    let y = g.global_average_pool(&y, "avgpool").unwrap();
    let y = g.flatten(&y, "flatten", 1).unwrap();
    let fw = g.initializer("fc.weight", f32s(&[10, 4])).unwrap();
    let fb = g.initializer("fc.bias", f32s(&[10])).unwrap();
    let y = g.gemm(&y, "fc", &fw, Some(&fb), GemmAttrs::linear()).unwrap();
    g.output(&y, "logits", &dims![batch, 10]).unwrap();
    g.set_doc_string("a test network");
    g.set_metadata("arch", "cnn");
    g.set_metadata("member", "m0");
    g.set_metadata("arch", "cnn-v2");
    g.build().unwrap()
}

#[test]
fn node_and_value_names_follow_the_scope() {
    let model = small_cnn(17);
    let g = model.graph();
    let names: Vec<_> = g.node.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "layer1.0.conv1/Conv",
            "layer1.0.bn1/BatchNormalization",
            "layer1.0.relu/Relu",
            "avgpool/GlobalAveragePool",
            "flatten/Flatten",
            "fc/Gemm"
        ]
    );
    assert_eq!(g.node[1].output, ["layer1.0.bn1/out"]);
    assert_eq!(
        g.node[1].input,
        [
            "layer1.0.conv1/out",
            "layer1.0.bn1.weight",
            "layer1.0.bn1.bias",
            "layer1.0.bn1.running_mean",
            "layer1.0.bn1.running_var"
        ]
    );
    // the last node writes the graph output directly
    assert_eq!(g.node[5].output, ["logits"]);
    assert_eq!(g.output[0].name, "logits");
}

#[test]
fn initializers_keep_the_callers_names_and_data() {
    let model = small_cnn(17);
    assert_eq!(
        model.initializer_names(),
        [
            "layer1.0.conv1.weight",
            "layer1.0.bn1.weight",
            "layer1.0.bn1.bias",
            "layer1.0.bn1.running_mean",
            "layer1.0.bn1.running_var",
            "fc.weight",
            "fc.bias"
        ]
    );
    let w = model.initializer("fc.weight").unwrap().unwrap();
    assert_eq!(w, f32s(&[10, 4]));
    let raw = &model.graph().initializer[0].raw_data;
    assert_eq!(&raw[4..8], &1.0f32.to_le_bytes(), "little-endian raw_data");
    assert!(model.initializer("nope").is_none());
}

#[test]
fn model_header_opset_ir_producer_metadata() {
    let model = small_cnn(17);
    let p = model.proto();
    assert_eq!(model.opset(), Some(17));
    assert_eq!(p.opset_import.len(), 1);
    assert_eq!(p.opset_import[0].domain, "");
    assert_eq!(p.ir_version, 8);
    assert_eq!(p.producer_name, "pdiff-zoo");
    assert_eq!(p.producer_version, env!("CARGO_PKG_VERSION"));
    assert_eq!(p.doc_string, "a test network");
    assert_eq!(model.metadata(), [("arch", "cnn-v2"), ("member", "m0")]);
    assert_eq!(small_cnn(13).ir_version(), 8);
    assert_eq!(small_cnn(19).ir_version(), 9);
    assert_eq!(small_cnn(21).ir_version(), 10);
}

#[test]
fn batch_dimension_is_dynamic() {
    let model = small_cnn(17);
    let g = model.graph();
    assert_eq!(shape_of(&g.input[0]), ["batch", "3", "8", "8"]);
    assert_eq!(shape_of(&g.output[0]), ["batch", "10"]);
    assert_eq!(dims![batch, 3], [Dim::Batch, Dim::Fixed(3)]);
    assert_eq!(dims![2, 3], [Dim::Fixed(2), Dim::Fixed(3)]);
}

#[test]
fn opsets_outside_the_supported_range_are_refused() {
    for opset in [12, 22] {
        let err = GraphBuilder::with_opset("g", opset).unwrap_err();
        assert!(matches!(err, OnnxError::UnsupportedOpset { .. }), "{err}");
        assert!(err.to_string().contains("13..=21"), "{err}");
    }
}

#[test]
fn repeated_scopes_get_suffixes_and_constants_are_scoped() {
    let mut g = GraphBuilder::new("g");
    let x = g.input("x", &dims![batch, 6]).unwrap();
    let a = g.relu(&x, "act").unwrap();
    let b = g.relu(&a, "act").unwrap();
    let r = g.reshape(&b, "view", &[0, 2, 3]).unwrap();
    let r2 = g.reshape(&r, "view", &[0, -1]).unwrap();
    g.output(&r2, "y", &dims![batch, 6]).unwrap();
    let model = g.build().unwrap();
    let graph = model.graph();
    assert_eq!(graph.node[0].name, "act/Relu");
    assert_eq!(graph.node[1].name, "act/Relu_1");
    assert_eq!(graph.node[1].input, ["act/out"]);
    assert_eq!(graph.node[1].output, ["act/out_1"]);
    assert_eq!(graph.node[2].input, ["act/out_1", "view/shape"]);
    assert_eq!(graph.node[3].input, ["view/out", "view/shape_1"]);
    assert_eq!(
        model.initializer("view/shape").unwrap().unwrap(),
        TensorData::i64([3], [0, 2, 3]).unwrap()
    );
}

#[test]
fn output_renames_keep_handles_usable_and_inputs_pass_through_identity() {
    let mut g = GraphBuilder::new("g");
    let x = g.input("x", &dims![batch, 4]).unwrap();
    let logits = g.relu(&x, "head").unwrap();
    g.output(&logits, "logits", &dims![batch, 4]).unwrap();
    // the handle still works after it became an output
    let probs = g.softmax(&logits, "softmax", -1).unwrap();
    g.output(&probs, "probs", &dims![batch, 4]).unwrap();
    // the same value under a second name, and a graph input as an output
    g.output(&logits, "logits_again", &dims![batch, 4]).unwrap();
    g.output(&x, "echo", &dims![batch, 4]).unwrap();
    let model = g.build().unwrap();
    let graph = model.graph();
    assert_eq!(graph.node[0].output, ["logits"]);
    assert_eq!(graph.node[1].input, ["logits"]);
    assert_eq!(graph.node[1].output, ["probs"]);
    assert_eq!(op_types(graph), ["Relu", "Softmax", "Identity", "Identity"]);
    assert_eq!(graph.node[2].input, ["logits"]);
    assert_eq!(graph.node[2].output, ["logits_again"]);
    assert_eq!(graph.node[3].input, ["x"]);
    let outs: Vec<_> = graph.output.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(outs, ["logits", "probs", "logits_again", "echo"]);
}

#[test]
fn duplicate_and_undefined_names_are_errors() {
    let mut g = GraphBuilder::new("g");
    let x = g.input("x", &dims![batch, 4]).unwrap();
    g.initializer("w", f32s(&[4])).unwrap();
    assert!(matches!(g.initializer("w", f32s(&[4])), Err(OnnxError::DuplicateName { .. })));
    assert!(matches!(g.input("x", &dims![1]), Err(OnnxError::DuplicateName { .. })));
    let y = g.relu(&x, "r").unwrap();
    assert!(matches!(g.output(&y, "w", &dims![batch, 4]), Err(OnnxError::DuplicateName { .. })));

    let mut other = GraphBuilder::new("other");
    let foreign = other.input("elsewhere", &dims![1]).unwrap();
    let err = g.add(&x, &foreign, "sum").unwrap_err();
    assert_eq!(err.to_string(), "sum/Add: input `elsewhere` is not defined in this graph");

    let empty = GraphBuilder::new("empty");
    assert!(empty.build().unwrap_err().to_string().contains("no outputs"));
}

#[test]
fn invalid_arguments_name_the_node() {
    let mut g = GraphBuilder::new("g");
    let x = g.input("x", &dims![batch, 4]).unwrap();
    let err = g.reshape(&x, "blocks.0.view", &[-1, -1]).unwrap_err();
    assert!(err.to_string().starts_with("blocks.0.view: Reshape target"), "{err}");
    assert!(g.transpose(&x, "t", &[0, 0]).is_err());
    assert!(g.slice(&x, "s", &[0], &[1, 2], &[0], None).is_err());
    assert!(g.reduce_mean(&x, "m", &[], true).is_err());
    assert!(g.concat(&[], "c", 0).is_err());
}

#[test]
fn tensor_data_checks_lengths() {
    let err = TensorData::f32([2, 3], vec![0.0; 5]).unwrap_err();
    assert_eq!(err.to_string(), "tensor of shape [2, 3] needs 6 values, got 5");
    let t = TensorData::f32(&[2usize, 2][..], &[1.0f32, 2.0, 3.0, 4.0][..]).unwrap();
    assert_eq!(t.dims(), [2, 2]);
    assert_eq!(t.elem_type(), ElemType::F32);
    assert_eq!(TensorData::from_proto(&t.to_proto("t")).unwrap(), t);
    let s = TensorData::scalar_i64(7);
    assert!(s.dims().is_empty());
    assert_eq!(TensorData::from_proto(&s.to_proto("s")).unwrap(), s);
}

fn norm_graph(opset: u32) -> Model {
    let mut g = GraphBuilder::with_opset("ln", opset).unwrap();
    let x = g.input("x", &dims![batch, 5, 8]).unwrap();
    let s = g.initializer("norm.weight", f32s(&[8])).unwrap();
    let b = g.initializer("norm.bias", f32s(&[8])).unwrap();
    let y =
        g.layer_norm(&x, "norm", LayerNorm { scale: &s, bias: Some(&b), epsilon: 1e-6 }).unwrap();
    let y = g.gelu(&y, "act").unwrap();
    g.output(&y, "y", &dims![batch, 5, 8]).unwrap();
    g.build().unwrap()
}

#[test]
fn layer_norm_and_gelu_forms_follow_the_opset() {
    assert_eq!(
        op_types(norm_graph(17).graph()),
        ["LayerNormalization", "Div", "Erf", "Add", "Mul", "Mul"]
    );
    assert_eq!(op_types(norm_graph(20).graph()), ["LayerNormalization", "Gelu"]);
    let decomposed = norm_graph(16);
    let g = decomposed.graph();
    assert_eq!(
        op_types(g)[..9],
        ["ReduceMean", "Sub", "Pow", "ReduceMean", "Add", "Sqrt", "Div", "Mul", "Add"]
    );
    // opset < 18: ReduceMean axes is an attribute
    assert_eq!(g.node[0].attribute.iter().find(|a| a.name == "axes").unwrap().ints, [-1]);
    assert_eq!(g.node[0].output, ["norm/mean"]);
    assert_eq!(g.node[8].output, ["norm/out"]);
    let ln = norm_graph(17);
    let a = &ln.graph().node[0].attribute;
    assert_eq!(a.iter().find(|a| a.name == "axis").unwrap().i, -1);
    assert_eq!(a.iter().find(|a| a.name == "epsilon").unwrap().f, 1e-6);
}

#[test]
fn reduce_mean_axes_move_to_an_input_at_opset_18() {
    for (opset, inputs) in [(17, 1), (18, 2)] {
        let mut g = GraphBuilder::with_opset("g", opset).unwrap();
        let x = g.input("x", &dims![batch, 3, 4]).unwrap();
        let y = g.reduce_mean(&x, "m", &[1, 2], false).unwrap();
        g.output(&y, "y", &dims![batch]).unwrap();
        let model = g.build().unwrap();
        assert_eq!(model.graph().node[0].input.len(), inputs, "opset {opset}");
    }
}

#[test]
fn shape_ranges_use_attributes_from_opset_15() {
    for (opset, ops) in
        [(13, vec!["Shape", "Slice", "Concat", "Expand"]), (15, vec!["Shape", "Concat", "Expand"])]
    {
        let mut g = GraphBuilder::with_opset("g", opset).unwrap();
        let x = g.input("x", &dims![batch, 4, 8]).unwrap();
        let cls = g.initializer("cls_token", f32s(&[1, 1, 8])).unwrap();
        let t = g.expand_to_batch(&cls, "cls", &x, 3).unwrap();
        assert_eq!(t.elem_type(), ElemType::F32);
        g.output(&t, "y", &dims![batch, 1, 8]).unwrap();
        let model = g.build().unwrap();
        assert_eq!(op_types(model.graph()), ops, "opset {opset}");
    }
}

#[test]
fn bytes_and_files_round_trip_atomically() {
    let model = small_cnn(17);
    let bytes = model.to_bytes().unwrap();
    assert_eq!(Model::from_bytes(&bytes).unwrap(), model);
    assert!(Model::from_bytes(b"definitely not protobuf").is_err());

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/model.onnx");
    model.write(&path).unwrap();
    assert_eq!(Model::read(&path).unwrap(), model);
    let files: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(files, ["model.onnx"], "no temporary file left behind");

    // the directory is a file: the write fails and leaves nothing
    let blocker = dir.path().join("blocker");
    std::fs::write(&blocker, b"x").unwrap();
    let err = model.write(blocker.join("model.onnx")).unwrap_err();
    assert!(err.to_string().contains("blocker"), "{err}");
    let left: Vec<_> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left.len(), 2, "{left:?}");

    let err = Model::read(dir.path().join("missing.onnx")).unwrap_err();
    assert!(err.to_string().contains("missing.onnx"), "{err}");
    std::fs::write(dir.path().join("bad.onnx"), b"\x08\x08\xff\xff").unwrap();
    let err = Model::read(dir.path().join("bad.onnx")).unwrap_err();
    assert!(err.to_string().contains("bad.onnx"), "{err}");
}
