//! The Rust embedding path reproduces the reference vectors.

use crate::util;

#[test]
fn reproduces_reference_embeddings() {
    if !util::require_model() {
        return;
    }
    let Some(v) = util::reference_embeddings() else {
        return;
    };
    let items = v["items"].as_array().unwrap();
    assert!(items.len() >= 3);
    // The reference vectors are the fp32 model's (the int8 one is held to
    // them more loosely in models.rs).
    let model_dir = cram::index::model::provisioned_dir("fp32").unwrap();
    let mut e = cram::index::embed::Embedder::load(&model_dir, None).unwrap();
    let texts: Vec<&str> = items.iter().map(|i| i["text"].as_str().unwrap()).collect();
    // Batched (padded) and one at a time must both match.
    let batched = e.embed(&texts).unwrap();
    let mut worst = 0f64;
    for (i, item) in items.iter().enumerate() {
        let want: Vec<f64> = item["embedding"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        let single = e.embed_query(texts[i]).unwrap();
        for got in [&batched[i], &single] {
            assert_eq!(got.len(), want.len());
            for (g, w) in got.iter().zip(&want) {
                worst = worst.max((*g as f64 - w).abs());
            }
        }
    }
    eprintln!("max abs difference to reference embeddings: {worst:.3e}");
    assert!(worst <= 1e-5, "max abs difference {worst} > 1e-5");
}

#[test]
fn missing_model_is_a_clear_error() {
    let d = tempfile::tempdir().unwrap();
    let err = cram::index::embed::Embedder::load(d.path(), None)
        .err()
        .expect("must fail");
    // Not a provisioned folder: the error names the file and how to fix it.
    assert!(matches!(err, cram::Error::ModelInvalid { .. }), "{err}");
    assert_eq!(err.exit_code(), 4);
    assert!(err.to_string().contains("model.json is missing"), "{err}");
}

#[test]
fn missing_runtime_is_a_clear_error() {
    let err =
        cram::index::embed::init_runtime(std::path::Path::new("/nonexistent/libonnxruntime.so"))
            .unwrap_err();
    assert!(matches!(err, cram::Error::RuntimeMissing(_)), "{err}");
    assert!(err.to_string().contains("make setup"));
}
