//! Using an exported member from Rust with plain `ort` (the README's snippet, compiled):
//! `cargo run --release -p zoo-verify --example classify -- MODEL.onnx` classifies an
//! all-black 28 × 28 image, normalized with the file's `input_mean` / `input_std` metadata.

use ort::session::Session;
use ort::value::Tensor;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: classify MODEL.onnx")?;
    // ONNX Runtime is loaded at run time (`load-dynamic`): scripts/env.sh sets ORT_DYLIB_PATH.
    let env = ort::init_from(std::env::var("ORT_DYLIB_PATH")?)?.build()?;
    let mut session = Session::builder(&env)?.commit_from_file(&path)?;
    let meta = session.metadata()?;
    let floats = |key: &str| -> Vec<f32> {
        meta.custom(key).unwrap_or_default().split(',').filter_map(|v| v.parse().ok()).collect()
    };
    let (mean, std) = (floats("input_mean"), floats("input_std"));
    let labels: Vec<String> =
        meta.custom("labels").unwrap_or_default().split(',').map(String::from).collect();
    drop(meta);
    let [c, h, w] = [mean.len(), 28, 28];
    // Pixels in [0, 255] → [0, 1] → (x − mean) / std per channel.
    let pixels = vec![0u8; c * h * w];
    let x: Vec<f32> = pixels
        .iter()
        .enumerate()
        .map(|(i, &p)| (p as f32 / 255.0 - mean[i / (h * w)]) / std[i / (h * w)])
        .collect();
    let outputs =
        session.run(ort::inputs!["input" => Tensor::from_array(([1usize, c, h, w], x))?])?;
    let (_, logits) = outputs["logits"].try_extract_tensor::<f32>()?;
    let best = (0..logits.len()).max_by(|&a, &b| logits[a].total_cmp(&logits[b])).unwrap();
    println!("{path}: a black image is `{}` (logit {:.3})", labels[best], logits[best]);
    Ok(())
}
