"""Properties over generated inputs: any input gives a result or a clear CinnamonError.

Two families of inputs are generated:

- registries of configuration trees made of a small family of fixture configurations
  with varied field types (references, shared references, inline nodes, lists and dicts
  of them, cycles, missing keys, deep chains, Unicode, huge and non-finite numbers);
- declarative files (TOML, JSON, YAML) written from such trees, then mutated: values of
  the wrong type, keys removed or added, bad directives, class names outside the allowed
  packages, deep nesting, duplicated lines, truncation, stray characters.

Each property checks the same promise: the input gives a result, or a ``CinnamonError``
whose message names the place; never another exception type, never a hang, and a failed
load leaves the registry exactly as it was. Round trips (tree -> file -> tree) give an
equal configuration with the same fingerprint.

The normal suite runs a modest number of examples; ``nox -s fuzz`` runs the same
properties with a large budget (``HYPOTHESIS_PROFILE=fuzz``) and then the loader fuzz
target below for a bounded time. The figures are in ``docs/guarantees.md``.
"""

# An input gives a result or an error, and either is checked where it is caught.
# ruff: noqa: PT017

from __future__ import annotations

import contextlib
import importlib.util
import json
import math
import os
import re
import signal
import sys
import threading
import time
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from cinnamon import (
    Component,
    Configuration,
    Param,
    Ref,
    Registration,
    RegistrationKey,
    Registry,
    dump,
    fingerprint,
    registration,
)
from cinnamon._files.dump import _toml
from cinnamon.errors import (
    CinnamonError,
    ConfigurationError,
    CycleError,
    DeclarationError,
    NotRegisteredError,
    UsageError,
)

HAS_YAML = importlib.util.find_spec("yaml") is not None
FORMATS: tuple[Literal["toml", "json", "yaml"], ...] = (
    ("toml", "json", "yaml") if HAS_YAML else ("toml", "json")
)
FUZZ = os.environ.get("HYPOTHESIS_PROFILE") == "fuzz"
HANG_SECONDS = 30.0  # far above any example's time, even on a busy machine


def budget(normal: int, fuzz: int) -> settings:
    """A modest number of examples in the normal suite, many in ``nox -s fuzz``."""
    return settings(
        max_examples=fuzz if FUZZ else normal,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# -- the fixture family ----------------------------------------------------------------


class Thing(Component):
    """A well-behaved component: it takes any fields and keeps them."""

    def __init__(self, **values: Any) -> None:
        self.values = values


class Scalars(Configuration, component=Thing):
    """Plain values of every kind."""

    flag: bool = False
    count: int = 0
    ratio: float = 0.0
    bounded: float = Param(0.5, ge=0.0, le=1.0)
    text: str = ""
    maybe: int | None = None
    choice: Literal["a", "b"] = "a"


class Containers(Configuration, component=Thing):
    """Lists, dicts, tuples and anything at all."""

    numbers: list[int] = Param(default_factory=list)
    table: dict[str, float] = Param(default_factory=dict)
    nested: list[dict[str, list[int]]] = Param(default_factory=list)
    pair: tuple[int, str] = (0, "")
    anything: Any = None


class Group(Configuration):
    """Settings without a component: passed on as they are."""

    label: str = ""
    weights: dict[str, float] = Param(default_factory=dict)


class Link(Configuration, component=Thing):
    """A link of a chain of references (or of inline links)."""

    depth: int = 0
    next: Ref[Link] | None = None


class Hub(Configuration, component=Thing):
    """References and inline nodes in every kind of place."""

    one: Ref[Scalars] | None = None
    many: list[Ref[Configuration]] = Param(default_factory=list)
    named: dict[str, Ref[Configuration]] = Param(default_factory=dict)
    inline: Containers = Param(default_factory=Containers)
    group: Group = Param(default_factory=Group)


class Needs(Configuration, component=Thing):
    """A configuration with a field that has no default."""

    required: int
    note: str = ""


CLASSES = (Scalars, Containers, Group, Link, Hub, Needs)
ALIASES: dict[str, Any] = {cls.__name__: cls for cls in (*CLASSES, Thing)}


# -- helpers ------------------------------------------------------------------------------


class Hang(BaseException):
    """Raised by the alarm when an example takes far too long."""


@contextlib.contextmanager
def no_hang(seconds: float = HANG_SECONDS) -> Iterator[None]:
    """Fail, instead of hanging, if the block runs for more than ``seconds``."""
    if (
        not hasattr(signal, "setitimer")
        or threading.current_thread() is not threading.main_thread()
    ):
        yield
        return

    def alarm(signum: int, frame: Any) -> None:
        msg = f"no result after {seconds} s: a hang"
        raise Hang(msg)

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def snapshot(registry: Registry) -> dict[RegistrationKey, Registration]:
    return {key: registry.get(key) for key in registry}


def assert_unchanged(registry: Registry, before: dict[RegistrationKey, Registration]) -> None:
    after = snapshot(registry)
    assert list(after) == list(before)
    assert all(after[key] is before[key] for key in before)


def assert_names_a_place(error: CinnamonError, key: RegistrationKey | None = None) -> None:
    """The message says where: the file, the dotted path, the key or the cycle."""
    message = str(error)
    assert message.strip()
    path = getattr(error, "path", "")
    if path:
        assert path in message
    if isinstance(error, DeclarationError):
        assert error.file
        assert message.startswith(error.file)
    elif isinstance(error, CycleError):
        assert all(repr(str(part)) in message for part in error.cycle)
    elif isinstance(error, NotRegisteredError):
        assert repr(str(error.key)) in message
    elif key is not None:
        assert key.name in message


def has_nan(value: Any) -> bool:
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, Configuration):
        return any(has_nan(item) for item in value.__dict__.values())
    if isinstance(value, (list, tuple)):
        return any(has_nan(item) for item in value)
    if isinstance(value, dict):
        return any(has_nan(item) for item in value.values())
    return False


