"""save_state / load_state: a tree's state on disk, tied to its configuration."""

from __future__ import annotations

import json
import pickle
import threading
from pathlib import Path
from typing import Any

import pytest
import sweep_fixtures as fx

import cinnamon._runs.state as state_module
from cinnamon import RegistrationKey, Registry, apply_overrides, fingerprint
from cinnamon._core.resolve import compile_plan
from cinnamon._files.atomic import atomic_write
from cinnamon._runs.state import load_state, save_state
from cinnamon.errors import StateError, StateMismatchError, UsageError


@pytest.fixture
def registry() -> Registry:
    found = Registry()
    found.register(fx.CounterConfig(start=1), name="lead")
    found.register(
        fx.TeamConfig(
            lead=RegistrationKey("lead", shared=True),
            members=[fx.CounterConfig(start=5), fx.StatelessConfig(), fx.CounterConfig()],
            spare=RegistrationKey("lead", shared=True),
        ),
        name="team",
    )
    found.register(fx.OpaqueConfig(), name="opaque")
    found.register(fx.MaybeConfig(note=None), name="maybe")
    return found


def worked(registry: Registry) -> fx.Team:
    team = registry.build("team", fx.Team)
    team.lead.count = 7
    team.members[0].count = 50
    team.members[2].count = 20
    team.log = ["trained", "evaluated"]
    return team


def test_a_saved_state_loads_into_a_fresh_tree(registry: Registry, tmp_path: Path) -> None:
    team = worked(registry)
    save_state(team, tmp_path / "saved")

    fresh = registry.build("team", fx.Team)
    assert fresh.lead.count == 1
    load_state(fresh, tmp_path / "saved")
    assert fresh.lead.count == 7
    assert fresh.spare is fresh.lead  # shared: one instance, loaded once
    assert [fresh.members[0].count, fresh.members[2].count] == [50, 20]
    assert fresh.log == ["trained", "evaluated"]
    assert fresh.loaded == ["lead=7"]  # children are loaded before their parent


def test_the_folder_holds_state_configuration_and_fingerprint(
    registry: Registry, tmp_path: Path
) -> None:
    team = worked(registry)
    save_state(team, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "config.toml",
        "fingerprint.txt",
        "state.json",
    ]
    record = json.loads((tmp_path / "state.json").read_text())
    digest = fingerprint(registry.resolve("team"))
    assert record["fingerprint"] == digest
    assert (tmp_path / "fingerprint.txt").read_text() == digest + "\n"
    # The file mirrors the tree: one state per stateful component, by its path; the
    # stateless member and the second path to the shared lead are not there.
    assert record["states"] == {
        "": {"log": ["trained", "evaluated"]},
        "lead": {"count": 7},
        "members[0]": {"count": 50},
        "members[2]": {"count": 20},
    }
    # The configuration file loads back into the same tree.
    again = Registry()
    keys = again.loads((tmp_path / "config.toml").read_text(), allow=["sweep_fixtures"])
    assert fingerprint(again.resolve(keys[0])) == digest


def test_a_state_from_another_configuration_is_refused(registry: Registry, tmp_path: Path) -> None:
    save_state(worked(registry), tmp_path)
    saved = fingerprint(registry.resolve("team"))
    changed = apply_overrides(registry.resolve("team"), ["name=other"])
    other = compile_plan(changed, "team").run()
    with pytest.raises(StateMismatchError, match=f"fingerprint {saved}.*{fingerprint(changed)}"):
        load_state(other, tmp_path)
    assert other.lead.count == 1  # nothing was loaded
    with pytest.raises(ValueError, match="another configuration"):
        load_state(other, tmp_path)


def test_the_mismatch_error_keeps_its_parts(registry: Registry, tmp_path: Path) -> None:
    save_state(worked(registry), tmp_path)
    changed = compile_plan(apply_overrides(registry.resolve("team"), ["name=b"]), "team").run()
    with pytest.raises(StateMismatchError) as caught:
        load_state(changed, tmp_path)
    assert caught.value.file == str(tmp_path / "state.json")
    assert caught.value.saved == fingerprint(registry.resolve("team"))
    assert caught.value.current == fingerprint(changed.__cinnamon__.config)
    assert pickle.loads(pickle.dumps(caught.value)).saved == caught.value.saved


