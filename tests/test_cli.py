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


# The console script the install made, next to this interpreter: what users run.
SCRIPT = Path(sys.executable).parent / ("cinnamon.exe" if os.name == "nt" else "cinnamon")


def cinnamon(
    *arguments: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    prefix = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "cinnamon"]
    # No PYTHONPATH: the command must find the user's modules on its own, as for users.
    environment = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    environment.update({"NO_COLOR": "1", **(env or {})})
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
        'invalid  demo:lost: broken.toml:4: registrations."demo:lost".fields.model: '
        "no registration 'demo:modl' in namespace 'demo'; did you mean 'demo:model'?"
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


# -- the user's own modules ---------------------------------------------------------------

MY_PACKAGE = '''
from cinnamon import Component, Configuration, Param


class Job(Component):
    def __init__(self, n: int) -> None:
        self.n = n

    def run(self) -> int:
        return self.n * 2

    def _secret(self) -> str:
        return "private"


class JobConfig(Configuration, component=Job):
    """A job of the user's own."""

    n: int = Param(3, description="how many")
'''


@pytest.fixture
def own(project: Path) -> Path:
    (project / "myproj").mkdir()
    (project / "myproj" / "__init__.py").write_text(MY_PACKAGE)
    (project / "my.toml").write_text('[registrations."my:job"]\nconfig = "myproj:JobConfig"\n')
    return project


def test_the_script_imports_the_users_package_from_the_working_folder(own: Path) -> None:
    result = cinnamon("run", "my:job", "-c", "my.toml", "--allow", "myproj", "n=5", cwd=own)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "10"
    elsewhere = own / "elsewhere"
    elsewhere.mkdir()
    lost = cinnamon("run", "my:job", "-c", "../my.toml", "--allow", "myproj", cwd=elsewhere)
    assert lost.returncode == 1
    assert "No module named 'myproj'" in lost.stderr
    assert "run it in the folder that holds 'myproj'" in lost.stderr
    assert "-m pip install -e ." in lost.stderr
    assert "PYTHONPATH" in lost.stderr


@pytest.mark.parametrize("method", ["_secret", "__init__", "__class__"])
def test_method_refuses_private_and_special_names(own: Path, method: str) -> None:
    result = cinnamon(
        "run", "my:job", "-c", "my.toml", "--allow", "myproj", "--method", method, cwd=own
    )
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"error: --method {method!r}: only a public method can be run, not a private or "
        "special name (one starting with '_')"
    )
    swept = cinnamon(
        "sweep", "my:job", "-c", "my.toml", "--allow", "myproj", "--method", method, cwd=own
    )
    assert swept.returncode == 1
    assert "only a public method can be run" in swept.stderr


@pytest.mark.parametrize(
    "arguments",
    [
        ("run", "demo:trainer", "-c", "configs/demo.toml", "epochs"),
        ("run", "demo:trainer", "epochs", "-c", "configs/demo.toml"),
        ("show", "demo:trainer", "-c", "configs/demo.toml", "epochs=2", "model"),
    ],
)
def test_a_forgotten_equals_sign_names_the_override_form(
    project: Path, arguments: tuple[str, ...]
) -> None:
    result = cinnamon(*arguments, cwd=project)
    assert result.returncode == 2
    word = arguments[-1] if arguments[-1] in ("epochs", "model") else "epochs"
    assert (
        f"error: {word!r} is neither an option nor an override: an override is written PATH=VALUE, like {word}=..."
        in result.stderr
    )
    assert f"usage: cinnamon {arguments[0]}" in result.stderr


# -- files reached by several routes ------------------------------------------------------

SHORT = 'extends = "configs/demo.toml"\n[registrations."demo:trainer".fields]\nepochs = 2\n'
RIVAL = (
    "# another definition of the trainer\n"
    '[registrations."demo:trainer"]\nconfig = "cinnamon.demo:TrainerConfig"\n'
    '[registrations."demo:trainer".fields]\nepochs = 7\n'
)
OVER = '[registrations."demo:trainer".fields]\nepochs = 9\n'


