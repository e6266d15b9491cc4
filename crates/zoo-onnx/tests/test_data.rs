//! Model-zoo test data files: `test_data_set_0/input_0.pb`, `output_0.pb`.

use zoo_onnx::test_data::{
    read_tensor_pb, read_test_data_set, test_data_set_dir, write_test_data_set,
};
use zoo_onnx::{OnnxError, TensorData};

#[test]
fn test_data_set_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let set = test_data_set_dir(dir.path(), 0);
    assert!(set.ends_with("test_data_set_0"));
    let input =
        TensorData::f32([2, 1, 2, 2], (0..8).map(|i| i as f32 * 0.5).collect::<Vec<_>>()).unwrap();
    let logits =
        TensorData::f32([2, 3], vec![0.1, -0.2, 0.3, 1e-8, -1e8, f32::MIN_POSITIVE]).unwrap();
    let labels = TensorData::i64([2], [3, 7]).unwrap();
    write_test_data_set(&set, &[("input", &input)], &[("logits", &logits), ("labels", &labels)])
        .unwrap();

    let read = read_test_data_set(&set).unwrap();
    assert_eq!(read.inputs.len(), 1);
    assert_eq!(read.inputs[0].name, "input");
    assert_eq!(read.inputs[0].data, input);
    assert_eq!(read.outputs.len(), 2);
    assert_eq!(read.outputs[0].data, logits);
    assert_eq!(read.outputs[1].name, "labels");
    assert_eq!(read_tensor_pb(&set.join("output_1.pb")).unwrap().data, labels);
}

#[test]
fn broken_test_data_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let err = read_test_data_set(dir.path()).unwrap_err();
    assert!(matches!(err, OnnxError::Decode { .. }));
    assert!(err.to_string().contains("input_0.pb"), "{err}");

    let path = dir.path().join("input_0.pb");
    // a TensorProto claiming FLOAT [4] with 3 bytes of raw data
    let mut t = TensorData::f32([1], [1.0]).unwrap().to_proto("x");
    t.dims = vec![4];
    t.raw_data.truncate(3);
    std::fs::write(&path, zoo_onnx::proto::Message::write_to_bytes(&t).unwrap()).unwrap();
    let err = read_tensor_pb(&path).unwrap_err();
    assert!(
        err.to_string().contains("input_0.pb") && err.to_string().contains("16 bytes"),
        "{err}"
    );
}
