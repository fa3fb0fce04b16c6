"""Options are taken only as written: no command accepts an abbreviation of a long option.

argparse's prefix matching read ``--schedule async`` as ``--scheduler async``; every parser is
made with ``allow_abbrev=False`` now, which this walks over every command.
"""

from __future__ import annotations

import argparse

import pytest

from evosearch.cli._parser import EXIT_USAGE, build_parser
from evosearch.cli.main import main


def commands() -> dict[str, argparse.ArgumentParser]:
    """Every command's parser by name, the top-level parser under ``""``."""
    parser = build_parser()
    found = {"": parser}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            found.update(action.choices)
    return found


def abbreviations(parser: argparse.ArgumentParser) -> list[tuple[str, str]]:
    """``(option, abbreviation)`` for each long option: its name less its last letter, where
    that is no option of its own."""
    options = {o for action in parser._actions for o in action.option_strings}
    pairs = []
    for option in sorted(options):
        short = option[:-1]
        if option.startswith("--") and len(short) > 3 and short not in options:
            pairs.append((option, short))
    return pairs


def required(parser: argparse.ArgumentParser) -> list[str]:
    """Arguments that satisfy the command's required positionals and options."""
    words: list[str] = []
    for action in parser._actions:
        if not action.option_strings and not isinstance(action, argparse._SubParsersAction):
            words.append("1")
        elif action.required and action.option_strings:
            words += [action.option_strings[0], "1"]
    return words


def test_every_command_has_options_to_check() -> None:
    found = commands()
    assert {"evolve", "resume", "export", "report", "predict"} <= set(found)
    assert all(parser.allow_abbrev is False for parser in found.values())


@pytest.mark.parametrize("name", sorted(commands()))
def test_an_abbreviated_option_is_refused(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    top = build_parser()
    parser = commands()[name]
    for option, short in abbreviations(parser):
        # The top-level parser's options go before a command (any will do).
        argv = [name, *required(parser), short] if name else [short, "genomes"]
        with pytest.raises(SystemExit) as stopped:
            top.parse_args(argv)
        assert stopped.value.code == EXIT_USAGE, (option, argv)
        err = capsys.readouterr().err
        assert f"unrecognized arguments: {short}" in err, (option, err)
        assert len(err.strip().splitlines()) == 1, err


def test_schedule_is_not_read_as_scheduler(capsys: pytest.CaptureFixture[str]) -> None:
    # The report's case: no traceback from distributed, one line naming what was not known.
    status = main(["evolve", "--backend", "dask", "--schedule", "async"])
    assert status == EXIT_USAGE
    err = capsys.readouterr().err.strip()
    assert err.startswith("evosearch: error: unrecognized arguments: --schedule async")
    assert len(err.splitlines()) == 1