# -- strategies: values and trees ------------------------------------------------------

_text = st.text(max_size=6)  # any code point: surrogates, controls, line breaks
_dict_key = _text | st.sampled_from(["@ref", "@x", "@@y", "a.b", "", "[0]", "é", "\u2028"])
_HUGE = (2**63, -(2**63) - 1, 10**300, -(10**4299) + 1)  # ints past 4,300 digits have
# no repr at all, and neither do errors about them: see the huge integer tests below
_int = st.one_of(st.integers(-3, 3), st.integers(), st.integers(0, 3).map(_HUGE.__getitem__))
_float = st.floats()  # NaN, infinities, -0.0 and subnormals too
_json = st.recursive(
    st.none() | st.booleans() | _int | _float | _text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_dict_key, inner, max_size=3),
    max_leaves=8,
)

#: The keys references point at; "ghost" and "ns:ghost" are never registered.
POOL = [
    RegistrationKey("a"),
    RegistrationKey("b"),
    RegistrationKey("c", {"x"}),
    RegistrationKey("a", namespace="ns"),
    RegistrationKey("d", {"x", "y"}, "ns"),
    RegistrationKey("ghost"),
    RegistrationKey("ghost", namespace="ns"),
]
REGISTERED = POOL[:5]
_ref = st.builds(lambda key, shared: key.with_shared(shared), st.sampled_from(POOL), st.booleans())

_scalars = st.builds(
    Scalars,
    flag=st.booleans(),
    count=_int,
    ratio=_float,
    bounded=st.floats(0.0, 1.0),
    text=_text,
    maybe=st.none() | _int,
    choice=st.sampled_from(["a", "b"]),
)
_containers = st.builds(
    Containers,
    numbers=st.lists(_int, max_size=3),
    table=st.dictionaries(_dict_key, _float, max_size=3),
    nested=st.lists(st.dictionaries(_dict_key, st.lists(_int, max_size=2), max_size=2), max_size=2),
    pair=st.tuples(_int, _text),
    anything=_json,
)
_group = st.builds(Group, label=_text, weights=st.dictionaries(_dict_key, _float, max_size=2))
_needs = st.builds(Needs, required=_int, note=_text)
_links = st.recursive(
    st.builds(Link, depth=st.integers(0, 9), next=st.none() | _ref),
    lambda inner: st.builds(Link, depth=st.integers(0, 9), next=inner),
    max_leaves=4,
)


