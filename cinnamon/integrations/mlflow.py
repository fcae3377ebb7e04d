"""A callback that records a fit as an MLflow run: parameters, metrics and artifacts.

MLflow is imported when a fit begins, so that a configuration naming the logger can be
loaded, checked and shown without it; ``pip install "cinnamon[mlflow]"`` installs it
(``mlflow-skinny``, the client without the server's dependencies).
"""

# Hookpoints are called as hook(logs=...) whether or not they read the logs.
# ruff: noqa: ARG002

from __future__ import annotations

import importlib
import math
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cinnamon._core.configuration import Configuration, Param
from cinnamon._files.dump import dump
from cinnamon._hooks.callback import Callback
from cinnamon._runs.fingerprint import fingerprint
from cinnamon.errors import CinnamonError, UsageError

__all__ = ["MLflowLogger", "MLflowLoggerConfig", "flat_params"]

_COUNTERS = ("epoch", "batch")
_VALUE_LIMIT = 6000  # the longest parameter value MLflow stores
_BATCH = 100  # parameters per request; MLflow refuses more in one log_batch
_EXPERIMENTS = threading.Lock()


def flat_params(config: Configuration) -> dict[str, Any]:
    """The leaves of a resolved tree by dotted path: ``{"optimizer.learning_rate": 0.01}``.

    List items are numbered (``callbacks.components.0.patience``), since MLflow keys
    allow no brackets. A configuration reached twice (a shared one) is listed at each
    path. The walk keeps its own stack, so trees of any depth are fine.
    """
    found: dict[str, Any] = {}
    stack: list[tuple[str, Any]] = [("", config)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, Configuration):
            children = [(name, value.__dict__[name]) for name in type(value).model_fields]
        elif isinstance(value, (list, tuple)) and any(_nested(item) for item in value):
            children = [(str(index), item) for index, item in enumerate(value)]
        elif isinstance(value, dict) and any(_nested(item) for item in value.values()):
            children = [(str(name), item) for name, item in value.items()]
        else:
            found[path] = value
            continue
        prefix = f"{path}." if path else ""
        stack.extend((prefix + name, child) for name, child in reversed(children))
    return found


def _nested(value: Any) -> bool:
    return isinstance(value, (Configuration, list, tuple, dict))