def epochs_of(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return next(line for line in result.stdout.splitlines() if line.startswith("├─ epochs"))


def test_a_file_reached_by_several_routes_is_read_once(project: Path) -> None:
    (project / "short.toml").write_text(SHORT)
    for order in (("configs/demo.toml", "short.toml"), ("short.toml", "configs/demo.toml")):
        arguments = [word for name in order for word in ("-c", name)]
        assert "= 2 *" in epochs_of(cinnamon("show", "demo:trainer", *arguments, cwd=project))
    twice = cinnamon(
        "show", "demo:trainer", "-c", "configs/demo.toml", "-c", "./configs/demo.toml", cwd=project
    )
    assert "= 50 *" in epochs_of(twice)
    (project / "pyproject.toml").write_text('[tool.cinnamon]\nconfigs = ["configs/demo.toml"]\n')
    assert "= 2 *" in epochs_of(cinnamon("show", "demo:trainer", "-c", "short.toml", cwd=project))
    swept = cinnamon(
        "sweep",
        "demo:trainer",
        "-c",
        "short.toml",
        "--workers",
        "1",
        "--no-progress",
        "epochs=1",
        "callbacks.components=[]",
        cwd=project,
    )
    assert swept.returncode == 0, swept.stderr


def test_two_definitions_of_one_key_name_both_files_and_lines(project: Path) -> None:
    (project / "rival.toml").write_text(RIVAL)
    result = cinnamon(
        "show", "demo:trainer", "-c", "configs/demo.toml", "-c", "rival.toml", cwd=project
    )
    assert result.returncode == 1
    lines = (project / "configs" / "demo.toml").read_text().splitlines()
    line = lines.index('[registrations."demo:trainer"]') + 1
    assert result.stderr.startswith(
        "error: rival.toml:2: registrations.\"demo:trainer\": 'demo:trainer' is declared "
        f"differently in configs/demo.toml (line {line}) too, and neither file extends the other"
    )
    assert "--layer" in result.stderr
    (project / "pyproject.toml").write_text('[tool.cinnamon]\nconfigs = ["rival.toml"]\n')
    clash = cinnamon("list", "-c", "configs/demo.toml", cwd=project)
    assert f'configs/demo.toml:{line}: registrations."demo:trainer"' in clash.stderr
    assert "declared differently in rival.toml (line 2)" in clash.stderr


def test_a_layer_merges_over_the_files_before_it(project: Path) -> None:
    (project / "over.toml").write_text(OVER)
    (project / "rival.toml").write_text(RIVAL)
    layered = cinnamon(
        "show", "demo:trainer", "-c", "configs/demo.toml", "--layer", "over.toml", cwd=project
    )
    assert "= 9 *" in epochs_of(layered)
    rival = cinnamon(
        "show", "demo:trainer", "-c", "configs/demo.toml", "-l", "rival.toml", cwd=project
    )
    assert "= 7 *" in epochs_of(rival)
    assert "├─ model = demo:model: LinearModelConfig -> LinearModel" in rival.stdout
    alone = cinnamon("show", "demo:trainer", "--layer", "over.toml", cwd=project)
    assert alone.returncode == 1
    assert "over.toml:1: " in alone.stderr
    assert "names no configuration class" in alone.stderr


# -- environment variables ----------------------------------------------------------------

ENV_FILE = (
    'extends = "configs/demo.toml"\n[registrations."demo:trainer".fields]\n'
    'run_dir = "${env:CINNAMON_TEST_RUNS,runs}/env"\n'
    'epochs = "${env:CINNAMON_TEST_EPOCHS}"\n'
)


def test_environment_variables_in_files_and_overrides(project: Path) -> None:
    (project / "env.toml").write_text(ENV_FILE)
    values = {"CINNAMON_TEST_EPOCHS": "4", "CINNAMON_TEST_RUNS": "here"}
    result = cinnamon("show", "demo:trainer", "-c", "env.toml", cwd=project, env=values)
    assert "├─ epochs: int = 4 *" in result.stdout, result.stderr
    assert "├─ run_dir: str | None = 'here/env' *" in result.stdout
    defaulted = cinnamon(
        "show", "demo:trainer", "-c", "env.toml", cwd=project, env={"CINNAMON_TEST_EPOCHS": "4"}
    )
    assert "run_dir: str | None = 'runs/env' *" in defaulted.stdout
    missing = cinnamon("show", "demo:trainer", "-c", "env.toml", cwd=project)
    assert missing.returncode == 1
    assert missing.stderr.strip() == (
        'error: env.toml:4: registrations."demo:trainer".fields.epochs: environment variable '
        "'CINNAMON_TEST_EPOCHS' is not set; set it, or give a default with "
        "${env:CINNAMON_TEST_EPOCHS,default}"
    )
    override = cinnamon(
        "show",
        "demo:trainer",
        "-c",
        "configs/demo.toml",
        "run_dir=${env:CINNAMON_TEST_RUNS}/x",
        "model.seed=${env:CINNAMON_TEST_EPOCHS}",
        cwd=project,
        env=values,
    )
    assert "run_dir: str | None = 'here/x' *" in override.stdout, override.stderr
    assert "seed: int = 4 *" in override.stdout
    unset = cinnamon(
        "show",
        "demo:trainer",
        "-c",
        "configs/demo.toml",
        "run_dir=${env:CINNAMON_TEST_NONE}",
        cwd=project,
    )
    assert (
        "error: override 'run_dir=${env:CINNAMON_TEST_NONE}': run_dir: environment variable 'CINNAMON_TEST_NONE' is not set"
        in unset.stderr
    )
    other = cinnamon(
        "show", "demo:trainer", "-c", "configs/demo.toml", "run_dir=${HOME}/x", cwd=project
    )
    assert other.returncode == 1
    assert "'${HOME}' in '${HOME}/x' is not an interpolation cinnamon reads" in other.stderr
    literal = cinnamon(
        "show", "demo:trainer", "-c", "configs/demo.toml", "run_dir=$${HOME}", cwd=project
    )
    assert "run_dir: str | None = '${HOME}' *" in literal.stdout, literal.stderr
    written = cinnamon(
        "show",
        "demo:trainer",
        "-c",
        "configs/demo.toml",
        "run_dir=$${HOME}",
        "--format",
        "toml",
        cwd=project,
    )
    (project / "written.toml").write_text(written.stdout)
    again = cinnamon("show", "demo:trainer", "-c", "written.toml", cwd=project)
    assert "run_dir: str | None = '${HOME}' *" in again.stdout, again.stderr


# -- references ---------------------------------------------------------------------------


def test_missing_references_and_cycles_name_the_file_and_line(project: Path) -> None:
    (project / "lost.toml").write_text(
        'extends = "configs/demo.toml"\n\n[registrations."demo:callbacks".fields]\n'
        'components = [\n  { "@ref" = "demo:timer" },\n  { "@ref" = "demo:progres" },\n]\n'
    )
    lost = cinnamon("run", "demo:trainer", "-c", "lost.toml", cwd=project)
    assert lost.returncode == 1
    assert lost.stderr.strip() == (
        'error: lost.toml:6: registrations."demo:callbacks".fields.components[1]: no '
        "registration 'demo:progres' in namespace 'demo'; did you mean 'demo:progress'? "
        "(reached from demo:trainer as trainer.callbacks.components[1])"
    )
    (project / "cycle.toml").write_text(
        '[registrations."demo:a"]\nconfig = "cinnamon.demo:TrainerConfig"\n'
        '[registrations."demo:a".fields]\nmodel = { "@ref" = "demo:b" }\n\n'
        '[registrations."demo:b"]\nconfig = "cinnamon.demo:TrainerConfig"\n'
        '[registrations."demo:b".fields]\nmodel = { "@ref" = "demo:a" }\n'
    )
    cycle = cinnamon("show", "demo:a", "-c", "cycle.toml", cwd=project)
    assert cycle.returncode == 1
    assert cycle.stderr.strip() == (
        "error: cycle.toml:1: registrations.\"demo:a\": dependency cycle: 'demo:a' -> 'demo:b' "
        "-> 'demo:a' (declared: demo:a at cycle.toml:1, demo:b at cycle.toml:6)"
    )


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (
            "callbacks.components[9].filename=x",
            (
                "callbacks.components is a list of 5 items; no item 9; did you mean "
                "'callbacks.components[4].filename' or 'callbacks.components[2].filename' or "
                "'callbacks.components[0].filename'?"
            ),
        ),
        (
            "callbacks.components[7].patience=1",
            "no item 7; did you mean 'callbacks.components[3].patience'?",
        ),
        (
            "callbacks.components[5]=@demo:timer",
            "no item 5; use [0] to [4], or [-1] for the last",
        ),
    ],
)
def test_list_indices_suggest_items_that_have_the_path(
    project: Path, override: str, message: str
) -> None:
    result = cinnamon("show", "demo:trainer", "-c", "configs/demo.toml", override, cwd=project)
    assert result.returncode == 1
    assert message in result.stderr


