"""Configuration and Param: the typed parameters of a component."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, TypeVar, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from pydantic_core import PydanticUndefined
from typing_extensions import Self

from cinnamon._core.key import RegistrationKey
from cinnamon.errors import ConfigurationError, UsageError

if TYPE_CHECKING:
    from pydantic.fields import FieldInfo

    from cinnamon._core.space import Distribution

__all__ = [
    "Configuration",
    "Param",
    "ParamInfo",
    "Ref",
    "check_variant",
    "declare_variants",
    "declared_variants",
    "field_variants",
]

T = TypeVar("T")

#: A field that holds either a reference to a registration or the configuration inline.
#: ``model: Ref[MLPConfig]`` accepts ``RegistrationKey("mlp")`` and ``MLPConfig(...)``.
Ref = Union[T, RegistrationKey]  # noqa: UP007 - a generic alias needs the Union form

# Bumped on every validated assignment to any configuration, so that cached build plans
# (which snapshot values) know when to look again. Assignments are rare next to builds.
_assignments = [0]


def assignment_count() -> int:
    """Return how many configuration assignments have happened in this process."""
    return _assignments[0]


@dataclass(frozen=True, slots=True)
class _ParamMeta:
    tags: frozenset[str]
    variants: tuple[Any, ...] | None
    search: Any = None  # a cinnamon._core.space.Distribution, checked on first use


@dataclass(frozen=True, slots=True)
class ParamInfo:
    """What a configuration says about one of its fields.

    Attributes:
        name: the field's name.
        annotation: its declared type.
        default: its default value (``pydantic_core.PydanticUndefined`` when required).
        required: whether the field has no default.
        description: the ``description`` given to :func:`Param`.
        tags: the ``tags`` given to :func:`Param`.
        variants: the alternatives given to :func:`Param`, or ``None``.
        search: the distribution given to :func:`Param`, or ``None``.
    """

    name: str
    annotation: Any
    default: Any
    required: bool
    description: str | None
    tags: frozenset[str]
    variants: tuple[Any, ...] | None
    search: Distribution | None = None


def Param(  # noqa: N802 - reads like pydantic's Field, which it wraps
    default: Any = PydanticUndefined,
    *,
    default_factory: Callable[[], Any] | None = None,
    description: str | None = None,
    tags: Iterable[str] = (),
    variants: Sequence[Any] | None = None,
    search: Distribution | None = None,
    **constraints: Any,
) -> Any:
    """Declare a configuration field with its documentation and alternatives.

    Args:
        default: the default value; leave it out for a required field.
        default_factory: a callable that makes the default (for mutable defaults).
        description: what the field means; shown by ``cinnamon show`` and in schemas.
        tags: free-form labels for the field.
        variants: alternative values, for sweeping over the field: the field is an
            axis of :meth:`Registry.variants <cinnamon.Registry.variants>` grids. They
            are checked against the field the first time a grid meets the class.
        search: the distribution the field's value is drawn from when a tree holding
            it is tuned (:func:`~cinnamon.tune`): a :class:`~cinnamon.Uniform`,
            :class:`~cinnamon.LogUniform`, :class:`~cinnamon.IntRange` or
            :class:`~cinnamon.Choice`. It is checked against the field the first time
            a tuning meets the class.
        **constraints: any keyword that ``pydantic.Field`` takes (``ge``, ``le``,
            ``min_length``, ``pattern``, ...).

    Returns:
        A pydantic ``FieldInfo``; assign it as the field's default.
    """
    if isinstance(tags, str):
        msg = f"Param tags must be a collection of strings, not the string {tags!r}"
        raise UsageError(msg)
    tag_set = frozenset(tags)
    extra = dict(constraints.pop("json_schema_extra", None) or {})
    if tag_set:
        extra["tags"] = sorted(tag_set)
    if default_factory is not None:
        constraints["default_factory"] = default_factory
    elif default is not PydanticUndefined:
        constraints["default"] = default
    info: FieldInfo = Field(description=description, json_schema_extra=extra or None, **constraints)
    kept = None if variants is None else tuple(variants)
    info.metadata.append(_ParamMeta(tag_set, kept, search))
    return info


def _path_of(location: Sequence[int | str]) -> str:
    path = ""
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else part)
    return path


def configuration_error(error: ValidationError, prefix: str = "") -> ConfigurationError:
    """Turn pydantic's error into ours, each location a dotted path under ``prefix``."""
    problems = []
    for detail in error.errors(include_url=False):
        path = _path_of(detail["loc"])
        if prefix:
            path = prefix + ("" if not path or path.startswith("[") else ".") + path
        inner = detail.get("ctx", {}).get("error")
        if isinstance(inner, ConfigurationError):
            # A nested configuration built from a dict reports through its own
            # __init__; re-root its paths (which start with its class name) here.
            for inner_path, message in inner.errors:
                _, _, rest = inner_path.partition(".")
                problems.append((f"{path}.{rest}" if rest else path, message))
            continue
        message = detail["msg"]
        if detail["type"] not in {"missing", "extra_forbidden"}:
            message += f" (got {_shown(detail['input'])})"
        problems.append((path, message))
    failure = ConfigurationError(problems)
    failure.__cause__ = error
    return failure


