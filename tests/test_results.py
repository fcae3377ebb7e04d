"""Reading results back: a real sweep's file and a real run's metrics, and broken files."""

from __future__ import annotations

import concurrent.futures as cf
import json
import shutil
import sys
from pathlib import Path

import pytest
import sweep_fixtures as fx
from test_cli import cinnamon as run_cli

from cinnamon import Registry, Results, results, sweep
from cinnamon._runs.results import RUN_FILE
from cinnamon.callbacks import MetricsLogger
from cinnamon.demo import SGD, LinearModel, SyntheticData, Trainer
from cinnamon.errors import NotFoundError, StateError, UsageError

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def swept(tmp_path: Path) -> Path:
    """A real sweep of the adder (a=1,2,3 x b=10,20), one variant failing."""
    registry = Registry()
    registry.register(fx.AdderConfig(fail_on=2), name="adder")
    file = tmp_path / "sweep.jsonl"
    with cf.ThreadPoolExecutor(2) as threads:
        report = sweep(registry, "adder", executor=threads, results=file, progress=False)
    assert (report.ok, report.error) == (4, 2)
    return file


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    """A real fit of the demo trainer with a metrics logger."""
    folder = tmp_path / "run"
    data = SyntheticData(n_samples=200, n_features=3)
    trainer = Trainer(
        data,
        LinearModel(n_features=3),
        SGD(learning_rate=0.05),
        epochs=4,
        callbacks=MetricsLogger(),
        run_dir=str(folder),
    )
    trainer.run()
    return folder


def test_a_sweep_reads_back_as_one_row_per_variant(swept: Path) -> None:
    table = results(swept)
    assert isinstance(table, Results)
    assert table.kind == "sweep"
    assert table.varied == ("a", "b")
    assert table.metrics == ("sum", "pair")
    assert [(row["a"], row["b"], row["status"]) for row in table] == [
        (1, 10, "ok"),
        (1, 20, "ok"),
        (2, 10, "error"),
        (2, 20, "error"),
        (3, 10, "ok"),
        (3, 20, "ok"),
    ]
    assert table.column("sum") == [11, 21, None, None, 13, 23]
    assert table.rows[2]["error"] == "ValueError: a=2 is unlucky"
    assert table.columns[:4] == ("index", "a", "b", "status")
    assert all(len(row["fingerprint"]) > 20 for row in table)


def test_a_folder_holding_the_sweep_file_reads_the_same(swept: Path) -> None:
    assert results(swept.parent).rows == results(swept).rows


def test_where_and_sort_pick_and_order_rows(swept: Path) -> None:
    table = results(swept)
    best = table.where("status=ok", "b>=20").sort("-sum")
    assert [row["sum"] for row in best] == [23, 21]
    assert [row["index"] for row in table.sort("sum")][-2:] == [2, 3]  # no sum: last
    assert len(table.where("status!=ok")) == 2
    assert len(table.where("sum<0")) == 0
    assert len(table.where("error=ValueError: a=2 is unlucky", "b=20")) == 1


def test_a_variant_run_again_counts_once_with_its_last_row(swept: Path) -> None:
    rows = [json.loads(line) for line in swept.read_text().splitlines()]
    (failed,) = [row for row in rows if row["index"] == 2]  # a=2, b=10
    again = dict(failed, status="ok", result={"sum": 12, "pair": [2, 10]})
    again.pop("error")
    with swept.open("a") as file:
        file.write(json.dumps(again) + "\n")
    table = results(swept)
    assert len(table) == 6
    assert table.where("a=2", "b=10").rows[0]["sum"] == 12


def test_exports_as_csv_and_json(swept: Path) -> None:
    table = results(swept).where("status=ok")
    columns = table.select(["sum"])
    assert columns == ("index", "a", "b", "status", "sum", "seconds", "host", "fingerprint")
    lines = table.to_csv(columns).splitlines()
    assert lines[0] == "index,a,b,status,sum,seconds,host,fingerprint"
    assert lines[1].startswith("0,1,10,ok,11,")
    assert [row["sum"] for row in json.loads(table.to_json(["a", "sum"]))] == [11, 21, 13, 23]
    assert json.loads(table.to_json(["a", "sum"]))[0] == {"a": 1, "sum": 11}


def test_pandas_gets_a_frame_in_table_order(swept: Path) -> None:
    pytest.importorskip("pandas", reason="pandas is the optional cinnamon[pandas] extra")
    frame = results(swept).frame()
    assert list(frame.columns[:4]) == ["index", "a", "b", "status"]
    assert frame["sum"].max() == 23


def test_a_run_reads_back_as_one_row_per_epoch(run_dir: Path) -> None:
    table = results(run_dir)
    assert table.kind == "run"
    assert table.status == "ok"
    assert table.column("epoch") == [1, 2, 3, 4]
    assert table.metrics == ("loss", "val_loss")
    losses = table.column("loss")
    assert losses[-1] < losses[0]
    assert table.summary["epochs"] == 4
    assert table.sort("val_loss").rows[0]["val_loss"] == min(table.column("val_loss"))


def test_a_run_still_going_or_that_failed_says_so(run_dir: Path) -> None:
    file = run_dir / RUN_FILE
    lines = file.read_text().splitlines()
    file.write_text("\n".join(lines[:-1]) + "\n")
    assert results(file).status == "running"
    file.write_text("\n".join([*lines[:-1], '{"event": "fit_exception", "error": "boom"}']))
    assert results(file).status == "error"


