"""Search spaces: distributions in Param and in files, collected from a resolved tree."""

# Seeded generators drive the draws under test; nothing here is a secret.
# ruff: noqa: S311

from __future__ import annotations

import math
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import tune_fixtures as fx

from cinnamon import (
    Choice,
    Configuration,
    IntRange,
    LogUniform,
    Param,
    Ref,
    RegistrationKey,
    Registry,
    Uniform,
    json_schema,
)
from cinnamon._runs.search import space_of
from cinnamon.errors import ConditionError, ConfigurationError, DeclarationError, NotRegisteredError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

FIXTURES = Path(__file__).resolve().parent
DEMO = FIXTURES.parent / "configs" / "demo.toml"


# -- distributions ----------------------------------------------------------------------------


def test_each_distribution_draws_inside_its_bounds() -> None:
    rng = random.Random(1)
    uniform = [Uniform(-1.0, 2.0).sample(rng) for _ in range(500)]
    assert all(-1.0 <= v <= 2.0 for v in uniform)
    assert min(uniform) < -0.9 and max(uniform) > 1.9  # noqa: PT018 - the whole range
    logs = [LogUniform(1e-4, 1.0).sample(rng) for _ in range(500)]
    assert all(1e-4 <= v <= 1.0 for v in logs)
    # A log scale puts as many draws in each decade: about a quarter below 1e-3.
    assert 80 < sum(v < 1e-3 for v in logs) < 170
    stepped = {IntRange(1, 10, step=3).sample(rng) for _ in range(300)}
    assert stepped == {1, 4, 7, 10}
    assert {IntRange(2, 9, step=3).sample(rng) for _ in range(300)} == {2, 5, 8}
    log_ints = [IntRange(1, 1000, log=True).sample(rng) for _ in range(500)]
    assert all(1 <= v <= 1000 for v in log_ints)
    assert sum(v < 10 for v in log_ints) > 100  # a third of the decades, not 1%
    assert {Choice(["a", "b", "c"]).sample(rng) for _ in range(100)} == {"a", "b", "c"}


def test_distributions_say_how_a_file_writes_them() -> None:
    assert Uniform(0, 1).written() == {"uniform": [0, 1]}
    assert LogUniform(1e-3, 1).written() == {"log_uniform": [1e-3, 1]}
    assert IntRange(1, 9).written() == {"int": [1, 9]}
    assert IntRange(1, 9, step=2).written() == {"int": [1, 9, 2]}
    assert IntRange(1, 9, log=True).written() == {"log_int": [1, 9]}
    assert Choice([RegistrationKey("mlp"), 3]).written() == {"choice": [{"@ref": "mlp"}, 3]}


class Knobs(Configuration):
    rate: float = Param(0.1, gt=0.0, lt=1.0)
    count: int = Param(1, ge=1)
    name: str = "x"


@pytest.mark.parametrize(
    ("field", "search", "message"),
    [
        ("rate", Uniform(0.5, 0.1), r"the low bound 0\.5 is above the high bound 0\.1"),
        (
            "rate",
            LogUniform(0.0, 0.5),
            r"a log scale needs bounds above 0, and the low bound is 0\.0",
        ),
        ("rate", Uniform(0.1, math.inf), r"the bounds must be finite"),
        ("rate", Uniform("a", 1), r"the bounds must be numbers, not 'a'"),  # type: ignore[arg-type]
        ("count", IntRange(1, 5, step=0), r"the step must be a whole number of at least 1"),
        ("count", IntRange(1, 5.5), r"the bounds must be whole numbers"),  # type: ignore[arg-type]
        ("count", IntRange(1, 8, step=2, log=True), r"a log scale takes no step"),
        ("name", Choice([]), r"a choice needs at least one value, and the list is empty"),
        ("name", Choice("abc"), r"the choices must be a list of values, not 'abc'"),
        ("count", Uniform(1.0, 5.0), r"draws floats, and the field holds int values; use IntRange"),
        ("rate", Uniform(0.1, 2.0), r"the high bound .* is refused: Input should be less than 1"),
        ("name", IntRange(1, 3), r"the low bound .* is refused: Input should be a valid string"),
        ("count", Choice([1, "many"]), r"choice 1 .*'many'.* is refused"),
        ("rate", 0.5, r"search must be a Uniform, LogUniform, IntRange or Choice, not 0\.5"),
    ],
)
def test_an_unsound_search_names_the_dotted_path_from_the_root(
    field: str, search: Any, message: str
) -> None:
    kinds = {"rate": float, "count": int, "name": str}
    constraints: dict[str, dict[str, Any]] = {"rate": {"gt": 0.0, "lt": 1.0}, "count": {"ge": 1}}
    bad = type(
        "Bad",
        (Knobs,),
        {
            "__annotations__": {field: kinds[field]},
            field: Param(getattr(Knobs(), field), search=search, **constraints.get(field, {})),
        },
    )

    class Holder(Configuration):
        knobs: Ref[Knobs] = Param(default_factory=Knobs)

    registry = Registry()
    registry.register(bad(), name="knobs")
    registry.register(Holder(knobs=RegistrationKey("knobs")), name="holder")
    with pytest.raises(ConfigurationError, match=message) as caught:
        space_of(registry, "holder")
    assert caught.value.path == f"holder.knobs.{field}"


