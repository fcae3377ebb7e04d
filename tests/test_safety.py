"""Safety: what a file (or a configuration) may make cinnamon do, and what it may not.

- A declarative file imports nothing outside the allowed packages and runs no code;
  ``test_declarative.py`` checks the import check itself, these tests the ways around it.
- YAML is read with PyYAML's safe loader only: no tag that builds Python objects works,
  however it is spelt, and no unsafe loader is ever made.
- A saved state is unpickled only with ``allow_pickle=True``, even when the attacker
  controls every file of the folder.
- A configuration's value never becomes a file path outside the folder it is meant for:
  the built-in callbacks' ``filename`` (on POSIX and on Windows alike) and the demo's
  ``run_dir``.
"""

# Refusals are checked where they are caught when refusing is one of the allowed outcomes.
# ruff: noqa: PT017

from __future__ import annotations

import hashlib
import importlib.util
import json
import pickle
import sys
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cinnamon import Component, Configuration, Registry
from cinnamon.callbacks import (
    Checkpoint,
    CheckpointConfig,
    MetricsLogger,
    MetricsLoggerConfig,
    Timer,
    TimerConfig,
)
from cinnamon.errors import ConfigurationError, DeclarationError, StateError

HAS_YAML = importlib.util.find_spec("yaml") is not None


@pytest.fixture
def sneaky(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A package on the path whose import leaves a mark on disk; returns the mark."""
    package = tmp_path / "sneaky_pkg"
    package.mkdir()
    flag = tmp_path / "imported.flag"
    (package / "__init__.py").write_text(f"from pathlib import Path\nPath({str(flag)!r}).touch()\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "sneaky_pkg", raising=False)
    return flag


# -- imports and code --------------------------------------------------------------------


class NameConfig(Configuration):
    """A user's configuration with a field called ``name``, as many have."""

    name: str = "x"


@pytest.mark.parametrize(
    "component",
    [
        "cinnamon._files.declarative:importlib.import_module",  # a module attribute of cinnamon...
        "cinnamon._core.registry:importlib.import_module",
        "cinnamon._cli:os.makedirs",  # ...reaches any function of the standard library
    ],
)
def test_a_file_cannot_reach_outside_the_allowed_packages_through_an_attribute(
    component: str, sneaky: Path, tmp_path: Path
) -> None:
    target = tmp_path / "made-by-the-file"
    name = "sneaky_pkg" if component.endswith("import_module") else str(target)
    registry = Registry()
    registry.register(NameConfig(), name="seed")  # so that the file may say "NameConfig"
    text = (
        "[registrations.evil]\n"
        'config = "NameConfig"\n'
        f'component = "{component}"\n'
        f"fields.name = {json.dumps(name)}\n"
    )
    try:
        with pytest.raises(DeclarationError, match="refusing"):
            registry.loads(text)
    finally:
        if "evil" in registry:
            registry.build("evil")  # what the file asked for: import a module, make a folder
        assert not sneaky.exists()
        assert not target.exists()


def test_a_refused_file_imports_nothing_at_all(sneaky: Path) -> None:
    """Neither the refused module nor anything else: the check happens before any import."""
    before = set(sys.modules)
    for name in ("sneaky_pkg:Thing", "sneaky_pkg.sub:Thing", "sneaky_pkgx:Thing"):
        for key in ("config", "component"):
            text = f'[registrations.a]\nconfig = "NameConfig"\n{key} = "{name}"\n'
            if key == "config":
                text = f'[registrations.a]\nconfig = "{name}"\n'
            with pytest.raises(DeclarationError, match="refusing to import"):
                Registry().loads(text, aliases={"NameConfig": NameConfig}, allow=["sneaky"])
    assert set(sys.modules) == before
    assert not sneaky.exists()


# -- YAML --------------------------------------------------------------------------------------

_UNSAFE_YAML = [
    "!!python/object:pathlib.Path {{}}",
    "!!python/object/new:pathlib.Path [{flag}]",
    "!!python/object/apply:pathlib.Path.touch [!!python/object/apply:pathlib.Path [{flag}]]",
    "!!python/name:os.system",
    "!!python/module:os",
    "!!python/tuple [1, 2]",
    "!!python/bytes aGVsbG8=",
    (
        "!<tag:yaml.org,2002:python/object/apply:pathlib.Path.touch> "
        "[!!python/object/apply:pathlib.Path [{flag}]]"
    ),
    "!py!object/apply:pathlib.Path.touch [!py!object/apply:pathlib.Path [{flag}]]",
]


@pytest.mark.skipif(not HAS_YAML, reason="PyYAML not installed")
@pytest.mark.parametrize("place", ["value", "key", "root"])
@pytest.mark.parametrize("tagged", _UNSAFE_YAML)
def test_no_yaml_tag_builds_a_python_object(
    tagged: str, place: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import yaml

    def unsafe(*args: Any, **kwargs: Any) -> Any:
        msg = "an unsafe YAML loader was used"
        raise AssertionError(msg)

    for name in ("load", "load_all", "full_load", "unsafe_load", "unsafe_load_all"):
        monkeypatch.setattr(yaml, name, unsafe)
    for loader in (yaml.Loader, yaml.FullLoader, yaml.UnsafeLoader):
        monkeypatch.setattr(loader, "__init__", unsafe)

    flag = tmp_path / "ran"
    value = tagged.format(flag=json.dumps(str(flag)))
    body = {
        "value": f"registrations:\n  a:\n    config: NameConfig\n    fields:\n      name: {value}\n",
        "key": f"registrations:\n  ? {value}\n  : {{config: NameConfig}}\n",
        "root": f"{value}\n",
    }[place]
    text = ("%TAG !py! tag:yaml.org,2002:python/\n---\n" if "!py!" in value else "") + body
    with pytest.raises(DeclarationError) as caught:
        Registry().loads(text, format="yaml", aliases={"NameConfig": NameConfig})
    assert "is not allowed" in caught.value.reason or "unhashable" in caught.value.reason
    assert not flag.exists()
    # The same loader reads plain YAML as usual.
    Registry().loads(
        "registrations: {a: {config: NameConfig}}\n",
        format="yaml",
        aliases={"NameConfig": NameConfig},
    )


# -- pickled state -------------------------------------------------------------------------


class Opaque(Component):
    def __init__(self, size: int) -> None:
        self.size = size

    def state_dict(self) -> dict[str, Any]:
        return {"size": self.size}

    def load_state_dict(self, loaded: dict[str, Any]) -> None:
        self.size = loaded["size"]


class OpaqueConfig(Configuration, component=Opaque):
    size: int = 1


class _Touch:
    """Unpickling this touches a file: the proof that code ran."""

    def __init__(self, flag: Path) -> None:
        self.flag = flag

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.touch, (self.flag,))


def test_a_state_is_never_unpickled_unless_asked_even_with_a_forged_record(tmp_path: Path) -> None:
    state = pytest.importorskip("cinnamon._runs.state")
    registry = Registry()
    registry.register(OpaqueConfig(), name="opaque")
    opaque = registry.build("opaque")
    folder = tmp_path / "state"
    state.save_state(opaque, folder, format="pickle")
    # The attacker replaces the pickle and forges the record to match it.
    flag = tmp_path / "ran"
    blob = pickle.dumps({"": _Touch(flag)})
    digest = hashlib.sha256(blob).hexdigest()
    record = json.loads((folder / "state.json").read_text())
    (folder / record["file"]).unlink()
    record.update(file=f"state-{digest[:16]}.pkl", sha256=digest)
    (folder / record["file"]).write_bytes(blob)
    (folder / "state.json").write_text(json.dumps(record))

    with pytest.raises(StateError, match="allow_pickle=True"):
        state.load_state(registry.build("opaque"), folder)
    assert not flag.exists()
    for escape in ("../state-0123456789abcdef.pkl", "/etc/passwd", "state.json"):
        (folder / "state.json").write_text(json.dumps({**record, "file": escape}))
        with pytest.raises(StateError, match="no valid pickle file"):
            state.load_state(registry.build("opaque"), folder, allow_pickle=True)
    assert not flag.exists()


# -- file paths from configurations --------------------------------------------------------

_FILE_CONFIGS = [CheckpointConfig, MetricsLoggerConfig, TimerConfig]


def _inside(folder: str, name: str) -> bool:
    """Whether ``folder / name`` names a file directly in ``folder``, on POSIX and Windows.

    Windows drops trailing dots and spaces from each part of a path, so that is done
    here too before the parts are compared.
    """
    posix = PurePosixPath(folder) / name
    windows = PureWindowsPath("C:/" + folder) / name
    trimmed = PureWindowsPath(*(part.rstrip(". ") or part for part in windows.parts))
    return (
        posix.parent == PurePosixPath(folder)
        and posix.name not in ("", ".", "..")
        and trimmed.parent == PureWindowsPath("C:/" + folder)
        and trimmed.name not in ("", ".", "..")
        and windows.drive == "C:"
    )


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(_FILE_CONFIGS),
    st.text(st.sampled_from("./\\:. aZé\x00\t-_~"), min_size=1, max_size=8)
    | st.sampled_from(
        ["..", "../x", "..\\x", "C:x", "c:", "/etc/x", "\\\\host\\x", ".. ", "x.", "CON"]
    ),
)
def test_a_file_name_from_a_configuration_stays_in_the_save_folder(
    config: type[Configuration], name: str
) -> None:
    try:
        config(filename=name)
    except ConfigurationError as error:
        assert error.path == f"{config.__name__}.filename"
    else:
        assert _inside("run", name), name


