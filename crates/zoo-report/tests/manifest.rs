//! manifest.json: schema field names, JSON round trip, validation and merging of shards.

mod common;

use common::synthetic::synthetic_input;
use serde_json::Value;
use zoo_report::{MANIFEST_FILE, Manifest, ManifestError, SCHEMA_VERSION, Source, ZOO_WIDE};

fn manifest() -> Manifest {
    synthetic_input(12, 20, 4, 1).manifest
}

fn keys(v: &Value) -> Vec<&str> {
    v.as_object().expect("an object").keys().map(String::as_str).collect()
}

fn has_all(v: &Value, names: &[&str], what: &str) {
    let present = keys(v);
    for name in names {
        assert!(present.contains(name), "{what} lacks {name:?}: has {present:?}");
    }
}

#[test]
fn json_has_every_field_of_issue_6_by_name() {
    let m = manifest();
    let v: Value = serde_json::to_value(&m).unwrap();
    has_all(
        &v,
        &[
            "schema_version",
            "zoo",
            "recipe",
            "pdiff_zoo_version",
            "created_by",
            "members",
            "ensembles",
            "summary",
            "timings",
        ],
        "manifest",
    );
    assert_eq!(v["schema_version"], SCHEMA_VERSION);
    has_all(&v["recipe"], &["name", "sha256"], "recipe");
    has_all(&v["created_by"], &["tool", "command", "created_at"], "created_by");
    let member = &v["members"][0];
    has_all(
        member,
        &["id", "arch", "family", "source", "onnx", "sha256", "params", "accuracy", "ort"],
        "member",
    );
    has_all(&member["accuracy"], &["val", "test"], "member.accuracy");
    has_all(&member["ort"], &["test", "max_abs_diff", "argmax_agreement"], "member.ort");
    assert_eq!(member["source"], "trained");
    assert!(v["members"].as_array().unwrap().iter().any(|m| m["source"] == "generated"));
    let ensemble = &v["ensembles"][0];
    has_all(ensemble, &["id", "onnx", "members", "accuracy"], "ensemble");
    has_all(&ensemble["accuracy"], &["test", "best_member", "median_member"], "ensemble.accuracy");
    let summary = &v["summary"]["resnet8"];
    has_all(summary, &["trained", "generated", "noise_added", "diversity"], "summary");
    for group in ["trained", "generated", "noise_added"] {
        has_all(&summary[group], &["best", "mean", "median", "min", "n"], group);
    }
    has_all(
        &summary["diversity"],
        &[
            "trained_iou_mean",
            "generated_iou_mean",
            "cross_iou_mean",
            "max_iou_to_trained_mean",
            "noise_max_iou_to_trained_mean",
            "trained_nn_iou_mean",
        ],
        "diversity",
    );
    assert!(v["timings"]["resnet8"]["train"].is_number());
    assert!(v["timings"][ZOO_WIDE]["report"].is_number());
}

#[test]
fn write_then_read_round_trips() {
    let m = manifest();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("zoo").join(MANIFEST_FILE);
    m.write(&path).unwrap();
    assert!(common::close(&Manifest::read(&path).unwrap(), &m));
    // Pretty JSON ending in a newline; nothing else left in the folder.
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with("{\n  \"schema_version\": 1,") && text.ends_with("}\n"));
    let names: Vec<_> = std::fs::read_dir(path.parent().unwrap()).unwrap().collect();
    assert_eq!(names.len(), 1);
}

#[test]
fn optional_fields_may_be_absent() {
    let mut m = manifest();
    m.created_by.created_at = None;
    m.ensembles[0].sha256 = None;
    m.ensembles[0].accuracy.best_member = None;
    let mut v: Value = serde_json::to_value(&m).unwrap();
    assert!(v["created_by"].get("created_at").is_none());
    v.as_object_mut().unwrap().remove("timings");
    let back: Manifest = serde_json::from_value(v).unwrap();
    assert!(back.timings.is_empty());
    assert_eq!(back.ensembles[0].accuracy.best_member, None);
}