class MLflowLogger(Callback):
    """Record each fit as an MLflow run.

    When the fit begins, a run is made in ``experiment`` (made too if needed). If the
    host was built by a registry, the run gets the leaves of its resolved configuration
    as parameters, by dotted path, and the configuration's fingerprint as the tag
    ``cinnamon.fingerprint`` (so that the variants of a sweep, each a run of its own,
    can be told apart and compared). Each epoch's numeric metrics are logged at step
    ``epoch``. When the fit ends, the configuration file (``config.toml`` from the run
    folder, or the configuration written anew) and ``fingerprint.txt`` are added as
    artifacts, and the run is marked finished, or failed if the fit raised.

    Args:
        tracking_uri: where MLflow records runs, such as ``sqlite:///mlflow.db`` or a
            folder (``file:///...``, which MLflow 3 accepts only with the environment
            variable ``MLFLOW_ALLOW_FILE_STORE=true``); ``None`` for MLflow's default.
        experiment: the experiment's name.
        run_name: the run's name (default: the run folder's name).
        artifacts: add the configuration file and fingerprint as artifacts.

    Attributes:
        run_id: the MLflow run of the current (or last) fit.
    """

    def __init__(
        self,
        tracking_uri: str | None = None,
        experiment: str = "cinnamon",
        run_name: str | None = None,
        artifacts: bool = True,
    ) -> None:
        MLflowLoggerConfig(
            tracking_uri=tracking_uri, experiment=experiment, run_name=run_name, artifacts=artifacts
        )
        self.tracking_uri = tracking_uri
        self.experiment = experiment
        self.run_name = run_name
        self.artifacts = artifacts
        self.run_id: str | None = None
        self._client: Any = None
        self._epoch = 0

    def on_fit_begin(self, logs: object = None) -> None:
        """Start an MLflow run and log the configuration's parameters."""
        client = self._client = _client(self.tracking_uri)
        experiment_id = _experiment_id(client, self.experiment)
        config = self._config()
        tags = {"cinnamon.run_dir": str(self.save_path)} if self.save_path else {}
        digest = _fingerprint(config)
        if digest is not None:
            tags["cinnamon.fingerprint"] = digest
        info = getattr(self.component, "__cinnamon__", None)
        if info is not None and info.key is not None:
            tags["cinnamon.key"] = str(info.key)
        name = self.run_name or (self.save_path.name if self.save_path else None)
        run = client.create_run(experiment_id, run_name=name, tags=tags)
        self.run_id = run.info.run_id
        self._epoch = 0
        if config is not None:
            entities: Any = importlib.import_module("mlflow.entities")
            params = [
                entities.Param(key, _text(value)) for key, value in flat_params(config).items()
            ]
            for start in range(0, len(params), _BATCH):
                client.log_batch(self.run_id, params=params[start : start + _BATCH])

    def on_epoch_end(self, logs: object = None) -> None:
        """Log the epoch's numeric metrics at step ``epoch``."""
        if self.run_id is None:
            return
        metrics = logs if isinstance(logs, Mapping) else {}
        epoch = metrics.get("epoch")
        valid = isinstance(epoch, int) and not isinstance(epoch, bool)
        self._epoch = epoch if valid else self._epoch + 1  # type: ignore[assignment]
        entities: Any = importlib.import_module("mlflow.entities")
        now = int(time.time() * 1000)
        values = [
            entities.Metric(str(name), float(value), now, self._epoch)
            for name, value in metrics.items()
            if name not in _COUNTERS and _number(value)
        ]
        if values:
            self._client.log_batch(self.run_id, metrics=values)

    def on_fit_end(self, logs: object = None) -> None:
        """Add the artifacts and mark the run finished."""
        self._end("FINISHED")

    def on_fit_exception(self, logs: object = None) -> None:
        """Mark the run failed (with the artifacts, for the post-mortem)."""
        self._end("FAILED")

    def _end(self, status: str) -> None:
        if self.run_id is None:
            return
        try:
            if self.artifacts:
                self._log_artifacts()
        finally:
            self._client.set_terminated(self.run_id, status=status)

    def _log_artifacts(self) -> None:
        config = self._config()
        saved = self.save_path / "config.toml" if self.save_path else None
        with tempfile.TemporaryDirectory(prefix="cinnamon-mlflow-") as scratch:
            if saved is not None and saved.is_file():
                self._client.log_artifact(self.run_id, str(saved))
            elif config is not None:
                written = Path(scratch) / "config.toml"
                try:
                    written.write_text(dump(config), encoding="utf-8")
                except CinnamonError:  # a configuration no file can hold: skip it
                    pass
                else:
                    self._client.log_artifact(self.run_id, str(written))
            digest = _fingerprint(config)
            if digest is not None:
                file = Path(scratch) / "fingerprint.txt"
                file.write_text(digest + "\n", encoding="utf-8")
                self._client.log_artifact(self.run_id, str(file))

    def _config(self) -> Configuration | None:
        info = getattr(self.component, "__cinnamon__", None)
        return None if info is None else info.config


def _client(tracking_uri: str | None) -> Any:
    try:
        tracking: Any = importlib.import_module("mlflow.tracking")
    except ImportError:
        msg = 'MLflowLogger needs MLflow; install it with: pip install "cinnamon[mlflow]"'
        raise UsageError(msg) from None
    return tracking.MlflowClient(tracking_uri=tracking_uri)


def _experiment_id(client: Any, name: str) -> str:
    """The experiment's id, made if needed, once even when variants start side by side."""
    with _EXPERIMENTS:  # threads of one process: MLflow's folder store does not lock
        found = client.get_experiment_by_name(name)
        if found is not None:
            return str(found.experiment_id)
        exceptions: Any = importlib.import_module("mlflow.exceptions")
        try:
            return str(client.create_experiment(name))
        except exceptions.MlflowException:  # another process made it first
            found = client.get_experiment_by_name(name)
            if found is None:
                raise
            return str(found.experiment_id)


def _text(value: Any) -> str:
    text = str(value)
    return text if len(text) <= _VALUE_LIMIT else text[: _VALUE_LIMIT - 3] + "..."


def _number(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return not math.isnan(value)


def _fingerprint(config: Configuration | None) -> str | None:
    if config is None:
        return None
    try:
        return fingerprint(config)
    except CinnamonError:  # a value with no stable form: the run goes on without one
        return None


class MLflowLoggerConfig(Configuration, component=MLflowLogger):
    """Record each fit as an MLflow run: parameters, metrics per epoch and artifacts."""

    tracking_uri: str | None = Param(
        None, description="where MLflow records runs (default: MLflow's own default)"
    )
    experiment: str = Param("cinnamon", description="the experiment's name", min_length=1)
    run_name: str | None = Param(None, description="the run's name (default: the run folder's)")
    artifacts: bool = Param(
        default=True, description="add the configuration file and fingerprint as artifacts"
    )