@pytest.mark.parametrize("make", [Checkpoint, MetricsLogger, Timer])
@pytest.mark.parametrize("name", ["../x.json", "..", "C:evil.json", "x/../../y", ".. ", "a\x00b"])
def test_hand_made_callbacks_and_files_refuse_an_escaping_file_name(make: Any, name: str) -> None:
    with pytest.raises(ConfigurationError, match="filename"):
        make(filename=name)
    config = {
        Checkpoint: "CheckpointConfig",
        MetricsLogger: "MetricsLoggerConfig",
        Timer: "TimerConfig",
    }[make]
    text = f'[registrations.cb]\nconfig = "cinnamon.callbacks:{config}"\nfields.filename = {json.dumps(name)}\n'
    with pytest.raises(DeclarationError, match=r"registrations\.cb\.fields\.filename"):
        Registry().loads(text)


@pytest.mark.parametrize("run_dir", ["../outside", "runs/../../outside", "..\\outside", ".."])
def test_the_demo_run_dir_from_a_configuration_cannot_climb_out(run_dir: str) -> None:
    from cinnamon.demo import TrainerConfig

    with pytest.raises(ConfigurationError, match="run_dir"):
        TrainerConfig(run_dir=run_dir)


def test_the_demo_run_dir_may_name_a_folder_below_the_working_folder() -> None:
    from cinnamon.demo import TrainerConfig

    assert TrainerConfig(run_dir="runs/experiment-1").run_dir == "runs/experiment-1"
