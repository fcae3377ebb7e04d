"""RegistrationKey: the immutable, hashable name of a registration."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, final

from pydantic_core import core_schema

from cinnamon.errors import InvalidKeyError, UsageError

if TYPE_CHECKING:
    from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
    from pydantic.json_schema import JsonSchemaValue

__all__ = ["DEFAULT_NAMESPACE", "KEY_RE", "RegistrationKey"]

DEFAULT_NAMESPACE = "default"

_PART = r"[A-Za-z0-9_][A-Za-z0-9_.\-]*"
_PART_RE = re.compile(_PART)
KEY_RE = re.compile(
    rf"(?:(?P<namespace>{_PART}):)?(?P<name>{_PART})(?:\[(?P<tags>{_PART}(?:,{_PART})*)\])?"
)


def _check_part(what: str, value: object) -> str:
    if not isinstance(value, str):
        msg = f"a key's {what} must be a string, not {type(value).__name__}"
        raise UsageError(msg)
    if not _PART_RE.fullmatch(value):
        msg = (
            f"invalid key {what} {value!r}: use letters, digits, '_', '.' or '-', "
            "starting with a letter, digit or '_'"
        )
        raise InvalidKeyError(msg)
    return value


@final
class RegistrationKey:
    """The name of a registration: ``name``, a set of ``tags`` and a ``namespace``.

    Keys are immutable and hashable, and two keys are equal when their three parts are
    equal (the order of tags does not matter). Their short string form
    ``namespace:name[tag1,tag2]`` leaves out the default namespace and empty tags, lists
    tags sorted, and parses back with :meth:`parse`::

        >>> key = RegistrationKey(name="mlp", tags={"small", "fast"}, namespace="demo")
        >>> str(key)
        'demo:mlp[fast,small]'
        >>> RegistrationKey.parse(str(key)) == key
        True

    A key used as a reference inside a configuration may be marked :meth:`with_shared`: all
    shared references to one key within a single build receive the same instance.
    Sharing is a property of the reference, so it takes no part in equality.
    """

    __slots__ = ("_hash", "name", "namespace", "shared", "tags")

    name: str
    tags: frozenset[str]
    namespace: str
    shared: bool
    _hash: int

    def __init__(
        self,
        name: str,
        tags: Iterable[str] = (),
        namespace: str = DEFAULT_NAMESPACE,
        *,
        shared: bool = False,
    ) -> None:
        """Make a key; every part is checked so that the string form round-trips."""
        if isinstance(tags, str):
            msg = f"a key's tags must be a collection of strings, not the string {tags!r}"
            raise UsageError(msg)
        frozen = frozenset(_check_part("tag", tag) for tag in tags)
        self._set(
            _check_part("name", name), frozen, _check_part("namespace", namespace), shared=shared
        )

    def _set(self, name: str, tags: frozenset[str], namespace: str, *, shared: bool) -> None:
        setter = object.__setattr__
        setter(self, "name", name)
        setter(self, "tags", tags)
        setter(self, "namespace", namespace)
        setter(self, "shared", bool(shared))
        setter(self, "_hash", hash((name, tags, namespace)))

    @classmethod
    def parse(cls, text: str) -> RegistrationKey:
        """Read a key from its string form (``[namespace:]name[[tag,...]]``).

        Raises:
            InvalidKeyError: the text is not a key's string form.
        """
        if not isinstance(text, str):
            msg = f"a key string must be a str, not {type(text).__name__}"
            raise UsageError(msg)
        match = KEY_RE.fullmatch(text)
        if match is None:
            msg = (
                f"malformed key {text!r}: expected 'name', 'namespace:name' or "
                "'namespace:name[tag1,tag2]'"
            )
            raise InvalidKeyError(msg)
        key = cls.__new__(cls)
        tags = match["tags"]
        key._set(
            match["name"],
            frozenset(tags.split(",")) if tags else frozenset(),
            match["namespace"] or DEFAULT_NAMESPACE,
            shared=False,
        )
        return key

    @classmethod
    def coerce(cls, value: RegistrationKey | str) -> RegistrationKey:
        """Return ``value`` as a key, parsing it if it is a string."""
        if isinstance(value, RegistrationKey):
            return value
        if isinstance(value, str):
            return cls.parse(value)
        msg = f"expected a RegistrationKey or its string form, got {type(value).__name__}"
        raise UsageError(msg)

    def with_shared(self, shared: bool = True) -> RegistrationKey:
        """Return this key as a reference that is (or is not) shared within a build."""
        key = RegistrationKey.__new__(RegistrationKey)
        key._set(self.name, self.tags, self.namespace, shared=shared)
        return key

    def __setattr__(self, name: str, value: object) -> None:
        msg = f"RegistrationKey is immutable; cannot set {name!r}"
        raise AttributeError(msg)

    def __delattr__(self, name: str) -> None:
        msg = f"RegistrationKey is immutable; cannot delete {name!r}"
        raise AttributeError(msg)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RegistrationKey):
            return NotImplemented
        return (
            self._hash == other._hash
            and self.name == other.name
            and self.namespace == other.namespace
            and self.tags == other.tags
        )

    def __hash__(self) -> int:
        return self._hash

    def __lt__(self, other: RegistrationKey) -> bool:
        if not isinstance(other, RegistrationKey):
            return NotImplemented
        return self._order() < other._order()

    def _order(self) -> tuple[str, str, tuple[str, ...]]:
        return (self.namespace, self.name, tuple(sorted(self.tags)))

    def __str__(self) -> str:
        text = self.name
        if self.tags:
            text += "[" + ",".join(sorted(self.tags)) + "]"
        if self.namespace != DEFAULT_NAMESPACE:
            text = f"{self.namespace}:{text}"
        return text

    def __repr__(self) -> str:
        parts = [f"name={self.name!r}"]
        if self.tags:
            parts.append("tags={" + ", ".join(map(repr, sorted(self.tags))) + "}")
        if self.namespace != DEFAULT_NAMESPACE:
            parts.append(f"namespace={self.namespace!r}")
        if self.shared:
            parts.append("shared=True")
        return f"RegistrationKey({', '.join(parts)})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_unpickle, (str(self), self.shared))

    def __copy__(self) -> RegistrationKey:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> RegistrationKey:
        return self

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: type[Any], handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        """Validate keys and key strings; serialize a key as its string form."""
        return core_schema.no_info_plain_validator_function(
            _validate_key,
            serialization=core_schema.plain_serializer_function_ser_schema(str),
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """Describe a key as a string in its canonical form."""
        return {"type": "string", "pattern": f"^{KEY_RE.pattern}$", "title": "RegistrationKey"}


def _unpickle(text: str, shared: bool) -> RegistrationKey:
    return RegistrationKey.parse(text).with_shared(shared)


def _validate_key(value: object) -> RegistrationKey:
    if isinstance(value, RegistrationKey):
        return value
    if isinstance(value, str):
        try:
            return RegistrationKey.parse(value)
        except InvalidKeyError as error:
            raise ValueError(str(error)) from None
    msg = f"expected a RegistrationKey, got {type(value).__name__}"
    raise ValueError(msg)
