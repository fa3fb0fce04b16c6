"""The argument parser of every command, and its argument types.

Arguments are only parsed here; each command's module (:mod:`evosearch.cli.evolve`, ...) acts
on them. Errors are one line, ``evosearch: error: ...``, exit status 2, like every other error.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from evosearch.cli.dashboard import add_dashboard_parser
from evosearch.search.settings import SETTINGS, Setting

__all__ = ["EXIT_USAGE", "build_parser"]

EXIT_USAGE = 2


#: The lines closing each command's ``--help`` (the top-level one's under ``""``), by command.
EXAMPLES = {
    "": [
        "evosearch evolve --data iris --generations 10     # a search; writes runs/<id>",
        "evosearch show runs/<id>                          # its settings and archive",
        "evosearch COMMAND --help                          # a command's options, examples",
    ],
    "evolve": [
        "evosearch evolve --genome mlp --generations 50                 # digits, every core",
        "evosearch evolve --data my.csv --target label --na-values '?'  # a table",
        "evosearch evolve --genome cnn --data images.npz --max-time 3600",
        "evosearch evolve --objectives score,bytes --genome mlp-compressed --out runs/small",
    ],
    "resume": [
        "evosearch resume runs/<id>                        # continue a killed run",
        "evosearch resume runs/<id> --generations 80       # extend it to 80 generations in all",
        "evosearch resume runs/<id> --backend local --n-jobs 2",
    ],
    "show": [
        "evosearch show runs/<id>",
        "evosearch show runs/<id> | less",
    ],
    "export": [
        "evosearch export runs/<id>                        # the most accurate member, joblib",
        "evosearch export runs/<id> --member 3 --out my-model",
        "evosearch export runs/<id> --ensemble             # the run's ensemble (--ensemble)",
        "evosearch export runs/<id> --bag-folds --format onnx  # averaged refits of the folds",
    ],
    "ensemble": [
        "evosearch ensemble runs/<id>                      # rebuild RUN/ensemble.json",
        "evosearch ensemble runs/<id> --max-members 3 --max-bytes 100000",
    ],
    "replay": [
        "evosearch replay runs/<id> --generation 12        # show generation 12",
        "evosearch replay runs/<id> --generation 12 --evaluate",
        "evosearch replay runs/<id> --generation 12 --continue-to runs/branch --seed 7",
    ],
    "report": [
        "evosearch report runs/<id>                        # plots + report.html in RUN/report",
        "evosearch report runs/a runs/b --out compare      # compare runs",
    ],
    "predict": [
        "evosearch predict my-model new.csv                # predictions on standard output",
        "evosearch predict my-model new.csv --out predictions.csv --proba",
    ],
    "calibrate": [
        "evosearch calibrate --out lab.json                # measure, save to a model file",
        "evosearch evolve --objectives score,latency --latency-model lab.json",
        "evosearch calibrate --show                        # this machine's cached model",
        "evosearch calibrate --clear                       # forget it; the next run measures",
    ],
    "genomes": [
        "evosearch genomes",
        "evosearch evolve --genome cnn",
    ],
    "plugins": [
        "evosearch plugins",
        "EVOSEARCH_PLUGINS=my_objectives evosearch plugins   # did my plug-in register?",
    ],
    "dashboard": [
        "evosearch dashboard                               # the runs under runs/, live",
        "evosearch dashboard experiments/ --port 8800",
    ],
}

#: In a help text, where the names a registry holds go (see :class:`_HelpFormatter`).
NAMES = "{names}"


def _names(kind: str) -> str:
    """The names registered as ``kind`` (a key of :data:`evosearch.cli.plugins.REGISTRIES`, or
    ``preset``), plug-ins included: imported only when a help text is shown."""
    if kind == "preset":
        from evosearch.space._presets import list_presets

        return ", ".join(sorted(list_presets()))
    from evosearch.cli.plugins import registry

    found = registry(kind)
    if kind == "export format":  # each with its one line
        return "; ".join(
            f"{name}: {fmt.description}"
            + (f" (pip install 'evosearch[{fmt.extra}]')" * bool(fmt.extra))
            for name, fmt in found.items()
        )
    return ", ".join(found.names())


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Help whose examples keep their lines, and whose registry-backed options list the names
    registered (``{names}`` in the help text; the option's ``registered`` attribute names the
    registry). The registries are imported only here, so parsing stays light."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = super()._get_help_string(action) or ""
        kind = getattr(action, "registered", None)
        if kind is not None and NAMES in text:
            text = text.replace(NAMES, _names(kind).replace("%", "%%"))
        return text


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line, like every other error of ours, whose
    ``--help`` ends with examples (:data:`EXAMPLES`), and which takes options only as written
    (every command's parser is one: ``add_subparsers(parser_class=_Parser)``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _HelpFormatter)
        # No abbreviations: argparse would read --schedule as --scheduler, and an option
        # added later could silently change what an abbreviation in a script means.
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)
        command = self.prog.removeprefix("evosearch").strip()
        if self.epilog is None and command in EXAMPLES:
            self.epilog = "examples:\n" + "\n".join(f"  {line}" for line in EXAMPLES[command])

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"evosearch: error: {message} (see '{self.prog} --help')\n")


def _count(low: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
        return value

    return parse


def _registered(what: str) -> Callable[[str], str]:
    """An argparse type accepting the names of the registry of ``what`` (plug-ins included).

    ``what`` is a registry's kind (``strategy``, ``backend``, ... : a key of
    :data:`evosearch.cli.plugins.REGISTRIES`). The registry is imported only when the option is
    parsed (``--help`` stays fast), and a name it does not know gets the registry's own
    one-line refusal.
    """

    def check(text: str) -> str:
        from evosearch.cli.plugins import registry
        from evosearch.errors import EvosearchError

        try:
            registry(what).get(text)
        except EvosearchError as exc:  # every registry's refusal: SettingsError, UnknownNameError
            raise argparse.ArgumentTypeError(str(exc)) from None
        return text

    check.__name__ = what
    return check


def _setting_type(row: Setting) -> Callable[[str], Any]:
    """An argparse type of a setting: its text parsed and checked by its row of the table."""

    def parse(text: str) -> Any:
        from evosearch.errors import EvosearchError

        try:
            return row.from_text(text)
        except EvosearchError as exc:  # e.g. SettingsError naming the setting
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = row.name
    return parse


#: Settings whose values are names a registry holds: (the registry, how the help lists them).
_REGISTERED = {
    "genome": ("preset", "presets"),
    "strategy": ("strategy", "one of"),
    "backend": ("backend", "one of"),
    "objectives": ("objective", "any of"),
}


def _add_setting_options(
    command: argparse.ArgumentParser,
    rows: list[Setting],
    *,
    overriding: str | None,
    prefix: str = "",
) -> None:
    """One option per row of the settings table (:mod:`evosearch.search.settings`).

    With ``overriding`` (resume, replay) every default is None, "the run's setting", and the
    help says so; else the table's default is the option's.
    """
    for row in rows:
        assert row.flag is not None
        default = None if overriding is not None else row.default
        shown = "none" if row.default is None else row.default
        if isinstance(shown, tuple):
            shown = ",".join(map(str, shown)) or "none"
        note = f" (default: {overriding})" if overriding is not None else f" (default: {shown})"
        if "default" in row.help and overriding is None:
            note = ""  # the help says it better
        text = prefix + row.help + note
        registered = _REGISTERED.get(row.name)
        if registered is not None:
            text = prefix + row.help + f"; {registered[1]}: {NAMES}" + note
        if row.switch:
            command.add_argument(
                row.flag, action=argparse.BooleanOptionalAction, default=default, help=text
            )
        elif row.repeat:
            # None, not the table's (), when not given: argparse appends to a copy of the default.
            command.add_argument(
                row.flag, action="append", default=None, metavar=row.metavar, help=text
            )
        else:
            # The genome is checked (its file read) with the other settings, not while parsing.
            if row.name == "genome":
                action = command.add_argument(
                    row.flag, default=default, metavar=row.metavar, help=text
                )
            else:
                action = command.add_argument(
                    row.flag,
                    type=_setting_type(row),
                    default=default,
                    metavar=row.metavar,
                    help=text,
                )
            if registered is not None:
                action.registered = registered[0]  # type: ignore[attr-defined]


def _columns(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"expected comma-separated column names, got {text!r}")
    return names


def _text_option(check: str) -> Callable[[str], str]:
    """An argparse type for ``--sep`` / ``--decimal``: the text checked by
    :mod:`evosearch.data.files` (``check_sep`` turns ``tab`` into a tab)."""

    def parse(text: str) -> str:
        from evosearch.data import files
        from evosearch.errors import DataError

        try:
            value = getattr(files, check)(text)
        except DataError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        return str(value)

    parse.__name__ = check.removeprefix("check_")
    return parse


def _add_table_options(command: argparse.ArgumentParser) -> None:
    """How a table is read: separator, decimal mark, missing-value markers, column kinds,
    groups, weights."""
    command.add_argument(
        "--sep",
        type=_text_option("check_sep"),
        metavar="CHAR",
        help="separator of a .csv/.tsv file: , ; | or tab (default: sniffed among them; .tsv: tab)",
    )
    command.add_argument(
        "--decimal",
        type=_text_option("check_decimal"),
        metavar="MARK",
        help="decimal mark of a .csv/.tsv file: . or , (default: . in comma-separated text, "
        "else sniffed: , where most numbers read 1,5)",
    )
    command.add_argument(
        "--na-values",
        type=_columns,
        default=[],
        metavar="TEXTS",
        help="comma-separated cell texts meaning 'missing', e.g. '?' (besides empty, NA, NaN)",
    )
    command.add_argument(
        "--categorical", type=_columns, default=[], metavar="COLS", help="columns to treat as "
        "categorical (default: inferred; text columns are categorical)",
    )  # fmt: skip
    command.add_argument(
        "--numeric", type=_columns, default=[], metavar="COLS", help="columns to treat as numeric"
    )
    command.add_argument(
        "--drop", type=_columns, default=[], metavar="COLS", help="columns to leave out (an ID, "
        "a name); predict ignores them in a new table too",
    )  # fmt: skip
    command.add_argument(
        "--groups",
        metavar="COLUMN",
        help="column of group labels: cross-validation folds never split a group",
    )
    command.add_argument(
        "--sample-weight",
        metavar="COLUMN",
        help="column of row weights, used in the loss and the score",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="evosearch",
        description="Evolve neural-network architectures on a Pareto front of accuracy and size.",
    )
    from evosearch import __version__

    parser.add_argument("--version", action="version", version=f"evosearch {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    evolve = commands.add_parser("evolve", help="run a search and write a run folder")
    evolve.add_argument(
        "--data",
        default="digits",
        help="digits (default), iris, wine, breast_cancer, diabetes, or the path of a data "
        "file: .csv, .tsv (either also .gz, .bz2, .xz, .zip), .parquet, .xlsx, .npz",
    )
    evolve.add_argument("--target", help="target column of a table (default: the last)")
    _add_table_options(evolve)
    evolve.add_argument("--quiet", action="store_true", help="print only the final summary")
    _add_setting_options(evolve, [row for row in SETTINGS if row.flag], overriding=None)

    resume = commands.add_parser(
        "resume", help="continue a run from its folder (after a kill, or to extend it)"
    )
    resume.add_argument("run", type=Path, help="the run folder")
    resume.add_argument("--quiet", action="store_true", help="print only the final summary")
    _add_setting_options(
        resume, [row for row in SETTINGS if row.flag and row.resume], overriding="the run's"
    )

    show = commands.add_parser("show", help="settings, progress and archive of a run")
    show.add_argument("run", type=Path, help="the run folder")
    show.add_argument(
        "--sizes",
        action="store_true",
        help="add the deployed sizes (onnx, python, joblib) of the best and knee members beside "
        "their bytes objective: a quick fit and export of each into a temporary folder",
    )

    export = commands.add_parser(
        "export", help="refit an archive member on all data and save it as a deployable model"
    )
    export.add_argument("run", type=Path, help="the run folder")
    which = export.add_mutually_exclusive_group()
    which.add_argument("--member", type=_count(0), help="archive index as `show` numbers it")
    which.add_argument("--best", action="store_true", help="the most accurate member (default)")
    which.add_argument(
        "--ensemble",
        action="store_true",
        help="the run's most accurate ensemble (RUN/ensemble.json, of a run evolved with "
        "--ensemble), its members refit (default folder: RUN/models/ensemble)",
    )
    export.add_argument(
        "--bag-folds",
        action="store_true",
        help="the member as one refit per CV fold network, averaged (k times the refit's "
        "time and bytes; about half a point more held-back accuracy on average on tables "
        "under 10,000 rows; the best member of a run evolved with --bag-folds is exported so "
        "without it)",
    )
    export.add_argument("--out", type=Path, help="folder (default: RUN/models/member-K)")
    export.add_argument(
        "--format",
        type=_registered("export format"),
        default="joblib",
        metavar="NAME",
        help=f"model format (default: joblib); {NAMES}",
    ).registered = "export format"  # type: ignore[attr-defined]
    export.add_argument(
        "--input-dtype",
        choices=["float32", "float64"],
        help="onnx only: the numeric inputs' type (default: float32, what most ONNX runtimes "
        "feed; float64 preprocesses as scikit-learn does, to the last bit)",
    )

    ensemble = commands.add_parser(
        "ensemble", help="build a run's ensemble front again (a run evolved with --ensemble)"
    )
    ensemble.add_argument("run", type=Path, help="the run folder")
    ensemble.add_argument(
        "--max-members", type=_count(1), metavar="K", help="at most K distinct models per ensemble"
    )
    ensemble.add_argument(
        "--max-bytes",
        type=_count(1),
        metavar="B",
        help="at most B bytes of weights summed over an ensemble's models",
    )
    ensemble.add_argument(
        "--rounds", type=_count(1), default=50, metavar="N", help="greedy rounds (default: 50)"
    )

    replay = commands.add_parser(
        "replay", help="show, re-evaluate or continue from a recorded generation"
    )
    replay.add_argument("run", type=Path, help="the run folder")
    replay.add_argument("--generation", type=_count(0), required=True, help="generation K")
    replay.add_argument(
        "--evaluate", action="store_true", help="re-evaluate it and compare with the record"
    )
    replay.add_argument("--continue-to", type=Path, help="new run folder to evolve into")
    replay.add_argument("--data", help="for --continue-to: other data (name or path)")
    replay.add_argument("--target", help="for --continue-to with a CSV")
    replay.add_argument("--quiet", action="store_true", help="no per-generation rows")
    _add_setting_options(
        replay,
        [row for row in SETTINGS if row.flag and row.replay],
        overriding="the run's; --n-jobs also for --evaluate",
        prefix="for --continue-to: ",
    )

    report = commands.add_parser(
        "report",
        help="write plots and a self-contained HTML report of a run, or compare several runs",
    )
    report.add_argument(
        "run",
        type=Path,
        nargs="+",
        metavar="RUN",
        help="the run folder (finished or still running); two or more: compare them",
    )
    report.add_argument(
        "--out",
        type=Path,
        help="output folder (default: RUN/report; for several runs runs/compare-<time>)",
    )
    report.add_argument(
        "--sizes",
        action="store_true",
        help="one run: add the deployed sizes of the best, knee and smallest members",
    )

    predict = commands.add_parser(
        "predict", help="apply an exported model to a CSV table (same raw columns)"
    )
    predict.add_argument("model", type=Path, help="an exported model folder (evosearch export)")
    predict.add_argument("data", type=Path, help="CSV file with the model's feature columns")
    predict.add_argument("--out", type=Path, help="CSV file to write (default: standard output)")
    predict.add_argument(
        "--proba", action="store_true", help="also write one probability column per class"
    )
    predict.add_argument(
        "--keep",
        type=_columns,
        metavar="COLS",
        help="comma-separated columns of the table (e.g. an ID) copied in front of the predictions",
    )

    add_dashboard_parser(commands)
    from evosearch.cli.calibrate import add_command as add_calibrate

    add_calibrate(commands, _count(1))
    commands.add_parser("genomes", help="list the bundled genome presets")
    commands.add_parser(
        "plugins",
        help="list layer kinds, objectives, strategies, backends and export formats, plug-ins "
        "included",
    )
    return parser
