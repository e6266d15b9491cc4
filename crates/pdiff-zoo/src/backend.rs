//! Run-time choice of the burn device among the compiled backends.

use anyhow::{Result, bail};
use burn::prelude::Device;
use clap::ValueEnum;
use serde::{Deserialize, Serialize};

/// A compute backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// burn's `flex` CPU backend (SIMD + rayon), the fastest measured on CPU.
    #[default]
    Cpu,
    /// burn-cuda on GPU 0 (build with `--features cuda`).
    Cuda,
}

/// Makes the device for `backend`, or explains why it cannot.
pub fn device(backend: Backend) -> Result<Device> {
    match backend {
        Backend::Cpu => Ok(Device::flex()),
        Backend::Cuda => cuda_device(),
    }
}

#[cfg(feature = "cuda")]
fn cuda_device() -> Result<Device> {
    // burn-cuda panics at first use when the driver library is missing: check first.
    let found =
        ["/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/local/nvidia/lib64", "/usr/lib/wsl/lib"]
            .iter()
            .any(|dir| std::path::Path::new(dir).join("libcuda.so.1").exists())
            || std::env::var_os("LD_LIBRARY_PATH").is_some_and(|paths| {
                std::env::split_paths(&paths).any(|dir| dir.join("libcuda.so.1").exists())
            });
    if !found {
        bail!(
            "--backend cuda: no NVIDIA driver found (libcuda.so.1 is not in the usual library \
             directories or LD_LIBRARY_PATH)\nhint: install the NVIDIA driver, or use --backend cpu"
        );
    }
    Ok(Device::cuda(0))
}

#[cfg(not(feature = "cuda"))]
fn cuda_device() -> Result<Device> {
    bail!(
        "--backend cuda: this binary was built without CUDA support\n\
         hint: rebuild with `cargo build --release --features cuda` on a machine with network \
         access (burn-cuda downloads an LLVM bundle at build time), or use --backend cpu"
    )
}

/// Flags every compute stage takes: the seed and the backend.
#[derive(clap::Args, Debug, Clone)]
pub struct RunArgs {
    /// Seed of every random choice of the stage (same seed, same result on CPU).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Compute backend.
    #[arg(long, value_enum, default_value_t = Backend::Cpu)]
    pub backend: Backend,
}
