"""The command line, run through its installed entry point in a temporary folder."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "configs" / "demo.toml"
FIXTURES = Path(__file__).resolve().parent


def cinnamon(
    *arguments: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    command = shutil.which("cinnamon")
    prefix = [command] if command else [sys.executable, "-m", "cinnamon"]
    environment = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(FIXTURES), **(env or {})}
    return subprocess.run(
        [*prefix, *arguments],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "configs").mkdir()
    shutil.copy(DEMO, tmp_path / "configs" / "demo.toml")
    return tmp_path


def test_help_lists_the_commands(project: Path) -> None:
    result = cinnamon("--help", cwd=project)
    assert result.returncode == 0
    for command in ("list", "show", "validate", "run", "sweep", "graph", "schema"):
        assert command in result.stdout
    assert cinnamon(cwd=project).returncode == 0


def test_python_dash_m_is_the_same_command(project: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "cinnamon",
            "list",
            "--config",
            "configs/demo.toml",
            "--name",
            "trainer",
        ],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert result.returncode == 0, result.stderr
    assert "demo\ttrainer\t\tcinnamon.demo.Trainer" in result.stdout


def test_list_filters_and_prints_plain_rows_when_piped(project: Path) -> None:
    result = cinnamon("list", "--config", "configs/demo.toml", cwd=project)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "namespace\tname\ttags\tcomponent\tdescription"
    assert len(lines) == 11
    assert "demo\tcallbacks\t\tcinnamon.CallbackPipeline\t" in result.stdout
    only = cinnamon("list", "--config", "configs/demo.toml", "--name", "model", cwd=project)
    assert only.stdout.splitlines()[1:] == [
        "demo\tmodel\t\tcinnamon.demo.LinearModel\tA linear model trained on the mean squared error."
    ]
    none = cinnamon("list", "--config", "configs/demo.toml", "--namespace", "other", cwd=project)
    assert none.stdout.splitlines() == [lines[0]]
    assert "no registrations match" in none.stderr
    tagged = cinnamon("list", "--config", "configs/demo.toml", "--tags", "x,y", cwd=project)
    assert len(tagged.stdout.splitlines()) == 1


def test_show_marks_changed_values_and_applies_overrides(project: Path) -> None:
    result = cinnamon(
        "show",
        "demo:trainer",
        "--config",
        "configs/demo.toml",
        "epochs=3",
        "model.seed=4",
        cwd=project,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "demo:trainer: TrainerConfig -> Trainer"
    assert "├─ epochs: int = 3 *  the most epochs to train for" in lines
    assert "│  └─ seed: int = 4 *  the seed of the initial weights" in lines
    assert "│  ├─ n_features: int = 8  the number of inputs (as the data has)" in lines
    position = lines.index("├─ model = demo:model: LinearModelConfig -> LinearModel")
    assert lines[position + 2] == "│  └─ seed: int = 4 *  the seed of the initial weights"


def test_show_writes_a_declarative_file_that_loads_back(project: Path) -> None:
    for fmt, suffix in (("toml", "toml"), ("json", "json"), ("yaml", "yaml")):
        result = cinnamon(
            "show",
            "demo:trainer",
            "--config",
            "configs/demo.toml",
            "--format",
            fmt,
            "epochs=7",
            cwd=project,
        )
        assert result.returncode == 0, result.stderr
        written = project / f"written.{suffix}"
        written.write_text(result.stdout)
        again = cinnamon("show", "demo:trainer", "--config", str(written), cwd=project)
        assert again.returncode == 0, again.stderr
        assert "├─ epochs: int = 7 *  the most epochs to train for" in again.stdout.splitlines()
    assert '[registrations."demo:trainer"]' in (project / "written.toml").read_text()


def test_validate_reports_each_invalid_registration(project: Path) -> None:
    broken = project / "broken.toml"
    broken.write_text(
        '[registrations."demo:lost"]\nconfig = "cinnamon.demo:TrainerConfig"\n'
        '[registrations."demo:lost".fields]\nmodel = { "@ref" = "demo:modl" }\n'
    )
    result = cinnamon(
        "validate", "--config", "configs/demo.toml", "--config", "broken.toml", cwd=project
    )
    assert result.returncode == 1
    assert "ok       demo:trainer" in result.stdout
    assert (
        "invalid  demo:lost: lost.model: no registration 'demo:modl' in namespace 'demo'; did you mean 'demo:model'?"
        in result.stdout
    )
    assert "10 valid, 1 invalid" in result.stderr
    assert cinnamon("validate", "--config", "configs/demo.toml", cwd=project).returncode == 0


def test_run_builds_runs_and_writes_the_run_folder(project: Path) -> None:
    result = cinnamon(
        "run",
        "demo:trainer",
        "--config",
        "configs/demo.toml",
        "epochs=2",
        "run_dir=out",
        cwd=project,
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["epochs"] == 2
    assert summary["loss"] < summary["initial_loss"]
    assert sorted(path.name for path in (project / "out").iterdir()) == [
        "checkpoint.json",
        "config.toml",
        "metrics.jsonl",
        "timings.json",
    ]
    assert "epoch 2/2" in result.stderr  # the progress bar, on stderr
    default = cinnamon(
        "run", "demo:trainer", "--config", "configs/demo.toml", "epochs=1", cwd=project
    )
    assert default.returncode == 0, default.stderr
    assert Path(json.loads(default.stdout)["run_dir"]).parent == project / "runs"
    assert len(list((project / "runs").iterdir())) == 1


def test_run_swaps_a_reference_and_calls_another_method(project: Path) -> None:
    extra = project / "extra.toml"
    extra.write_text(
        '[registrations."demo:small-model"]\nconfig = "cinnamon.demo:LinearModelConfig"\n'
        '[registrations."demo:small-model".fields]\nn_features = 8\nseed = 9\n'
    )
    result = cinnamon(
        "run",
        "demo:trainer",
        "--config",
        "configs/demo.toml",
        "--config",
        "extra.toml",
        "model=@demo:small-model",
        "--method",
        "state_dict",
        cwd=project,
    )
    assert result.returncode == 0, result.stderr
    state = json.loads(result.stdout)
    assert "model" in state
    missing = cinnamon(
        "run", "demo:trainer", "--config", "configs/demo.toml", "--method", "fly", cwd=project
    )
    assert missing.returncode == 1
    assert missing.stderr.strip() == "error: Trainer has no method 'fly' to run"


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("epochs=x", "epochs: Input should be a valid integer"),
        ("epoch=3", "did you mean 'epochs'?"),
        ("model=@demo:nothing", "no registration 'demo:nothing'"),
        ("callbacks.components[9].width=3", "callbacks.components[9]"),
    ],
)
def test_bad_overrides_are_one_clear_error(project: Path, override: str, message: str) -> None:
    result = cinnamon("run", "demo:trainer", "--config", "configs/demo.toml", override, cwd=project)
    assert result.returncode == 1
    assert result.stderr.startswith("error: ")
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not (project / "runs").exists()


def test_errors_are_one_line_unless_debugging(project: Path) -> None:
    bad = project / "bad.toml"
    bad.write_text('[registrations."demo:x"]\nconfig = "os:system"\n')
    result = cinnamon("list", "--config", "bad.toml", cwd=project)
    assert result.returncode == 1
    assert result.stderr.startswith("error: bad.toml:2: registrations")
    assert "'os'" in result.stderr
    assert "Traceback" not in result.stderr
    debug = cinnamon("list", "--config", "bad.toml", "--debug", cwd=project)
    assert debug.returncode == 1
    assert "Traceback" in debug.stderr
    malformed = project / "malformed.toml"
    malformed.write_text("[registrations\n")
    result = cinnamon("list", "--config", "malformed.toml", cwd=project)
    assert result.returncode == 1
    assert result.stderr.startswith("error: malformed.toml:1:")
    missing = cinnamon("run", "demo:trainr", "--config", "configs/demo.toml", cwd=project)
    assert "did you mean 'demo:trainer'" in missing.stderr
    nofile = cinnamon("list", "--config", "nowhere.toml", cwd=project)
    assert nofile.returncode == 1
    assert "nowhere.toml" in nofile.stderr
    stray = cinnamon("list", "--bogus", cwd=project)
    assert stray.returncode == 2
    assert "unrecognized arguments: --bogus" in stray.stderr


def test_failing_components_are_reported_with_where_they_failed(project: Path) -> None:
    condition = cinnamon(
        "run", "demo:trainer", "--config", "configs/demo.toml", "model.n_features=3", cwd=project
    )
    assert condition.returncode == 1
    assert condition.stderr.strip() == (
        "error: trainer: condition 'features match' failed: the model takes 3 features, the data has 8"
    )
    crashed = cinnamon(
        "run",
        "demo:trainer",
        "--config",
        "configs/demo.toml",
        "--method",
        "load_state_dict",
        cwd=project,
    )
    assert crashed.returncode == 1
    assert crashed.stderr.startswith("error: TypeError: ")
    assert crashed.stderr.rstrip().endswith("(run again with --debug for the traceback)")
    assert "Traceback" not in crashed.stderr


def test_graph_as_mermaid_and_dot(project: Path) -> None:
    mermaid = cinnamon("graph", "demo:trainer", "--config", "configs/demo.toml", cwd=project)
    assert mermaid.returncode == 0
    lines = mermaid.stdout.splitlines()
    assert lines[0] == "graph TD"
    assert '    n0["demo:trainer: TrainerConfig -> Trainer"]' in lines
    assert '    n4 -->|"components[0]"| n5' in lines
    dot = cinnamon(
        "graph", "demo:trainer", "--config", "configs/demo.toml", "--format", "dot", cwd=project
    )
    assert dot.stdout.startswith("digraph cinnamon {")
    assert '    n0 -> n1 [label="data"];' in dot.stdout.splitlines()
    assert dot.stdout.rstrip().endswith("}")


def test_schema_to_stdout_and_file(project: Path) -> None:
    result = cinnamon("schema", "--config", "configs/demo.toml", cwd=project)
    assert result.returncode == 0, result.stderr
    schema = json.loads(result.stdout)
    assert "registrations" in json.dumps(schema)
    written = cinnamon("schema", "--config", "configs/demo.toml", "-o", "schema.json", cwd=project)
    assert written.returncode == 0
    assert json.loads((project / "schema.json").read_text()) == schema


def test_pyproject_supplies_defaults(project: Path) -> None:
    package = project / "myjobs"
    package.mkdir()
    (package / "__init__.py").write_text(
        "from cinnamon import registration\nfrom cinnamon.demo import SGDConfig\n"
        "@registration('fast-sgd', namespace='mine')\ndef fast():\n    return SGDConfig(learning_rate=0.05)\n"
    )
    (project / "pyproject.toml").write_text(
        '[tool.cinnamon]\nconfigs = ["configs/demo.toml"]\ndiscover = ["myjobs"]\nallow = ["myjobs"]\n'
    )
    result = cinnamon("list", cwd=project, env={"PYTHONPATH": str(project)})
    assert result.returncode == 0, result.stderr
    assert "mine\tfast-sgd\t" in result.stdout
    assert "demo\ttrainer\t" in result.stdout
    (project / "pyproject.toml").write_text('[tool.cinnamon]\nconfig = ["x"]\n')
    wrong = cinnamon("list", cwd=project)
    assert wrong.returncode == 1
    assert (
        "tool.cinnamon: unknown setting(s) config; use configs, discover or allow" in wrong.stderr
    )