def _shown(value: Any) -> str:
    """A short repr of a refused value; some reprs fail (an int of 5,000 digits)."""
    try:
        return f"{value!r:.80}"
    except ValueError:
        return f"a {type(value).__name__} too long to show"


class Configuration(BaseModel):
    """The typed parameters of a component.

    A pydantic model that validates every assignment and every default and refuses
    unknown fields. Declare fields with :func:`Param` or plain annotated defaults; name
    the component the configuration builds with a class keyword::

        class MLPConfig(Configuration, component=MLP):
            hidden: int = Param(32, description="hidden units", ge=1)

    A field may hold plain values, a :class:`~cinnamon.RegistrationKey` (a reference to
    another registration), another configuration inline, or lists, dicts and optionals of
    those. Invalid values raise :class:`~cinnamon.errors.ConfigurationError`.
    """

    # Resolved copies remember the registration they came from, and a registration
    # loaded from a file the variants and search spaces the file declares for its
    # fields; slots keep them out of the fields, of equality and of every configuration
    # that never needs them.
    __slots__ = ("_cinnamon_origin", "_cinnamon_search", "_cinnamon_variants")

    model_config = ConfigDict(
        extra="forbid",
        validate_assignment=True,
        validate_default=True,
        arbitrary_types_allowed=True,
        protected_namespaces=(),
    )

    __component__: ClassVar[Callable[..., Any] | None] = None

    def __init_subclass__(cls, component: Callable[..., Any] | None = None, **kwargs: Any) -> None:
        """Bind the component class this configuration builds, if given."""
        super().__init_subclass__(**kwargs)
        if component is not None:
            if not callable(component):
                msg = f"{cls.__name__}: component must be a class or callable, not {component!r}"
                raise UsageError(msg)
            cls.__component__ = component

    def __init__(self, /, **data: Any) -> None:
        """Validate ``data`` into a configuration (errors as dotted paths)."""
        try:
            super().__init__(**data)
        except ValidationError as error:
            raise configuration_error(error, type(self).__name__) from error

    def __setattr__(self, name: str, value: Any) -> None:
        """Validate and set one field."""
        try:
            super().__setattr__(name, value)
        except ValidationError as error:
            raise configuration_error(error, type(self).__name__) from error
        _assignments[0] += 1

    @classmethod
    def default(cls) -> Self:
        """Return the configuration made of the defaults alone.

        Raises:
            ConfigurationError: some field has no default.
        """
        return cls()

    @classmethod
    def params(cls) -> Mapping[str, ParamInfo]:
        """Describe every field: type, default, description, tags and variants."""
        cached = cls.__dict__.get("_cinnamon_params")
        if cached is None:
            cached = MappingProxyType(
                {name: _param_info(name, field) for name, field in cls.model_fields.items()}
            )
            type.__setattr__(cls, "_cinnamon_params", cached)
        return cached


