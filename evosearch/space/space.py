"""Search spaces: what a genome may contain, parsed and validated from TOML.

A search space file has four sections::

    name = "mlp"
    description = "..."
    [architecture]   min_layers, max_layers, initial_layers = [lo, hi], skip_connections
    [layers.dense]   units, activation, dropout   (one section per layer kind used)
    [training]       optimizer, learning_rate, l1, l2, batch_size, max_epochs,
                     lr_schedule, clip_norm, shift, warmup_epochs, early_stopping (optional
                     genes: off unless searched)
    [compression]    prune, precision, finetune_epochs (optional, off unless searched)
    [preprocessing]  impute, encode, scale, class_weight (tables: see space/preprocessing.py)

Each layer or training parameter is a list of choices (``units = [32, 64]``), a range table
(``learning_rate = { low = 1e-4, high = 1e-1, log = true }``, ``integer = true`` for integers) or a
single fixed value (``max_epochs = 100``). Keys a file leaves out take the defaults of the ``mlp``
preset; keys it does not know, values of the wrong type and empty ranges are rejected with a
:class:`~evosearch.errors.SearchSpaceError` that names the key.

The ``[layers.<kind>]`` sections name the layer kinds new layers are drawn from (any kind in the
registry of :mod:`evosearch.nn.layers`; ``dense`` when the file has none). Their keys, the rules
they are checked against and their defaults are the kind's declared attributes.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from evosearch.errors import SearchSpaceError
from evosearch.nn.layers import DEFAULT_LAYER_KIND, LayerAttribute, get_layer_kind, layer_kinds
from evosearch.preprocess import gene_names
from evosearch.space._presets import list_presets
from evosearch.space._training import (
    _BOOL,
    _DEFAULT_TRAINING,
    _INTEGER,
    _STRING,
    _TRAINING_KEYS,
    _TRAINING_RULES,
    COMPRESSION_KEYS,
    IMAGE_ONLY_TRAINING,
    section_of,
    unsearched,
    without_off,
)
from evosearch.space.preprocessing import parse_preprocessing

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = ["Choice", "Param", "Range", "SearchSpace", "list_presets"]

Value = int | float | str | bool


def _round_significant(value: float, digits: int = 3) -> float:
    # Three significant digits keep learning rates readable and make equal genomes more likely,
    # which the evaluation cache turns into saved training time.
    if value == 0 or not math.isfinite(value):
        return value
    return float(f"{value:.{digits - 1}e}")


@dataclass(frozen=True)
class Choice:
    """A parameter that takes one of a fixed list of values.

    Numeric choices are kept sorted so a mutation can step to a neighbouring value.
    """

    values: tuple[Value, ...]

    @property
    def numeric(self) -> bool:
        return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in self.values)

    def sample(self, rng: np.random.Generator) -> Value:
        return self.values[int(rng.integers(len(self.values)))]

    def contains(self, value: Any) -> bool:
        return any(type(value) is type(v) and value == v for v in self.values) or (
            self.numeric
            and isinstance(value, (int, float))
            and not isinstance(value, bool)
            and value in self.values
        )

    def perturb(self, value: Value, rng: np.random.Generator) -> Value:
        """Return a different value: a neighbour for ordered numbers, any other value otherwise."""
        if len(self.values) == 1:
            return self.values[0]
        if self.numeric and value in self.values and rng.random() < 0.7:
            index = self.values.index(value) + (1 if rng.random() < 0.5 else -1)
            index = min(max(index, 0), len(self.values) - 1)
            if self.values[index] != value:
                return self.values[index]
        others = [v for v in self.values if v != value]
        return others[int(rng.integers(len(others)))]

    def to_toml_value(self) -> Any:
        return list(self.values) if len(self.values) > 1 else self.values[0]


@dataclass(frozen=True)
class Range:
    """A numeric parameter drawn from ``[low, high]``, uniformly or log-uniformly."""

    low: float
    high: float
    log: bool = False
    integer: bool = False

    def _clip(self, value: float) -> float | int:
        value = min(max(value, self.low), self.high)
        if self.integer:
            # Round inside the integer bounds: bounds like [0.4, 2.6] must not yield 0 or 3.
            return min(max(round(value), math.ceil(self.low)), math.floor(self.high))
        return min(max(_round_significant(value), self.low), self.high)

    def sample(self, rng: np.random.Generator) -> float | int:
        if self.log:
            return self._clip(math.exp(rng.uniform(math.log(self.low), math.log(self.high))))
        return self._clip(rng.uniform(self.low, self.high))

    def contains(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        if self.integer and int(value) != value:
            return False
        return self.low <= value <= self.high

    def perturb(self, value: float, rng: np.random.Generator, scale: float = 0.15) -> float | int:
        """Gaussian step of ``scale`` times the (log-)range width, clipped into the range."""
        if self.log:
            width = math.log(self.high) - math.log(self.low)
            return self._clip(value * math.exp(rng.normal(0.0, scale * width)))
        return self._clip(value + rng.normal(0.0, scale * (self.high - self.low)))

    def to_toml_value(self) -> Any:
        table: dict[str, Any] = {"low": self.low, "high": self.high}
        if self.log:
            table["log"] = True
        if self.integer:
            table["integer"] = True
        return table


Param = Choice | Range


_ARCHITECTURE_KEYS = ("min_layers", "max_layers", "initial_layers", "skip_connections")
_GENE_SECTIONS = ("training", "compression", "preprocessing")
_TOP_LEVEL_KEYS = ("name", "description", "architecture", "layers", *_GENE_SECTIONS)


def _attribute_rule(attribute: LayerAttribute) -> tuple[str, float | None, float | None, tuple]:
    return (attribute.type, attribute.low, attribute.high, attribute.choices)


def _attribute_domain(attribute: LayerAttribute) -> Any:
    # Declared domains are tuples (immutable class data); the TOML shape of choices is a list.
    return list(attribute.domain) if isinstance(attribute.domain, tuple) else attribute.domain


def _fail(source: str, key: str, problem: str) -> SearchSpaceError:
    return SearchSpaceError(f"{source}: key '{key}': {problem}")


def _check_table(source: str, prefix: str, table: Any, allowed: tuple[str, ...]) -> dict:
    if not isinstance(table, dict):
        raise _fail(source, prefix, f"expected a table, got {type(table).__name__}")
    for key in table:
        if key not in allowed:
            name = f"{prefix}.{key}" if prefix else key
            raise _fail(source, name, f"unknown key (expected one of: {', '.join(allowed)})")
    return table


def _is_number(value: Any) -> bool:
    # Ints are always finite (math.isfinite would overflow on ints beyond the float range).
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and (isinstance(value, int) or math.isfinite(value))
    )


def _check_value(source: str, key: str, value: Any, rule: tuple) -> Value:
    kind, low, high, strings = rule
    if kind == _BOOL:
        if not isinstance(value, bool):
            raise _fail(source, key, f"expected true or false, got {value!r}")
        return value
    if kind == _STRING:
        if not isinstance(value, str):
            raise _fail(source, key, f"expected a string, got {value!r}")
        if value not in strings:
            raise _fail(
                source, key, f"unknown value {value!r} (expected one of: {', '.join(strings)})"
            )
        return value
    if not _is_number(value):
        raise _fail(source, key, f"expected a number, got {value!r}")
    if kind == _INTEGER and int(value) != value:
        raise _fail(source, key, f"expected an integer, got {value!r}")
    if (low is not None and value < low) or (high is not None and value > high):
        raise _fail(source, key, f"value {value!r} is outside the allowed [{low}, {high}]")
    return int(value) if kind == _INTEGER else float(value)


def _parse_param(source: str, key: str, raw: Any, rule: tuple) -> Param:
    kind = rule[0]
    if isinstance(raw, list):
        if not raw:
            raise _fail(source, key, "empty list of choices")
        values = [_check_value(source, key, v, rule) for v in raw]
        if len(set(values)) != len(values):
            raise _fail(source, key, "duplicate choices")
        if kind != _STRING:
            values.sort()
        return Choice(tuple(values))
    if isinstance(raw, dict):
        if kind in (_STRING, _BOOL):
            raise _fail(source, key, "expected a list of choices, not a range")
        _check_table(source, key, raw, ("low", "high", "log", "integer"))
        for bound in ("low", "high"):
            if bound not in raw:
                raise _fail(source, key, f"range is missing '{bound}'")
        # Numeric rules only reach here, so both bounds are numbers.
        low = float(_check_value(source, f"{key}.low", raw["low"], rule))
        high = float(_check_value(source, f"{key}.high", raw["high"], rule))
        log = raw.get("log", False)
        integer = raw.get("integer", kind == _INTEGER)
        for flag, flag_value in (("log", log), ("integer", integer)):
            if not isinstance(flag_value, bool):
                raise _fail(source, f"{key}.{flag}", f"expected true or false, got {flag_value!r}")
        if kind == _INTEGER and not integer:
            raise _fail(source, f"{key}.integer", "this parameter only takes integers")
        if not low < high:
            raise _fail(source, key, f"empty range: low ({low}) must be below high ({high})")
        if log and low <= 0:
            raise _fail(source, key, f"log range needs low > 0, got {low}")
        if integer and math.ceil(float(low)) > math.floor(float(high)):
            raise _fail(source, key, f"integer range [{low}, {high}] holds no integer")
        return Range(float(low), float(high), log=log, integer=integer)
    return Choice((_check_value(source, key, raw, rule),))


@dataclass(frozen=True)
class SearchSpace:
    """What a genome may contain: depth bounds, layer choices and training hyperparameters.

    Parameters
    ----------
    name, description : str
        Identification of the space (``mlp`` for the bundled preset).
    min_layers, max_layers : int
        Inclusive bounds on the number of hidden layers.
    initial_layers : tuple of int
        Inclusive range of hidden layers in the random genomes that start a run.
    skip_connections : bool
        Whether edges may jump over layers; otherwise genomes are chains.
    layers : dict
        Layer kind (``dense``, ...) to its attributes' domains: attribute name (for ``dense``:
        ``units``, ``activation``, ``dropout``) to :class:`Choice` or :class:`Range`. New
        layers take a kind drawn uniformly among these (in this order).
    training_params : dict
        Training hyperparameter (``optimizer``, ``learning_rate``, ``l1``, ``l2``, ``batch_size``,
        ``max_epochs``, ``lr_schedule``, ``clip_norm``, ``shift``, ``warmup_epochs``,
        ``early_stopping``) and
        compression gene (``prune``, ``precision``, ``finetune_epochs``: the ``[compression]``
        section) to its :class:`Choice` or :class:`Range`.
    preprocessing : dict
        Preprocessing gene (``impute``, ``encode``, ``scale``, ``class_weight``) to its
        :class:`Choice` (see :mod:`evosearch.space.preprocessing`).
    source : str
        Where the space came from, used in error messages.

    Examples
    --------
    >>> space = SearchSpace.load("mlp")
    >>> space.min_layers <= space.max_layers
    True
    >>> sorted(space.to_dict()["training"])  # the optional genes are off in the preset
    ['batch_size', 'l1', 'l2', 'learning_rate', 'max_epochs', 'optimizer']
    """

    name: str
    description: str
    min_layers: int
    max_layers: int
    initial_layers: tuple[int, int]
    skip_connections: bool
    layers: dict[str, dict[str, Param]] = field(compare=True)
    training_params: dict[str, Param] = field(compare=True)
    source: str = field(default="<dict>", compare=False)
    preprocessing: dict[str, Choice] = field(
        default_factory=lambda: parse_preprocessing("<default>", {}, _parse_param)
    )

    @classmethod
    def load(cls, genome: str | Path) -> SearchSpace:
        """Load a preset by name (``"mlp"``) or a search space from a ``.toml`` path."""
        text = str(genome)
        presets = list_presets()
        if text in presets:
            return cls.from_toml(presets[text], source=f"{text} preset")
        path = Path(text)
        if path.suffix == ".toml" or path.exists():
            return cls.from_toml(path)
        raise SearchSpaceError(
            f"unknown genome {text!r}: expected a preset ({', '.join(presets) or 'none found'})"
            " or a path to a .toml file"
        )

    @classmethod
    def from_toml(cls, path: str | Path, source: str | None = None) -> SearchSpace:
        """Parse and validate a search space TOML file."""
        path = Path(path)
        source = source or str(path)
        try:
            with path.open("rb") as handle:
                data = tomllib.load(handle)
        except FileNotFoundError:
            raise SearchSpaceError(f"genome file not found: {path}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise SearchSpaceError(f"{source}: cannot read: {exc}") from None
        except tomllib.TOMLDecodeError as exc:
            raise SearchSpaceError(f"{source}: not valid TOML: {exc}") from None
        return cls.from_dict(data, source=source, default_name=path.stem)

    @classmethod
    def from_dict(
        cls, data: Any, source: str = "<dict>", default_name: str = "custom"
    ) -> SearchSpace:
        """Validate a dict shaped like the TOML file (as written by :meth:`to_dict`)."""
        data = _check_table(source, "", data, _TOP_LEVEL_KEYS)
        name = data.get("name", default_name)
        description = data.get("description", "")
        for key, value in (("name", name), ("description", description)):
            if not isinstance(value, str):
                raise _fail(source, key, f"expected a string, got {value!r}")
        architecture = _check_table(
            source, "architecture", data.get("architecture", {}), _ARCHITECTURE_KEYS
        )
        min_layers, max_layers, initial, skips = _parse_architecture(source, architecture)
        layers = _parse_layers(source, data.get("layers", {}))
        training = _check_table(source, "training", data.get("training", {}), _TRAINING_KEYS)
        training |= _check_table(
            source, "compression", data.get("compression", {}), COMPRESSION_KEYS
        )
        training_params = {
            key: _parse_param(
                source, f"{section_of(key)}.{key}", training.get(key, _DEFAULT_TRAINING[key]), rule
            )
            for key, rule in _TRAINING_RULES.items()
        }
        for key in sorted(set(IMAGE_ONLY_TRAINING) - unsearched(training_params)):
            if not any(get_layer_kind(kind).image_input for kind in layers):
                raise _fail(source, f"training.{key}", "moves images: needs image layers (conv2d)")
        section = _check_table(
            source, "preprocessing", data.get("preprocessing", {}), tuple(gene_names())
        )
        return cls(
            name=name,
            description=description,
            min_layers=min_layers,
            max_layers=max_layers,
            initial_layers=initial,
            skip_connections=skips,
            layers=layers,
            training_params=training_params,
            source=source,
            preprocessing=parse_preprocessing(source, section, _parse_param),
        )

    def to_dict(self) -> dict[str, Any]:
        """The space as a TOML-shaped dict (JSON-serialisable); :meth:`from_dict` reads it back."""
        return {
            "name": self.name,
            "description": self.description,
            "architecture": {
                "min_layers": self.min_layers,
                "max_layers": self.max_layers,
                "initial_layers": list(self.initial_layers),
                "skip_connections": self.skip_connections,
            },
            "layers": {
                kind: {k: p.to_toml_value() for k, p in params.items()}
                for kind, params in self.layers.items()
            },
            **{
                section: {
                    k: p.to_toml_value()
                    for k, p in self.training_params.items()
                    if section_of(k) == section and k not in unsearched(self.training_params)
                }
                for section in ("training", "compression")
                # An empty [compression] is left out: run.json as before it existed.
                if section == "training" or set(COMPRESSION_KEYS) - unsearched(self.training_params)
            },
            "preprocessing": {k: list(p.values) for k, p in self.preprocessing.items()},
        }

    @property
    def needs_image(self) -> bool:
        """Whether a layer kind of the space reads images (``conv2d``, ...): its genomes need
        data with an image shape."""
        return any(get_layer_kind(kind).image_input for kind in self.layers)

    def sample_layer(self, rng: np.random.Generator) -> dict[str, Value]:
        """Draw a new layer: ``{"kind": ..., **attributes}``.

        The kind is drawn uniformly among :attr:`layers` (no random number is drawn when there
        is only one), then each attribute from its domain in the kind's declared order.
        """
        kinds = list(self.layers)
        kind = kinds[int(rng.integers(len(kinds)))] if len(kinds) > 1 else kinds[0]
        return {"kind": kind, **{key: p.sample(rng) for key, p in self.layers[kind].items()}}

    def sample_training(self, rng: np.random.Generator) -> dict[str, Value]:
        """Draw a full set of training hyperparameters (optional genes that are off left out;
        a parameter with one value draws no random number)."""
        return without_off({key: param.sample(rng) for key, param in self.training_params.items()})


def _parse_architecture(source: str, table: dict) -> tuple[int, int, tuple[int, int], bool]:
    def integer(key: str, default: int) -> int:
        value = table.get(key, default)
        if not _is_number(value) or int(value) != value:
            raise _fail(source, f"architecture.{key}", f"expected an integer, got {value!r}")
        return int(value)

    min_layers = integer("min_layers", 0)
    max_layers = integer("max_layers", max(4, min_layers))
    if min_layers < 0:
        raise _fail(source, "architecture.min_layers", f"must be >= 0, got {min_layers}")
    if max_layers > 64:
        raise _fail(source, "architecture.max_layers", f"must be <= 64, got {max_layers}")
    if max_layers < min_layers:
        raise _fail(
            source,
            "architecture.max_layers",
            f"max_layers ({max_layers}) is below min_layers ({min_layers}): no genome fits",
        )
    initial = table.get(
        "initial_layers", [max(min_layers, min(1, max_layers)), min(max_layers, max(min_layers, 2))]
    )
    if (
        not isinstance(initial, list)
        or len(initial) != 2
        or not all(_is_number(v) and int(v) == v for v in initial)
    ):
        raise _fail(source, "architecture.initial_layers", f"expected [low, high], got {initial!r}")
    low, high = int(initial[0]), int(initial[1])
    if not min_layers <= low <= high <= max_layers:
        raise _fail(
            source,
            "architecture.initial_layers",
            f"[{low}, {high}] must be an ordered range inside [{min_layers}, {max_layers}]",
        )
    skips = table.get("skip_connections", True)
    if not isinstance(skips, bool):
        raise _fail(
            source, "architecture.skip_connections", f"expected true or false, got {skips!r}"
        )
    return min_layers, max_layers, (low, high), skips


def _parse_layers(source: str, table: Any) -> dict[str, dict[str, Param]]:
    """``[layers.<kind>]`` sections -> kind -> attribute -> domain (file order; ``dense`` with
    its default domains when there is none)."""
    table = _check_table(source, "layers", table, tuple(layer_kinds()))
    layers: dict[str, dict[str, Param]] = {}
    for name in table or {DEFAULT_LAYER_KIND: {}}:
        kind = get_layer_kind(name)
        prefix = f"layers.{name}"
        section = _check_table(source, prefix, table.get(name, {}), kind.attribute_names())
        layers[name] = {
            attribute.name: _parse_param(
                source,
                f"{prefix}.{attribute.name}",
                section.get(attribute.name, _attribute_domain(attribute)),
                _attribute_rule(attribute),
            )
            for attribute in kind.attributes
        }
    return layers
