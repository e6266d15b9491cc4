//! End-to-end tests of `pdiff-zoo run` on toy recipes: the zoo folder, resuming after SIGKILL
//! with identical ONNX bytes, sharding + merge, and recipe validation errors (snapshots).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};
use zoo_verify::runtime::repo_root as repo;

fn recipe(name: &str) -> PathBuf {
    repo().join("tests/recipes").join(name)
}

fn pdiff_zoo(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pdiff-zoo"));
    command.args(args);
    command
}

fn run(args: &[&str]) -> Output {
    pdiff_zoo(args).output().expect("the binary runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Every file under `dir` with the given extension → its bytes, keyed by relative path.
fn files(dir: &Path, extension: &str) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == extension) {
                let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

fn manifest(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap()
}

#[test]
fn a_killed_run_resumes_to_the_same_onnx_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let (whole, killed) = (tmp.path().join("whole"), tmp.path().join("killed"));
    let tiny = recipe("tiny.toml");

    let out = run(&["run", path(&tiny), "-o", path(&whole)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let m = manifest(&whole);
    assert_eq!(m["schema_version"], 1);
    let members = m["members"].as_array().unwrap();
    assert_eq!(members.len(), 5, "2 trained + 3 generated");
    for member in members {
        assert!(member["ort"]["max_abs_diff"].as_f64().unwrap() <= 1e-4, "{member}");
        let (ort, burn) = (&member["ort"]["test"], &member["accuracy"]["test"]);
        assert!((ort.as_f64().unwrap() - burn.as_f64().unwrap()).abs() < 1e-4, "{member}");
        assert!(whole.join(member["onnx"].as_str().unwrap()).exists());
    }
    assert_eq!(m["ensembles"].as_array().unwrap().len(), 2);
    assert!(m["summary"]["vit-micro"]["generated"]["n"] == 6);
    for baseline in ["interpolated", "gaussian"] {
        let iou = &m["summary"]["vit-micro"]["diversity"]
            [format!("{baseline}_max_iou_to_trained_mean").as_str()];
        assert!((0.0..=1.0).contains(&iou.as_f64().unwrap_or(f64::NAN)), "{baseline}: {iou}");
    }
    let html = std::fs::read_to_string(whole.join("report.html")).unwrap();
    assert!(html.contains("data:image/png;base64,"));

    // Kill the same run with SIGKILL once the fit stage is recorded, then resume it.
    let mut child = pdiff_zoo(&["run", path(&tiny), "-o", path(&killed)])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let marker = killed.join("state/vit-micro.fit.json");
    let started = Instant::now();
    while !marker.exists() {
        assert!(child.try_wait().unwrap().is_none(), "the run ended before it could be killed");
        assert!(started.elapsed() < Duration::from_secs(120), "the fit stage never finished");
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!killed.join("manifest.json").exists(), "killed before the end");

    let again = run(&["run", path(&tiny), "-o", path(&killed)]);
    assert_eq!(again.status.code(), Some(2), "a second run without --resume must refuse");
    assert!(stderr(&again).contains("--resume"), "{}", stderr(&again));

    let resumed = run(&["run", path(&tiny), "-o", path(&killed), "--resume"]);
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    let log = stderr(&resumed);
    for stage in ["train", "collect", "fit"] {
        assert!(log.contains(&format!("vit-micro {stage}: done")), "{stage} redone:\n{log}");
    }
    let (a, b) = (files(&whole, "onnx"), files(&killed, "onnx"));
    assert_eq!(a.len(), 7, "5 members + 2 ensembles");
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (name, bytes) in &a {
        assert!(bytes == &b[name], "{name} differs after resuming");
    }
}

#[test]
fn two_shards_merged_equal_one_unsharded_run() {
    let tmp = tempfile::tempdir().unwrap();
    let two = recipe("tiny-two.toml");
    let dir = |name: &str| tmp.path().join(name);
    let out = run(&["run", path(&two), "-o", path(&dir("all"))]);
    assert!(out.status.success(), "{}", stderr(&out));
    for arch in ["vit-micro", "resnet8"] {
        let comparison = dir("all").join("work").join(arch).join("comparison.json");
        assert_gated(&comparison);
        assert_margin(&comparison, &manifest(&dir("all"))["summary"][arch]);
    }
    assert_chosen_fit(&dir("all"));
    // Shard 1 holds resnet8 and its two candidate fits: `--jobs 1` fits and samples them one
    // after the other, where the unsharded run did both side by side — the same zoo either way.
    for (shard, jobs) in [("0/2", "2"), ("1/2", "1")] {
        let out_dir = dir(&format!("s{}", &shard[..1]));
        let out = run(&["run", path(&two), "--shard", shard, "--jobs", jobs, "-o", path(&out_dir)]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let merged = dir("merged");
    let out = run(&["merge", path(&dir("s0")), path(&dir("s1")), "-o", path(&merged)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let ids = |m: &serde_json::Value| -> BTreeMap<String, String> {
        m["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| (x["id"].as_str().unwrap().into(), x["sha256"].as_str().unwrap().into()))
            .collect()
    };
    let (all, joined) = (manifest(&dir("all")), manifest(&merged));
    assert_eq!(ids(&all), ids(&joined));
    assert_eq!(all["summary"], joined["summary"]);
    assert_eq!(files(&dir("all"), "onnx"), files(&merged, "onnx"));
    assert!(merged.join("report.html").exists());
}

/// The diversity margin's bootstrap interval is in the comparison and, unchanged, in the
/// manifest's summary; the margin is the difference of the two groups' reported means.
fn assert_margin(comparison: &Path, summary: &serde_json::Value) {
    let c: serde_json::Value = serde_json::from_slice(&std::fs::read(comparison).unwrap()).unwrap();
    let d = &c["diversity"];
    let m = &d["margin"];
    let value = |v: &serde_json::Value| v.as_f64().unwrap();
    let expected =
        value(&d["noise_max_iou_to_trained_mean"]) - value(&d["max_iou_to_trained_mean"]);
    assert!((value(&m["margin"]) - expected).abs() < 1e-12, "{m}");
    assert!(value(&m["low"]) <= value(&m["high"]) && m["replicates"] == 1000, "{m}");
    assert!(value(&m["bias"]).abs() < 0.5, "{m}");
    assert_eq!(summary["diversity"]["margin_interval"], serde_json::json!([m["low"], m["high"]]));
    // The same margin on the validation split, from the stored validation predictions.
    let v = &d["validation_margin"];
    assert!(value(&v["low"]) <= value(&v["high"]) && v["replicates"] == 1000, "{v}");
    assert!(value(&v["margin"]).abs() <= 1.0, "{v}");
    let in_summary = &summary["diversity"]["validation_margin"];
    assert_eq!([&in_summary["margin"], &in_summary["low"]], [&v["margin"], &v["low"]]);
}

/// resnet8 of `tiny-two` fits two seeds and keeps the one with the higher validation margin:
/// both fits exist, the sample record lists both, and the kept one's margin is the comparison's.
fn assert_chosen_fit(zoo: &Path) {
    let work = zoo.join("work").join("resnet8");
    assert!(work.join("pdiff").is_dir() && work.join("pdiff-1").is_dir());
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(zoo.join("state/resnet8.sample.json")).unwrap())
            .unwrap();
    let selection = &record["summary"]["selection"];
    let candidates = selection["candidates"].as_array().unwrap();
    assert_eq!(candidates.len(), 2, "{selection}");
    let kept = candidates.iter().find(|c| c["fitted"] == selection["chosen"]).unwrap();
    let margin = |c: &serde_json::Value| c["validation_margin"].as_f64().unwrap();
    assert!(candidates.iter().all(|c| margin(c) <= margin(kept)
        || c["meets_val_floors"].as_bool() < kept["meets_val_floors"].as_bool()));
    let c: serde_json::Value =
        serde_json::from_slice(&std::fs::read(work.join("comparison.json")).unwrap()).unwrap();
    assert_eq!(c["diversity"]["validation_margin"]["margin"].as_f64().unwrap(), margin(kept));
}

/// The recipe's validation gate held in a comparison: every group reports its draws, and its
/// members reach the trained set's lowest validation accuracy unless the gate had to fill
/// the group with rejected ones.
fn assert_gated(comparison: &Path) {
    let c: serde_json::Value = serde_json::from_slice(&std::fs::read(comparison).unwrap()).unwrap();
    let gate = &c["gate"];
    let min_val = gate["min_val"].as_f64().unwrap();
    let trained_min = c["trained"]["val"]["min"].as_f64().unwrap();
    assert!((min_val - trained_min).abs() < 1e-9, "{gate}");
    for group in ["generated", "noise_added", "interpolated", "gaussian"] {
        let report = &gate[group];
        let drawn = report["drawn"].as_u64().unwrap();
        let rejected = report["rejected"].as_u64().unwrap();
        assert!(drawn >= 6 && drawn - rejected + report["filled_below"].as_u64().unwrap() >= 6);
        let lowest = c["members"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["source"] == group)
            .map(|m| m["val"].as_f64().unwrap())
            .fold(f64::INFINITY, f64::min);
        let filled = report["filled_below"].as_u64().unwrap() > 0;
        assert!(filled || lowest >= min_val, "{group}: {lowest} < {min_val} in {gate}");
    }
}

/// Each `tests/recipes/invalid/NAME.toml` must fail validation with the message in
/// `NAME.err` (run with `UPDATE_SNAPSHOTS=1` to rewrite them), quickly and before any work.
#[test]
fn invalid_recipes_fail_with_the_snapshot_message() {
    let dir = repo().join("tests/recipes/invalid");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let toml = entry.unwrap().path();
        if toml.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let tmp = tempfile::tempdir().unwrap();
        let started = Instant::now();
        let out = run(&["run", path(&toml), "-o", path(&tmp.path().join("zoo"))]);
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{}: validation is slow",
            toml.display()
        );
        assert_eq!(out.status.code(), Some(2), "{}: {}", toml.display(), stderr(&out));
        assert!(!tmp.path().join("zoo").exists(), "{}: output created", toml.display());
        let message = stderr(&out).replace(path(&toml), "RECIPE");
        let snapshot = toml.with_extension("err");
        if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
            std::fs::write(&snapshot, &message).unwrap();
        }
        let expected = std::fs::read_to_string(&snapshot)
            .unwrap_or_else(|_| panic!("{} missing (UPDATE_SNAPSHOTS=1)", snapshot.display()));
        assert_eq!(message, expected, "{}", toml.display());
        checked += 1;
    }
    assert!(checked >= 6, "only {checked} invalid recipes");
}

/// A recipe whose architecture starts from pretrained weights (here: the trained base model of
/// a first toy run, a PyTorch-named safetensors state dict) fine-tunes only the head, then
/// makes its zoo from the fine-tuned network.
#[test]
fn a_recipe_fine_tunes_imported_weights() {
    let tmp = tempfile::tempdir().unwrap();
    let first = tmp.path().join("first");
    let out = run(&["run", path(&recipe("tiny.toml")), "-o", path(&first)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let pretrained = tmp.path().join("pretrained.safetensors");
    std::fs::copy(first.join("work/vit-micro/model.safetensors"), &pretrained).unwrap();

    let text = std::fs::read_to_string(recipe("tiny.toml")).unwrap().replace(
        "name = \"vit-micro\"",
        "name = \"vit-micro\"\nbase = \"pretrained.safetensors\"\n\
         train = { fine_tune = \"head\", max_steps = 10 }",
    );
    let fine_recipe = tmp.path().join("fine.toml");
    std::fs::write(&fine_recipe, text).unwrap();
    let zoo = tmp.path().join("fine");
    let out = run(&["run", path(&fine_recipe), "-o", path(&zoo)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let log = std::fs::read_to_string(zoo.join("run.log")).unwrap();
    assert!(log.contains("imported") && log.contains("pretrained.safetensors"), "{log}");

    let read = |p: &Path| std::fs::read(p).unwrap();
    let (before, after) = (read(&pretrained), read(&zoo.join("work/vit-micro/model.safetensors")));
    let before = safetensors::SafeTensors::deserialize(&before).unwrap();
    let after = safetensors::SafeTensors::deserialize(&after).unwrap();
    let mut changed: Vec<String> = before
        .names()
        .into_iter()
        .filter(|name| before.tensor(name).unwrap().data() != after.tensor(name).unwrap().data())
        .map(String::from)
        .collect();
    changed.sort();
    assert_eq!(changed, ["head.bias", "head.weight"], "head-only fine-tuning");
    assert!(!manifest(&zoo)["members"].as_array().unwrap().is_empty());
}

#[test]
fn shipped_recipes_are_valid() {
    for name in ["mnist-quick", "mnist-paper", "cifar10", "cifar100"] {
        let file = repo().join("zoo").join(format!("{name}.toml"));
        let out = run(&["run", path(&file), "--check"]);
        assert!(out.status.success(), "{name}: {}", stderr(&out));
    }
}
