#!/usr/bin/env python3
"""Why the provisioned int8 model is quantised the way it is, and where its time goes.

    python3 -m venv /tmp/cram-int8
    /tmp/cram-int8/bin/pip install onnxruntime==1.24.4 onnx==1.23.2 numpy==2.4.6 tokenizers
    /tmp/cram-int8/bin/python benches/int8_variants.py [DOCS]

1. Quantises the provisioned fp32 model.onnx three ways with onnxruntime's quantize_dynamic
   (int8 weights per tensor; per output channel; per channel with 7-bit weights = what
   scripts/quantize_onnx.py ships) and prints each one's cosine to the fp32 reference
   embeddings (../shared/model/reference_embeddings.json), the three sentences in one batch.
2. Profiles fp32 and the provisioned int8 model on the first DOCS (default 48) SciFact
   documents, batches of 8, 2 threads (ONNX Runtime's profiler), and prints the share of
   kernel time per operator of the optimised graph and the total.
3. Prints which x86 SIMD extensions this CPU has (VNNI decides the int8 kernels).
"""
import collections
import json
import os
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
from onnxruntime.quantization import QuantType, quantize_dynamic
from tokenizers import Tokenizer

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
from provision import cram_home  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared")
FP32 = os.path.join(cram_home(), "models", "all-MiniLM-L6-v2")
INT8 = FP32 + "-int8"


def session(path, profile=None):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    if profile:
        opts.enable_profiling = True
        opts.profile_file_prefix = profile
    return ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])


def embed(sess, tok, texts):
    enc = tok.encode_batch(texts)
    ids = np.array([e.ids for e in enc], np.int64)
    mask = np.array([e.attention_mask for e in enc], np.int64)
    (h,) = sess.run(["last_hidden_state"], {"input_ids": ids, "attention_mask": mask,
                                             "token_type_ids": np.zeros_like(ids)})
    m = mask[:, :, None].astype(np.float32)
    pooled = (h * m).sum(1) / m.sum(1)
    return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)


def main():
    docs_n = int(sys.argv[1]) if len(sys.argv) > 1 else 48
    tok = Tokenizer.from_file(os.path.join(FP32, "tokenizer.json"))
    tok.enable_truncation(max_length=256)
    tok.enable_padding(pad_id=0, pad_token="[PAD]")
    ref = json.load(open(os.path.join(ROOT, "model", "reference_embeddings.json"), encoding="utf-8"))
    texts = [it["text"] for it in ref["items"]]
    want = np.array([it["embedding"] for it in ref["items"]])
    want /= np.linalg.norm(want, axis=1, keepdims=True)
    tmp = tempfile.mkdtemp()
    model = onnx.load(os.path.join(FP32, "model.onnx"))
    for i, node in enumerate(model.graph.node):
        node.name = node.name or f"{node.op_type}_{i}"
    variants = {"per tensor": {}, "per channel": {"per_channel": True},
                "per channel, 7-bit (shipped)": {"per_channel": True, "reduce_range": True}}
    print("cosine to the fp32 reference sentences:")
    for name, kw in variants.items():
        out = os.path.join(tmp, "q.onnx")
        quantize_dynamic(model, out, weight_type=QuantType.QInt8, **kw)
        got = embed(session(out), tok, texts)
        print(f"  {name:30s} {' '.join(f'{c:.4f}' for c in (got * want).sum(1))}")

    corpus = os.path.join(ROOT, "benchmarks", "scifact", "corpus.jsonl")
    with open(corpus, encoding="utf-8") as f:
        docs = [json.loads(line) for _, line in zip(range(docs_n), f)]
    docs = [(d.get("title", "") + " " + d["text"]).strip() for d in docs]
    for name, path in (("fp32", FP32), ("int8", INT8)):
        sess = session(os.path.join(path, "model.onnx"), os.path.join(tmp, name))
        for i in range(0, len(docs), 8):
            embed(sess, tok, docs[i:i + 8])
        events = json.load(open(sess.end_profiling()))
        per_op = collections.Counter()
        for e in events:
            if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
                per_op[e["args"]["op_name"]] += e["dur"]
        total = sum(per_op.values())
        shares = ", ".join(f"{op} {100 * t / total:.1f}%" for op, t in per_op.most_common(8))
        print(f"{name}: kernel time {total / 1000:.0f} ms for {len(docs)} documents: {shares}")
    flags = set()
    with open("/proc/cpuinfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("flags"):
                flags |= set(line.split(":", 1)[1].split())
    simd = sorted(f for f in flags if f.startswith(("avx", "amx")) or "vnni" in f)
    print("CPU SIMD flags:", " ".join(simd) or "(none)", "| VNNI:", "yes" if any("vnni" in f for f in flags) else "no")


if __name__ == "__main__":
    main()