# -- sweep axes ---------------------------------------------------------------------------

QUIET = ("--workers", "1", "--no-progress", "callbacks.components=[]")
SMALL_MODEL = (
    '[registrations."demo:small-model"]\nconfig = "cinnamon.demo:LinearModelConfig"\n'
    '[registrations."demo:small-model".fields]\nn_features = 8\nseed = 9\n'
)


def swept_rows(project: Path, *axes: str, results: str = "sweep.jsonl") -> list[dict[str, object]]:
    result = cinnamon(
        "sweep",
        "demo:trainer",
        "-c",
        "configs/demo.toml",
        "-c",
        "small.toml",
        *QUIET,
        "--results",
        results,
        *axes,
        cwd=project,
    )
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in (project / results).read_text().splitlines()]
    return [row["overrides"] for row in rows]


def test_sweep_axes_from_the_command_line(project: Path) -> None:
    (project / "small.toml").write_text(SMALL_MODEL)
    assert swept_rows(project, "optimizer.learning_rate=0.1,0.03", "epochs=range(1,4,2)") == [
        {"optimizer.learning_rate": 0.1, "epochs": 1},
        {"optimizer.learning_rate": 0.1, "epochs": 3},
        {"optimizer.learning_rate": 0.03, "epochs": 1},
        {"optimizer.learning_rate": 0.03, "epochs": 3},
    ]
    keys = swept_rows(
        project, "epochs=1", "model=@demo:model,@demo:small-model", results="keys.jsonl"
    )
    assert keys == [{"model": "@demo:model"}, {"model": "@demo:small-model"}]
    declared = swept_rows(
        project, "epochs=1", 'model.seed={ "@variants" = [1, 2] }', results="declared.jsonl"
    )
    assert declared == [{"model.seed": 1}, {"model.seed": 2}]
    typed = swept_rows(project, "epochs=1", "optimizer.learning_rate=1,0.5", results="typed.jsonl")
    assert typed == [{"optimizer.learning_rate": 1.0}, {"optimizer.learning_rate": 0.5}]
    grid = swept_rows(
        project, "epochs=1", "data.seed=range(2)", "model.seed=5,6", results="g.jsonl"
    )
    assert grid == [
        {"data.seed": 0, "model.seed": 5},
        {"data.seed": 0, "model.seed": 6},
        {"data.seed": 1, "model.seed": 5},
        {"data.seed": 1, "model.seed": 6},
    ]


