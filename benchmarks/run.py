"""Run every benchmark in this folder and print their tables.

Run: python benchmarks/run.py [NAME ...]   (names like "core" or "guard"; default all)
"""

from __future__ import annotations

import importlib
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def main(names: list[str]) -> None:
    available = sorted(path.stem.removeprefix("bench_") for path in HERE.glob("bench_*.py"))
    chosen = names or available
    unknown = sorted(set(chosen) - set(available))
    if unknown:
        sys.exit(f"unknown benchmark(s) {unknown}; choose from {available}")
    print(f"{time.strftime('%Y-%m-%d')}  Python {platform.python_version()}  {platform.machine()}")
    for name in chosen:
        module = importlib.import_module(f"bench_{name}")
        print()
        output = module.main()
        if output:
            print(output)


if __name__ == "__main__":
    main(sys.argv[1:])