def _hubs(inner: st.SearchStrategy[Configuration]) -> st.SearchStrategy[Configuration]:
    return st.builds(
        Hub,
        one=st.none() | _ref | _scalars,
        many=st.lists(_ref | inner, max_size=3),
        named=st.dictionaries(_dict_key, _ref | inner, max_size=2),
        inline=_containers,
        group=_group,
    )


_nodes = st.recursive(_scalars | _containers | _group | _needs | _links, _hubs, max_leaves=5)


@st.composite
def registries(draw: st.DrawFn) -> tuple[Registry, list[RegistrationKey]]:
    """A registry of generated trees, and the keys to try (registered or not)."""
    registry = Registry()
    for key in draw(st.lists(st.sampled_from(REGISTERED), unique=True, max_size=5)):
        registry.register(draw(_nodes), name=key.name, tags=key.tags, namespace=key.namespace)
    chain = draw(
        st.none() | st.tuples(st.integers(1, 120), st.sampled_from(["end", "cycle", "gap"]))
    )
    if chain is not None:
        length, ending = chain
        for index in range(length):
            if index + 1 < length:
                following: RegistrationKey | None = RegistrationKey(f"link{index + 1}")
            else:
                following = {"end": None, "cycle": RegistrationKey("link0"), "gap": POOL[5]}[ending]
            registry.register(Link(depth=index, next=following), name=f"link{index}")
    keys = [*REGISTERED, POOL[5]]
    if chain is not None:
        keys.append(RegistrationKey("link0"))
    return registry, keys


# -- properties over generated registries ------------------------------------------------


def _round_trip(tree: Configuration, key: RegistrationKey, fmt: str) -> str:
    """Dump ``tree``, load it back and compare; return what happened, for the statistics."""
    try:
        text = dump(tree, format=fmt, aliases=ALIASES)  # type: ignore[arg-type]
    except UsageError as error:
        # Values the format cannot write, said so with the reason.
        reasons = ("no TOML form", "lone surrogate", "digits", "nested too deeply", "come back")
        assert any(reason in str(error) for reason in reasons), error
        return "cannot be written"
    copy = Registry()
    try:
        copy.loads(text, format=fmt, aliases=ALIASES, source=f"round-trip.{fmt}")  # type: ignore[arg-type]
    except DeclarationError as error:
        assert "nested too deeply" in error.reason, error  # only the parser's own limit
        return "too deep to read"
    again = copy.resolve(key)
    assert fingerprint(again) == fingerprint(tree)
    if not has_nan(tree):  # NaN is not equal to itself, so compare without it
        assert again == tree
    return "equal"


@budget(normal=40, fuzz=1_000)
@given(registries())
def test_any_registry_resolves_builds_and_round_trips_or_names_the_place(
    generated: tuple[Registry, list[RegistrationKey]],
) -> None:
    registry, keys = generated
    before = snapshot(registry)
    for key in keys:
        with no_hang():
            try:
                tree = registry.resolve(key)
            except CinnamonError as error:
                event(f"resolve: {type(error).__name__}")
                assert_names_a_place(error, key)
                with pytest.raises(type(error)):
                    registry.build(key)
                continue
            try:
                built = registry.build(key)
            except UsageError as error:  # a root without a component
                event("build: UsageError")
                assert_names_a_place(error, key)
                assert type(tree).__component__ is None
            else:
                event("build: built")
                assert built.__cinnamon__.key == key
                assert built.__cinnamon__.config == tree or has_nan(tree)
            fingerprint(tree)
            for fmt in FORMATS:
                event(f"{fmt} round trip: {_round_trip(tree, key, fmt)}")
    assert_unchanged(registry, before)  # resolving and building change nothing