@pytest.mark.parametrize(
    ("axis", "message"),
    [
        (
            "epochs=1,x",
            "TrainerConfig.epochs: variant 1 ('x') is refused: Input should be a valid integer",
        ),
        (
            "epochs=range(1,x)",
            "error: override 'epochs=range(1,x)': range() takes one to three integers",
        ),
        ("epochs=range(5,1)", "range(5,1) holds no values (the stop is exclusive)"),
        ("epochs=range(1,5,0)", "range() step must not be zero"),
        ("epochs=1,,2", "an axis lists values between commas, and one of them is empty"),
        (
            "epoch=1,2",
            "error: override 'epoch=1,2': epoch: TrainerConfig at the root has no field 'epoch'; did you mean 'epochs'?",
        ),
        (
            "model=@demo:model,@demo:modle",
            "no registration 'demo:modle' in namespace 'demo'; did you mean 'demo:model'?",
        ),
        (
            "optimizer.momentum=0.1,2",
            "SGDConfig.momentum: variant 1 (2) is refused: Input should be less than 1",
        ),
        ('epochs={ "@variants" = 3 }', "@variants holds a non-empty list of the field's values"),
    ],
)
def test_malformed_axes_are_clear_errors(project: Path, axis: str, message: str) -> None:
    result = cinnamon("sweep", "demo:trainer", "-c", "configs/demo.toml", *QUIET, axis, cwd=project)
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not (project / "sweep.jsonl").exists()


