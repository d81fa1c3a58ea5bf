#!/usr/bin/env python3
"""Quantise cram's fp32 all-MiniLM-L6-v2 ONNX graph to int8 with ONNX Runtime's dynamic quantisation.

Usage:  python quantize_onnx.py INPUT.onnx OUTPUT.onnx

scripts/provision.py runs this inside its export venv (onnxruntime pinned there), on the
model.onnx that scripts/export_onnx.py wrote. The settings are SETTINGS below; they are
also recorded in the int8 model's model.json:

  quantize_dynamic   weights int8 (QInt8) stored in the file; activations quantised to uint8
                     at run time, per tensor, by DynamicQuantizeLinear; MatMul and Gather
                     nodes whose second input is a weight (the 36 dense layers and the word
                     embedding table); the 12 attention MatMuls between two activations
                     stay fp32.
  per_channel        one scale per output column of each weight matrix, not one per matrix.
  reduce_range       7-bit weights. onnxruntime 1.24.4's own docstring (quantization/quantize.py):
                     "It may improve the accuracy for some models running on non-VNNI machine,
                     especially for per-channel mode". On CPUs without VNNI the uint8 x int8
                     products are summed in pairs into int16 (VPMADDUBSW), which 8-bit weights
                     can saturate.

Measured on this project's 2-core AVX2 machine (no VNNI), cosine to the fp32 reference
sentences: per tensor 0.96, per channel 0.99, per channel + 7-bit 0.99 (BENCHMARKS.md).

The quantised graph is then saved as ONNX Runtime optimises it at ORT_ENABLE_EXTENDED (its
LayerNorm, GELU, attention-scaling and quantised-MatMul fusions, the ones a session applies
at load anyway), so that each `cram` process starts from the fused graph instead of fusing
it again: loading takes about 50 ms instead of 70-90 ms here, and the outputs are bitwise
the same. Extended, not ORT_ENABLE_ALL: the last level adds layout changes that ONNX Runtime
marks as specific to the machine that made them.

The result is deterministic: the same input gives the same bytes (provision.py records its
sha256 in model.json and checks it).
"""
import sys

import os

import onnx
import onnxruntime
from onnxruntime.quantization import QuantType, quantize_dynamic

SETTINGS = {"weight_type": "QInt8", "per_channel": True, "reduce_range": True,
            "op_types": ["MatMul", "Gather"], "activations": "uint8, dynamic, per tensor",
            "saved_optimization": "ORT_ENABLE_EXTENDED"}


def save_optimized(path):
    """Replaces the graph at `path` with ONNX Runtime's ORT_ENABLE_EXTENDED optimisation of it."""
    tmp = path + ".optimized"
    opts = onnxruntime.SessionOptions()
    opts.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    opts.optimized_model_filepath = tmp
    onnxruntime.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
    os.replace(tmp, path)


def main(argv):
    if len(argv) != 3:
        sys.exit(__doc__.split("\n\n")[1])
    source, output = argv[1], argv[2]
    model = onnx.load(source)
    for i, node in enumerate(model.graph.node):  # the exporter leaves nodes unnamed
        if not node.name:
            node.name = f"{node.op_type}_{i}"
    quantize_dynamic(model, output, weight_type=QuantType.QInt8, per_channel=SETTINGS["per_channel"],
                     reduce_range=SETTINGS["reduce_range"], op_types_to_quantize=SETTINGS["op_types"])
    quantized = onnx.load(output)
    onnx.checker.check_model(quantized)
    ops = {}
    for node in quantized.graph.node:
        ops[node.op_type] = ops.get(node.op_type, 0) + 1
    save_optimized(output)
    print(f"quantize_onnx: wrote {output} (MatMulInteger {ops.get('MatMulInteger', 0)}, "
          f"MatMul left fp32 {ops.get('MatMul', 0)}; saved at ORT_ENABLE_EXTENDED)", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv)
