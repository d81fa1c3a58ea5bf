#!/usr/bin/env python3
"""Check a provisioned all-MiniLM-L6-v2 ONNX model against the reference embeddings.

Tokenizes the sentences of reference_embeddings.json with the model's own tokenizer.json
(truncation at 256, padding to the longest in the batch, token_type_ids all zero), runs
model.onnx with ONNX Runtime on the CPU, mean-pools last_hidden_state over the attention
mask, L2-normalises, and compares with the reference vectors. It runs the sentences one at
a time and then as one padded batch, so the attention mask is exercised too. Exits 0 when
the max abs difference is <= --tolerance (default 1e-5; a correct fp32 export gives ~2e-7).

Dependencies (not in any project venv; use a throwaway one):
    python3 -m venv /tmp/cram-verify
    /tmp/cram-verify/bin/pip install onnxruntime==1.24.4 tokenizers numpy
    /tmp/cram-verify/bin/python scripts/verify_onnx.py \
        [--model-dir ~/.local/share/cram/models/all-MiniLM-L6-v2] \
        [--reference /work/shared/model/reference_embeddings.json]
--model-dir defaults to $CRAM_HOME/models/all-MiniLM-L6-v2 (CRAM_HOME as in provision.py).
"""
import argparse
import json
import os
import sys

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from provision import cram_home  # noqa: E402  (stdlib only; shares the CRAM_HOME rule)

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_REFERENCE = os.path.join(HERE, "..", "..", "shared", "model", "reference_embeddings.json")


def embed(session, tokenizer, texts):
    encodings = tokenizer.encode_batch(texts)
    ids = np.array([e.ids for e in encodings], dtype=np.int64)
    mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
    feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
    (hidden,) = session.run(["last_hidden_state"], feeds)
    m = mask[:, :, None].astype(np.float32)
    pooled = (hidden * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9)
    return pooled / np.linalg.norm(pooled, axis=1, keepdims=True), mask.sum(axis=1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model-dir", default=os.path.join(cram_home(), "models", "all-MiniLM-L6-v2"))
    ap.add_argument("--reference", default=os.path.normpath(DEFAULT_REFERENCE))
    ap.add_argument("--tolerance", type=float, default=1e-5)
    args = ap.parse_args()

    with open(args.reference, encoding="utf-8") as f:
        reference = json.load(f)
    items = reference["items"]
    texts = [it["text"] for it in items]
    expected = np.array([it["embedding"] for it in items], dtype=np.float64)

    tokenizer = Tokenizer.from_file(os.path.join(args.model_dir, "tokenizer.json"))
    tokenizer.enable_truncation(max_length=reference.get("max_length", 256))
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # no length: pad to the longest

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    session = ort.InferenceSession(os.path.join(args.model_dir, "model.onnx"), opts,
                                   providers=["CPUExecutionProvider"])
    print(f"onnxruntime {ort.__version__}, model {args.model_dir}")

    single = [embed(session, tokenizer, [t]) for t in texts]
    one_by_one = np.concatenate([e for e, _ in single])
    lengths = [int(n[0]) for _, n in single]
    batched, _ = embed(session, tokenizer, texts)

    ok = True
    for it, n in zip(items, lengths):
        want = it.get("tokens_with_special")
        if want is not None and want != n:
            print(f"token count mismatch for {it['text']!r}: {n} != {want}")
            ok = False
    for name, got in (("one by one", one_by_one), ("padded batch", batched)):
        diff = float(np.abs(got - expected).max())
        cos = (got * expected).sum(axis=1) / np.linalg.norm(expected, axis=1)
        print(f"{name}: max abs diff {diff:.3e}, min cosine {cos.min():.7f}")
        ok = ok and diff <= args.tolerance
    print("verify_onnx: OK" if ok else f"verify_onnx: FAILED (tolerance {args.tolerance:g})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
