"""The argument parser of every command, and its argument types.

Arguments are only parsed here; each command's module (:mod:`evosearch.cli.evolve`, ...) acts
on them. Errors are one line, ``evosearch: error: ...``, exit status 2, like every other error.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

__all__ = ["EXIT_USAGE", "build_parser"]

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line, like every other error of ours."""

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


def _n_jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value == 0 or value < -1:
        raise argparse.ArgumentTypeError(f"must be a positive integer or -1, got {value}")
    return value


def _positive(allow_none: bool = False):
    """A positive number of seconds or MB (``none`` too where ``allow_none``)."""

    def parse(text: str) -> float | None:
        if allow_none and text.strip().lower() in ("none", "off"):
            return None
        try:
            value = float(text)
        except ValueError:
            expected = "a number" + (" or 'none'" if allow_none else "")
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        if not 0 < value < float("inf"):
            raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
        return value

    return parse


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a fraction, got {text!r}") from None
    if not 0 < value <= 0.5:
        raise argparse.ArgumentTypeError(f"must be a fraction in (0, 0.5], got {text}")
    return value


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


def _add_backend_options(command: argparse.ArgumentParser, resume: bool) -> None:
    """--backend and --scheduler (dask.distributed itself is only imported when asked for)."""
    default = " (default: the run's setting)" if resume else " (default: local)"
    command.add_argument(
        "--backend",
        type=_registered("backend"),
        default=None if resume else "local",
        help="where evaluations run: this machine's cores or a Dask cluster" + default,
    )
    command.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="Dask scheduler, e.g. tcp://10.0.0.5:8786 (default: $EVOSEARCH_DASK_SCHEDULER, "
        "else a local Dask cluster)",
    )


def _columns(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"expected comma-separated column names, got {text!r}")
    return names