def test_an_axis_may_mend_a_condition_the_base_tree_breaks(project: Path) -> None:
    (project / "small.toml").write_text(SMALL_MODEL)
    swept_rows(project, "epochs=1", "model.n_features=3", "data.n_features=3,8")
    rows = [json.loads(line) for line in (project / "sweep.jsonl").read_text().splitlines()]
    statuses = {row["overrides"]["data.n_features"]: row["status"] for row in rows}
    assert statuses == {3: "ok", 8: "skipped"}


def test_sweep_names_the_file_of_a_missing_reference(project: Path) -> None:
    (project / "lost.toml").write_text(
        'extends = "configs/demo.toml"\n[registrations."demo:trainer".fields]\n'
        'model = { "@ref" = "demo:modle" }\n'
    )
    result = cinnamon("sweep", "demo:trainer", "-c", "lost.toml", *QUIET, "epochs=1,2", cwd=project)
    assert result.returncode == 1
    assert result.stderr.startswith(
        'error: lost.toml:3: registrations."demo:trainer".fields.model: no registration '
        "'demo:modle' in namespace 'demo'; did you mean 'demo:model'?"
    )


def test_run_and_show_refuse_an_axis(project: Path) -> None:
    for command in ("run", "show"):
        result = cinnamon(
            command, "demo:trainer", "-c", "configs/demo.toml", "epochs=1,2", cwd=project
        )
        assert result.returncode == 1
        assert result.stderr.strip() == (
            "error: override 'epochs=1,2' gives several values, which only `cinnamon sweep` "
            "varies; for one text holding commas, quote it: epochs='\"1,2\"'"
        )
    quoted = cinnamon(
        "show", "demo:trainer", "-c", "configs/demo.toml", 'run_dir="a,b"', cwd=project
    )
    assert "run_dir: str | None = 'a,b' *" in quoted.stdout, quoted.stderr


# -- help, version, completion ------------------------------------------------------------


