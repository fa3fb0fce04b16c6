"""The text of a ``--format python`` model file and its weight arrays.

``model.py`` holds, in this order: a docstring saying where the model came from and how to use
it, the constants (task, feature columns, levels), the loading of ``weights.npz``, the
preprocessing (:mod:`~evosearch.deploy._python_prep`), each layer kind's numpy function
(:meth:`~evosearch.nn.LayerKind.numpy_source`) and ``network(x)``, one line per layer, then
``predict`` / ``predict_proba`` and a command-line entry that reads a CSV file.
"""

from __future__ import annotations

import ast
import inspect
import re
import textwrap
from collections.abc import Callable
from typing import Any

import numpy as np

from evosearch.deploy import _python_runtime as rt
from evosearch.deploy._python_cli import cli_sections, usage
from evosearch.deploy._python_prep import literal, translate_preprocessing
from evosearch.deploy.base import target_ndim
from evosearch.errors import SettingsError

__all__ = ["model_source"]

_LINE = 100


def _network(net: Any) -> tuple[list[str], list[str], dict[str, np.ndarray], int]:
    """The layer functions' sources, ``network(x)``'s lines, the weight arrays and the rows
    per forward pass, for the fitted estimator ``net``."""
    from evosearch.nn.compress import unpack
    from evosearch.nn.graph import input_shape_of, parse_architecture, predict_chunk

    steps = parse_architecture(net.architecture, net.n_features_in_, net.n_outputs_)
    shapes = [s.parameter_shapes() for s in steps]
    stored = unpack(shapes, net.payload(), float(net.prune), net.precision)
    snippets: list[str] = []
    defined: dict[str, str] = {}
    arrays: dict[str, np.ndarray] = {}
    shape = {0: input_shape_of(net.architecture, net.n_features_in_)}
    lines = ["    h0 = x" if len(shape[0]) == 1 else f"    h0 = x.reshape(-1, {_dims(shape[0])})"]
    for step, (values, scales, biases) in zip(steps, stored, strict=True):
        kind, node = step.kind, step.node_id
        _add_snippets(kind, snippets, defined)
        inputs = [
            f"h{pred}" if view == shape[pred] else f"h{pred}.reshape(-1, {_dims(view)})"
            for pred, view in zip(step.pred_ids, step.views, strict=True)
        ]
        merged = inputs[0] if len(inputs) == 1 else f"np.concatenate([{', '.join(inputs)}], -1)"
        args = [merged]
        for key, array in ((f"w{node}", values), (f"b{node}", biases)):
            if array.size:
                arrays[key] = np.array(array)
                args.append(f'WEIGHTS["{key}"]')
            else:
                args.append("None")
        if scales is not None:
            arrays[f"s{node}"] = np.array(scales, dtype=np.float32)
        args += [f"{name}={literal(value)}" for name, value in step.attrs.items()]
        lines += _call(f"h{node}", f"{kind.name}_layer", args)
        shape[node] = step.out_shape
    lines.append("    return h1")
    return snippets, lines, arrays, predict_chunk(steps, 8)


def _dims(shape: tuple[int, ...]) -> str:
    return ", ".join(str(side) for side in shape)


def _call(target: str, function: str, args: list[str]) -> list[str]:
    line = f"    {target} = {function}({', '.join(args)})"
    if len(line) <= _LINE:
        return [line]
    return [f"    {target} = {function}(", *(f"        {arg}," for arg in args), "    )"]


def _wrap(line: str) -> str:
    """A long ``target = function(arguments)`` line with its arguments on a line of their own."""
    match = re.fullmatch(r"(\s*)(\w+ = \w+)\((.*)\)", line)
    if len(line) <= _LINE or match is None:
        return line
    indent, call, arguments = match.groups()
    return f"{indent}{call}(\n{indent}    {arguments}\n{indent})"


