"""cinnamon next to its peers, side by side, in one table (and one chart).

Run: nox -s bench -- peers            (installs the peers; or python benchmarks/run.py)
     python benchmarks/bench_peers.py [--quick]

Every row times one workload with cinnamon and with one peer, both in the same run,
interleaved round by round, and reports the medians and their ratio ``cinnamon /
peer``, as every table of ``benchmarks/`` does: below 1, cinnamon is faster (or
smaller); a target is the highest acceptable ratio (``<= 0.2x``: at least 5x faster).
The workloads:

- tree build: a depth-5, fan-out-3 tree of 364 components, built by
  ``registry.build`` (from a registered key, whose build plan is cached after the first
  build, and from an inline configuration tree, resolved and compiled on every call)
  next to plain constructors, plain constructors plus pydantic validation,
  ``hydra.utils.instantiate``, ``fdl.build`` (fiddle) and confection's registry;
- register + resolve: N = 1,000 and 10,000 registrations, flat and as a chain, per
  key, next to cinnamon-core 2.3.0 (which also imports as ``cinnamon``, so it runs in a
  virtual environment of its own under ``.bench-venvs/``, driven through a pipe by
  ``peers/cinnamon_core_driver.py``, alternating with us);
- hook dispatch: a guarded call with 1 and 10 callbacks next to pluggy, blinker and a
  Keras-style loop, each firing a begin and an end hook around the same call;
- cold start: fresh interpreters running ``import cinnamon``, ``cinnamon --help`` and
  the imports of real use, next to the same for pydantic;
- memory: the peak RSS of a process holding 100,000 registrations, less that of one
  holding the same configurations unregistered, per registration.

A peer that cannot be installed or imported gets a row that says so ("n/a") instead of
failing the run. ``python benchmarks/run.py --chart`` draws the ratios of every table
of the run, these included, in docs/images/benchmark-ratios.svg.
"""

from __future__ import annotations

import functools
import gc
import json
import os
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_core import Node, NodeConfig, by_hand, by_hand_validated, count_nodes, tree_registry
from harness import RESULTS, Result, fmt_ratio, fmt_time, measure, version

from cinnamon import Callback, CallbackPipeline, Configuration, Param, Ref, RegistrationKey, guard
from cinnamon import Registry as CinnamonRegistry

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
VENVS = ROOT / ".bench-venvs"
CORE = "cinnamon-core==2.3.0"
DEPTH, FANOUT, NODES = 5, 3, 364
SIZES = (1_000, 10_000)
MEMORY_COUNT = 100_000


@dataclass
class Row:
    """One line of the table: a workload, cinnamon's median and one peer's."""

    workload: str
    ours: float | None
    peer: str
    theirs: float | None
    target: float | None = None  # the highest acceptable cinnamon / peer
    note: str = ""  # why the peer is missing
    unit: str = "s"

    @property
    def ratio(self) -> float | None:
        if self.ours is None or self.theirs is None or self.theirs <= 0:
            return None
        return self.ours / self.theirs

    def result(self) -> Result:
        """The row as every table of the run records it."""
        return Result(
            "Peers",
            self.workload,
            self.ours or 0.0,
            self.peer,
            self.ratio,
            self.target,
        )


def _named(distribution: str) -> str:
    """The distribution with its installed version, if it is installed."""
    return f"{distribution} {version(distribution)}".rstrip()


def _reason(error: BaseException) -> str:
    if isinstance(error, ImportError):
        return "n/a: not installed here (nox -s bench installs it)"
    detail = " ".join(str(error).split())  # one line, whatever the message
    return f"n/a: {type(error).__name__}: {detail}"[:100]


# -- tree build ------------------------------------------------------------------------


def inline_tree(depth: int = 0) -> NodeConfig:
    """The same tree as ``tree_registry()``, as one configuration holding the others."""
    kids = [inline_tree(depth + 1) for _ in range(FANOUT)] if depth < DEPTH else []
    return NodeConfig(children=kids, size=depth)