def test_run_help_lists_every_field_of_the_tree(project: Path) -> None:
    result = cinnamon(
        "run", "demo:trainer", "-c", "configs/demo.toml", "epochs=3", "--help", cwd=project
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: cinnamon run ")
    lines = [line.split() for line in result.stdout.splitlines()]
    rows = {line[0]: " ".join(line[1:]) for line in lines if line}
    assert rows["epochs"] == "int = 3 (default 20) the most epochs to train for"
    assert rows["model"] == "LinearModelConfig = @demo:model the model to train"
    assert rows["optimizer.learning_rate"] == "float = 0.01 the step size"
    assert rows["callbacks.components[3]"] == "EarlyStoppingConfig = @demo:early-stopping"
    assert (
        rows["callbacks.components[3].patience"]
        == "int = 3 epochs without improvement before stopping"
    )
    assert (
        rows["run_dir"] == "str | None = None the run folder (default: a fresh one under run_root)"
    )
    show = cinnamon("show", "demo:optimizer", "-c", "configs/demo.toml", "-h", cwd=project)
    assert show.stdout.endswith(
        "  learning_rate  float = 0.01  the step size\n"
        "  momentum       float = 0.9  fraction of the previous step kept\n"
    )
    plain = cinnamon("run", "--help", cwd=project)
    assert plain.returncode == 0
    assert "--resume" in plain.stdout
    assert "fields of" not in plain.stdout
    missing = cinnamon("run", "demo:trainr", "-c", "configs/demo.toml", "--help", cwd=project)
    assert missing.returncode == 1
    assert "did you mean 'demo:trainer'" in missing.stderr
    nokey = cinnamon("run", "-c", "configs/demo.toml", cwd=project)
    assert nokey.returncode == 2
    assert "the following arguments are required: KEY" in nokey.stderr
    graph = cinnamon("graph", "--help", cwd=project)
    assert "(default: mermaid)" in " ".join(graph.stdout.split())


def test_version(project: Path) -> None:
    from importlib.metadata import version

    result = cinnamon("--version", cwd=project)
    assert result.returncode == 0
    assert result.stdout.strip() == f"cinnamon {version('cinnamon')}"


BASH_SESSION = """
source <(cinnamon completion bash)
ask() {  # the words as bash splits them (":" and "=" break words too), then the line
    COMP_WORDS=("${@:2}"); COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
    COMP_LINE="$1"; COMP_POINT=${#COMP_LINE}
    _cinnamon_complete
    echo "${COMPREPLY[*]}"
}
ask "cinnamon ru" cinnamon ru
ask "cinnamon run -c configs/de" cinnamon run -c configs/de
ask "cinnamon run -c configs/demo.toml demo:tr" cinnamon run -c configs/demo.toml demo : tr
ask "cinnamon run -c configs/demo.toml demo:trainer optimizer.le" cinnamon run -c configs/demo.toml demo : trainer optimizer.le
ask "cinnamon run -c configs/demo.toml demo:trainer model=@demo:mo" cinnamon run -c configs/demo.toml demo : trainer model = @demo : mo
ask "cinnamon run --res" cinnamon run --res
ask "cinnamon completion " cinnamon completion ""
"""


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_bash_completion_completes_commands_keys_and_paths(project: Path) -> None:
    environment = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    environment["PATH"] = f"{SCRIPT.parent}{os.pathsep}{environment.get('PATH', '')}"
    result = subprocess.run(
        [shutil.which("bash") or "bash", "-c", BASH_SESSION],
        cwd=project,
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "run",
        "configs/demo.toml",
        "trainer",
        "optimizer.learning_rate=",
        "model",
        "--resume",
        "bash zsh",
    ]


ZSH_SESSION = """
compdef() { :; }  # compinit's, which an interactive shell has loaded
compadd() { print -r -- "compadd $*"; }  # what the script offers, instead of a menu
eval "$(cinnamon completion zsh)"
ask() { LBUFFER="$1"; words=(${(z)1}); [[ "$1" == *" " ]] && words+=(""); CURRENT=${#words}; _cinnamon; }
ask "cinnamon comp"
ask "cinnamon show -c configs/demo.toml demo:tr"
ask "cinnamon run -c configs/demo.toml demo:trainer optimizer.le"
ask "cinnamon run -c configs/demo.toml demo:trainer model=@demo:mo"
"""


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")
def test_zsh_completion_completes_commands_keys_and_paths(project: Path) -> None:
    environment = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    environment["PATH"] = f"{SCRIPT.parent}{os.pathsep}{environment.get('PATH', '')}"
    result = subprocess.run(
        [shutil.which("zsh") or "zsh", "-f", "-c", ZSH_SESSION],
        cwd=project,
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "compadd -Q -- completion",
        "compadd -Q -- demo:trainer",
        "compadd -Q -S  -- optimizer.learning_rate=",
        "compadd -Q -- model=@demo:model",
    ]


def test_zsh_completion_answers_whole_words(project: Path) -> None:
    script = cinnamon("completion", "zsh", cwd=project)
    assert script.returncode == 0
    assert script.stdout.startswith("#compdef cinnamon\n")
    assert "compdef _cinnamon cinnamon" in script.stdout
    line = "cinnamon show -c configs/demo.toml demo:trainer model=@demo:m"
    found = cinnamon("__complete", "zsh", "--", line, str(len(line)), "model=@demo:m", cwd=project)
    assert found.stdout.splitlines() == ["model=@demo:metrics", "model=@demo:model"]
    line = "cinnamon show -c configs/demo.toml demo:tr"
    found = cinnamon("__complete", "zsh", "--", line, str(len(line)), "demo:tr", cwd=project)
    assert found.stdout.splitlines() == ["demo:trainer"]
    broken = cinnamon(
        "__complete", "zsh", "--", "cinnamon show -c nowhere.toml d", "31", "d", cwd=project
    )
    assert broken.returncode == 0
    assert broken.stdout == ""
    assert "__complete" not in cinnamon("--help", cwd=project).stdout


# -- run folders and why a fit ended ------------------------------------------------------


def test_run_refuses_to_reuse_a_run_folder_unless_asked(project: Path) -> None:
    arguments = ("run", "demo:trainer", "-c", "configs/demo.toml", "epochs=2", "run_dir=out")
    first = cinnamon(*arguments, cwd=project)
    assert first.returncode == 0, first.stderr
    assert first.stderr.rstrip().endswith("the fit ran all 2 epochs")
    log = project / "out" / "metrics.jsonl"
    assert len(log.read_text().splitlines()) == 3
    again = cinnamon(*arguments, cwd=project)
    assert again.returncode == 1
    assert again.stderr.strip() == (
        "error: run_dir 'out' already holds files of another run; pass --resume to run there "
        "adding to them, --overwrite to empty it first, or choose another run_dir"
    )
    assert len(log.read_text().splitlines()) == 3
    (project / "out" / "stale.txt").write_text("from before")
    overwritten = cinnamon(*arguments, "--overwrite", cwd=project)
    assert overwritten.returncode == 0, overwritten.stderr
    assert "emptied out (--overwrite)" in overwritten.stderr
    assert not (project / "out" / "stale.txt").exists()
    assert len(log.read_text().splitlines()) == 3
    resumed = cinnamon(*arguments, "--resume", cwd=project)
    assert resumed.returncode == 0, resumed.stderr
    assert len(log.read_text().splitlines()) == 6
    both = cinnamon(*arguments, "--resume", "--overwrite", cwd=project)
    assert both.returncode == 2
    assert "not allowed with argument" in both.stderr
    here = cinnamon(
        "run", "demo:trainer", "-c", "configs/demo.toml", "run_dir=.", "--overwrite", cwd=project
    )
    assert (
        here.stderr.strip()
        == "error: --overwrite refuses to empty '.': it holds the working folder"
    )
    assert (project / "configs" / "demo.toml").exists()


BOOM = """
from cinnamon import Callback, Configuration


class Boom(Callback):
    def on_epoch_end(self, logs: object = None) -> None:
        if isinstance(logs, dict) and logs["epoch"] == 3:
            raise RuntimeError("boom in epoch 3")


class BoomConfig(Configuration, component=Boom):
    pass
"""


def test_run_says_why_the_fit_ended(project: Path) -> None:
    early = cinnamon(
        "run",
        "demo:trainer",
        "-c",
        "configs/demo.toml",
        "epochs=200",
        "optimizer.learning_rate=0.05",
        "run_dir=early",
        cwd=project,
    )
    assert early.returncode == 0, early.stderr
    epochs = json.loads(early.stdout)["epochs"]
    assert epochs < 200
    assert early.stderr.rstrip().endswith(
        f"the fit stopped early after epoch {epochs} of 200 "
        "(EarlyStopping: val_loss did not improve for 3 epochs)"
    )
    (project / "boom.py").write_text(BOOM)
    (project / "boom.toml").write_text(
        'extends = "configs/demo.toml"\n[registrations."demo:trainer".fields]\n'
        'callbacks = { "@config" = "boom:BoomConfig" }\n'
    )
    failed = cinnamon(
        "run", "demo:trainer", "-c", "boom.toml", "--allow", "boom", "run_dir=boom", cwd=project
    )
    assert failed.returncode == 1
    assert failed.stderr.startswith("error: ")
    assert "  the fit ended by this exception at epoch 3 of 50\n" in failed.stderr
    other = cinnamon(
        "run", "demo:trainer", "-c", "configs/demo.toml", "--method", "state_dict", cwd=project
    )
    assert "the fit" not in other.stderr


def test_list_shows_what_each_registration_builds(project: Path) -> None:
    result = cinnamon("list", "-c", "configs/demo.toml", "--name", "callbacks", cwd=project)
    from cinnamon import CallbackPipeline

    doc = (CallbackPipeline.__doc__ or "").strip().splitlines()[0]
    assert result.stdout.splitlines()[1] == f"demo\tcallbacks\t\tcinnamon.CallbackPipeline\t{doc}"
    (project / "described.toml").write_text(
        '[registrations."demo:other"]\nconfig = "cinnamon:PipelineConfig"\n'
        'component = "cinnamon:CallbackPipeline"\ndescription = "my own words"\n'
    )
    own = cinnamon("list", "-c", "described.toml", cwd=project)
    assert own.stdout.splitlines()[1].endswith("\tmy own words")