def _add_snippets(kind: Any, snippets: list[str], defined: dict[str, str]) -> None:
    """Add the kind's numpy snippets (each once); refuse a kind without them, or one whose
    snippets redefine another's function differently."""
    sources = kind.numpy_source()
    if not sources:
        raise SettingsError(
            f"layer kind {kind.name!r} has no numpy code (LayerKind.numpy_source), so a model "
            "with it cannot be exported in the python format"
        )
    names: list[str] = []
    for source in sources:
        source = textwrap.dedent(source).strip() + "\n"
        try:
            tree = ast.parse(source)
        except SyntaxError as exc:
            message = f"layer kind {kind.name!r}: its numpy code does not parse: {exc}"
            raise SettingsError(message) from None
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.Assign)):
                for name in _defined_names(node):
                    if defined.get(name, source) != source:
                        raise SettingsError(
                            f"layer kind {kind.name!r}: its numpy code redefines {name!r}"
                        )
                    defined[name] = source
                    names.append(name)
        if source not in snippets:
            snippets.append(source)
    if f"{kind.name}_layer" not in names:
        raise SettingsError(
            f"layer kind {kind.name!r}: its numpy code defines no function {kind.name}_layer"
        )


def _defined_names(node: ast.stmt) -> list[str]:
    if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
        return [node.name]
    assert isinstance(node, ast.Assign)
    return [t.id for t in node.targets if isinstance(t, ast.Name)]


def _source(function: Callable[..., Any]) -> str:
    return textwrap.dedent(inspect.getsource(function)).strip() + "\n"


def _escape(text: Any) -> str:
    return str(text).replace("\\", "\\\\").replace('"""', '\\"\\"\\"')


def _docstring(info: dict[str, Any], table: bool, weights_note: str) -> str:
    task = str(info.get("task"))
    score = info.get("cv_score")
    scored = (
        "" if score is None else f"; cross-validated {info.get('scoring') or 'score'} {score:.4f}"
    )
    what = "classifier" if task == "classification" else "regressor"
    given = (
        "a mapping of column name to cells (a pandas DataFrame, a dict of lists): raw values,\n"
        "text included; None, NaN or an empty cell for a missing one"
        if table
        else "a 2-D array of numbers (one column per feature, in the order of FEATURES), or a\n"
        "mapping of column name to values (a pandas DataFrame, a dict of lists)"
    )
    proba = "    model.predict_proba(X)   # one column per class, in the order of CLASSES\n"
    return f'''"""An evosearch {what} that predicts with numpy alone.

Model: {_escape(info.get("architecture", ""))}
Run: {_escape(info.get("run", ""))}, archive member {info.get("member")}
Genome: {info.get("genome_hash")}{scored}
Target: {_escape(info.get("target"))}
Weights: weights.npz beside this file ({weights_note})

From Python (X: {given})::

    import importlib.util
    spec = importlib.util.spec_from_file_location("model", "path/to/model.py")
    model = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(model)
    model.predict(X)
{proba if task == "classification" else ""}
From the command line (a CSV file with a header row; one prediction per row, after the
columns --keep names)::

    {usage(task)}

Written by `evosearch export --format python`; the pipeline it reproduces is scikit-learn's
preprocessing and evosearch's network, computed in float64 from the float32 weights.
"""
'''


_PREDICT_CLASSIFIER = '''
def predict_proba(X):
    """Class probabilities: one row per row of X, one column per class (in CLASSES' order)."""
    logits = outputs(X)
    logits = logits - logits.max(axis=1, keepdims=True)
    probabilities = np.exp(logits)
    return probabilities / probabilities.sum(axis=1, keepdims=True)


def predict(X):
    """The most probable class of each row of X."""
    return CLASSES[np.argmax(predict_proba(X), axis=1)]
'''

_PREDICT_REGRESSOR = '''
def predict(X):
    """The predicted target(s) of each row of X."""
    y = outputs(X)
    return y[:, 0] if ONE_TARGET else y
'''

# A network trained on the standardised target: its outputs are mapped back to the target's units.
_PREDICT_SCALED_REGRESSOR = '''
def predict(X):
    """The predicted target(s) of each row of X."""
    # The network predicts the standardised target: back to the target's units.
    y = outputs(X) * WEIGHTS["y_scale"] + WEIGHTS["y_mean"]
    return y[:, 0] if ONE_TARGET else y
'''

_OUTPUTS = '''
def outputs(X):
    """The network's outputs (logits or targets) for the rows of X, ROWS_PER_PASS at a time."""
    # The network was trained on float32 inputs: round them so, then compute in float64.
    x = preprocess(X).astype(np.float32).astype(np.float64)
    starts = range(0, len(x), ROWS_PER_PASS)
    passes = [network(x[start : start + ROWS_PER_PASS]) for start in starts]
    return np.concatenate(passes) if passes else network(x)
'''


