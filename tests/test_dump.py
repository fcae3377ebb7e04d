from __future__ import annotations

import importlib.util
import json
import math
import sys
from typing import Any

import declarative_fixtures as fx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cinnamon import Configuration, RegistrationKey, Registry
from cinnamon._core.resolve import registration_of
from cinnamon._files.declarative import loads
from cinnamon._files.dump import dump
from cinnamon.errors import UsageError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ALLOW = [fx.ROOT]
F = "declarative_fixtures"
NO_YAML = importlib.util.find_spec("yaml") is None
FORMATS = [
    "toml",
    "json",
    pytest.param("yaml", marks=pytest.mark.skipif(NO_YAML, reason="PyYAML not installed")),
]


def round_trip(config: Configuration, fmt: str = "toml", **options: Any) -> Configuration:
    """Dump, load into a fresh registry and resolve the root again."""
    text = dump(config, format=fmt, **options)  # type: ignore[arg-type]
    registry = Registry()
    keys = loads(registry, text, format=fmt, allow=ALLOW, aliases=options.get("aliases"))  # type: ignore[arg-type]
    return registry.resolve(keys[0])


def demo_registry() -> Registry:
    registry = Registry()
    registry.register(fx.MLPConfig(hidden=64), name="mlp", namespace="demo")
    registry.register(fx.MLPConfig(hidden=8), name="wide", namespace="demo", component=fx.WideMLP)
    registry.register(fx.LoaderConfig(batch=4), name="loader", namespace="demo")
    registry.register(
        fx.TrainerConfig(
            epochs=3,
            model=RegistrationKey("mlp", namespace="demo"),
            loader=RegistrationKey("loader", namespace="demo", shared=True),
            callbacks=[fx.EarlyStopConfig(patience=1), fx.EarlyStopConfig()],
            weights={"@odd key": 0.5, "b": -1.0},
        ),
        name="trainer",
        namespace="demo",
        description="trains",
    )
    registry.register(
        fx.Settings(
            anything={
                "pair": [RegistrationKey("loader", namespace="demo", shared=True)],
                "one": RegistrationKey("loader", namespace="demo", shared=True),
            },
        ),
        name="sharing",
        namespace="demo",
    )
    return registry


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_resolved_tree_round_trips(fmt: str) -> None:
    tree = demo_registry().resolve("demo:trainer")
    again = round_trip(tree, fmt)
    assert again == tree
    assert registration_of(again) is not None
    assert registration_of(again).key == RegistrationKey("trainer", namespace="demo")  # type: ignore[union-attr]
    assert registration_of(again).description == "trains"  # type: ignore[union-attr]


def test_the_toml_is_readable() -> None:
    text = dump(demo_registry().resolve("demo:trainer"))
    assert text.startswith('[registrations."demo:trainer"]\n')
    assert f'config = "{F}:TrainerConfig"\n' in text
    assert 'description = "trains"' in text
    assert '[registrations."demo:trainer".fields.model]\n' in text
    assert f'"@config" = "{F}:MLPConfig"\nhidden = 64\n' in text
    assert '"@@odd key" = 0.5' in text
    assert "callbacks = [\n    {" in text
    assert "note" not in text  # None, its default: left out
    tomllib.loads(text)


@pytest.mark.parametrize("fmt", FORMATS)
def test_shared_nodes_stay_shared(fmt: str) -> None:
    registry = demo_registry()
    tree = registry.resolve("demo:sharing")
    assert tree.anything["one"] is tree.anything["pair"][0]
    text = dump(tree, format=fmt)  # type: ignore[arg-type]
    again = round_trip(tree, fmt)
    assert again == tree
    assert again.anything["one"] is again.anything["pair"][0]
    assert '"@shared"' in text or "'@shared'" in text


@pytest.mark.parametrize("fmt", FORMATS)
def test_nodes_with_another_component_keep_it(fmt: str) -> None:
    registry = demo_registry()
    tree = fx.TrainerConfig(epochs=1, model=RegistrationKey("wide", namespace="demo"))
    resolved = registry.resolve(tree)
    again = round_trip(resolved, fmt, key="demo:run")
    assert again == resolved
    origin = registration_of(again.model)
    assert origin is not None
    assert origin.component is fx.WideMLP
    assert str(origin.key) == "demo:wide"
    built = Registry()
    loads(built, dump(resolved, key="run"), allow=ALLOW)
    assert isinstance(built.build("run").model, fx.WideMLP)


def test_unresolved_references_are_written_as_references() -> None:
    config = fx.TrainerConfig(epochs=1, loader=RegistrationKey("loader", shared=True))
    text = dump(config, key="x")
    assert 'loader = { "@ref" = "loader", "@shared" = true }' in text
    assert 'model = { "@ref" = "demo:mlp" }' in text
    registry = Registry()
    loads(registry, text, allow=ALLOW)
    loaded = registry.get("x").config
    assert loaded == config
    assert loaded.loader.shared


def test_the_key_defaults_to_the_origin_or_root() -> None:
    assert dump(fx.MLPConfig()).startswith("[registrations.root]")
    assert dump(fx.MLPConfig(), key=RegistrationKey("m", {"t"}, "ns")).startswith(
        '[registrations."ns:m[t]"]'
    )