#[test]
fn read_refuses_another_schema_version() {
    let mut m = manifest();
    m.schema_version = SCHEMA_VERSION + 1;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(MANIFEST_FILE);
    zoo_io::write_json(&path, &m).unwrap();
    let err = Manifest::read(&path).unwrap_err();
    assert!(matches!(err, ManifestError::SchemaVersion { found: 2, expected: 1, .. }), "{err}");
    assert!(err.to_string().contains("manifest.json"), "{err}");
}

#[test]
fn read_names_the_file_on_bad_json() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(MANIFEST_FILE);
    std::fs::write(&path, "{\"schema_version\": 1}").unwrap();
    let err = Manifest::read(&path).unwrap_err();
    assert!(matches!(err, ManifestError::Io(_)));
    assert!(err.to_string().contains("manifest.json"), "{err}");
}

#[test]
fn validate_checks_ids() {
    let mut m = manifest();
    m.members[1].id = m.members[0].id.clone();
    assert!(matches!(m.validate(), Err(ManifestError::Duplicate { kind: "member", .. })));

    let mut m = manifest();
    m.members[0].id = "vit-micro.c000".into();
    assert!(matches!(m.validate(), Err(ManifestError::BadMemberId { .. })));
    m.members[0].id = "resnet8.".into();
    assert!(matches!(m.validate(), Err(ManifestError::BadMemberId { .. })));

    let mut m = manifest();
    m.ensembles[0].members.push("resnet8.missing".into());
    assert!(matches!(m.validate(), Err(ManifestError::UnknownEnsembleMember { .. })));
    let dir = tempfile::tempdir().unwrap();
    assert!(m.write(&dir.path().join(MANIFEST_FILE)).is_err());
    assert!(!dir.path().join(MANIFEST_FILE).exists());

    let mut m = manifest();
    m.ensembles[1].id = m.ensembles[0].id.clone();
    assert!(matches!(m.validate(), Err(ManifestError::Duplicate { kind: "ensemble", .. })));
}

/// Splits a manifest into one shard per architecture (zoo-wide timings stay in shard 0).
fn shards(m: &Manifest) -> Vec<Manifest> {
    m.archs()
        .iter()
        .enumerate()
        .map(|(i, arch)| {
            let mut s = m.clone();
            s.members.retain(|x| &x.arch == arch);
            s.ensembles.retain(|e| e.id.starts_with(&format!("{arch}.")));
            s.summary.retain(|k, _| k == arch);
            s.timings.retain(|k, _| k == arch || (i == 0 && k == ZOO_WIDE));
            s
        })
        .collect()
}

#[test]
fn merge_of_disjoint_shards_gives_back_the_whole() {
    let m = manifest();
    let parts = shards(&m);
    assert_eq!(parts.len(), 3);
    assert_eq!(Manifest::merge(&parts).unwrap(), m);
    assert_eq!(Manifest::merge(&parts[..1]).unwrap(), parts[0]);
}

#[test]
fn merge_adds_up_zoo_wide_timings() {
    let m = manifest();
    let mut parts = shards(&m);
    parts[1].timings.insert(ZOO_WIDE.into(), [("report".to_string(), 1.0)].into());
    let merged = Manifest::merge(&parts).unwrap();
    let expected = m.timings[ZOO_WIDE]["report"] + 1.0;
    assert_eq!(merged.timings[ZOO_WIDE]["report"], expected);
}

#[test]
fn merge_refuses_duplicates() {
    let m = manifest();
    let parts = shards(&m);
    let twice = [parts[0].clone(), parts[1].clone(), parts[0].clone()];
    let err = Manifest::merge(&twice).unwrap_err();
    assert!(matches!(err, ManifestError::Duplicate { kind: "summary", .. }), "{err}");

    // A member id seen twice even when summaries are disjoint.
    let mut b = parts[1].clone();
    b.members.push(parts[0].members[0].clone());
    let err = Manifest::merge(&[parts[0].clone(), b]).unwrap_err();
    assert!(
        matches!(err, ManifestError::Duplicate { kind: "member", ref id } if id == &parts[0].members[0].id),
        "{err}"
    );

    let mut b = parts[1].clone();
    b.ensembles.push(parts[0].ensembles[0].clone());
    let err = Manifest::merge(&[parts[0].clone(), b]).unwrap_err();
    assert!(matches!(err, ManifestError::Duplicate { kind: "ensemble", .. }), "{err}");

    let mut b = parts[1].clone();
    b.timings.insert("resnet8".into(), [("train".to_string(), 1.0)].into());
    let err = Manifest::merge(&[parts[0].clone(), b]).unwrap_err();
    assert!(matches!(err, ManifestError::Duplicate { kind: "timings", .. }), "{err}");
}