def _add_table_options(command: argparse.ArgumentParser) -> None:
    """How a CSV table is read: missing-value markers, column kinds, groups, weights."""
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
    evolve.add_argument("--genome", default="mlp", help="preset name or path to a .toml file")
    evolve.add_argument("--generations", type=_count(1), default=20, help="default: 20")
    evolve.add_argument("--population", type=_count(2), default=16, help="default: 16")
    evolve.add_argument("--cv", type=_count(2), default=3, help="cross-validation folds (3)")
    evolve.add_argument("--n-jobs", type=_n_jobs, default=-1, help="workers; -1 = all cores")
    evolve.add_argument("--seed", type=_count(0), default=0, help="random seed (0)")
    evolve.add_argument(
        "--data",
        default="digits",
        help="digits (default), iris, wine, breast_cancer, diabetes, or a .csv/.npz path",
    )
    evolve.add_argument("--target", help="target column of a CSV file (default: the last)")
    _add_table_options(evolve)
    evolve.add_argument("--task", choices=("auto", "classification", "regression"), default="auto")
    evolve.add_argument("--out", type=Path, help="run folder (default: runs/<time>-<genome>)")
    evolve.add_argument("--quiet", action="store_true", help="print only the final summary")
    evolve.add_argument(
        "--eval-timeout",
        type=_positive(allow_none=True),
        default=300.0,
        metavar="SECONDS",
        help="kill an evaluation (one genome x fold) running longer; 'none': no limit (300)",
    )
    evolve.add_argument(
        "--max-time",
        type=_positive(),
        metavar="SECONDS",
        help="stop the run cleanly at this deadline, refit included (resume continues it)",
    )
    evolve.add_argument(
        "--max-memory",
        type=_positive(),
        metavar="MB",
        help="memory one evaluation may allocate in its worker (Linux); more fails the genome",
    )
    evolve.add_argument(
        "--max-params",
        type=_count(1),
        metavar="N",
        help="size budget: genomes with more parameters are never trained",
    )
    evolve.add_argument(
        "--max-bytes",
        type=_count(1),
        metavar="N",
        help="size budget on the weight payload (objective bytes): larger genomes never train",
    )
    evolve.add_argument(
        "--input-shape",
        metavar="HxW[xC]",
        help="read each row of flat features as an image (e.g. 28x28, 28x28x3; channels last) "
        "for --genome cnn; digits and NPZ image sets bring their own",
    )
    evolve.add_argument(
        "--holdout",
        type=_fraction,
        metavar="FRACTION",
        help="keep this share of rows out of the search; report each archive member's score on it",
    )
    evolve.add_argument(
        "--strategy",
        type=_registered("strategy"),
        default="nsga2",
        help="nsga2 (default): NSGA-II survivors; aging: regularized evolution; random: random "
        "search, fresh random genomes every generation (a baseline)",
    )
    evolve.add_argument(
        "--halving",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="successive halving over folds: train 2x children on one fold, finish the best half",
    )
    evolve.add_argument(
        "--fidelity",
        default="auto",
        metavar="SPEC",
        help="multi-fidelity search on large tables: auto (default: on from 10,000 rows, "
        "off below), off, or plan keys, e.g. 'rows=0.1,factor=2,folds=1,max_epochs=20,"
        "min_rows=10000' (see README, Large tables)",
    )
    evolve.add_argument(
        "--inherit-weights",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="children start from their parent's trained weights where layers match (default)",
    )
    evolve.add_argument(
        "--objectives",
        default="score,params",
        metavar="NAMES",
        help="comma-separated objectives, 'score' first (default: score,params; "
        "'evosearch plugins' lists them)",
    )
    evolve.add_argument(
        "--scoring",
        metavar="NAME",
        help="what 'score' is: a scikit-learn scorer name (balanced_accuracy, f1_macro, "
        "roc_auc_ovr, neg_log_loss, r2, neg_root_mean_squared_error, ...; default: accuracy / R²)",
    )
    _add_backend_options(evolve, resume=False)

    resume = commands.add_parser(
        "resume", help="continue a run from its folder (after a kill, or to extend it)"
    )
    resume.add_argument("run", type=Path, help="the run folder")
    resume.add_argument(
        "--generations", type=_count(1), help="new total of generations (extends a run)"
    )
    resume.add_argument("--n-jobs", type=_n_jobs, help="workers (default: the run's setting)")
    resume.add_argument("--quiet", action="store_true", help="print only the final summary")
    resume.add_argument(
        "--max-time",
        type=_positive(),
        metavar="SECONDS",
        help="stop cleanly at this deadline (resume again to continue)",
    )
    _add_backend_options(resume, resume=True)

    show = commands.add_parser("show", help="settings, progress and archive of a run")
    show.add_argument("run", type=Path, help="the run folder")

    export = commands.add_parser(
        "export", help="refit an archive member on all data and save it as a deployable model"
    )
    export.add_argument("run", type=Path, help="the run folder")
    which = export.add_mutually_exclusive_group()
    which.add_argument("--member", type=_count(0), help="archive index as `show` numbers it")
    which.add_argument("--best", action="store_true", help="the most accurate member (default)")
    export.add_argument("--out", type=Path, help="folder (default: RUN/models/member-K)")
    export.add_argument(
        "--format",
        default="joblib",
        metavar="NAME",
        help="model format: joblib (default; a pickle needing evosearch to load), onnx (one"
        " ONNX graph for onnxruntime; pip install 'evosearch[onnx]'), python (model.py +"
        " weights.npz, numpy alone)",
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
    replay.add_argument("--generations", type=_count(1), help="for --continue-to")
    replay.add_argument("--population", type=_count(2), help="for --continue-to")
    replay.add_argument("--cv", type=_count(2), help="for --continue-to")
    replay.add_argument("--seed", type=_count(0), help="for --continue-to")
    replay.add_argument("--data", help="for --continue-to: other data (name or path)")
    replay.add_argument("--target", help="for --continue-to with a CSV")
    replay.add_argument("--n-jobs", type=_n_jobs, help="workers")
    replay.add_argument("--quiet", action="store_true", help="no per-generation rows")

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

    predict = commands.add_parser(
        "predict", help="apply an exported model to a CSV table (same raw columns)"
    )
    predict.add_argument("model", type=Path, help="an exported model folder (evosearch export)")
    predict.add_argument("data", type=Path, help="CSV file with the model's feature columns")
    predict.add_argument("--out", type=Path, help="CSV file to write (default: standard output)")
    predict.add_argument(
        "--proba", action="store_true", help="also write one probability column per class"
    )

    commands.add_parser("genomes", help="list the bundled genome presets")
    commands.add_parser(
        "plugins",
        help="list layer kinds, objectives, strategies, backends and export formats, plug-ins "
        "included",
    )
    return parser