@budget(normal=60, fuzz=3_000)
@given(
    st.sampled_from(CLASSES),
    st.dictionaries(
        st.sampled_from(
            [
                "flag",
                "count",
                "ratio",
                "bounded",
                "text",
                "numbers",
                "table",
                "one",
                "many",
                "named",
                "next",
                "required",
                "label",
                "nope",
                "é",
            ]
        ),
        _json | _ref | _nodes,
        max_size=4,
    ),
)
def test_any_field_values_make_a_configuration_or_a_configuration_error(
    cls: type[Configuration], values: dict[str, Any]
) -> None:
    try:
        config = cls(**values)
    except ConfigurationError as error:
        assert error.errors
        for path, message in error.errors:
            assert path.startswith(cls.__name__)
            assert message
        assert str(error).startswith(f"{cls.__name__}")
    else:
        assert isinstance(config, cls)


@budget(normal=60, fuzz=3_000)
@given(_nodes, st.data())
def test_a_refused_assignment_changes_nothing(config: Configuration, data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(sorted(type(config).model_fields)))
    value = data.draw(_json | _ref | _nodes)
    before = dict(config.__dict__)
    try:
        setattr(config, name, value)
    except ConfigurationError as error:
        assert error.path.startswith(f"{type(config).__name__}.{name}")
        assert config.__dict__.keys() == before.keys()
        assert all(config.__dict__[k] is before[k] for k in before)


@budget(normal=30, fuzz=1_000)
@given(
    st.lists(
        st.sampled_from(["ok", "ok", "raises", "not-a-config", "taken", "twice"]),
        min_size=1,
        max_size=6,
    )
)
def test_collect_adds_every_mark_or_none(plan: list[str]) -> None:
    registry = Registry()
    registry.register(Scalars(), name="taken")
    module = types.ModuleType("generated_marks")
    for index, kind in enumerate(plan):
        name = {"taken": "taken", "twice": "twice"}.get(kind, f"m{index}")

        def make(kind: str = kind) -> Any:
            if kind == "raises":
                msg = "a marked function failed"
                raise ConfigurationError([("make", msg)])
            return {"not": "a configuration"} if kind == "not-a-config" else Scalars(count=1)

        make.__module__ = module.__name__
        setattr(module, f"make{index}", registration(name)(make))
    before = snapshot(registry)
    try:
        keys = registry.collect(module)
    except CinnamonError as error:
        assert_names_a_place(error)
        assert_unchanged(registry, before)
    else:
        assert set(plan) <= {"ok", "twice"}
        assert plan.count("twice") <= 1
        assert len(registry) == 1 + len(keys) == 1 + len(plan)


# -- strategies: declarative files -----------------------------------------------------

