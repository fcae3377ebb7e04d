"""``cinnamon tune``: search a tree's space for its best configuration."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from cinnamon._cli.commands import check_method_name
from cinnamon._cli.output import Output
from cinnamon._cli.sources import Session

__all__ = ["add_tune", "run_tune"]

_EXIT_INVALID = 1
_SHOWN_ERRORS = 10  # failed trials listed; the results file has them all


def add_tune(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    """Add the ``tune`` command."""
    tune = commands.add_parser(
        "tune", parents=parents, help="search a tree's space for the best configuration"
    )
    tune.add_argument("key", metavar="KEY", help="the registration to tune, e.g. demo:trainer")
    tune.add_argument("overrides", nargs="*", metavar="PATH=VALUE", help="fixed overrides")
    tune.add_argument(
        "--method",
        default="run",
        help="the public method of the root component to call (default: run)",
    )
    tune.add_argument(
        "--metric", metavar="NAME", help="the entry of the result to optimise (default: all of it)"
    )
    tune.add_argument(
        "--direction",
        choices=["minimize", "maximize"],
        default="minimize",
        help="(default: minimize)",
    )
    tune.add_argument(
        "--trials", type=int, default=20, metavar="N", help="trials in all (default: 20)"
    )
    tune.add_argument(
        "--sampler", choices=["random", "optuna-tpe"], default="random", help="(default: random)"
    )
    tune.add_argument("--seed", type=int, default=0, help="the sampler's seed (default: 0)")
    tune.add_argument(
        "--pruner", choices=["median", "halving"], help="stop hopeless trials (default: none)"
    )
    tune.add_argument(
        "--workers", type=int, metavar="N", help="local worker processes (default: one per CPU)"
    )
    tune.add_argument("--executor", choices=["local", "dask"], default="local")
    tune.add_argument("--address", metavar="ADDR", help="the Dask scheduler, tcp://host:port")
    tune.add_argument(
        "--results",
        default="tune.jsonl",
        metavar="FILE",
        help="the study's rows (default: tune.jsonl)",
    )
    tune.add_argument("--storage", metavar="URL", help="Optuna storage, e.g. sqlite:///study.db")
    tune.add_argument("--best", metavar="FILE", help="write the best trial's tree to FILE")
    tune.add_argument("--no-progress", action="store_true", help="no progress line on stderr")
    tune.set_defaults(command="tune", handler=run_tune)


def run_tune(arguments: argparse.Namespace, out: Output) -> int:
    """Run ``cinnamon tune``."""
    from cinnamon._runs.tune import tune  # noqa: PLC0415 - keeps `--help` fast

    check_method_name(arguments.method)
    session = Session(arguments)
    key = session.key(arguments.key)
    session.base(key)  # a missing reference fails here, with its file and line
    report = tune(
        session.registry,
        key,
        method=arguments.method,
        metric=arguments.metric,
        direction=arguments.direction,
        trials=arguments.trials,
        sampler=arguments.sampler,
        seed=arguments.seed,
        pruner=arguments.pruner,
        executor=arguments.executor,
        workers=arguments.workers,
        address=arguments.address,
        results=arguments.results,
        overrides=arguments.overrides,
        storage=arguments.storage,
        progress=not arguments.no_progress,
    )
    statuses = ("ok", "pruned", "error", "skipped")
    out.table(["status", "trials"], [[name, str(report.count(name))] for name in statuses])
    out.write(
        f"results: {report.results} ({len(report.rows)} trials, "
        f"{report.recorded} recorded before)\n"
    )
    for row in [row for row in report.rows if row["status"] == "error"][:_SHOWN_ERRORS]:
        error = row["error"]
        print(
            f"{out.bad('error')} trial {row['trial']}: {error['type']}: {error['message']}",
            file=sys.stderr,
        )
    if report.count("ok") == 0:
        print(f"{out.bad('error')} no trial finished ok", file=sys.stderr)
        return _EXIT_INVALID
    best = report.best()
    shown = " ".join(f"{path}={_override(value)}" for path, value in best.overrides.items())
    out.write(f"best: trial {best.trial}, {arguments.metric or 'value'} {best.value:.6g}\n")
    out.write(f"  {shown}\n")
    if arguments.best:
        written = best.dump(arguments.best)
        out.write(f"wrote {written}: cinnamon run {arguments.key} --config {written}\n")
    return 0


def _override(value: Any) -> str:
    """A value as a ``PATH=VALUE`` override on a command line takes it."""
    from cinnamon._core.key import RegistrationKey  # noqa: PLC0415

    if isinstance(value, RegistrationKey):
        return f"@{value}"
    return json.dumps(value) if isinstance(value, str) else repr(value)
