"""A small ONNX graph builder: nodes, constants, weights stored in their smallest faithful form.

The exporters emit nodes through :class:`OnnxGraph` (unique tensor names, constants as
initializers) rather than through skl2onnx's operator machinery: evosearch's pipelines are a
fixed, small set of steps whose exact arithmetic (float64 preprocessing, float32 network) the
export must reproduce, and :meth:`OnnxGraph.weight` stores a compressed network's weights as the
``bytes`` objective counts them (int8 values times one float32 scale per output channel; int4
ones as int8,
float16 with a ``Cast``, pruned tensors as their nonzero values plus a bitmap or positions,
the payload's own forms).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
from numpy.typing import NDArray
from onnx import TensorProto, helper, numpy_helper

from evosearch.nn.compress import LEVELS

__all__ = ["ML_DOMAIN", "ML_OPSET", "OPSET", "OnnxGraph"]

Array = NDArray[Any]

#: The default-domain opset the exported graphs use (onnxruntime >= 1.14 runs it).
OPSET = 17
#: The ``ai.onnx.ml`` opset (LabelEncoder with string keys and values).
ML_OPSET = 3
ML_DOMAIN = "ai.onnx.ml"
# About what the nodes that unpack a sparse tensor add to the file.
_BITMAP_NODES = 600
_INDICES_NODES = 200


class OnnxGraph:
    """Collects the nodes, initializers, inputs and outputs of one ONNX graph."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self.inputs: list[onnx.ValueInfoProto] = []
        self.outputs: list[onnx.ValueInfoProto] = []
        self._used: set[str] = set()
        self._small: dict[tuple[Any, ...], str] = {}

    def name(self, hint: str) -> str:
        """A tensor or node name not used yet, starting with ``hint``."""
        base = hint or "t"
        name, n = base, 1
        while name in self._used:
            n += 1
            name = f"{base}_{n}"
        self._used.add(name)
        return name

    def add_input(self, name: str, elem_type: int, shape: list[Any]) -> str:
        """Declare a graph input called exactly ``name``."""
        self._used.add(name)
        self.inputs.append(helper.make_tensor_value_info(name, elem_type, shape))
        return name

    def add_output(self, name: str, elem_type: int, shape: list[Any]) -> None:
        self.outputs.append(helper.make_tensor_value_info(name, elem_type, shape))

    def op(
        self,
        op_type: str,
        inputs: list[str],
        hint: str = "",
        output: str | None = None,
        domain: str = "",
        **attrs: Any,
    ) -> str:
        """Append one node and return the name of its (single) output."""
        out = output if output is not None else self.name(hint or op_type.lower())
        self._used.add(out)
        # Nodes go unnamed (their output names identify them): smaller files.
        node = helper.make_node(op_type, inputs, [out], domain=domain, **attrs)
        self.nodes.append(node)
        return out

    def const(self, value: Any, hint: str = "c", dtype: Any = None) -> str:
        """An initializer holding ``value`` (kept in its dtype, or ``dtype``); a small one
        with the same dtype, shape and values as an earlier one is that one."""
        array = np.asarray(value, dtype=dtype)
        key = None
        if array.size <= 16 and array.dtype != object:
            key = (array.dtype.str, array.shape, array.tobytes())
            if key in self._small:
                return self._small[key]
        name = self.name(hint)
        self.initializers.append(numpy_helper.from_array(array, name))
        if key is not None:
            self._small[key] = name
        return name

    def weight(self, array: Array, precision: str, hint: str, axis: int | None = None) -> str:
        """A float32 tensor equal to ``array`` (a fitted weight or bias, float32), stored as
        ``precision`` says where that is exact: ``int8`` or ``int4`` (as int8 values) with one
        scale per slice along ``axis`` (cast to float32 times the scales), ``float16`` (then
        cast), else float32; each in the smallest of a dense and two sparse forms
        (:meth:`_packed`)."""
        array = np.ascontiguousarray(array, dtype=np.float32)
        if precision in LEVELS and axis is not None and array.size:
            quantised = _int8_form(array, axis, LEVELS[precision])
            if quantised is not None:
                values, scales = quantised
                shape = [1] * array.ndim
                shape[axis] = scales.size
                scale = self.const(scales.reshape(shape), f"{hint}_scale")
                # Cast and Mul, not DequantizeLinear: onnxruntime fuses DequantizeLinear ->
                # MatMul into MatMulNBits, which by default computes with int8-quantised
                # activations (predictions ~1e-2 off); Cast and Mul of constants are folded
                # into the exact float32 weights when the session loads.
                return self.op("Mul", [self._packed(values, f"{hint}_q"), scale], hint)
        if precision in ("int8", "int4", "float16") and array.size:
            half = array.astype(np.float16)
            if np.array_equal(half.astype(np.float32), array):
                return self._packed(half, f"{hint}_f16")
        return self._packed(array, hint)

    def _packed(self, array: Array, hint: str) -> str:
        """A float32 tensor equal to ``array`` (float32, float16 or int8), stored in the smallest
        of three forms: dense; the nonzero values plus a bitmap of where they are (one bit per
        entry, ``numpy.packbits`` order); the nonzero values plus their positions (uint16 or
        uint32). The last two are the weight payload's own forms for pruned weights; the graph
        unpacks them from constants, which onnxruntime folds into the dense tensor at load."""
        flat = array.ravel()
        nonzero = np.flatnonzero(flat)
        size, kept, item = flat.size, nonzero.size, array.dtype.itemsize
        position = np.uint16 if size <= 65536 else np.uint32
        # Bytes of each form, with the nodes that unpack a sparse one (measured, about).
        forms = {
            "dense": size * item,
            "bitmap": (size + 7) // 8 + kept * item + _BITMAP_NODES,
            "indices": kept * (item + np.dtype(position).itemsize) + _INDICES_NODES,
        }
        form = min(forms, key=lambda f: (forms[f], f != "dense"))
        if form == "dense":
            stored = self.const(array, hint)
            if array.dtype == np.float32:
                return stored
            return self.op("Cast", [stored], hint, to=TensorProto.FLOAT)
        shape = self.const(np.array(array.shape, np.int64), f"{hint}_shape")
        if kept == 0:
            return self.op("ConstantOfShape", [shape], hint)
        values = self.const(flat[nonzero], f"{hint}_values")
        if array.dtype != np.float32:
            values = self.op("Cast", [values], f"{hint}_values_f", to=TensorProto.FLOAT)
        if form == "indices":
            where = self.const(nonzero.astype(position).reshape(-1, 1), f"{hint}_positions")
            where = self.op("Cast", [where], f"{hint}_positions64", to=TensorProto.INT64)
            length = self.const(np.array([size], np.int64), f"{hint}_size")
            zeros = self.op("ConstantOfShape", [length], f"{hint}_zeros")
            filled = self.op("ScatterND", [zeros, where, values], f"{hint}_flat")
            return self.op("Reshape", [filled, shape], hint)
        flags = self._unpacked_bits(np.packbits(flat != 0), size, hint)
        rank = self.op("CumSum", [flags, self.const(np.int64(0), "axis")], f"{hint}_rank")
        slot = self.op("Sub", [rank, self.const(np.int64(1), "one")], f"{hint}_slot")
        slot = self.op("Max", [slot, self.const(np.int64(0), "zero")], f"{hint}_slot")
        spread = self.op("Gather", [values, slot], f"{hint}_spread")
        mask = self.op("Cast", [flags], f"{hint}_mask", to=TensorProto.BOOL)
        zero = self.const(np.float32(0.0), "zero_f")
        filled = self.op("Where", [mask, spread, zero], f"{hint}_flat")
        return self.op("Reshape", [filled, shape], hint)

    def _unpacked_bits(self, bitmap: Array, size: int, hint: str) -> str:
        """The first ``size`` bits of ``bitmap`` (``numpy.packbits`` order) as int64 0/1."""
        wide = self.op(
            "Cast", [self.const(bitmap, f"{hint}_bitmap")], "bytes", to=TensorProto.INT32
        )
        column = self.op("Unsqueeze", [wide, self.const(np.array([1], np.int64), "axis")], "col")
        powers = self.const(np.array([128, 64, 32, 16, 8, 4, 2, 1], np.int32), "powers")
        bits = self.op("Mod", [self.op("Div", [column, powers], "shifted"),
                               self.const(np.int32(2), "two")], "bits")  # fmt: skip
        bits = self.op("Reshape", [bits, self.const(np.array([-1], np.int64), "flat")], "bits")
        begin = self.const(np.array([0], np.int64), "begin")
        bits = self.op(
            "Slice", [bits, begin, self.const(np.array([size], np.int64), "end")], "bits"
        )
        return self.op("Cast", [bits], f"{hint}_flags", to=TensorProto.INT64)

    def model(self, doc: str, metadata: dict[str, str]) -> onnx.ModelProto:
        """The checked ONNX model of the graph built so far."""
        graph = helper.make_graph(
            self.nodes,
            "evosearch",
            self.inputs,
            self.outputs,
            initializer=self.initializers,
        )
        model = helper.make_model(
            graph,
            opset_imports=[
                helper.make_opsetid("", OPSET),
                helper.make_opsetid(ML_DOMAIN, ML_OPSET),
            ],
            producer_name="evosearch",
            doc_string=doc,
        )
        # The lowest IR version the opsets need, so older runtimes load the file too.
        model.ir_version = 8
        helper.set_model_props(model, metadata)
        onnx.checker.check_model(model)
        return model


def _int8_form(array: Array, axis: int, levels: int) -> tuple[Array, Array] | None:
    """``(int8 values, float32 scales)`` with ``values * scales == array`` exactly (scales
    broadcast along ``axis``), or None where the weights are not integer multiples of one
    scale per slice. The scales are recomputed as the compressor does (``max |w| / levels``:
    127 for int8; int4's values, at most 7, are stored as int8 too)."""
    moved = np.moveaxis(array, axis, -1)
    columns = moved.reshape(-1, moved.shape[-1])
    top = np.abs(columns).max(axis=0) if columns.shape[0] else np.zeros(columns.shape[1])
    scales = (top / np.float32(levels)).astype(np.float32)
    scales[scales == 0] = 1.0
    q = np.clip(np.rint(columns / scales), -levels, levels)
    if not np.array_equal((q.astype(np.float32) * scales).astype(np.float32), columns):
        return None
    values = np.moveaxis(q.astype(np.int8).reshape(moved.shape), -1, axis)
    return np.ascontiguousarray(values), scales
