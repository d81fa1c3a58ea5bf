#!/usr/bin/env python3
"""Write all-MiniLM-L6-v2 as an ONNX file, built by hand from its safetensors weights.

Usage:  python export_onnx.py MODEL_DIR OUTPUT.onnx

MODEL_DIR holds `model.safetensors` and `config.json` (the Hugging Face BERT layout, tensor
names without a `bert.` prefix). Needs only numpy, onnx and safetensors: no torch.
scripts/provision.py runs this inside its own venv; nothing else should need to.

The graph (opset 17, fp32 weights stored as initializers) is the plain BERT encoder:
  inputs   input_ids, attention_mask, token_type_ids   int64 [batch, sequence]
  output   last_hidden_state                           float32 [batch, sequence, hidden]
  embed    word[input_ids] + position[0..S-1] + token_type[token_type_ids], LayerNorm
  mask     (1 - attention_mask) * float32 min, shaped [B, 1, 1, S], added to the scores
  layer    x = LN(x + Dense(Attention(x)));  x = LN(x + Dense(GELU(Dense(x))))   (post-LN)
  attn     softmax(Q K^T / sqrt(head_dim) + mask) V over `num_attention_heads` heads
  GELU     the exact one: 0.5 * x * (1 + erf(x / sqrt(2)))
Pooling and normalisation are left to the caller (mean over the mask, then L2).
"""
import json
import math
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from safetensors.numpy import load_file

OPSET = 17
PRODUCER = ("cram-export-onnx", "1")


class Graph:
    """Collects nodes and initializers; every op() call returns a fresh output name."""

    def __init__(self):
        self.nodes, self.inits, self.count = [], [], 0

    def const(self, name, array):
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def op(self, op_type, *inputs, **attrs):
        self.count += 1
        out = f"{op_type.lower()}_{self.count}"
        self.nodes.append(helper.make_node(op_type, list(inputs), [out], **attrs))
        return out


def build(weights, cfg):
    hidden, heads = cfg["hidden_size"], cfg["num_attention_heads"]
    head_dim, eps = hidden // heads, float(cfg["layer_norm_eps"])
    g = Graph()

    def w(name):
        return weights[name].astype(np.float32)

    def layer_norm(x, prefix):
        return g.op("LayerNormalization", x, g.const(prefix + ".weight", w(prefix + ".weight")),
                    g.const(prefix + ".bias", w(prefix + ".bias")), axis=-1, epsilon=eps)

    def linear(x, prefix):  # torch Linear: x @ W^T + b; W^T is stored so MatMul needs no Transpose
        wt = g.const(prefix + ".weight_t", w(prefix + ".weight").T)
        return g.op("Add", g.op("MatMul", x, wt), g.const(prefix + ".bias", w(prefix + ".bias")))

    # Shape constants. Reshape's 0 copies the input's dimension (batch, sequence).
    split_heads = g.const("shape_split_heads", np.array([0, 0, heads, head_dim], np.int64))
    merge_heads = g.const("shape_merge_heads", np.array([0, 0, hidden], np.int64))
    zero = g.const("zero_i64", np.array([0], np.int64))
    one_f = g.const("one_f32", np.array(1.0, np.float32))
    scale = g.const("sqrt_head_dim", np.array(math.sqrt(head_dim), np.float32))

    # Embeddings; positions are the first S rows of the position table.
    seq_len = g.op("Shape", "input_ids", start=1, end=2)
    positions = g.op("Slice", g.const("embeddings.position_embeddings.weight",
                                      w("embeddings.position_embeddings.weight")), zero, seq_len, zero)
    x = g.op("Gather", g.const("embeddings.word_embeddings.weight",
                               w("embeddings.word_embeddings.weight")), "input_ids")
    x = g.op("Add", x, positions)
    x = g.op("Add", x, g.op("Gather", g.const("embeddings.token_type_embeddings.weight",
                                              w("embeddings.token_type_embeddings.weight")), "token_type_ids"))
    x = layer_norm(x, "embeddings.LayerNorm")

    # Additive mask: 0 where attended, float32 min where padded; [B, 1, 1, S].
    mask = g.op("Cast", "attention_mask", to=TensorProto.FLOAT)
    mask = g.op("Unsqueeze", mask, g.const("axes_1_2", np.array([1, 2], np.int64)))
    mask = g.op("Mul", g.op("Sub", one_f, mask),
                g.const("f32_min", np.array(np.finfo(np.float32).min, np.float32)))

    for i in range(cfg["num_hidden_layers"]):
        p = f"encoder.layer.{i}."

        def heads_of(x, name, perm):  # [B,S,H] -> [B,heads,S,d] (keys: [B,heads,d,S])
            return g.op("Transpose", g.op("Reshape", linear(x, p + "attention.self." + name), split_heads),
                        perm=perm)

        q = heads_of(x, "query", [0, 2, 1, 3])
        k = heads_of(x, "key", [0, 2, 3, 1])
        v = heads_of(x, "value", [0, 2, 1, 3])
        scores = g.op("Add", g.op("Div", g.op("MatMul", q, k), scale), mask)
        context = g.op("MatMul", g.op("Softmax", scores, axis=-1), v)
        context = g.op("Reshape", g.op("Transpose", context, perm=[0, 2, 1, 3]), merge_heads)
        x = layer_norm(g.op("Add", linear(context, p + "attention.output.dense"), x), p + "attention.output.LayerNorm")

        h = linear(x, p + "intermediate.dense")
        erf = g.op("Erf", g.op("Div", h, g.const(p + "sqrt2", np.array(math.sqrt(2.0), np.float32))))
        h = g.op("Mul", g.op("Mul", h, g.op("Add", erf, one_f)), g.const(p + "half", np.array(0.5, np.float32)))
        x = layer_norm(g.op("Add", linear(h, p + "output.dense"), x), p + "output.LayerNorm")

    g.nodes.append(helper.make_node("Identity", [x], ["last_hidden_state"]))
    inputs = [helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "sequence"])
              for name in ("input_ids", "attention_mask", "token_type_ids")]
    graph = helper.make_graph(
        g.nodes, "all-MiniLM-L6-v2", inputs,
        [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "sequence", hidden])],
        initializer=g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name=PRODUCER[0], producer_version=PRODUCER[1])
    model.ir_version = 8  # the IR version that goes with opset 17; readable by any ONNX Runtime >= 1.13
    return model


def main(argv):
    if len(argv) != 3:
        sys.exit(__doc__.split("\n\n")[1])
    model_dir, output = argv[1], argv[2]
    with open(f"{model_dir}/config.json", encoding="utf-8") as f:
        cfg = json.load(f)
    if cfg.get("model_type") != "bert" or cfg.get("hidden_act") != "gelu":
        sys.exit(f"export_onnx: unexpected config (model_type={cfg.get('model_type')}, hidden_act={cfg.get('hidden_act')})")
    model = build(load_file(f"{model_dir}/model.safetensors"), cfg)
    onnx.checker.check_model(model)
    onnx.save_model(model, output)
    print(f"export_onnx: wrote {output} ({len(model.graph.node)} nodes, opset {OPSET})", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv)
