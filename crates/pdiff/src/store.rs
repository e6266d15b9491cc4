//! Module weights as named f32 tensors (safetensors via `zoo-io`), and the directory swap that
//! makes saving a whole artefact directory atomic.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::prelude::*;
use zoo_io::{F32Tensor, IoError};

use crate::PdiffError;

#[derive(Default)]
struct DottedPath {
    segments: Vec<String>,
}

impl DottedPath {
    fn name(&self) -> String {
        self.segments.join(".")
    }
}

struct Collect {
    path: DottedPath,
    out: Vec<F32Tensor>,
}

impl ModuleVisitor for Collect {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.segments.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.segments.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let tensor = param.val();
        let shape = tensor.dims().to_vec();
        let data = tensor.into_data().convert::<f32>().try_into_vec::<f32>().expect("f32 data");
        self.out.push(F32Tensor { name: self.path.name(), shape, data });
    }
}

/// Every float parameter of `module`, named by its dotted field path (`enc.0.conv_a.weight`).
pub fn module_tensors<M: Module>(module: &M) -> Vec<F32Tensor> {
    let mut collect = Collect { path: DottedPath::default(), out: Vec::new() };
    module.visit(&mut collect);
    collect.out
}

struct Apply<'a> {
    path: DottedPath,
    values: &'a BTreeMap<String, &'a F32Tensor>,
    applied: BTreeSet<String>,
    problems: Vec<String>,
}

impl ModuleMapper for Apply<'_> {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.segments.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.segments.pop();
    }

    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let name = self.path.name();
        let Some(given) = self.values.get(&name) else {
            self.problems.push(format!("`{name}` missing"));
            return param;
        };
        let expected = param.lazy_shape().dims::<D>().to_vec();
        if expected != given.shape || given.data.len() != expected.iter().product::<usize>() {
            self.problems
                .push(format!("`{name}`: expected shape {expected:?}, file has {:?}", given.shape));
            return param;
        }
        self.applied.insert(name);
        param.map(|old| {
            let data = TensorData::new(given.data.clone(), given.shape.clone());
            let fresh = Tensor::<D>::from_data(data, &old.device());
            if old.is_require_grad() { fresh.require_grad() } else { fresh }
        })
    }
}

/// Writes `tensors` into `module` by name; any missing, surplus or mis-shaped tensor is an
/// error naming `file`.
pub fn apply_tensors<M: Module>(
    module: M,
    tensors: &[F32Tensor],
    file: &Path,
) -> Result<M, PdiffError> {
    let values: BTreeMap<String, &F32Tensor> =
        tensors.iter().map(|t| (t.name.clone(), t)).collect();
    let mut apply = Apply {
        path: DottedPath::default(),
        values: &values,
        applied: BTreeSet::new(),
        problems: vec![],
    };
    let module = module.map(&mut apply);
    let mut problems = apply.problems;
    for name in values.keys().filter(|n| !apply.applied.contains(*n)) {
        if !problems.iter().any(|p| p.contains(&format!("`{name}`"))) {
            problems.push(format!("`{name}` unused"));
        }
    }
    if problems.is_empty() {
        Ok(module)
    } else {
        Err(IoError::format(file, format!("weights do not fit the model: {}", problems.join("; ")))
            .into())
    }
}

/// Writes a directory atomically: `fill` populates a fresh temporary sibling, which then
/// replaces `dir` by rename (an existing `dir` is moved aside first and deleted after).
/// Readers see the old directory or the new one, never a half-written one.
pub fn write_dir_atomically(
    dir: &Path,
    fill: impl FnOnce(&Path) -> Result<(), PdiffError>,
) -> Result<(), PdiffError> {
    let os = |path: &Path, e: std::io::Error| -> PdiffError {
        IoError::format(path, e.to_string()).into()
    };
    let parent = dir.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    fs::create_dir_all(parent).map_err(|e| os(parent, e))?;
    let name = dir
        .file_name()
        .ok_or_else(|| PdiffError::shape(format!("{} has no directory name", dir.display())))?
        .to_string_lossy()
        .into_owned();
    let sibling =
        |tag: &str| -> PathBuf { parent.join(format!(".{name}.{tag}-{}", std::process::id())) };
    let tmp = sibling("tmp");
    if tmp.exists() {
        fs::remove_dir_all(&tmp).map_err(|e| os(&tmp, e))?;
    }
    fs::create_dir(&tmp).map_err(|e| os(&tmp, e))?;
    if let Err(e) = fill(&tmp) {
        let _ = fs::remove_dir_all(&tmp);
        return Err(e);
    }
    let old = sibling("old");
    let had_old = dir.exists();
    if had_old {
        fs::rename(dir, &old).map_err(|e| os(dir, e))?;
    }
    if let Err(e) = fs::rename(&tmp, dir) {
        if had_old {
            let _ = fs::rename(&old, dir);
        }
        let _ = fs::remove_dir_all(&tmp);
        return Err(os(dir, e));
    }
    if had_old {
        fs::remove_dir_all(&old).map_err(|e| os(&old, e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AeConfig;
    use rand::SeedableRng;

    #[test]
    fn weights_round_trip_and_mismatches_are_named() {
        let device = Device::flex();
        let cfg = AeConfig::small();
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let a = crate::init_params(cfg.init(100, &device).unwrap(), &mut rng);
        let tensors = module_tensors(&a);
        assert!(tensors.iter().any(|t| t.name == "enc.0.conv_a.weight"));
        let b = crate::init_params(cfg.init(100, &device).unwrap(), &mut rng);
        assert_ne!(module_tensors(&b), tensors);
        let b = apply_tensors(b, &tensors, Path::new("w.safetensors")).unwrap();
        assert_eq!(module_tensors(&b), tensors);

        let mut missing = tensors.clone();
        missing.retain(|t| t.name != "dec.1.up.bias");
        let err = apply_tensors(b.clone(), &missing, Path::new("w.safetensors")).unwrap_err();
        assert!(err.to_string().contains("`dec.1.up.bias` missing"), "{err}");
        let other = cfg.init(2000, &device).unwrap(); // same weights shapes: only lengths differ
        assert!(apply_tensors(other, &tensors, Path::new("w")).is_ok());
        let wider = AeConfig { dec_channels: vec![2, 8, 8, 8], ..cfg }.init(100, &device).unwrap();
        let err = apply_tensors(wider, &tensors, Path::new("w")).unwrap_err();
        assert!(err.to_string().contains("expected shape"), "{err}");
    }

    #[test]
    fn directory_swap_replaces_whole_directories() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("fit");
        write_dir_atomically(&dir, |d| {
            fs::write(d.join("a"), "1").unwrap();
            fs::write(d.join("b"), "1").unwrap();
            Ok(())
        })
        .unwrap();
        write_dir_atomically(&dir, |d| {
            fs::write(d.join("a"), "2").unwrap();
            Ok(())
        })
        .unwrap();
        assert_eq!(fs::read_to_string(dir.join("a")).unwrap(), "2");
        assert!(!dir.join("b").exists());
        let failed = write_dir_atomically(&dir, |_| Err(PdiffError::shape("boom")));
        assert!(failed.is_err());
        assert_eq!(fs::read_to_string(dir.join("a")).unwrap(), "2");
        assert_eq!(fs::read_dir(root.path()).unwrap().count(), 1, "no temporaries left");
    }
}