def model_source(model: Any, info: dict[str, Any]) -> tuple[str, dict[str, np.ndarray]]:
    """The text of ``model.py`` and the arrays of ``weights.npz`` for the fitted ``model``.

    Raises
    ------
    SettingsError
        One line naming a layer kind or preprocessing step there is no numpy code for.
    """
    from sklearn.compose import ColumnTransformer

    steps = [step for _, step in model.steps] if hasattr(model, "steps") else [model]
    if len(steps) > 2:
        raise SettingsError("the python export format takes one preprocessing step at most")
    net, first = steps[-1], steps[0] if len(steps) == 2 else "passthrough"
    table = isinstance(first, ColumnTransformer)
    # What model.json says, or failing that (a model built by hand) what the model knows.
    names = getattr(first, "feature_names_in_", None)
    if names is None:
        # The preprocessing's input, which point-mass indicators make narrower than the net's.
        width = getattr(first, "n_features_in_", None) or net.n_features_in_
        names = [f"x{i}" for i in range(int(width))]
    info = {
        **info,
        "task": info.get("task")
        or ("classification" if hasattr(net, "classes_") else "regression"),
        "features": info.get("features") or [str(name) for name in names],
    }
    prep = translate_preprocessing(first, table)
    snippets, network_lines, arrays, chunk = _network(net)
    overlap = set(arrays) & set(prep.arrays)
    if overlap:  # cannot happen with the built-in steps' names; a guard for new ones
        raise SettingsError(f"python export: weight names {sorted(overlap)} clash")
    arrays.update(prep.arrays)
    classifier = info.get("task") == "classification"
    if classifier:
        classes = np.asarray(net.classes_)
        arrays["classes"] = classes.astype(str) if classes.dtype == object else classes
    scaled = not classifier and getattr(net, "y_mean_", None) is not None
    if scaled:  # float64, as the estimator maps its outputs back
        arrays["y_mean"], arrays["y_scale"] = net.y_mean_, net.y_scale_
    precision, prune = net.precision, float(net.prune)
    note = f"{precision} weights" + (f", {prune:.0%} pruned" if prune else "")
    constants = [
        f"TASK = {literal(str(info.get('task')))}",
        f"TARGET = {literal(str(info.get('target') or 'prediction'))}",
        "# The feature columns, in the order the model reads them.",
        f"FEATURES = {literal([str(f) for f in info.get('features', [])])}",
    ]
    if table:
        na_values = sorted(
            {str(v).strip() for v in (info.get("options") or {}).get("na_values", ())}
        )
        constants += [
            "# Cell texts that mean 'missing' besides empty, nan, na, n/a and null (any case).",
            f"NA_VALUES = {literal(tuple(na_values))}",
        ]
    constants += prep.constants
    if not classifier:
        constants.append(f"ONE_TARGET = {target_ndim(net) == 1!r}")
    constants += [
        "# Rows per forward pass: bounds the memory of image layers.",
        f"ROWS_PER_PASS = {chunk}",
    ]
    sections = [
        _docstring(info, table, note)
        + "\nfrom __future__ import annotations\n\nimport csv\nimport math\nimport os\nimport sys\n"
        "from collections.abc import Sequence\nfrom typing import Any\n\nimport numpy as np\n",
        "\n".join(constants) + "\n",
        _source(rt.load_weights),
        "WEIGHTS = load_weights(os.path.join(os.path.dirname(os.path.abspath(__file__)), "
        '"weights.npz"))\n' + ('CLASSES = WEIGHTS.pop("classes")\n' if classifier else ""),
        "# ---- preprocessing: raw features -> the network's input ----\n",
        *(_source(helper) for helper in prep.helpers),
        'def preprocess(X):\n    """The network\'s input (a float64 matrix) for the rows of X."""\n'
        + "\n".join(_wrap(line) for line in prep.body)
        + "\n",
        "# ---- the network ----\n",
        *snippets,
        'def network(x):\n    """The output layer\'s values for a batch x of network inputs."""\n'
        + "\n".join(network_lines)
        + "\n",
        "# ---- predictions ----\n",
        _OUTPUTS.lstrip("\n"),
        (
            _PREDICT_CLASSIFIER
            if classifier
            else _PREDICT_SCALED_REGRESSOR
            if scaled
            else _PREDICT_REGRESSOR
        ).lstrip("\n"),
        *cli_sections(info, prep),
    ]
    return "\n\n".join(section.rstrip("\n") + "\n" for section in sections), arrays
