"""`evosearch plugins` lists every registry's names, plug-ins marked; a closed standard output
ends any command quietly (a run says how to continue)."""

from __future__ import annotations

from pathlib import Path

import pytest

from clitools import assert_clean, evosearch, evosearch_reader_leaves
from evosearch.deploy import format_names, get_format
from evosearch.evaluation import backend_names, get_backend
from evosearch.nn.layers import layer_kinds
from evosearch.objectives import get_objective, objective_names
from evosearch.search.strategies import get_strategy, strategy_names

TESTS = Path(__file__).parent

REGISTRIES = {
    "layer kinds": lambda: list(layer_kinds().items()),
    "objectives": lambda: [(name, get_objective(name)) for name in objective_names()],
    "strategies": lambda: [(name, get_strategy(name)) for name in strategy_names()],
    "backends": lambda: [(name, get_backend(name)) for name in backend_names()],
    "export formats": lambda: [(name, get_format(name)) for name in format_names()],
}


def _built_in(entry: object) -> bool:
    """Defined by evosearch itself: other test modules of this process may have registered
    toy plug-ins, which the command (a fresh process) does not load."""
    cls = entry if isinstance(entry, type) else type(entry)
    return cls.__module__.startswith("evosearch.")


def _sections(stdout: str) -> dict[str, dict[str, str]]:
    """Per section title (before its parenthesis), each name's text (wrapped lines joined)."""
    sections: dict[str, dict[str, str]] = {}
    rows: dict[str, str] = {}
    name = ""
    for line in stdout.splitlines():
        if line and not line.startswith(" "):
            rows = sections.setdefault(line.split(" (")[0], {})
        elif line.startswith("  ") and not line.startswith("   "):
            name, _, text = line.strip().partition("  ")
            rows[name] = text.strip()
        elif line.strip():
            rows[name] += " " + line.strip()
    return sections


@pytest.fixture(scope="module")
def listed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, str]]:
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("EVOSEARCH_PLUGINS", raising=False)  # the built-ins alone
        result = evosearch("plugins", cwd=tmp_path_factory.mktemp("plugins"))
    assert result.returncode == 0, result.stderr
    assert_clean(result)
    assert result.stderr == ""
    return _sections(result.stdout)


@pytest.mark.parametrize("title", REGISTRIES)
def test_every_registered_name_is_listed_with_its_description(listed, title):
    names = [name for name, entry in REGISTRIES[title]() if _built_in(entry)]
    assert names, title
    assert list(listed[title]) == list(names)
    for name, text in listed[title].items():
        assert len(text) > 10, (name, text)  # the docstring's first paragraph
        assert "``" not in text and "[plug-in" not in text, (name, text)


def test_plugin_modules_are_named_next_to_what_they_register(tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(TESTS))
    monkeypatch.setenv("EVOSEARCH_PLUGINS", "toy_objective,toy_layer")
    result = evosearch("plugins", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    listed = _sections(result.stdout)
    assert listed["objectives"]["depth"].endswith("[plug-in toy_objective]")
    assert listed["layer kinds"]["wave"].endswith("[plug-in toy_layer]")
    assert "[plug-in" not in listed["objectives"]["score"]


def test_a_reader_that_goes_away_ends_the_command_quietly(tmp_path):
    closed = evosearch_reader_leaves("plugins", cwd=tmp_path)  # nobody reads at all
    assert closed.returncode == 1
    assert closed.stderr == "", closed.stderr


def test_a_broken_pipe_that_is_not_standard_output_stays_an_error(monkeypatch):
    import evosearch.cli.genomes
    from evosearch.cli import main

    def fails(args):
        raise BrokenPipeError("a plug-in's socket")

    monkeypatch.setattr(evosearch.cli.genomes, "run", fails)
    with pytest.raises(BrokenPipeError, match="plug-in's socket"):
        main(["genomes"])


@pytest.mark.slow
def test_a_run_whose_output_is_closed_stops_and_says_how_to_continue(tmp_path):
    run = ("evolve", "--data", "iris", "--population", "4", "--generations", "2", "--n-jobs", "1")
    closed = evosearch_reader_leaves(*run, "--out", "run", cwd=tmp_path, lines=1)  # `| head -1`
    assert closed.stdout.startswith("evolving mlp genomes on iris")
    assert closed.returncode == 1
    stderr = closed.stderr
    assert stderr.strip().endswith("continue with: evosearch resume run"), stderr
    assert "Traceback" not in stderr
    resumed = evosearch("resume", "run", "--quiet", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert_clean(resumed)
    assert (tmp_path / "run" / "archive.json").is_file()