def _param_info(name: str, field: FieldInfo) -> ParamInfo:
    meta = next((m for m in field.metadata if isinstance(m, _ParamMeta)), None)
    return ParamInfo(
        name=name,
        annotation=field.annotation,
        default=field.get_default(call_default_factory=False)
        if not field.is_required()
        else PydanticUndefined,
        required=field.is_required(),
        description=field.description,
        tags=meta.tags if meta else frozenset(),
        variants=meta.variants if meta else None,
        search=meta.search if meta else None,
    )


# -- variants ------------------------------------------------------------------------------
# Checking a variant needs a validator for its field alone; building one costs about as
# much as a small class, so it is done on first use (the first grid that meets the class,
# the first file that declares variants for the field), never when a class is defined.

_adapters: dict[tuple[type[Configuration], str], TypeAdapter[Any]] = {}


def check_variant(cls: type[Configuration], name: str, value: Any, index: int) -> Any:
    """Validate ``value`` as variant number ``index`` of the field ``name`` of ``cls``.

    Returns:
        The value as the field holds it (a key string on a reference field becomes a
        :class:`~cinnamon.RegistrationKey`, an ``int`` on a ``float`` field a float).

    Raises:
        ConfigurationError: the field's type or constraints refuse the value; the
            message names the field (``TrainerConfig.lr``) and the variant.
    """
    adapter = _adapters.get((cls, name))
    if adapter is None:
        field = cls.model_fields[name]
        annotated: Any = field.annotation
        if field.metadata:  # the constraints (ge=..., min_length=...) live here
            parts = (annotated, *field.metadata)
            annotated = Annotated[parts]
        adapter = TypeAdapter(annotated, config=ConfigDict(arbitrary_types_allowed=True))
        _adapters[cls, name] = adapter
    try:
        return adapter.validate_python(value)
    except ValidationError as error:
        detail = error.errors(include_url=False)[0]
        where = _path_of(detail["loc"])
        message = (
            f"variant {index} ({value!r:.60}) is refused"
            f"{f' at {where}' if where else ''}: {detail['msg']}"
        )
        failure = ConfigurationError([(f"{cls.__name__}.{name}", message)])
        raise failure from error


def field_variants(cls: type[Configuration]) -> Mapping[str, tuple[Any, ...]]:
    """Map each field of ``cls`` declared with ``Param(variants=...)`` to its variants.

    Fields are in declaration order; each variant is checked against its field the first
    time the class is asked (and the answer kept), and given as the field holds it.

    Raises:
        ConfigurationError: a variant that its field refuses, naming the field.
    """
    cached = cls.__dict__.get("_cinnamon_field_variants")
    if cached is None:
        found: dict[str, tuple[Any, ...]] = {}
        for name, field in cls.model_fields.items():
            meta = next((m for m in field.metadata if isinstance(m, _ParamMeta)), None)
            if meta is not None and meta.variants is not None:
                found[name] = tuple(
                    check_variant(cls, name, value, index)
                    for index, value in enumerate(meta.variants)
                )
        cached = MappingProxyType(found)
        type.__setattr__(cls, "_cinnamon_field_variants", cached)
    return cached


def declare_variants(config: Configuration, variants: Mapping[str, tuple[Any, ...]]) -> None:
    """Attach variants declared for some fields of one registered configuration.

    They take the place of the class's ``Param(variants=...)`` for those fields, in the
    grids of trees that resolve this registration. The values must already be checked
    (:func:`check_variant`).
    """
    object.__setattr__(config, "_cinnamon_variants", MappingProxyType(dict(variants)))


def declared_variants(config: Configuration) -> Mapping[str, tuple[Any, ...]] | None:
    """Return the variants :func:`declare_variants` attached to ``config``, if any."""
    return getattr(config, "_cinnamon_variants", None)