_NAMES = [
    *ALIASES,
    "Missing",
    "scalars",
    "os:system",
    "os.path:join",
    "builtins:eval",
    "subprocess:run",
    "untrusted_pkg:Thing",
    "untrusted_pkg.sub:Thing",
    "cinnamon:Registry",
    "cinnamon:PipelineConfig",
    "cinnamon.callbacks:TimerConfig",
    "cinnamon:nothing_here",
    "../evil:x",
    "a b:c",
    "",
]
_directive = st.one_of(
    st.fixed_dictionaries({"@ref": st.sampled_from([str(k) for k in POOL]) | _text}),
    st.fixed_dictionaries({"@ref": st.sampled_from(["a", "ns:a"]), "@shared": _json}),
    st.fixed_dictionaries({"@config": st.sampled_from(_NAMES)}, optional={"count": _json}),
    st.fixed_dictionaries({"@rf": _json}),
    st.fixed_dictionaries({"@component": st.sampled_from(_NAMES)}),
)
_wild = _json | _directive | st.sampled_from(_NAMES)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path to a value inside plain data (the root included)."""
    stack = [(value, prefix)]
    while stack:
        item, path = stack.pop()
        yield path
        if isinstance(item, dict):
            stack.extend((v, (*path, k)) for k, v in item.items())
        elif isinstance(item, list):
            stack.extend((v, (*path, i)) for i, v in enumerate(item))


def _get(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


@st.composite
def _mutated(draw: st.DrawFn, data: Any) -> Any:
    """``data`` with a few structural mistakes: wrong types, lost keys, stray keys."""
    data = json.loads(json.dumps(data))  # a private copy (the dump wrote plain data)
    for _ in range(draw(st.integers(0, 3))):
        paths = list(_paths(data))
        path = draw(st.sampled_from(paths))
        if not path:
            continue
        parent, last = _get(data, path[:-1]), path[-1]
        action = draw(st.sampled_from(["replace", "delete", "add", "nest", "extends"]))
        if action == "replace":
            parent[last] = draw(_wild)
        elif action == "delete":
            del parent[last]
        elif action == "add" and isinstance(parent, dict):
            parent[draw(_dict_key | st.sampled_from(["fields", "config", "@ref", "extends"]))] = (
                draw(_wild)
            )
        elif action == "nest":
            depth = draw(st.integers(1, 60))
            value = parent[last]
            for _ in range(depth):
                value = [value] if draw(st.booleans()) else {"k": value}
            parent[last] = value
        elif action == "extends" and isinstance(data, dict):
            data["extends"] = draw(
                st.sampled_from(
                    ["base.toml", "broken.json", "cycle.yaml", "missing.toml", "notes.txt", "."]
                )
                | st.lists(st.sampled_from(["base.toml", "broken.json", "base.toml"]), max_size=3)
                | _json
            )
    return data


def _write(data: Any, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(data, ensure_ascii=False, indent=1)
    if fmt == "yaml":
        import yaml

        return str(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    if not isinstance(data, dict):
        data = {"value": data}
    return _toml(data)


_NASTY = [
    "\x00",
    "\x07",
    "\ufeff",
    "\ud800",
    '"',
    "'",
    "[",
    "]",
    "{",
    "}",
    "=",
    ":",
    ",",
    "#",
    "\n",
    "-",
    "*x",
    "&x ",
    "<<: ",
    "!!python/object:os.system ",
    "!!binary ",
    "9" * 5000,
    "1e99999",
    "[" * 3000,
    "@ref",
    "\\u0000",
    "\\ud800",
    "0x" + "f" * 40,
    "é",
    "\t",
]


@st.composite
def _garbled(draw: st.DrawFn, text: str) -> str:
    """``text`` cut short, with lines repeated, or with stray characters in it."""
    for _ in range(draw(st.integers(0, 3))):
        action = draw(st.sampled_from(["truncate", "duplicate", "insert", "delete", "swap"]))
        lines = text.splitlines(keepends=True)
        if action == "truncate":
            text = text[: draw(st.integers(0, len(text)))]
        elif action == "duplicate" and lines:
            at = draw(st.integers(0, len(lines) - 1))
            lines.insert(at, lines[at])
            text = "".join(lines)
        elif action == "swap" and len(lines) > 1:
            i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
            text = "".join(lines)
        elif action == "insert":
            at = draw(st.integers(0, len(text)))
            text = text[:at] + draw(st.sampled_from(_NASTY) | st.text(max_size=3)) + text[at:]
        elif action == "delete" and text:
            at = draw(st.integers(0, len(text) - 1))
            text = text[:at] + text[at + draw(st.integers(1, 20)) :]
    return text


@st.composite
def documents(draw: st.DrawFn) -> tuple[str, str]:
    """A declarative file's text, and its format: valid, mutated or garbled."""
    fmt = draw(st.sampled_from(FORMATS))
    trees = draw(st.lists(st.tuples(st.sampled_from(REGISTERED), _nodes), max_size=3))
    data: dict[str, Any] = {"registrations": {}}
    for key, tree in trees:
        try:
            part = json.loads(dump(tree, format="json", key=key, aliases=ALIASES))
        except UsageError:
            continue  # a value no file can hold (a huge integer)
        data["registrations"].update(part["registrations"])
    if draw(st.booleans()):
        data = draw(_mutated(data))
    try:
        text = _write(data, fmt)
    except Exception:
        text = json.dumps(data, ensure_ascii=False)
        fmt = "json"
    if draw(st.integers(0, 3)) == 0:
        text = draw(_garbled(text))
    return text, fmt