def test_a_torn_last_line_is_left_out(run_dir: Path) -> None:
    file = run_dir / RUN_FILE
    text = file.read_text()
    file.write_text(text + '{"event": "epoch_end", "epo')
    assert len(results(file)) == 4


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (
            '{"event": "epoch_end"}\nnot json\n{"event": "fit_end"}\n',
            r"metrics.jsonl: line 2 is not JSON",
        ),
        ('{"event": "epoch_end"}\n[1, 2]\n', r"line 2 is a JSON list, not an object"),
        ('{"event": "epoch_end"}\n{"event": "lunch"}\n', r"line 2 has the event 'lunch'"),
        ('{"loss": 1}\n', r"line 1 is neither a sweep's row .* nor a run's metrics"),
        (b'{"event": "epoch_end", "x": "\xff"}\n{"event": "fit_end"}\n', r"line 1 is not UTF-8"),
    ],
)
def test_malformed_metrics_name_the_file_and_line(
    tmp_path: Path, text: str | bytes, match: str
) -> None:
    file = tmp_path / "metrics.jsonl"
    if isinstance(text, bytes):
        file.write_bytes(text)
    else:
        file.write_text(text)
    with pytest.raises(StateError, match=match) as caught:
        results(file)
    assert caught.value.file == str(file)


@pytest.mark.parametrize(
    ("row", "match"),
    [
        (
            {"index": 1, "overrides": {}, "status": "fine"},
            r"line 2 is not a row of a sweep: its status is 'fine'",
        ),
        ({"index": "1", "overrides": {}, "status": "ok"}, r"its index is '1', not a number"),
        ({"index": 1, "overrides": [], "status": "ok"}, r"its overrides are not an object"),
        (
            {"index": 1, "overrides": {}, "status": "ok", "fingerprint": 3},
            r"fingerprint is not a string",
        ),
    ],
)
def test_malformed_sweep_rows_name_the_file_and_line(
    swept: Path, row: dict[str, object], match: str
) -> None:
    first = swept.read_text().splitlines()[0]
    swept.write_text(first + "\n" + json.dumps(row) + "\n")
    with pytest.raises(StateError, match=match):
        results(swept)


def test_missing_files_columns_and_metrics_are_clear(swept: Path, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match=r"nowhere: no such file or folder"):
        results(tmp_path / "nowhere")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(NotFoundError, match=r"neither metrics.jsonl \(a run\) nor sweep.jsonl"):
        results(empty)
    table = results(swept)
    with pytest.raises(
        NotFoundError, match=r"sweep.jsonl: no metric 'summ' .*did you mean 'sum'\?"
    ):
        table.select(["summ"])
    with pytest.raises(NotFoundError, match=r"no sort by 'loss'"):
        table.sort("loss")
    with pytest.raises(NotFoundError, match=r"no column 'c'"):
        table.where("c=1")
    with pytest.raises(UsageError, match=r"the condition 'a' is not COLUMN OPERATOR VALUE"):
        table.where("a")
    with pytest.raises(UsageError, match=r"the condition 'a<' is not"):
        table.where("a<")


def test_an_unreadable_file_is_a_state_error() -> None:
    unreadable = Path("/proc/self/mem")  # opens, but reading from offset 0 fails (even as root)
    if not unreadable.exists():
        pytest.skip("needs Linux's /proc to have a file that cannot be read")
    with pytest.raises(StateError, match=r"/proc/self/mem: cannot be read \(Input/output error\)"):
        results(unreadable)


def test_pandas_missing_names_the_extra(swept: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)  # None in sys.modules: ImportError
    with pytest.raises(UsageError, match=r'pip install "cinnamon\[pandas\]"'):
        results(swept).frame()


# -- the command line ------------------------------------------------------------------------


def test_cli_prints_sorts_filters_and_exports(swept: Path, tmp_path: Path) -> None:
    shown = run_cli(
        "results",
        str(swept),
        "--where",
        "status=ok",
        "--sort=-sum",
        "--metrics",
        "sum",
        cwd=tmp_path,
    )
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0] == "index\ta\tb\tstatus\tsum\tseconds\thost\tfingerprint"
    assert [line.split("\t")[4] for line in lines[1:]] == ["23", "21", "13", "11"]
    assert "4 variants" in shown.stderr
    exported = run_cli("results", str(swept), "--format", "csv", "-o", "out.csv", cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    assert (tmp_path / "out.csv").read_text().startswith("index,a,b,status,")
    as_json = run_cli("results", str(swept), "--format", "json", "--where", "a=3", cwd=tmp_path)
    assert [row["sum"] for row in json.loads(as_json.stdout)] == [13, 23]


def test_cli_reads_a_demo_run_folder(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "configs", tmp_path / "configs")
    ran = run_cli("run", "demo:trainer", "--config", "configs/demo.toml", "epochs=3", cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    (folder,) = (tmp_path / "runs").iterdir()
    shown = run_cli("results", str(folder), "--metrics", "val_loss", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines()[0] == "epoch\tval_loss"
    assert len(shown.stdout.splitlines()) == 4
    assert "run ok: 3 epochs" in shown.stderr


def test_cli_errors_are_one_line(swept: Path, tmp_path: Path) -> None:
    wrong = run_cli("results", str(swept), "--sort", "summ", cwd=tmp_path)
    assert wrong.returncode == 1
    assert "did you mean 'sum'?" in wrong.stderr
    assert "Traceback" not in wrong.stderr
