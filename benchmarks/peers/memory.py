"""Peak memory of a registry, measured in a fresh process for ``bench_peers.py``.

    python memory.py N register|baseline

prints ``{"peak": bytes}``: the peak resident set size of a process that makes N
configurations (and their names) and registers them all, or, for the baseline, makes
the same configurations and names without registering them. The difference between the
two, divided by N, is what a registration costs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def peak_rss() -> int:
    """The peak resident set size of this process, in bytes."""
    status = Path("/proc/self/status")
    if status.exists():  # Linux: VmHWM, the high-water mark of the resident set
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    import resource  # noqa: PLC0415 - not on Windows

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def main(count: int, mode: str) -> int:
    from cinnamon import Component, Configuration, Param, Registry  # noqa: PLC0415

    class Leaf(Component):
        def __init__(self, size: int) -> None:
            self.size = size

    class LeafConfig(Configuration, component=Leaf):
        size: int = Param(1, ge=0)

    configs = [LeafConfig(size=i) for i in range(count)]
    names = [f"k{i}" for i in range(count)]
    registry = Registry()
    if mode == "register":
        for name, config in zip(names, configs, strict=True):
            registry.register(config, name=name)
    return peak_rss()


if __name__ == "__main__":
    print(json.dumps({"peak": main(int(sys.argv[1]), sys.argv[2])}))