def _hydra() -> Callable[[], Any]:
    from hydra.utils import instantiate  # noqa: PLC0415
    from omegaconf import OmegaConf  # noqa: PLC0415

    target = f"{Node.__module__}.{Node.__qualname__}"

    def spec(depth: int) -> dict[str, Any]:
        kids = [spec(depth + 1) for _ in range(FANOUT)] if depth < DEPTH else []
        return {"_target_": target, "children": kids, "size": depth}

    config = OmegaConf.create(spec(0))  # what a Hydra app receives from compose()
    # "partial" hands constructors plain lists, as every other case does.
    return lambda: instantiate(config, _convert_="partial")


def _fiddle() -> Callable[[], Any]:
    import fiddle as fdl  # noqa: PLC0415

    def spec(depth: int) -> Any:
        kids = [spec(depth + 1) for _ in range(FANOUT)] if depth < DEPTH else []
        return fdl.Config(Node, children=kids, size=depth)

    config = spec(0)
    return lambda: fdl.build(config)


def _confection() -> Callable[[], Any]:
    from confection import registry  # noqa: PLC0415

    def make_node(children: dict[str, Any], size: int) -> Node:
        # confection resolves blocks nested in dicts (sections), not in lists.
        return Node(list(children.values()), size)

    class Registry(registry):  # type: ignore[misc]
        nodes: ClassVar = {"node.v1": make_node}  # catalogue-style: `in` and .get()

    def spec(depth: int) -> dict[str, Any]:
        kids = {str(i): spec(depth + 1) for i in range(FANOUT)} if depth < DEPTH else {}
        return {"@nodes": "node.v1", "children": kids, "size": depth}

    config = {"root": spec(0)}
    return lambda: Registry.resolve(config)["root"]


TREE_PEERS = {
    "hydra": ("hydra-core", "hydra.utils.instantiate", _hydra, 0.01),
    "fiddle": ("fiddle", "fdl.build", _fiddle, 0.2),
    "confection": ("confection", "registry.resolve", _confection, 0.1),
}


def tree_rows(rounds: int) -> list[Row]:
    registry, root = tree_registry()
    inline = inline_tree()
    fresh = CinnamonRegistry()
    cases: dict[str, Callable[[], Any]] = {
        "plain": by_hand,
        "validated": by_hand_validated,
        "cached": lambda: registry.build(root),
        "first": lambda: fresh.build(inline),  # an inline tree: resolved and compiled
    }
    missing: dict[str, str] = {}
    for name, (_, _, make, _) in TREE_PEERS.items():
        try:
            case = make()
            assert count_nodes(case()) == NODES
        except Exception as error:  # noqa: BLE001 - the row says what went wrong
            missing[name] = _reason(error)
        else:
            cases[name] = case
    for name in ("plain", "validated", "cached", "first"):
        assert count_nodes(cases[name]()) == NODES
    times = measure(cases, rounds=rounds)

    rows = []
    for ours, workload in (
        ("cached", "tree build: registry.build(key)"),
        ("first", "tree build: registry.build(config)"),
    ):
        rows.append(Row(workload, times[ours], "plain constructors", times["plain"]))
        rows.append(Row(workload, times[ours], "plain + pydantic validation", times["validated"]))
        for name, (distribution, call, _, target) in TREE_PEERS.items():
            peer = f"{_named(distribution)} {call}"
            rows.append(
                Row(
                    workload, times[ours], peer, times.get(name), target, note=missing.get(name, "")
                )
            )
    return rows


# -- register + resolve ------------------------------------------------------------------


class LeafConfig(Configuration):
    size: int = Param(1, ge=0)


class LinkConfig(Configuration):
    size: int = Param(1, ge=0)
    child: Ref[LinkConfig] | None = None


def register_flat(count: int) -> float:
    """Per-key seconds: register ``count`` configurations and resolve every key."""
    configs = [LeafConfig(size=i) for i in range(count)]
    gc.collect()
    start = time.perf_counter()
    registry = CinnamonRegistry()
    keys = [registry.register(config, name=f"k{i}") for i, config in enumerate(configs)]
    for key in keys:
        registry.resolve(key)
    return (time.perf_counter() - start) / count


