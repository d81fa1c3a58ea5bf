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
4. Two attempts at a faster int8 graph, timed against fp32 and the shipped int8 on the same
   documents (median wall time per batch of 8, all models interleaved): ONNX Runtime's
   transformer optimiser (onnxruntime.transformers, BERT fusions, no torch) before
   quantising, and quantising the 12 attention products too (MatMulConstBOnly off).
5. Query latency: one short question at a time (batch 1, as `cram ask` embeds it), p50 and
   p95 over 200 interleaved runs of each model.
"""
import collections
import json
import os
import sys
import tempfile

import time

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
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")  # as cram sets it
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
    faster_graphs(model, tmp, tok, docs)
    query_latency(tok)
    flags = set()
    with open("/proc/cpuinfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("flags"):
                flags |= set(line.split(":", 1)[1].split())
    simd = sorted(f for f in flags if f.startswith(("avx", "amx")) or "vnni" in f)
    print("CPU SIMD flags:", " ".join(simd) or "(none)", "| VNNI:", "yes" if any("vnni" in f for f in flags) else "no")


def faster_graphs(model, tmp, tok, docs):
    """Section 4: fused-then-quantised and all-MatMul-quantised graphs."""
    from onnxruntime.transformers import optimizer  # noqa: PLC0415 (ships in the onnxruntime wheel)

    named = os.path.join(tmp, "named.onnx")
    onnx.save(model, named)
    fused = optimizer.optimize_model(named, model_type="bert", num_heads=12, hidden_size=384, opt_level=0)
    fused_path = os.path.join(tmp, "fused.onnx")
    fused.save_model_to_file(fused_path)
    ops = collections.Counter(n.op_type for n in onnx.load(fused_path).graph.node)
    print("transformer optimiser on the fp32 graph: "
          f"Attention {ops.get('Attention', 0)}, SkipLayerNormalization {ops.get('SkipLayerNormalization', 0)}, "
          f"BiasGelu {ops.get('BiasGelu', 0)}, MatMul left {ops.get('MatMul', 0)}")
    fused_int8 = os.path.join(tmp, "fused_int8.onnx")
    quantize_dynamic(fused_path, fused_int8, weight_type=QuantType.QInt8, per_channel=True, reduce_range=True,
                     extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
    all_int8 = os.path.join(tmp, "all_int8.onnx")
    quantize_dynamic(named, all_int8, weight_type=QuantType.QInt8, per_channel=True, reduce_range=True,
                     op_types_to_quantize=["MatMul", "Gather"], extra_options={"MatMulConstBOnly": False})
    models = {"fp32": os.path.join(FP32, "model.onnx"), "int8 (shipped)": os.path.join(INT8, "model.onnx"),
              "fused, then int8": fused_int8, "int8 incl. attention products": all_int8}
    sessions = {k: session(v) for k, v in models.items()}
    times = {k: [] for k in models}
    for _ in range(3):
        for i in range(0, len(docs), 8):
            for k, sess in sessions.items():
                t = time.perf_counter()
                embed(sess, tok, docs[i:i + 8])
                times[k].append(time.perf_counter() - t)
    base = float(np.median(times["fp32"]))
    print(f"median per batch of 8 documents ({len(docs)} documents x 3, interleaved):")
    for k, v in times.items():
        print(f"  {k:30s} {1000 * np.median(v):7.1f} ms  {base / np.median(v):.2f}x fp32")


def query_latency(tok):
    """Section 5: one short question at a time."""
    sessions = {"fp32": session(os.path.join(FP32, "model.onnx")),
                "int8": session(os.path.join(INT8, "model.onnx"))}
    questions = ["why divide by sqrt dk in attention", "what is grouped query attention",
                 "how do you detect data drift in production", "bm25 vs dense retrieval"]
    times = {k: [] for k in sessions}
    for i in range(200):
        for k, sess in sessions.items():
            t = time.perf_counter()
            embed(sess, tok, [questions[i % len(questions)]])
            times[k].append(time.perf_counter() - t)
    print("one question at a time (200 each, interleaved): " + ", ".join(
        f"{k} p50 {1000 * np.median(v):.2f} / p95 {1000 * np.percentile(v, 95):.2f} ms" for k, v in times.items())
        + f"; int8 {np.median(times['fp32']) / np.median(times['int8']):.2f}x")


if __name__ == "__main__":
    main()
