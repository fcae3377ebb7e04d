"""Drive cinnamon-core 2.3.0 for ``bench_peers.py``, in a virtual environment of its own.

cinnamon-core also imports as ``cinnamon``, so it cannot share a process with this
project. ``bench_peers.py`` starts this script with that environment's Python and
alternates with it, round by round:

    python cinnamon_core_driver.py serve
        reads commands from stdin, one per line, and answers each with a line of JSON:
        ``flat N`` / ``chain N`` -> {"seconds": per-key seconds of one run}
    python cinnamon_core_driver.py memory N register|baseline
        prints {"peak": peak RSS in bytes} of a process that makes N configurations
        and registers them (or, for the baseline, only makes them).

The workload matches ``bench_peers.py``'s: N configurations with one validated int
field are made first (not timed); the timed part starts an empty registry, registers
them all and resolves them all. In cinnamon-core a registry is resolved as a whole by
``Registry.dag_resolution()``, which expands, copies, resolves and checks every key: it
is the step the library requires before anything can be built. In the chain, each
configuration refers to the one before.
"""

from __future__ import annotations

import gc
import importlib.metadata
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cinnamon.configuration import Configuration, Param
from cinnamon.registry import RegistrationKey, Registry
from memory import peak_rss

NAMESPACE = "bench"


class LeafConfig(Configuration):
    size: int = Param(1, ge=0)


class LinkConfig(Configuration):
    size: int = Param(1, ge=0)
    child: RegistrationKey | None = None


def flat(count: int) -> float:
    configs = [LeafConfig(size=i) for i in range(count)]
    gc.collect()
    start = time.perf_counter()
    Registry.initialize()
    for i, config in enumerate(configs):
        Registry.register_configuration(config, name=f"k{i}", namespace=NAMESPACE)
    valid, _ = Registry.dag_resolution()
    seconds = (time.perf_counter() - start) / count
    assert len(valid) == count, (len(valid), count)
    return seconds


def chain(count: int) -> float:
    configs = [LinkConfig(size=0)] + [
        LinkConfig(size=i, child=RegistrationKey(name=f"k{i - 1}", namespace=NAMESPACE))
        for i in range(1, count)
    ]
    gc.collect()
    start = time.perf_counter()
    Registry.initialize()
    for i, config in enumerate(configs):
        Registry.register_configuration(config, name=f"k{i}", namespace=NAMESPACE)
    valid, _ = Registry.dag_resolution()
    seconds = (time.perf_counter() - start) / count
    assert len(valid) == count, (len(valid), count)
    return seconds


def memory(count: int, mode: str) -> int:
    configs = [LeafConfig(size=i) for i in range(count)]
    names = [f"k{i}" for i in range(count)]
    Registry.initialize()
    if mode == "register":
        for name, config in zip(names, configs, strict=True):
            Registry.register_configuration(config, name=name, namespace=NAMESPACE)
    return peak_rss()


def serve() -> None:
    workloads = {"flat": flat, "chain": chain}
    print(json.dumps({"version": importlib.metadata.version("cinnamon-core")}), flush=True)
    for line in sys.stdin:
        name, count = line.split()
        print(json.dumps({"seconds": workloads[name](int(count))}), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve()
    else:
        print(json.dumps({"peak": memory(int(sys.argv[2]), sys.argv[3])}))
