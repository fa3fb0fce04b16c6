"""The one registry class behind every extension point: lookup, refusals, plug-ins on a miss."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from evosearch.cli import main
from evosearch.deploy import EXPORT_FORMATS, ONNX_LAYERS
from evosearch.errors import EvosearchError, SettingsError
from evosearch.evaluation.backends import BACKENDS, LocalBackend
from evosearch.nn.layers import LAYER_KINDS
from evosearch.objectives import OBJECTIVES, Objective, Params
from evosearch.preprocess import PREPROCESS_GENES
from evosearch.registry import Registry, UnknownNameError
from evosearch.search.strategies import NSGA2, STRATEGIES, Strategy


class Shape:
    """A toy contract."""

    name = ""


class Square(Shape):
    name = "square"


class Circle(Shape):
    name = "circle"


def shapes(**options: object) -> Registry[type[Shape]]:
    registry: Registry[type[Shape]] = Registry("shape", base=Shape, **options)  # type: ignore[arg-type]
    registry.register(Square)
    registry.register(Circle)
    return registry


# --------------------------------------------------------------------------- registering
def test_names_come_from_the_entries_and_keep_registration_order() -> None:
    registry = shapes()

    @registry.register
    class Triangle(Shape):
        name = "triangle"

    assert Triangle.name == "triangle"  # the decorator hands the class back
    assert registry.names() == ["square", "circle", "triangle"]
    assert list(registry) == registry.names() and len(registry) == 3
    assert registry.items()[0] == ("square", Square)
    assert registry.as_dict() == {"square": Square, "circle": Circle, "triangle": Triangle}
    assert "circle" in registry and "oval" not in registry and ["x"] not in registry


def test_an_explicit_name_wins_and_registering_again_replaces_in_place() -> None:
    registry = shapes()
    registry.register(Circle, name="round")
    registry.register(Square, name="circle")
    assert registry.names() == ["square", "circle", "round"]
    assert registry.get("circle") is Square


def test_the_contract_is_checked() -> None:
    registry = shapes()
    with pytest.raises(TypeError, match="is not a Shape subclass"):
        registry.register(int)
    with pytest.raises(TypeError, match="non-empty str"):
        registry.register(Shape)  # no name
    with pytest.raises(TypeError, match="is not a Objective"):
        OBJECTIVES.register(Square)


def test_an_instance_registry_instantiates_classes() -> None:
    registry: Registry[Shape] = Registry("shape", base=Shape, instances=True)
    assert registry.register(Square) is Square
    assert isinstance(registry.get("square"), Square)


def test_the_validation_hook_refuses_what_the_base_class_cannot() -> None:
    def only_round(name: str, entry: type[Shape]) -> None:
        if entry is not Circle:
            raise ValueError(f"{name!r} is not round")

    registry: Registry[type[Shape]] = Registry("shape", base=Shape, validate=only_round)
    registry.register(Circle)
    with pytest.raises(ValueError, match="'square' is not round"):
        registry.register(Square)
    assert registry.names() == ["circle"]

    class Flat(Params):
        name = "flat"
        direction = 0

    with pytest.raises(TypeError, match="direction must be"):
        OBJECTIVES.register(Flat)
    assert "flat" not in OBJECTIVES


def test_a_registry_without_replacement_refuses_a_second_entry_under_a_name() -> None:
    class Other(LocalBackend):
        """Another local backend."""

    BACKENDS.register(LocalBackend)  # the same class again: fine
    with pytest.raises(ValueError, match="a backend named 'local' is registered already"):
        BACKENDS.register(Other)
    assert BACKENDS.get("local") is LocalBackend


def test_scratch_undoes_its_registrations() -> None:
    before = STRATEGIES.names()
    with STRATEGIES.scratch():

        class Steady(NSGA2):
            """A toy."""

            name = "steady"

        STRATEGIES.register(Steady)
        STRATEGIES.unregister("aging")
        # (toy plug-ins other test modules registered may follow the built-ins)
        assert STRATEGIES.names() == [n for n in before if n != "aging"] + ["steady"]
    assert STRATEGIES.names() == before


# --------------------------------------------------------------------------- looking up
def test_an_unknown_name_is_one_line_with_the_choices_and_the_closest() -> None:
    registry = shapes(error=SettingsError)
    with pytest.raises(SettingsError) as refused:
        registry.get("squar")
    assert str(refused.value) == (
        "unknown shape 'squar': choose from square, circle (did you mean 'square'?)"
    )
    assert registry.unknown("hexagon") == "unknown shape 'hexagon': choose from square, circle"
    assert registry.find("hexagon") is None
    assert Registry("shape").unknown("x") == "unknown shape 'x': none registered"


def test_the_default_error_is_a_key_error_printed_as_its_line() -> None:
    with pytest.raises(KeyError) as refused:
        shapes().get(["unhashable"])
    assert isinstance(refused.value, (UnknownNameError, EvosearchError))
    assert str(refused.value) == "unknown shape ['unhashable']: choose from square, circle"


def test_aliases_are_read_as_todays_name_and_cannot_be_registered() -> None:
    assert OBJECTIVES.get("n_params") is OBJECTIVES.get("params")
    assert OBJECTIVES.find("n_params") is OBJECTIVES.get("params")
    assert "n_params" in OBJECTIVES and OBJECTIVES.canonical("n_params") == "params"

    class Old(Params):
        name = "n_params"

    with pytest.raises(TypeError, match="non-empty str"):
        OBJECTIVES.register(Old)
    assert isinstance(OBJECTIVES.get("params"), Objective)


def test_a_miss_loads_the_plugins_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    module = f"registry_plugin_{uuid.uuid4().hex}"  # a name no earlier test loaded
    (tmp_path / f"{module}.py").write_text(
        "from evosearch.search.strategies import NSGA2, register_strategy\n\n\n"
        "@register_strategy\n"
        "class Steady(NSGA2):\n"
        '    """A toy strategy of a plug-in module."""\n\n'
        '    name = "steady"\n',
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("EVOSEARCH_PLUGINS", module)
    with STRATEGIES.scratch():
        assert "steady" not in STRATEGIES  # looking at the registry loads nothing
        steady = STRATEGIES.get("steady")
        assert issubclass(steady, Strategy) and steady.__module__ == module
        assert STRATEGIES.names()[-1] == "steady"
    assert "steady" not in STRATEGIES


def test_a_plugin_module_that_fails_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    module = f"no_such_plugin_{uuid.uuid4().hex}"
    monkeypatch.setenv("EVOSEARCH_PLUGINS", module)
    with pytest.raises(EvosearchError, match=f"cannot import plug-in module '{module}'"):
        STRATEGIES.get("steady")


# --------------------------------------------------------------------------- every registry
@pytest.mark.parametrize(
    ("registry", "error"),
    [
        (LAYER_KINDS, KeyError),
        (OBJECTIVES, SettingsError),
        (STRATEGIES, SettingsError),
        (BACKENDS, SettingsError),
        (EXPORT_FORMATS, SettingsError),
        (PREPROCESS_GENES, KeyError),
        (ONNX_LAYERS, SettingsError),
    ],
    ids=lambda value: getattr(value, "kind", ""),
)
def test_every_registry_refuses_a_name_in_the_same_one_line_shape(
    registry: Registry[object], error: type[Exception]
) -> None:
    first = registry.names()[0]
    typo = first[:-1]
    with pytest.raises(error) as refused:
        registry.get(typo)
    line = str(refused.value)
    assert line.startswith(f"unknown {registry.kind} {typo!r}: choose from {first}, "), line
    assert f"(did you mean '{first}'" in line and "\n" not in line


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (
            ["--strategy", "nsga3"],
            "unknown strategy 'nsga3': choose from nsga2, aging, random",
        ),
        (
            ["--backend", "dsk"],
            "unknown backend 'dsk': choose from local, dask (did you mean 'dask'?)",
        ),
        (
            ["--objectives", "score,parms"],
            # toy plug-ins other test modules registered may follow the built-ins
            "unknown objective 'parms': choose from score, params, bytes, flops, latency",
        ),
    ],
)
def test_the_command_line_refuses_an_unknown_name_in_one_line(
    argv: list[str],
    expected: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("EVOSEARCH_PLUGINS", raising=False)
    try:
        status = main(["evolve", *argv, "--out", str(tmp_path / "run")])
    except SystemExit as stop:  # argparse's refusal
        status = int(stop.code or 0)
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1 and err.startswith("evosearch: error: "), err
    assert expected in err and "(did you mean '" in err, err
    assert not (tmp_path / "run").exists()
