"""``evosearch export --format onnx`` and ``evosearch predict`` on the ONNX folder."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from evosearch.cli.main import main
from evosearch.testing._tables import mixed_table
from evosearch.testing._tiny import TINY_TOML

pytest.importorskip("onnxruntime")


@pytest.fixture(scope="module")
def table_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("onnx_cli")
    (folder / "tiny.toml").write_text(TINY_TOML, encoding="utf-8")
    X, y = mixed_table(60)
    X.assign(label=y).to_csv(folder / "t.csv", index=False)
    evolve = ["evolve", "--data", str(folder / "t.csv"), "--target", "label",
              "--genome", str(folder / "tiny.toml"), "--population", "2", "--generations", "1",
              "--cv", "2", "--n-jobs", "1", "--quiet", "--out", str(folder / "run")]  # fmt: skip
    assert main(evolve) == 0
    return folder


def test_an_onnx_export_predicts_a_csv_as_the_joblib_export_does(
    table_run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import pandas as pd

    run, data = str(table_run / "run"), str(table_run / "t.csv")
    for fmt in ("onnx", "joblib"):
        out = str(table_run / fmt)
        assert main(["export", run, "--format", fmt, "--out", out]) == 0
        assert main(["predict", out, data, "--proba", "--out", str(table_run / f"{fmt}.csv")]) == 0
    said = capsys.readouterr().out
    assert "(onnx: model.onnx)" in said and "accuracy" in said
    onnx_rows = pd.read_csv(table_run / "onnx.csv")
    joblib_rows = pd.read_csv(table_run / "joblib.csv")
    assert list(onnx_rows.columns) == ["label", "proba_no", "proba_yes"]
    assert list(onnx_rows["label"]) == list(joblib_rows["label"])
    np.testing.assert_allclose(onnx_rows.iloc[:, 1:], joblib_rows.iloc[:, 1:], atol=1e-5)

    info = json.loads((table_run / "onnx" / "model.json").read_text())
    archive = json.loads((table_run / "run" / "archive.json").read_text())
    assert info["format"] == "onnx" and info["files"] == ["model.onnx"]
    assert info["genome_hash"] in {m["genome_hash"] for m in archive["members"]}
    assert isinstance(info["cv_score"], float) and info["run"].endswith("run")
    assert {"onnx", "onnxruntime"} <= set(info["versions"])
    assert info["onnx"]["opset"] >= 13
    assert [i["name"] for i in info["onnx"]["inputs"]] == ["size", "weight", "color", "shiny"]
    assert sorted(p.name for p in (table_run / "onnx").iterdir()) == [
        "genome.json", "model.json", "model.onnx", "weights.bin",
    ]  # fmt: skip


def test_an_unknown_format_is_refused_in_one_line(
    table_run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # In-process: the real command's path through main(), without another interpreter's start.
    assert main(["export", str(table_run / "run"), "--format", "pmml"]) == 2
    err = capsys.readouterr().err.strip()
    assert "unknown export format 'pmml': choose from joblib, onnx" in err and "\n" not in err


def test_a_missing_onnx_extra_is_named(
    table_run: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from evosearch.deploy import onnx_format

    monkeypatch.setattr(onnx_format, "find_spec", lambda name: None)
    out = table_run / "nothing"
    assert main(["export", str(table_run / "run"), "--format", "onnx", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert "pip install 'evosearch[onnx]'" in err and "\n" not in err
    assert not out.exists()


def test_an_export_takes_input_dtype_float64_and_predict_feeds_it(
    table_run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import onnx

    run, data = str(table_run / "run"), str(table_run / "t.csv")
    out = table_run / "f64"
    assert (
        main(["export", run, "--format", "onnx", "--input-dtype", "float64", "--out", str(out)])
        == 0
    )
    info = json.loads((out / "model.json").read_text())
    assert info["onnx"]["input_dtype"] == "float64"
    types = {i.type.tensor_type.elem_type for i in onnx.load(out / "model.onnx").graph.input}
    assert onnx.TensorProto.DOUBLE in types and onnx.TensorProto.FLOAT not in types
    assert main(["predict", str(out), data, "--out", str(table_run / "f64.csv")]) == 0
    # Another format takes no input dtype: one line, exit 2, nothing written.
    bad = table_run / "bad"
    assert main(["export", run, "--input-dtype", "float64", "--out", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith("the joblib format takes no --input-dtype option") and "\n" not in err
    assert not bad.exists()


def test_show_and_report_give_the_deployed_sizes_beside_the_bytes_objective(
    table_run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from evosearch.report import pick_members
    from evosearch.runs import load_run, load_run_dataset
    from evosearch.search import ParetoArchive, export_member
    from evosearch.search.deployed import deployed_sizes

    run = table_run / "run"
    before = sorted(p.relative_to(run) for p in run.rglob("*"))
    assert main(["show", str(run)]) == 0
    assert "deployed size" not in capsys.readouterr().out  # on demand only
    assert main(["show", str(run), "--sizes"]) == 0
    said = capsys.readouterr().out
    assert "deployed size" in said and "  best  member " in said and " onnx " in said
    assert main(["report", str(run), "--sizes", "--out", str(table_run / "report")]) == 0
    assert "Deployed size" in (table_run / "report" / "report.html").read_text()
    assert sorted(p.relative_to(run) for p in run.rglob("*")) == before  # nothing written
    # The quick fit's sizes are an export's: the same weights.bin and model.onnx.
    record = load_run(run)
    best = pick_members(ParetoArchive.from_dict(record.archive))["best"]
    sizes = deployed_sizes(record, [best]).sizes[best.genome_hash]
    index = ParetoArchive.from_dict(record.archive).members.index(best)
    info = export_member(record, load_run_dataset(record), index, table_run / "sized", "onnx")
    assert sizes["weights"] == info["payload_bytes"]
    assert sizes["onnx"] == info["onnx"]["bytes"]