def test_json_refuses_a_state_it_cannot_hold_before_writing_anything(
    registry: Registry, tmp_path: Path
) -> None:
    opaque = registry.build("opaque")
    with pytest.raises(UsageError, match=r"the root \(Opaque\).*format='pickle'"):
        save_state(opaque, tmp_path / "saved")
    assert not (tmp_path / "saved").exists()


def test_pickle_is_written_only_when_asked_and_read_only_when_allowed(
    registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opaque = registry.build("opaque")
    opaque.blob = {4, 5}
    save_state(opaque, tmp_path, format="pickle")
    record = json.loads((tmp_path / "state.json").read_text())
    assert record["encoding"] == "pickle"
    assert "states" not in record
    assert (tmp_path / record["file"]).is_file()

    fresh = registry.build("opaque")

    def no_unpickling(*_: Any, **__: Any) -> Any:
        msg = "unpickled without allow_pickle"
        raise AssertionError(msg)

    with monkeypatch.context() as patch:
        patch.setattr(pickle, "loads", no_unpickling)
        with pytest.raises(StateError, match=r"pickled.*allow_pickle=True"):
            load_state(fresh, tmp_path)
    assert fresh.blob == {1, 2, 3}
    load_state(fresh, tmp_path, allow_pickle=True)
    assert fresh.blob == {4, 5}


def test_a_state_that_does_not_pickle_is_refused(registry: Registry, tmp_path: Path) -> None:
    opaque = registry.build("opaque")
    opaque.blob = threading.Lock()
    with pytest.raises(UsageError, match=r"cannot pickle the state: TypeError: .*lock"):
        save_state(opaque, tmp_path / "saved", format="pickle")
    assert not (tmp_path / "saved").exists()


def test_a_tampered_pickle_is_refused(registry: Registry, tmp_path: Path) -> None:
    save_state(registry.build("opaque"), tmp_path, format="pickle")
    record = json.loads((tmp_path / "state.json").read_text())
    (tmp_path / record["file"]).write_bytes(pickle.dumps({"": {"blob": "evil"}}))
    with pytest.raises(StateError, match="does not match the hash"):
        load_state(registry.build("opaque"), tmp_path, allow_pickle=True)


def test_switching_formats_removes_the_stale_files(registry: Registry, tmp_path: Path) -> None:
    team = worked(registry)
    save_state(team, tmp_path, format="pickle")
    save_state(team, tmp_path, format="pickle")  # the same state: the same file
    assert len(list(tmp_path.glob("*.pkl"))) == 1
    save_state(team, tmp_path)
    assert not list(tmp_path.glob("*.pkl"))
    fresh = registry.build("team", fx.Team)
    load_state(fresh, tmp_path)
    assert fresh.lead.count == 7


@pytest.mark.parametrize("encoding", ["json", "pickle"])
def test_a_crash_during_a_save_leaves_the_previous_save_loadable(
    registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, encoding: str
) -> None:
    old = worked(registry)
    save_state(old, tmp_path, format=encoding)  # type: ignore[arg-type]

    # A save from another configuration crashes before its record is written.
    changed = compile_plan(apply_overrides(registry.resolve("team"), ["name=new"]), "team").run()
    changed.lead.count = 99

    def crash_at_the_record(path: Path, data: str | bytes) -> None:
        if path.name == "state.json":
            raise KeyboardInterrupt
        atomic_write(path, data)

    monkeypatch.setattr(state_module, "atomic_write", crash_at_the_record)
    with pytest.raises(KeyboardInterrupt):
        save_state(changed, tmp_path, format=encoding)  # type: ignore[arg-type]
    monkeypatch.undo()

    # The companions already describe the new configuration, but the record is the
    # old one, whole, and still loads into the old tree (and refuses the new one).
    assert (tmp_path / "fingerprint.txt").read_text().strip() == fingerprint(
        changed.__cinnamon__.config
    )
    fresh = registry.build("team", fx.Team)
    load_state(fresh, tmp_path, allow_pickle=True)
    assert fresh.lead.count == 7
    with pytest.raises(StateMismatchError):
        load_state(changed, tmp_path, allow_pickle=True)


def test_atomic_write_leaves_the_old_file_when_it_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "file.txt"
    atomic_write(target, "old")

    def fail(_: int) -> None:
        msg = "disk full"
        raise OSError(msg)

    monkeypatch.setattr("cinnamon._files.atomic.os.fsync", fail)
    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, "new, and longer than the old")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["file.txt"]  # no temporary left