#[test]
fn merge_refuses_schema_and_recipe_mismatch() {
    let parts = shards(&manifest());
    let mut b = parts[1].clone();
    b.schema_version = 0;
    let err = Manifest::merge(&[parts[0].clone(), b]).unwrap_err();
    assert!(matches!(err, ManifestError::SchemaVersion { found: 0, .. }), "{err}");
    assert!(err.to_string().contains("shard 1"), "{err}");

    let mut b = parts[1].clone();
    b.recipe.sha256 = "0".repeat(64);
    let err = Manifest::merge(&[parts[0].clone(), b]).unwrap_err();
    assert!(
        matches!(err, ManifestError::ShardMismatch { shard: 1, field: "recipe.sha256", .. }),
        "{err}"
    );

    let mut b = parts[2].clone();
    b.zoo = "other".into();
    let err = Manifest::merge(&[parts[0].clone(), parts[1].clone(), b]).unwrap_err();
    assert!(matches!(err, ManifestError::ShardMismatch { shard: 2, field: "zoo", .. }), "{err}");

    assert!(matches!(Manifest::merge(&[]), Err(ManifestError::NoShards)));
}

#[test]
fn source_and_archs() {
    let m = manifest();
    assert_eq!(m.archs(), ["resnet8", "vit-micro", "convnext-micro"]);
    assert_eq!(Source::Generated.as_str(), "generated");
    let id = &m.members[0].id;
    assert_eq!(m.member(id).unwrap().id, *id);
}

#[test]
fn merge_then_order_gives_the_unsharded_order() {
    let m = manifest();
    let parts = shards(&m);
    // Shards as `--shard i/2` makes them: archs 0 and 2 in shard 0, arch 1 in shard 1.
    let mut a = Manifest::merge(&[parts[0].clone(), parts[2].clone()]).unwrap();
    a.timings.clear();
    let mut b = parts[1].clone();
    b.timings.clear();
    let mut merged = Manifest::merge(&[a, b]).unwrap();
    assert_ne!(merged.members, m.members);
    merged.order_archs(&["resnet8", "vit-micro", "convnext-micro"]);
    assert_eq!(merged.members, m.members);
    assert_eq!(merged.ensembles, m.ensembles);
    assert_eq!(merged.archs(), m.archs());
}

#[test]
fn report_inputs_merge_and_order() {
    let input = synthetic_input(8, 10, 2, 5);
    let split = |keep: &[&str]| {
        let mut s = input.clone();
        s.archs.retain(|a| keep.contains(&a.arch.as_str()));
        s.manifest.members.retain(|x| keep.contains(&x.arch.as_str()));
        s.manifest.ensembles.retain(|e| keep.iter().any(|k| e.id.starts_with(&format!("{k}."))));
        s.manifest.summary.retain(|k, _| keep.contains(&k.as_str()));
        s.manifest.timings.retain(|k, _| keep.contains(&k.as_str()));
        s
    };
    let a = split(&["resnet8", "convnext-micro"]);
    let b = split(&["vit-micro"]);
    let mut merged = zoo_report::ReportInput::merge(&[a.clone(), b]).unwrap();
    merged.order_archs(&["resnet8", "vit-micro", "convnext-micro"]);
    let names: Vec<&str> = merged.archs.iter().map(|d| d.arch.as_str()).collect();
    assert_eq!(names, ["resnet8", "vit-micro", "convnext-micro"]);
    assert_eq!(merged.archs, input.archs);
    assert_eq!(merged.manifest.members, input.manifest.members);
    let err = zoo_report::ReportInput::merge(&[a.clone(), a]).unwrap_err();
    assert!(matches!(err, ManifestError::Duplicate { .. }), "{err}");
}