def test_a_choice_of_registrations_swaps_sub_trees_with_their_own_dimensions() -> None:
    space = space_of(fx.registry(), "net")
    assert [d.path for d in space.dimensions] == [
        "body",
        "body.depth",
        "body.depth",
        "body.rate",
        "width",
    ]
    # Each body's dimensions exist only when the choice picks it.
    guards = [d.guard for d in space.dimensions]
    assert guards == [(), ((0, 0),), ((0, 1),), ((0, 1),), ()]
    seen = set()
    for seed in range(60):
        overrides = space.sample(random.Random(seed))
        kind = overrides["body"]
        if kind == RegistrationKey("shallow"):
            assert set(overrides) == {"body", "body.depth", "width"}
            assert 1 <= overrides["body.depth"] <= 3
        else:
            assert set(overrides) == {"body", "body.depth", "body.rate", "width"}
            assert 10 <= overrides["body.depth"] <= 20
        seen.add(kind)
        if kind == RegistrationKey("deep") and overrides["width"] == 16:
            with pytest.raises(ConditionError, match=r"at most 8, not 16") as caught:
                space.resolve(overrides)
            assert caught.value.path == "net"
            continue
        tree = space.resolve(overrides)
        assert tree.body.depth == overrides["body.depth"]  # type: ignore[union-attr]
        assert tree.width == overrides["width"]
    assert seen == {RegistrationKey("shallow"), RegistrationKey("deep")}


def test_a_choice_of_a_registration_the_field_cannot_hold_is_refused() -> None:
    registry = fx.registry()

    class WrongNet(fx.NetConfig):
        body: Ref[fx.ShallowConfig] | Ref[fx.DeepConfig] = Param(
            RegistrationKey("shallow"), search=Choice([RegistrationKey("bowl")])
        )

    registry.register(WrongNet(), name="wrong")
    with pytest.raises(
        ConfigurationError, match=r"choice 0 names registration 'bowl', which holds a BowlConfig"
    ):
        space_of(registry, "wrong")

    class Typo(fx.NetConfig):
        body: Ref[fx.ShallowConfig] | Ref[fx.DeepConfig] = Param(
            RegistrationKey("shallow"), search=Choice([RegistrationKey("shalow")])
        )

    registry.register(Typo(), name="typo")
    with pytest.raises(NotRegisteredError, match=r"typo\.body.*'shalow'.*did you mean 'shallow'"):
        space_of(registry, "typo")


def test_a_fixed_override_takes_its_field_out_of_the_space() -> None:
    space = space_of(fx.registry(), "bowl", overrides=["x=0.25"])
    assert [d.path for d in space.dimensions] == ["y"]
    assert space.resolve(space.sample(random.Random(0))).x == 0.25
    assert [d.path for d in space_of(fx.registry(), "bowl", {"y": 5}).dimensions] == ["x"]