def register_chain(count: int) -> float:
    """Per-key seconds: register a chain of ``count`` and resolve its end (all of it)."""
    configs = [LinkConfig(size=0)] + [
        LinkConfig(size=i, child=RegistrationKey(f"k{i - 1}")) for i in range(1, count)
    ]
    gc.collect()
    start = time.perf_counter()
    registry = CinnamonRegistry()
    keys = [registry.register(config, name=f"k{i}") for i, config in enumerate(configs)]
    registry.resolve(keys[-1])
    return (time.perf_counter() - start) / count


@functools.cache
def core_python() -> Path | str:
    """The Python of a virtual environment with cinnamon-core 2.3.0, or why there is none.

    The environment is made once and kept under .bench-venvs/. It gets the same pydantic
    as this one, so that the comparison is of the two libraries alone.
    """
    try:
        return _core_python()
    except (OSError, subprocess.SubprocessError, RuntimeError) as error:
        return f"n/a: could not set up {CORE}: {_reason(error).removeprefix('n/a: ')}"


def _core_python() -> Path:
    pydantic = version("pydantic")
    folder = VENVS / (
        f"cinnamon-core-2.3.0-py{sys.version_info[0]}.{sys.version_info[1]}-pydantic-{pydantic}"
    )
    python = folder / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    ready = folder / "ready"
    if not ready.exists():
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(folder)], check=True)
        pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        installed = subprocess.run(
            [*pip, CORE, f"pydantic=={pydantic}"], capture_output=True, text=True, check=False
        )
        if installed.returncode:
            lines = installed.stderr.strip().splitlines() or ["pip failed"]
            raise RuntimeError(lines[-1])
        ready.write_text(f"{CORE} pydantic=={pydantic}\n")
    return python