def test_a_configuration_toml_cannot_write_is_saved_as_json(
    registry: Registry, tmp_path: Path
) -> None:
    maybe = registry.build("maybe")
    save_state(maybe, tmp_path)  # nothing has state; the configuration is still saved
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "config.json",
        "fingerprint.txt",
        "state.json",
    ]
    assert json.loads((tmp_path / "state.json").read_text())["config"] == "config.json"
    load_state(registry.build("maybe"), tmp_path)


def test_a_component_made_by_hand_has_no_configuration_to_save(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"built by a registry.*Counter was made by hand"):
        save_state(fx.Counter(), tmp_path)
    with pytest.raises(UsageError, match="made by hand"):
        load_state(fx.Counter(), tmp_path)
    with pytest.raises(UsageError, match="takes a Component, not dict"):
        save_state({}, tmp_path)  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="unknown format 'yaml'"):
        save_state(fx.Counter(), tmp_path, format="yaml")  # type: ignore[arg-type]


def test_loading_from_a_folder_with_no_state(registry: Registry, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"state\.json"):
        load_state(registry.build("team"), tmp_path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not a saved state \\(invalid JSON"),
        ('{"format": "something else"}', "no 'format': 'cinnamon-state'"),
        ('{"format": "cinnamon-state", "version": 99}', "newer cinnamon \\(version 99\\)"),
        ('{"format": "cinnamon-state", "version": 1}', "no fingerprint"),
    ],
)
def test_a_malformed_record_is_refused(
    registry: Registry, tmp_path: Path, text: str, message: str
) -> None:
    (tmp_path / "state.json").write_text(text)
    with pytest.raises(StateError, match=message):
        load_state(registry.build("team"), tmp_path)


def edit_record(folder: Path, **changes: Any) -> None:
    record = json.loads((folder / "state.json").read_text())
    record.update(changes)
    (folder / "state.json").write_text(json.dumps(record))


def test_states_that_do_not_fit_the_tree_are_refused(registry: Registry, tmp_path: Path) -> None:
    team = worked(registry)
    save_state(team, tmp_path)
    states = json.loads((tmp_path / "state.json").read_text())["states"]
    del states["members[2]"]
    states["members[9]"] = {"count": 1}
    edit_record(tmp_path, states=states)
    with pytest.raises(
        StateError, match=r"no state for 'members\[2\]'; a state for 'members\[9\]' not in"
    ):
        load_state(registry.build("team"), tmp_path)
    edit_record(tmp_path, states=[1, 2])
    with pytest.raises(StateError, match="not a table of component paths"):
        load_state(registry.build("team"), tmp_path)
    edit_record(tmp_path, encoding="yaml")
    with pytest.raises(StateError, match="unknown encoding 'yaml'"):
        load_state(registry.build("team"), tmp_path)
    edit_record(tmp_path, encoding="pickle", file="../../etc/passwd")
    with pytest.raises(StateError, match="no valid pickle file"):
        load_state(registry.build("team"), tmp_path, allow_pickle=True)


def test_a_failing_load_says_which_component(registry: Registry, tmp_path: Path) -> None:
    save_state(worked(registry), tmp_path)
    states = json.loads((tmp_path / "state.json").read_text())["states"]
    states["members[0]"] = {"wrong": 1}
    edit_record(tmp_path, states=states)
    with pytest.raises(KeyError, match="count") as caught:
        load_state(registry.build("team"), tmp_path)
    where = tmp_path / "state.json"
    assert caught.value.__notes__ == [
        f"cinnamon: raised while loading the state of 'members[0]' (Counter) from {where}"
    ]


def test_a_configuration_that_cannot_be_written_is_refused(tmp_path: Path) -> None:
    class Local(fx.CounterConfig):  # defined in a function: no import path to write
        pass

    registry = Registry()
    registry.register(Local(), name="local")
    with pytest.raises(UsageError, match="cannot write the configuration next to the state"):
        save_state(registry.build("local"), tmp_path / "saved")
    assert not (tmp_path / "saved").exists()