_BREAKS = re.compile(r"\n")
_YAML_BREAKS = re.compile(r"\r\n|[\r\n\x85\u2028\u2029]")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Files to extend (good, broken and cyclic), and a package that must never be imported."""
    root = tmp_path_factory.mktemp("documents")
    (root / "base.toml").write_text('[registrations."ns:d[x,y]"]\nconfig = "Scalars"\n')
    (root / "broken.json").write_text('{"registrations": {"b": {"config": "Missing"}}}')
    (root / "cycle.yaml").write_text("extends: cycle.yaml\n")
    (root / "notes.txt").write_text("not a declarative file")
    package = root / "untrusted_pkg"
    package.mkdir()
    (package / "__init__.py").write_text(
        f"from pathlib import Path\nPath({str(root / 'imported')!r}).touch()\nclass Thing: pass\n"
    )
    sys.path.insert(0, str(root))
    try:
        yield root
    finally:
        sys.path.remove(str(root))
        assert not (root / "imported").exists()
        assert "untrusted_pkg" not in sys.modules


def check_load(text: str, fmt: str, folder: Path) -> None:
    """Load ``text``: a result, or a DeclarationError naming the place and changing nothing."""
    registry = Registry()
    registry.register(Scalars(count=1), name="a")  # so that some keys are taken
    registry.register(Link(), name="link0")
    before = snapshot(registry)
    source = folder / f"document.{fmt}"
    with no_hang():
        try:
            keys = registry.loads(text, format=fmt, aliases=ALIASES, source=source)  # type: ignore[arg-type]
        except DeclarationError as error:
            event("load: DeclarationError")
            assert_names_a_place(error)
            assert Path(error.file).parent == folder
            if error.line is not None:  # YAML also breaks lines at \r, \x85, \u2028, \u2029
                breaks = _YAML_BREAKS if fmt == "yaml" else _BREAKS
                assert 1 <= error.line <= len(breaks.findall(text)) + 2
            assert_unchanged(registry, before)
            return
        event(f"load: {len(keys)} registrations")
        after = snapshot(registry)
        assert all(after[key] is before[key] for key in before)
        assert set(after) == set(before) | set(keys)
        for key in keys:
            try:
                registry.build(key)
            except CinnamonError as error:
                event(f"build after load: {type(error).__name__}")
                assert_names_a_place(error, key)
            else:
                event("build after load: built")
    assert "untrusted_pkg" not in sys.modules


@budget(normal=100, fuzz=5_000)
@given(documents())
@example(
    document=(
        "registrations:\n  a:\n    config: Scalars\n    fields: {count: [1, {null: 2}]}\n",
        "yaml",
    )
)
@example(
    document=(
        '{"registrations": {"b": {"config": "Hub", "fields": {"many": [' * 1 + "[" * 2000,
        "json",
    )
)
@example(document=('[registrations.b]\nconfig = "Scalars"\nfields.count = 1e99999\n', "toml"))
@example(document=('{"extends": ["base.toml", "base.toml", "cycle.yaml"]}', "json"))
@example(document=("#" + "\u2028" * 5 + "\nextends: 3\n", "yaml"))  # lines YAML counts
@example(document=('{"extends": "base\\u0000.toml"}', "json"))
@example(document=('[registrations.b]\nconfig = "untrusted_pkg:Thing"\n', "toml"))
@example(
    document=(
        '[registrations.b]\nconfig = "Scalars"\ncomponent = "untrusted_pkg.sub:Thing"\n',
        "toml",
    )
)
def test_any_declarative_file_loads_or_raises_a_declaration_error(
    folder: Path, document: tuple[str, str]
) -> None:
    text, fmt = document
    check_load(text, fmt, folder)


# -- the fuzz target (nox -s fuzz) ---------------------------------------------------------


@pytest.mark.skipif("CINNAMON_FUZZ_SECONDS" not in os.environ, reason="runs in `nox -s fuzz` only")
def test_fuzz_the_declarative_loader(folder: Path) -> None:
    """Run the loader property round after round until the time is up; report the count."""
    seconds = float(os.environ["CINNAMON_FUZZ_SECONDS"])
    tried = [0]

    @settings(max_examples=500, deadline=None, suppress_health_check=list(HealthCheck))
    @given(documents())
    def one_round(document: tuple[str, str]) -> None:
        tried[0] += 1
        check_load(*document, folder)

    deadline = time.monotonic() + seconds
    rounds = 0
    while time.monotonic() < deadline:
        one_round()
        rounds += 1
    print(f"\nfuzz: {tried[0]:,} generated files loaded in {seconds:.0f} s ({rounds} rounds)")


# -- regressions: what the properties found ----------------------------------------------
# Each test below is an input the generated tests (or the fuzz session) once broke:
# trees that hold themselves, integers too long to write, values nested deeper than a
# writer recurses, unhashable factories, non-string YAML keys, control characters,
# unusable file names and arguments of the wrong type.


def _holds_itself() -> Hub:
    hub = Hub()
    hub.many = [Scalars(), hub]  # assignment keeps the very object: a cycle of objects
    return hub


def test_dump_refuses_a_tree_that_holds_itself() -> None:
    with no_hang(), pytest.raises(UsageError, match=r"root\.many\[1\]: this Hub holds itself"):
        dump(_holds_itself(), aliases=ALIASES)
    shared = Scalars()
    fine = Hub(many=[shared, Hub(many=[shared])])  # the same node twice, but no cycle
    assert "@shared" in dump(fine, aliases=ALIASES)


def test_apply_overrides_refuses_a_tree_that_holds_itself() -> None:
    from cinnamon import apply_overrides

    with no_hang(), pytest.raises(UsageError, match="holds a Hub inside itself"):
        apply_overrides(_holds_itself(), {"group.label": "x"})


def _bounded_run(root: Any, limit: int = 20_000) -> Any:
    """cinnamon._tree.run, giving up after ``limit`` steps instead of running forever."""
    stack, sent = [root], None
    for _ in range(limit):
        try:
            child = stack[-1].send(sent)
        except StopIteration as done:
            stack.pop()
            if not stack:
                return done.value
            sent = done.value
        else:
            stack.append(child)
            sent = None
    msg = f"the walk took more than {limit:,} steps"
    raise Hang(msg)


def test_resolve_refuses_a_tree_that_holds_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    import cinnamon._core.resolve

    monkeypatch.setattr(cinnamon._core.resolve, "run", _bounded_run)
    registry = Registry()
    registry.register(_holds_itself(), name="loop")
    with pytest.raises(CinnamonError, match=r"loop\.many\[1\]"):
        registry.resolve("loop")


def test_dump_refuses_an_integer_too_long_to_write() -> None:
    config = Scalars()
    config.__dict__["count"] = 10**5000  # what pydantic accepts, bypassing the error repr
    for fmt in FORMATS:
        with pytest.raises(UsageError, match=r"root\.count: an integer of 16,610 bits"):
            dump(config, format=fmt, aliases=ALIASES)  # type: ignore[arg-type]
    config.__dict__["count"] = 10**4299  # the longest that Python writes: still fine
    assert dump(config, format="json", aliases=ALIASES)


def test_refusing_a_huge_integer_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match=r"Scalars\.bounded"):
        Scalars(bounded=10**5000)


def test_the_fingerprint_of_a_huge_integer_is_a_result_or_a_usage_error() -> None:
    config = Scalars()
    config.__dict__["count"] = 10**5000
    assert len(fingerprint(config)) == 64


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_dump_refuses_values_nested_deeper_than_the_writer_recurses(fmt: str) -> None:
    if fmt == "yaml" and not HAS_YAML:
        pytest.skip("PyYAML not installed")
    deep: Any = 1
    for _ in range(5_000):
        deep = [deep]
    if fmt == "json" and sys.version_info >= (3, 13):
        # 3.13's C encoder writes indented JSON itself, without recursing in Python
        assert dump(Containers(anything=deep), format=fmt, aliases=ALIASES)  # type: ignore[arg-type]
    else:
        with pytest.raises(UsageError, match=f"nested too deeply to write as {fmt.upper()}"):
            dump(Containers(anything=deep), format=fmt, aliases=ALIASES)  # type: ignore[arg-type]
    assert dump(Containers(anything=deep), aliases=ALIASES)  # TOML's writer does not recurse


def test_an_unhashable_factory_builds() -> None:
    class Factory:  # instances of an eq-dataclass are unhashable like this
        __hash__ = None  # type: ignore[assignment]

        def __call__(self, **values: Any) -> Thing:
            return Thing(**values)

    registry = Registry()
    registry.register(Scalars(count=2), name="made", component=Factory())
    assert registry.build("made").values["count"] == 2
    assert registry.build("made").values["count"] == 2  # and again, from the plan


_NON_STRING_KEYS = ["null", "1.5", "2020-01-01"]  # (ints and bools render as [n])


@pytest.mark.skipif(not HAS_YAML, reason="PyYAML not installed")
@pytest.mark.parametrize("key", _NON_STRING_KEYS)
def test_non_string_yaml_keys_on_an_error_path_are_declaration_errors(key: str) -> None:
    text = f'registrations:\n  a:\n    config: Containers\n    fields:\n      anything: {{{key}: {{"@rf": 1}}}}\n'
    with pytest.raises(DeclarationError, match="@rf"):
        Registry().loads(text, format="yaml", aliases=ALIASES)


_HUGE_LITERALS = [
    ("json", '{"registrations": {"a": {"config": "Scalars", "fields": {"count": %s}}}}'),
    ("toml", '[registrations.a]\nconfig = "Scalars"\nfields.count = %s\n'),
    ("yaml", "registrations:\n  a:\n    config: Scalars\n    fields:\n      count: %s\n"),
]


@pytest.mark.parametrize(("fmt", "template"), _HUGE_LITERALS)
def test_huge_integer_literals_are_declaration_errors(fmt: str, template: str) -> None:
    if fmt == "yaml" and not HAS_YAML:
        pytest.skip("PyYAML not installed")
    with pytest.raises(DeclarationError):
        Registry().loads(template % ("9" * 5000), format=fmt, aliases=ALIASES)  # type: ignore[arg-type]


@pytest.mark.skipif(not HAS_YAML, reason="PyYAML not installed")
@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\ufffe", "\ud800"])
def test_yaml_text_with_control_characters_is_a_declaration_error(char: str) -> None:
    with pytest.raises(DeclarationError, match="YAML"):
        Registry().loads(f"registrations: {{}}\n# {char}\n", format="yaml")


_BAD_NAMES = ["a\x00.toml", "a\ud800.toml"]


@pytest.mark.parametrize("name", _BAD_NAMES, ids=["nul", "surrogate"])
@pytest.mark.parametrize("how", ["extends", "load", "source"])
def test_file_names_with_nul_or_lone_surrogates_are_declaration_errors(
    name: str, how: str, tmp_path: Path
) -> None:
    registry = Registry()
    calls = {
        "extends": lambda: registry.loads(
            json.dumps({"extends": name}), format="json", source=tmp_path / "a.json"
        ),
        "load": lambda: registry.load(tmp_path / name),
        "source": lambda: registry.loads("", source=tmp_path / name),
    }
    with pytest.raises(DeclarationError):
        calls[how]()


@pytest.mark.parametrize(
    "call",
    [
        lambda r: r.loads(b"[registrations]"),
        lambda r: r.loads(None),
        lambda r: r.load(None),
        lambda r: r.loads("", allow=None),
        lambda r: r.loads('[registrations.a]\nconfig = "X"\n', aliases={3: Scalars}),
    ],
    ids=["bytes", "None-text", "None-path", "None-allow", "int-alias"],
)
def test_loading_with_arguments_of_the_wrong_type_is_a_usage_error(call: Any) -> None:
    with pytest.raises(UsageError):
        call(Registry())
