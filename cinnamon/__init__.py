"""cinnamon: components with typed, dependency-injected configuration."""

import importlib.metadata as _metadata

from cinnamon._callback import Callback
from cinnamon._component import BuildInfo, Component
from cinnamon._configuration import Configuration, Param, ParamInfo, Ref
from cinnamon._dump import dump
from cinnamon._fingerprint import fingerprint
from cinnamon._guard import guard
from cinnamon._key import RegistrationKey
from cinnamon._marks import registration
from cinnamon._overrides import apply_overrides
from cinnamon._pipeline import CallbackPipeline, OrderedPipeline, Pipeline, PipelineConfig
from cinnamon._registry import Registration, Registry
from cinnamon._schema import json_schema
from cinnamon.errors import CinnamonError

try:
    __version__ = _metadata.version("cinnamon")
except _metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = [
    "BuildInfo",
    "Callback",
    "CallbackPipeline",
    "CinnamonError",
    "Component",
    "Configuration",
    "OrderedPipeline",
    "Param",
    "ParamInfo",
    "Pipeline",
    "PipelineConfig",
    "Ref",
    "Registration",
    "RegistrationKey",
    "Registry",
    "__version__",
    "apply_overrides",
    "dump",
    "fingerprint",
    "guard",
    "json_schema",
    "registration",
]
