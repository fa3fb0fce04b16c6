"""``evosearch COMMAND --help``: examples at the end, a description for every option, the names
of registry-backed options from the registries (plug-ins included), and a light top level."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import textwrap

import pytest

from evosearch.cli import main
from evosearch.cli._parser import EXAMPLES, build_parser
from evosearch.search.strategies import NSGA2, STRATEGIES


def _commands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def _help(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main([*argv, "--help"]) == 0
    return capsys.readouterr().out


def test_every_command_has_examples() -> None:
    assert set(_commands()) | {""} == set(EXAMPLES)
    for name, lines in EXAMPLES.items():
        assert 2 <= len(lines) <= 4, name
        assert all(line.startswith(("evosearch ", "EVOSEARCH_")) for line in lines), name


@pytest.mark.parametrize("command", sorted(EXAMPLES))
def test_help_ends_with_the_examples(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    text = _help(capsys, *([command] if command else []))
    tail = text.rstrip().splitlines()[-len(EXAMPLES[command]) - 1 :]
    assert tail[0] == "examples:"
    assert [line.strip() for line in tail[1:]] == EXAMPLES[command]


def test_every_option_has_a_description() -> None:
    for name, command in _commands().items():
        for action in command._actions:
            assert action.help and action.help.strip(), (name, action.option_strings)


def test_registered_names_are_listed_plug_ins_included(capsys: pytest.CaptureFixture[str]) -> None:
    class Greedy(NSGA2):
        """A strategy a plug-in registered."""

        name = "greedyplug"

    with STRATEGIES.scratch():
        STRATEGIES.register(Greedy)
        text = " ".join(_help(capsys, "evolve").split())
    # Other tests of the same worker may have registered their toy plug-ins too.
    assert re.search(r"one of: nsga2, aging, random(, [\w-]+)*, greedyplug", text)
    assert re.search(r"any of: score, params, bytes, flops, latency\b", text)
    assert re.search(r"one of: local, dask\b", text)
    assert "presets: cnn, cnn-compressed, mlp, mlp-compressed" in text
    assert "greedyplug" not in " ".join(_help(capsys, "evolve").split())
    export = " ".join(_help(capsys, "export").split())
    assert "joblib: " in export and "onnx: " in export and "python: " in export


def test_resume_says_generations_is_the_new_total(capsys: pytest.CaptureFixture[str]) -> None:
    text = " ".join(_help(capsys, "resume").split())
    assert "--generations N generations of children" in text and "the new total" in text


def test_the_real_command_prints_examples_and_the_top_level_stays_light() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "evosearch.cli", "show", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and "examples:\n  evosearch show runs/<id>" in done.stdout
    script = textwrap.dedent(
        """
        import sys
        from evosearch.cli._parser import build_parser
        build_parser().format_help()
        heavy = [m for m in ("numpy", "sklearn", "evosearch.nn", "evosearch.search.strategies")
                 if m in sys.modules]
        print(heavy)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0 and done.stdout.strip() == "[]", done.stdout + done.stderr