def test_aliases_are_written_instead_of_import_paths() -> None:
    aliases = {"Trainer": fx.TrainerConfig, "SGD": fx.SGDConfig, "MLP": fx.MLPConfig}
    config = fx.TrainerConfig(epochs=1, model=fx.MLPConfig())
    text = dump(config, aliases=aliases)
    assert 'config = "Trainer"' in text
    assert '"@config" = "SGD"' in text
    assert round_trip(config, aliases=aliases) == config


def test_none_in_toml() -> None:
    config = fx.Settings(maybe=None, anything={"a": None})
    with pytest.raises(UsageError, match=r"root\.anything\.a: None has no TOML form"):
        dump(config)

    class Defaulted(Configuration):
        value: int | None = 3

    with pytest.raises(UsageError, match="would give its default 3"):
        dump(Defaulted(value=None), aliases={"Defaulted": Defaulted})
    assert round_trip(fx.Settings(anything={"a": None}), "json") == fx.Settings(
        anything={"a": None}
    )


def test_classes_without_an_import_path_need_an_alias() -> None:
    class Local(Configuration):
        x: int = 1

    with pytest.raises(UsageError, match="no import path"):
        dump(Local())
    assert 'config = "Local"' in dump(Local(), aliases={"Local": Local})


def test_what_cannot_be_written() -> None:
    with pytest.raises(UsageError, match="lone surrogate"):
        dump(fx.Settings(text="\ud800"))
    with pytest.raises(UsageError, match="keys must be strings or integers"):
        dump(fx.Settings(anything={(1, 2): 1}))
    with pytest.raises(UsageError, match="cannot write object"):
        dump(fx.Settings(anything=object()))
    with pytest.raises(UsageError, match="writes a Configuration"):
        dump({"a": 1})  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="unknown format"):
        dump(fx.Settings(), format="ini")  # type: ignore[arg-type]


def test_yaml_without_pyyaml(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "yaml", None)
    with pytest.raises(UsageError, match=r"cinnamon\[yaml\]"):
        dump(fx.Settings(), format="yaml")


def test_other_types_are_written_as_pydantic_writes_json() -> None:
    import datetime as dt
    import enum
    import pathlib

    class Color(str, enum.Enum):
        RED = "red"

    class Odd(Configuration):
        when: dt.date = dt.date(2024, 1, 2)
        where: pathlib.Path = pathlib.Path("a/b")
        color: Color = Color.RED
        numbers: frozenset[int] = frozenset({1, 2})
        table: dict[int, str] = {1: "one"}  # noqa: RUF012

    text = dump(Odd(), aliases={"Odd": Odd})
    assert 'when = "2024-01-02"' in text
    registry = Registry()
    loads(registry, text, aliases={"Odd": Odd})
    assert registry.get("root").config == Odd()


def test_floats_and_special_strings_round_trip_exactly() -> None:
    values = [0.1, -0.0, 1e300, 5e-324, float("inf"), float("-inf"), 1.0, 123456789.125]
    config = fx.Settings(
        table=[{str(i): v for i, v in enumerate(values)}],
        text='nel \x85 ls \u2028 quote " backslash \\ tab \t newline \n bell \x07 del \x7f é 漢字 🙂',
        names={"": "empty key", "a.b": "dotted", "@at": "escaped", "@@two": "twice", "ü": "x"},
    )
    for fmt in ("toml", "json", "yaml"):
        if fmt == "yaml" and importlib.util.find_spec("yaml") is None:
            continue
        assert round_trip(config, fmt) == config
    nan = round_trip(fx.Settings(ratio=float("nan")))
    assert math.isnan(nan.ratio)


def test_a_deep_chain_round_trips() -> None:
    registry = Registry()
    registry.register(fx.ChainConfig(depth=0), name="c0")
    for depth in range(1, 300):
        registry.register(
            fx.ChainConfig(depth=depth, child=RegistrationKey(f"c{depth - 1}")), name=f"c{depth}"
        )
    tree = registry.resolve("c299")
    assert round_trip(tree) == tree


# -- property: any configuration of plain values round-trips ----------------------------

_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
_float = st.floats(allow_nan=False)
_int = st.integers(-(2**63), 2**63 - 1)
_leaf = st.one_of(st.booleans(), _int, _float, _text)
_json = st.recursive(
    _leaf,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3),
    max_leaves=12,
)
_mlp = st.builds(
    fx.MLPConfig,
    hidden=st.integers(1, 10**6),
    activation=_text,
    dropout=st.floats(0.0, 1.0),
)
_settings = st.builds(
    fx.Settings,
    text=_text,
    number=_int,
    ratio=_float,
    flag=st.booleans(),
    numbers=st.lists(_int, max_size=4),
    names=st.dictionaries(_text, _text, max_size=4),
    table=st.lists(st.dictionaries(_text, _float, max_size=3), max_size=3),
    anything=_json,
    maybe=st.none() | _int,
    child=st.none() | _mlp,
    children=st.lists(_mlp, max_size=3),
    pair=st.tuples(_int, _text),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_settings, st.sampled_from(["toml", "json", "yaml"]))
def test_any_settings_round_trip(config: fx.Settings, fmt: str) -> None:
    if fmt == "yaml":
        pytest.importorskip("yaml")
    text = dump(config, format=fmt)  # type: ignore[arg-type]
    if fmt == "toml":
        tomllib.loads(text)
    elif fmt == "json":
        json.loads(text)
    assert round_trip(config, fmt) == config