class CoreDriver:
    """cinnamon-core in its own process, timing one workload per request."""

    def __init__(self, python: Path) -> None:
        self.process = subprocess.Popen(
            [str(python), str(HERE / "peers" / "cinnamon_core_driver.py"), "serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.version = self._read()["version"]

    def _read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            msg = "the cinnamon-core driver stopped"
            raise RuntimeError(msg)
        return dict(json.loads(line))

    def time(self, shape: str, count: int) -> float:
        assert self.process.stdin is not None
        self.process.stdin.write(f"{shape} {count}\n")
        self.process.stdin.flush()
        return float(self._read()["seconds"])

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=60)


def register_rows(rounds: int) -> tuple[list[Row], list[str]]:
    ours = {"flat": register_flat, "chain": register_chain}
    python = core_python()
    driver = CoreDriver(python) if isinstance(python, Path) else None
    reason = python if isinstance(python, str) else ""
    samples: dict[tuple[str, int, str], list[float]] = {}
    for index in range(rounds):
        for shape in ("flat", "chain"):
            for count in SIZES:
                # Alternate who goes first, so that neither always runs after the other.
                for who in ("ours", "theirs") if index % 2 == 0 else ("theirs", "ours"):
                    if who == "ours":
                        seconds = ours[shape](count)
                    elif driver is not None:
                        seconds = driver.time(shape, count)
                    else:
                        continue
                    samples.setdefault((shape, count, who), []).append(seconds)
    peer = f"cinnamon-core {driver.version}" if driver else "cinnamon-core 2.3.0"
    if driver is not None:
        driver.close()
    median = {key: statistics.median(values) for key, values in samples.items()}
    rows = [
        Row(
            f"register + resolve: {shape} {count:,}, per key",
            median[shape, count, "ours"],
            peer,
            median.get((shape, count, "theirs")),
            0.2,
            note=reason,
        )
        for shape in ("flat", "chain")
        for count in SIZES
    ]
    growth = []
    for who, name in (("ours", "cinnamon"), ("theirs", "cinnamon-core")):
        parts = []
        for shape in ("flat", "chain"):
            small, large = median.get((shape, SIZES[0], who)), median.get((shape, SIZES[1], who))
            if small and large:
                parts.append(f"{shape} {large / small:.2f}x")
        if parts:
            growth.append(f"{name}: {', '.join(parts)}")
    notes = [
        f"Growth per key from {SIZES[0]:,} to {SIZES[1]:,} registrations (1.00x is linear): "
        + "; ".join(growth)
    ]
    return rows, notes


# -- hook dispatch -----------------------------------------------------------------------


def work(x: int, callbacks: Any = None) -> int:  # noqa: ARG001 - the guard reads it
    return x


guarded = guard("fit")(work)


class Hooks(Callback):
    def on_fit_begin(self, logs: Any) -> None:
        pass

    def on_fit_end(self, logs: Any) -> None:
        pass


class KerasStyle:
    def on_fit_begin(self, logs: Any) -> None:
        pass

    def on_fit_end(self, logs: Any) -> None:
        pass


def call_hook(callbacks: list[Any], hook: str, logs: Any) -> None:
    """The loop of Keras's ``CallbackList``."""
    for callback in callbacks:
        getattr(callback, hook)(logs)


def _ours(listeners: int) -> Callable[[], Any]:
    callbacks: Callback = (
        Hooks() if listeners == 1 else CallbackPipeline([Hooks() for _ in range(listeners)])
    )
    return lambda: guarded(1, callbacks=callbacks)


def _keras(listeners: int) -> Callable[[], Any]:
    callbacks = [KerasStyle() for _ in range(listeners)]

    def case() -> None:
        call_hook(callbacks, "on_fit_begin", None)
        result = work(1)
        call_hook(callbacks, "on_fit_end", result)

    return case


def _pluggy(listeners: int) -> Callable[[], Any]:
    import pluggy  # noqa: PLC0415

    spec, implementation = pluggy.HookspecMarker("bench"), pluggy.HookimplMarker("bench")

    class Spec:
        @spec
        def on_fit_begin(self, logs: Any) -> None: ...

        @spec
        def on_fit_end(self, logs: Any) -> None: ...

    class Plugin:
        @implementation
        def on_fit_begin(self, logs: Any) -> None:
            pass

        @implementation
        def on_fit_end(self, logs: Any) -> None:
            pass

    manager = pluggy.PluginManager("bench")
    manager.add_hookspecs(Spec)
    for _ in range(listeners):
        manager.register(Plugin())
    hook = manager.hook

    def case() -> None:
        hook.on_fit_begin(logs=None)
        result = work(1)
        hook.on_fit_end(logs=result)

    return case


def _blinker(listeners: int) -> Callable[[], Any]:
    import blinker  # noqa: PLC0415

    class Receiver:
        def on_fit_begin(self, sender: Any, logs: Any) -> None:
            pass

        def on_fit_end(self, sender: Any, logs: Any) -> None:
            pass

    begin, end = blinker.Signal(), blinker.Signal()
    receivers = [Receiver() for _ in range(listeners)]  # blinker holds them weakly
    for receiver in receivers:
        begin.connect(receiver.on_fit_begin)
        end.connect(receiver.on_fit_end)

    def case() -> None:
        begin.send(None, logs=None)
        result = work(1)
        end.send(None, logs=result)

    case.receivers = receivers  # type: ignore[attr-defined]  # keep them alive
    return case


HOOK_PEERS = {
    "pluggy": ("pluggy", "hook implementation", _pluggy, 0.2),
    "blinker": ("blinker", "receiver", _blinker, 0.2),
}


def hook_rows(rounds: int) -> list[Row]:
    cases: dict[str, Callable[[], Any]] = {}
    missing: dict[str, str] = {}
    for listeners in (1, 10):
        cases[f"ours {listeners}"] = _ours(listeners)
        cases[f"keras {listeners}"] = _keras(listeners)
        for name, (_, _, make, _) in HOOK_PEERS.items():
            try:
                cases[f"{name} {listeners}"] = make(listeners)
            except Exception as error:  # noqa: BLE001 - the row says what went wrong
                missing[name] = _reason(error)
    times = measure(cases, rounds=rounds)
    rows = []
    for listeners in (1, 10):
        workload = f"hooks: guarded call, {listeners} callback{'s' if listeners > 1 else ''}"
        ours = times[f"ours {listeners}"]
        for name, (distribution, what, _, target) in HOOK_PEERS.items():
            plural = "s" if listeners > 1 else ""
            peer = f"{_named(distribution)}, {listeners} {what}{plural}"
            rows.append(
                Row(
                    workload,
                    ours,
                    peer,
                    times.get(f"{name} {listeners}"),
                    target,
                    note=missing.get(name, ""),
                )
            )
        rows.append(Row(workload, ours, "Keras-style loop", times[f"keras {listeners}"]))
    return rows


# -- cold start --------------------------------------------------------------------------

ONE_MODEL = "\nclass C({}):\n    x: int = 0\n"


def cold_cases() -> dict[str, list[str]]:
    python = sys.executable
    script = Path(python).parent / ("cinnamon.exe" if os.name == "nt" else "cinnamon")
    cases = {
        "pass": [python, "-c", "pass"],
        "import pydantic": [python, "-c", "import pydantic"],
        "from pydantic import BaseModel": [python, "-c", "from pydantic import BaseModel"],
        "pydantic model": [
            python,
            "-c",
            "from pydantic import BaseModel" + ONE_MODEL.format("BaseModel"),
        ],
        "import cinnamon": [python, "-c", "import cinnamon"],
        "cinnamon config": [
            python,
            "-c",
            "from cinnamon import Configuration, Registry" + ONE_MODEL.format("Configuration"),
        ],
        "python -m cinnamon --help": [python, "-m", "cinnamon", "--help"],
    }
    if script.exists():
        cases["cinnamon --help"] = [str(script), "--help"]
    return cases


def _env() -> dict[str, str]:
    # Installed packages run from cached bytecode; make sure ours has it too.
    return {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}


def cold_rows(rounds: int) -> tuple[list[Row], list[str]]:
    cases, env = cold_cases(), _env()
    for command in cases.values():  # warm up: bytecode written, files in the page cache
        subprocess.run(command, env=env, stdout=subprocess.DEVNULL, check=True)
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for index in range(rounds):
        for name in list(cases) if index % 2 == 0 else reversed(list(cases)):
            start = time.perf_counter()
            subprocess.run(cases[name], env=env, stdout=subprocess.DEVNULL, check=True)
            samples[name].append(time.perf_counter() - start)
    times = {name: statistics.median(values) for name, values in samples.items()}
    rows = [
        Row(
            "cold start: import cinnamon", times["import cinnamon"], "python -c pass", times["pass"]
        ),
        Row(
            "cold start: import cinnamon",
            times["import cinnamon"],
            "import pydantic",
            times["import pydantic"],
            1.3,
        ),
    ]
    rows += [
        Row(
            f"cold start: {name}",
            times[name],
            "import pydantic",
            times["import pydantic"],
            1.5,
        )
        for name in ("cinnamon --help", "python -m cinnamon --help")
        if name in cases
    ]
    rows += [
        Row(
            "cold start: Configuration, Registry + 1 class",
            times["cinnamon config"],
            "from pydantic import BaseModel",
            times["from pydantic import BaseModel"],
        ),
        Row(
            "cold start: Configuration, Registry + 1 class",
            times["cinnamon config"],
            "BaseModel + 1 class",
            times["pydantic model"],
        ),
    ]
    notes = [
        "Where the time goes (python -X importtime, self time summed by top-level package):",
        "  from cinnamon import Configuration, Registry + 1 class: "
        + _import_profile(cases["cinnamon config"], env),
        "  python -m cinnamon --help: " + _import_profile(cases["python -m cinnamon --help"], env),
    ]
    return rows, notes


def _import_profile(command: list[str], env: dict[str, str], top: int = 6) -> str:
    result = subprocess.run(
        [command[0], "-X", "importtime", *command[1:]],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    total: Counter[str] = Counter()
    for line in result.stderr.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if len(parts) == 3 and parts[0].strip().isdigit():
            total[parts[2].strip().split(".")[0]] += int(parts[0])
    overall = sum(total.values()) / 1000
    listed = ", ".join(f"{name} {us / 1000:.1f} ms" for name, us in total.most_common(top))
    return f"{overall:.0f} ms in imports: {listed}"


# -- memory ------------------------------------------------------------------------------


def _peak(command: list[str]) -> int:
    result = subprocess.run(command, capture_output=True, text=True, check=True, env=_env())
    return int(json.loads(result.stdout.splitlines()[-1])["peak"])


def memory_rows(rounds: int) -> list[Row]:
    ours = [sys.executable, str(HERE / "peers" / "memory.py"), str(MEMORY_COUNT)]
    python, theirs = core_python(), None
    reason = python if isinstance(python, str) else ""
    if isinstance(python, Path):
        driver = HERE / "peers" / "cinnamon_core_driver.py"
        theirs = [str(python), str(driver), "memory", str(MEMORY_COUNT)]
    peaks: dict[tuple[str, str], list[int]] = {}
    for index in range(rounds):
        for mode in ("baseline", "register") if index % 2 == 0 else ("register", "baseline"):
            for who, command in (("ours", ours), ("theirs", theirs)):
                if command is not None:
                    peaks.setdefault((who, mode), []).append(_peak([*command, mode]))

    def per_registration(who: str) -> float | None:
        if (who, "register") not in peaks:
            return None
        extra = statistics.median(peaks[who, "register"]) - statistics.median(
            peaks[who, "baseline"]
        )
        return extra / MEMORY_COUNT

    return [
        Row(
            f"memory: {MEMORY_COUNT:,} registrations, per one",
            per_registration("ours"),
            "cinnamon-core 2.3.0",
            per_registration("theirs"),
            note=reason,
            unit="B",
        )
    ]


# -- the table ---------------------------------------------------------------------------


def _amount(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "B":
        return f"{value:8.0f} B" if value < 10_000 else f"{value / 1024:8.1f} KiB"
    return fmt_time(value)


def render(rows: list[Row]) -> str:
    header = f"{'workload':<46} {'cinnamon':>11}  {'peer':<44} {'peer':>11} {'cin/peer':>9}  target"
    lines = [header, "-" * len(header)]
    previous = None
    for row in rows:
        workload = row.workload if row.workload != previous else ""
        previous = row.workload
        if row.theirs is None:
            lines.append(
                f"{workload:<46} {_amount(row.ours, row.unit):>11}  {row.peer:<44} "
                f"{row.note or 'n/a'}"
            )
            continue
        ratio = row.ratio
        shown = f"{fmt_ratio(ratio):>9}" if ratio is not None else f"{'-':>9}"
        lines.append(
            f"{workload:<46} {_amount(row.ours, row.unit):>11}  {row.peer:<44} "
            f"{_amount(row.theirs, row.unit):>11} {shown}  {row.result().verdict}".rstrip()
        )
    return "\n".join(lines)


def main(quick: bool = False) -> str:
    """Run every comparison and return the table."""
    rounds = 3 if quick else 9
    started = time.perf_counter()
    rows = tree_rows(rounds)
    register, register_notes = register_rows(3 if quick else 5)
    rows += register
    rows += hook_rows(5 if quick else 15)
    cold, cold_notes = cold_rows(5 if quick else 21)
    rows += cold
    rows += memory_rows(1 if quick else 3)
    RESULTS.extend(row.result() for row in rows if row.ratio is not None)
    title = "Peers: medians of interleaved rounds; cin/peer below 1 means cinnamon is faster"
    lines = [
        title,
        "-" * len(title),
        render(rows),
        "",
        *register_notes,
        *cold_notes,
        f"Took {time.perf_counter() - started:.0f} s.",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(main(quick="--quick" in sys.argv[1:]))
