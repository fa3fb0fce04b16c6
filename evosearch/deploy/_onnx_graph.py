"""A small ONNX graph builder: nodes, constants, weights stored in their smallest faithful form.

The exporters emit nodes through :class:`OnnxGraph` (unique tensor names, constants as
initializers) rather than through skl2onnx's operator machinery: evosearch's pipelines are a
fixed, small set of steps whose exact arithmetic (float64 preprocessing, float32 network) the
export must reproduce, and :meth:`OnnxGraph.weight` stores a compressed network's weights as the
``bytes`` objective counts them (int8 values times one float32 scale per output channel,
float16 with a ``Cast``, pruned tensors as sparse initializers where that is smaller).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
from numpy.typing import NDArray
from onnx import TensorProto, helper, numpy_helper

__all__ = ["ML_DOMAIN", "ML_OPSET", "OPSET", "OnnxGraph"]

Array = NDArray[Any]

#: The default-domain opset the exported graphs use (onnxruntime >= 1.14 runs it).
OPSET = 17
#: The ``ai.onnx.ml`` opset (LabelEncoder with string keys and values).
ML_OPSET = 3
ML_DOMAIN = "ai.onnx.ml"

_SPARSE_INDEX_BYTES = 8  # ONNX sparse initializers take int64 indices only


class OnnxGraph:
    """Collects the nodes, initializers, inputs and outputs of one ONNX graph."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self.sparse: list[onnx.SparseTensorProto] = []
        self.inputs: list[onnx.ValueInfoProto] = []
        self.outputs: list[onnx.ValueInfoProto] = []
        self._used: set[str] = set()

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
        """An initializer holding ``value`` (kept in its dtype, or ``dtype``)."""
        array = np.asarray(value, dtype=dtype)
        name = self.name(hint)
        self.initializers.append(numpy_helper.from_array(array, name))
        return name

    def _stored(self, array: Array, hint: str) -> str:
        """``array`` as an initializer, sparse where that is smaller (many zeros)."""
        name = self.name(hint)
        flat = array.ravel()
        kept = np.flatnonzero(flat)
        dense_bytes = flat.size * array.dtype.itemsize
        sparse_bytes = kept.size * (array.dtype.itemsize + _SPARSE_INDEX_BYTES)
        if flat.size and sparse_bytes < dense_bytes:
            values = numpy_helper.from_array(flat[kept], name)
            indices = numpy_helper.from_array(kept.astype(np.int64), f"{name}_indices")
            self.sparse.append(helper.make_sparse_tensor(values, indices, list(array.shape)))
        else:
            self.initializers.append(numpy_helper.from_array(array, name))
        return name

    def weight(self, array: Array, precision: str, hint: str, axis: int | None = None) -> str:
        """A float32 tensor equal to ``array`` (a fitted weight or bias, float32), stored as
        ``precision`` says where that is exact: ``int8`` with one scale per slice along ``axis``
        (``Cast`` to float32 times the scales), ``float16`` (then ``Cast``), else float32."""
        array = np.ascontiguousarray(array, dtype=np.float32)
        if precision == "int8" and axis is not None and array.size:
            quantised = _int8_form(array, axis)
            if quantised is not None:
                values, scales = quantised
                stored = self._stored(values, f"{hint}_int8")
                shape = [1] * array.ndim
                shape[axis] = scales.size
                scale = self.const(scales.reshape(shape), f"{hint}_scale")
                # Cast and Mul, not DequantizeLinear: onnxruntime fuses DequantizeLinear ->
                # MatMul into MatMulNBits, which by default computes with int8-quantised
                # activations (predictions ~1e-2 off); Cast and Mul of constants are folded
                # into the exact float32 weights when the session loads.
                floats = self.op("Cast", [stored], f"{hint}_q", to=TensorProto.FLOAT)
                return self.op("Mul", [floats, scale], hint)
        if precision in ("int8", "float16") and array.size:
            half = array.astype(np.float16)
            if np.array_equal(half.astype(np.float32), array):
                stored = self._stored(half, f"{hint}_f16")
                return self.op("Cast", [stored], hint, to=TensorProto.FLOAT)
        return self._stored(array, hint)

    def model(self, doc: str, metadata: dict[str, str]) -> onnx.ModelProto:
        """The checked ONNX model of the graph built so far."""
        graph = helper.make_graph(
            self.nodes,
            "evosearch",
            self.inputs,
            self.outputs,
            initializer=self.initializers,
            sparse_initializer=self.sparse,
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


def _int8_form(array: Array, axis: int) -> tuple[Array, Array] | None:
    """``(int8 values, float32 scales)`` with ``values * scales == array`` exactly (scales
    broadcast along ``axis``), or None where the weights are not int8 multiples of one scale
    per slice. The scales are recomputed as the compressor does (``max |w| / 127``)."""
    moved = np.moveaxis(array, axis, -1)
    columns = moved.reshape(-1, moved.shape[-1])
    top = np.abs(columns).max(axis=0) if columns.shape[0] else np.zeros(columns.shape[1])
    scales = (top / np.float32(127.0)).astype(np.float32)
    scales[scales == 0] = 1.0
    q = np.clip(np.rint(columns / scales), -127, 127)
    if not np.array_equal((q.astype(np.float32) * scales).astype(np.float32), columns):
        return None
    values = np.moveaxis(q.astype(np.int8).reshape(moved.shape), -1, axis)
    return np.ascontiguousarray(values), scales