def test_recorded_values_decode_back_to_the_same_overrides() -> None:
    space = space_of(fx.registry(), "net")
    for seed in range(20):
        overrides = space.sample(random.Random(seed))
        written = space.encode(overrides)
        assert all(isinstance(v, (int, float, str)) for v in written.values())
        assert space.decode(written) == overrides
    with pytest.raises(KeyError):
        space.picks({"body": "@nowhere"})
    with pytest.raises(KeyError):
        space.picks({"no.such.path": 1})


# -- in files -----------------------------------------------------------------------------


TUNE_FILE = f"""extends = "{DEMO.as_posix()}"

[registrations."demo:optimizer".fields]
learning_rate = {{ "@search" = {{ "log_uniform" = [1e-4, 1e-1] }} }}
momentum = {{ "@search" = {{ "uniform" = [0.0, 0.95] }} }}

[registrations."demo:data".fields]
batch_size = {{ "@search" = {{ "int" = [16, 128, 16] }} }}
"""


def load(text: str, tmp_path: Path) -> Registry:
    path = tmp_path / "tune.toml"
    path.write_text(text)
    registry = Registry()
    registry.load(path, allow=["tune_fixtures"])
    return registry


def test_a_file_declares_search_spaces_with_at_search(tmp_path: Path) -> None:
    registry = load(TUNE_FILE, tmp_path)
    space = space_of(registry, "demo:trainer")
    assert [(d.path, d.distribution) for d in space.dimensions] == [
        ("data.batch_size", IntRange(16, 128, 16)),
        ("optimizer.learning_rate", LogUniform(1e-4, 1e-1)),
        ("optimizer.momentum", Uniform(0.0, 0.95)),
    ]
    # Not tuned, the registrations keep the fields' defaults.
    tree = registry.resolve("demo:trainer")
    assert (tree.optimizer.learning_rate, tree.data.batch_size) == (0.01, 32)  # type: ignore[union-attr]


def test_a_required_searched_field_takes_the_first_choice_or_the_low_bound(tmp_path: Path) -> None:
    text = """
[registrations.a]
config = "tune_fixtures:Needy"
fields = { size = { "@search" = { "int" = [3, 9] } }, kind = { "@search" = { "choice" = ["x", "y"] } } }
"""
    registry = load(text, tmp_path)
    assert registry.resolve("a") == fx.Needy(size=3, kind="x")


def test_a_choice_in_a_file_may_name_registrations(tmp_path: Path) -> None:
    text = """
[registrations.shallow]
config = "tune_fixtures:ShallowConfig"
[registrations.deep]
config = "tune_fixtures:DeepConfig"
[registrations.net]
config = "tune_fixtures:NetConfig"
[registrations.net.fields]
body = { "@search" = { "choice" = [{ "@ref" = "deep" }, { "@ref" = "shallow" }] } }
width = 4
"""
    registry = load(text, tmp_path)
    space = space_of(registry, "net")
    body = space.dimensions[0]
    assert body.distribution == Choice([RegistrationKey("deep"), RegistrationKey("shallow")])
    # width = 4 is the registration's value; the class's search for it still holds.
    assert [d.path for d in space.dimensions] == [
        "body",
        "body.depth",
        "body.rate",
        "body.depth",
        "width",
    ]


@pytest.mark.parametrize(
    ("value", "line", "message"),
    [
        (
            '{ "@search" = { "uniform" = [0.5, 0.1] } }',
            4,
            r"the low bound 0\.5 is above the high bound 0\.1",
        ),
        ('{ "@search" = { "log_uniform" = [0, 0.1] } }', 4, r"a log scale needs bounds above 0"),
        ('{ "@search" = { "choice" = [] } }', 4, r"a choice needs at least one value"),
        (
            '{ "@search" = { "normal" = [0, 1] } }',
            4,
            r"unknown distribution 'normal'; choose one of uniform",
        ),
        (
            '{ "@search" = { "uniform" = [0, 1], "int" = [0, 1] } }',
            4,
            r"@search holds one of .*not 'uniform', 'int'",
        ),
        ('{ "@search" = { "uniform" = [0.1] } }', 4, r"uniform takes \[low, high\], not 1 values"),
        ('{ "@search" = { "int" = 3 } }', 4, r"int takes a list, not int"),
        (
            '{ "@search" = { "uniform" = [0.1, 2.0] } }',
            4,
            r"the high bound .* is refused: Input should be less than 1",
        ),
        (
            '{ "@search" = { "uniform" = [0.1, 0.5] }, "x" = 1 }',
            4,
            r"@search takes no other keys; found x",
        ),
    ],
)
def test_an_unsound_search_in_a_file_names_the_line_and_the_path(
    tmp_path: Path, value: str, line: int, message: str
) -> None:
    text = f"""
[registrations."demo:optimizer"]
config = "cinnamon.demo:SGDConfig"
fields.momentum = {value}
"""
    with pytest.raises(DeclarationError, match=message) as caught:
        load(text, tmp_path)
    error = caught.value
    assert (Path(error.file or "").name, error.line) == ("tune.toml", line)
    assert error.path.startswith('registrations."demo:optimizer".fields.momentum')


