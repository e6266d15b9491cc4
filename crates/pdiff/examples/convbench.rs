//! Micro-benchmark of the AE's heaviest layers (temporary).
use burn::nn::conv::{Conv1dConfig, ConvTranspose1dConfig};
use burn::nn::{InstanceNormConfig, PaddingConfig1d};
use burn::prelude::*;
use std::time::Instant;

fn main() {
    let device = Device::flex();
    let ad = device.clone().autodiff();
    let b = 200;
    let time = |name: &str, f: &dyn Fn()| {
        f();
        let t = Instant::now();
        for _ in 0..3 {
            f();
        }
        println!("{name}: {:.1} ms", t.elapsed().as_secs_f64() * 1000.0 / 3.0);
    };
    let conv =
        Conv1dConfig::new(256, 256, 5).with_padding(PaddingConfig1d::Explicit(2, 2)).init(&ad);
    let x = Tensor::<3>::ones([b, 256, 100], &ad).require_grad();
    time("conv 256->256 k5 L100 fwd", &|| {
        let _ = conv.forward(x.clone()).into_data();
    });
    time("conv 256->256 k5 L100 fwd+bwd", &|| {
        let y = conv.forward(x.clone()).sum();
        let _ = y.backward();
    });
    let up = ConvTranspose1dConfig::new([256, 256], 5).with_stride(5).init(&ad);
    time("convT 256 k5 s5 L100->500 fwd", &|| {
        let _ = up.forward(x.clone()).into_data();
    });
    time("convT 256 k5 s5 L100->500 fwd+bwd", &|| {
        let y = up.forward(x.clone()).sum();
        let _ = y.backward();
    });
    let conv8 =
        Conv1dConfig::new(256, 8, 5).with_padding(PaddingConfig1d::Explicit(2, 2)).init(&ad);
    let x5 = Tensor::<3>::ones([b, 256, 500], &ad).require_grad();
    time("conv 256->8 k5 L500 fwd+bwd", &|| {
        let y = conv8.forward(x5.clone()).sum();
        let _ = y.backward();
    });
    let norm = InstanceNormConfig::new(256).with_affine(false).init(&ad);
    time("instnorm 256 L500 fwd+bwd", &|| {
        let y = norm.forward(x5.clone()).sum();
        let _ = y.backward();
    });
    let m = Tensor::<2>::ones([20000, 1280], &ad).require_grad();
    let w = Tensor::<2>::ones([1280, 256], &ad).require_grad();
    time("matmul 20000x1280x256 fwd+bwd", &|| {
        let y = m.clone().matmul(w.clone()).sum();
        let _ = y.backward();
    });
}
