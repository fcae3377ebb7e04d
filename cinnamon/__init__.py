"""cinnamon: components with typed, dependency-injected configuration.

The public names are imported on first use (PEP 562), so that ``import cinnamon`` and
``cinnamon --help`` do not pay for pydantic until something needs it; ``from cinnamon
import Registry`` and ``cinnamon.Registry`` work as usual.
"""

# Not `from typing import TYPE_CHECKING`: importing typing alone costs milliseconds.
# Type checkers treat any constant named TYPE_CHECKING as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from cinnamon import errors as errors  # the submodule, always available
    from cinnamon._core.component import BuildInfo, Component
    from cinnamon._core.conditions import condition
    from cinnamon._core.configuration import Configuration, Param, ParamInfo, Ref
    from cinnamon._core.key import RegistrationKey
    from cinnamon._core.marks import registration
    from cinnamon._core.registry import Registration
    from cinnamon._core.space import Choice, IntRange, LogUniform, Uniform
    from cinnamon._files.dump import dump
    from cinnamon._files.schema import json_schema
    from cinnamon._hooks.callback import Callback
    from cinnamon._hooks.filter import FilteredCallback, FilteredCallbackConfig
    from cinnamon._hooks.guard import guard
    from cinnamon._hooks.pipeline import (
        CallbackPipeline,
        CallbackPipelineConfig,
        OrderedPipeline,
        Pipeline,
        PipelineConfig,
    )
    from cinnamon._registry import Registry
    from cinnamon._runs.fingerprint import fingerprint
    from cinnamon._runs.overrides import apply_overrides
    from cinnamon._runs.pruning import HalvingPruner, MedianPruner
    from cinnamon._runs.results import Results, results
    from cinnamon._runs.state import load_state, save_state
    from cinnamon._runs.sweep import SweepReport, sweep
    from cinnamon._runs.tune import Tuning, tune
    from cinnamon._runs.variants import Variant, Variants
    from cinnamon.errors import CinnamonError

    __version__: str
del TYPE_CHECKING  # not a public name

__all__ = [
    "BuildInfo",
    "Callback",
    "CallbackPipeline",
    "CallbackPipelineConfig",
    "Choice",
    "CinnamonError",
    "Component",
    "Configuration",
    "FilteredCallback",
    "FilteredCallbackConfig",
    "HalvingPruner",
    "IntRange",
    "LogUniform",
    "MedianPruner",
    "OrderedPipeline",
    "Param",
    "ParamInfo",
    "Pipeline",
    "PipelineConfig",
    "Ref",
    "Registration",
    "RegistrationKey",
    "Registry",
    "Results",
    "SweepReport",
    "Tuning",
    "Uniform",
    "Variant",
    "Variants",
    "__version__",
    "apply_overrides",
    "condition",
    "dump",
    "fingerprint",
    "guard",
    "json_schema",
    "load_state",
    "registration",
    "results",
    "save_state",
    "sweep",
    "tune",
]

# Where each public name lives.
_HOMES = {
    "BuildInfo": "_core.component",
    "Callback": "_hooks.callback",
    "CallbackPipeline": "_hooks.pipeline",
    "CallbackPipelineConfig": "_hooks.pipeline",
    "Choice": "_core.space",
    "CinnamonError": "errors",
    "Component": "_core.component",
    "Configuration": "_core.configuration",
    "FilteredCallback": "_hooks.filter",
    "FilteredCallbackConfig": "_hooks.filter",
    "HalvingPruner": "_runs.pruning",
    "IntRange": "_core.space",
    "LogUniform": "_core.space",
    "MedianPruner": "_runs.pruning",
    "OrderedPipeline": "_hooks.pipeline",
    "Param": "_core.configuration",
    "ParamInfo": "_core.configuration",
    "Pipeline": "_hooks.pipeline",
    "PipelineConfig": "_hooks.pipeline",
    "Ref": "_core.configuration",
    "Registration": "_core.registry",
    "RegistrationKey": "_core.key",
    "Registry": "_registry",
    "Results": "_runs.results",
    "SweepReport": "_runs.sweep",
    "Tuning": "_runs.tune",
    "Uniform": "_core.space",
    "Variant": "_runs.variants",
    "Variants": "_runs.variants",
    "apply_overrides": "_runs.overrides",
    "condition": "_core.conditions",
    "dump": "_files.dump",
    "fingerprint": "_runs.fingerprint",
    "guard": "_hooks.guard",
    "json_schema": "_files.schema",
    "load_state": "_runs.state",
    "registration": "_core.marks",
    "results": "_runs.results",
    "save_state": "_runs.state",
    "sweep": "_runs.sweep",
    "tune": "_runs.tune",
}


def __getattr__(name: str) -> object:
    """Import a public name (or the ``errors`` module) the first time it is used."""
    import importlib  # noqa: PLC0415 - only on a first use

    if name in _HOMES:
        value = getattr(importlib.import_module(f"cinnamon.{_HOMES[name]}"), name)
    elif name == "errors":  # a submodule that `import cinnamon` always made available
        value = importlib.import_module("cinnamon.errors")
    elif name == "__version__":
        import importlib.metadata  # noqa: PLC0415 - slow to import, rarely read

        try:
            value = importlib.metadata.version("cinnamon")
        except importlib.metadata.PackageNotFoundError:  # pragma: no cover - source tree
            value = "0.0.0"
    else:
        msg = f"module 'cinnamon' has no attribute {name!r}"
        raise AttributeError(msg)
    globals()[name] = value  # later reads find it directly, without this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__, "errors"})