def test_a_search_the_field_type_cannot_hold_is_refused_at_its_line(tmp_path: Path) -> None:
    text = """
[registrations."demo:data"]
config = "cinnamon.demo:SyntheticDataConfig"

[registrations."demo:data".fields]
noise = 0.2
batch_size = { "@search" = { "uniform" = [8, 64] } }
"""
    with pytest.raises(
        DeclarationError,
        match=r'tune\.toml:7: .*batch_size\."@search"\.uniform: .*draws floats, and the field holds int',
    ):
        load(text, tmp_path)


def test_at_search_belongs_to_a_registration_field(tmp_path: Path) -> None:
    text = """
[registrations.trainer]
config = "cinnamon.demo:TrainerConfig"
[registrations.trainer.fields.optimizer]
"@config" = "cinnamon.demo:SGDConfig"
learning_rate = { "@search" = { "uniform" = [0.1, 0.2] } }
"""
    with pytest.raises(
        DeclarationError,
        match=r"tune\.toml:6: .*@search declares the values of a field of a registration",
    ):
        load(text, tmp_path)
    unknown = """
[registrations.opt]
config = "cinnamon.demo:SGDConfig"
fields = { lr = { "@search" = { "uniform" = [0.1, 0.2] } } }
"""
    with pytest.raises(
        DeclarationError, match=r"tune\.toml:4: .*fields\.lr: unknown field 'lr' of SGDConfig"
    ):
        load(unknown, tmp_path)


def test_a_file_that_extends_another_replaces_its_search(tmp_path: Path) -> None:
    (tmp_path / "base.toml").write_text(TUNE_FILE)
    text = """extends = "base.toml"
[registrations."demo:optimizer".fields]
momentum = { "@search" = { "choice" = [0.5, 0.9] } }
"""
    registry = load(text, tmp_path)
    found = {d.path: d.distribution for d in space_of(registry, "demo:trainer").dimensions}
    assert found["optimizer.momentum"] == Choice([0.5, 0.9])


def test_the_json_schema_describes_at_search(tmp_path: Path) -> None:
    registry = load(TUNE_FILE, tmp_path)
    schema = json_schema(registry)
    text = """
[registrations."demo:optimizer"]
config = "cinnamon.demo:SGDConfig"
[registrations."demo:optimizer".fields]
learning_rate = { "@search" = { "log_uniform" = [1e-4, 1e-1] } }
momentum = { "@search" = { "choice" = [0.5, 0.9] } }
"""
    jsonschema.validate(tomllib.loads(text), schema)
    for bad in (
        '{ "@search" = { "uniform" = [0.1, 0.2], "int" = [1, 2] } }',
        '{ "@search" = { "normal" = [0.1, 0.2] } }',
        '{ "@search" = { "uniform" = [0.1] } }',
        '{ "@search" = { "choice" = [] } }',
    ):
        wrong = text.replace('{ "@search" = { "choice" = [0.5, 0.9] } }', bad)
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(tomllib.loads(wrong), schema)


def test_cinnamon_run_ignores_the_search_of_a_file(tmp_path: Path) -> None:
    (tmp_path / "tune.toml").write_text(TUNE_FILE)
    result = subprocess.run(
        [sys.executable, "-m", "cinnamon", "show", "demo:trainer", "--config", "tune.toml"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "learning_rate" in result.stdout and "0.01" in result.stdout  # noqa: PT018
