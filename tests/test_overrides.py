from __future__ import annotations

import declarative_fixtures as fx
import pytest

from cinnamon import RegistrationKey, Registry
from cinnamon._core.resolve import registration_of
from cinnamon._runs.overrides import apply_overrides, parse_path
from cinnamon.errors import DeclarationError, UsageError

ALLOW = [fx.ROOT]


@pytest.fixture
def registry() -> Registry:
    registry = Registry()
    registry.register(fx.MLPConfig(hidden=64), name="mlp", namespace="demo")
    registry.register(fx.MLPConfig(hidden=1024), name="mlp_big", namespace="demo")
    registry.register(fx.LoaderConfig(), name="loader", namespace="demo")
    registry.register(fx.EarlyStopConfig(patience=7), name="stop", namespace="demo")
    registry.register(
        fx.TrainerConfig(
            epochs=10,
            model=RegistrationKey("mlp", namespace="demo"),
            loader=RegistrationKey("loader", namespace="demo", shared=True),
            callbacks=[fx.EarlyStopConfig(patience=2), fx.EarlyStopConfig()],
            weights={"a": 1.0, "b c": 2.0},
        ),
        name="trainer",
        namespace="demo",
    )
    registry.register(
        fx.Settings(
            anything={
                "x": RegistrationKey("loader", namespace="demo", shared=True),
                "y": RegistrationKey("loader", namespace="demo", shared=True),
            }
        ),
        name="shared",
        namespace="demo",
    )
    return registry


def test_fields_at_any_depth_are_set_on_a_copy(registry: Registry) -> None:
    tree = registry.resolve("demo:trainer")
    new = apply_overrides(
        tree,
        [
            "epochs=3",
            "model.hidden=7",
            "callbacks[1].patience=9",
            "callbacks[-2].patience=4",
            'weights."b c"=3',
            'weights["a"]=0.5',
            "weights.new=4",
            "note=hello world",
        ],
        registry=registry,
    )
    assert new.epochs == 3
    assert new.model.hidden == 7
    assert [c.patience for c in new.callbacks] == [4, 9]
    assert new.weights == {"a": 0.5, "b c": 3.0, "new": 4.0}
    assert new.note == "hello world"
    assert tree == registry.resolve("demo:trainer")  # the original is untouched
    assert registration_of(new.model) is not None
    assert registration_of(new.model).key == RegistrationKey("mlp", namespace="demo")  # type: ignore[union-attr]


def test_values_are_read_as_toml_or_else_as_text(registry: Registry) -> None:
    tree = registry.resolve("demo:shared")
    new = apply_overrides(
        tree,
        [
            "text=plain words",
            "number=64",
            "ratio=-0.5",
            "flag=true",
            "numbers=[1, 2]",
            'names={ a = "b" }',
            "maybe=3",
            'pair=[1, "x"]',
            "anything.z='[1'",
            "anything.w=",
        ],
        registry=registry,
    )
    assert new.text == "plain words"
    assert (new.number, new.ratio, new.flag) == (64, -0.5, True)
    assert new.numbers == [1, 2]
    assert new.names == {"a": "b"}
    assert new.maybe == 3
    assert new.pair == (1, "x")
    assert new.anything["z"] == "[1"
    assert new.anything["w"] == ""
    assert apply_overrides(tree, ['text="true"']).text == "true"


def test_swapping_in_another_registration(registry: Registry) -> None:
    tree = registry.resolve("demo:trainer")
    new = apply_overrides(tree, ["model=@demo:mlp_big"], registry=registry)
    assert new.model == fx.MLPConfig(hidden=1024)
    assert registration_of(new.model).key == RegistrationKey("mlp_big", namespace="demo")  # type: ignore[union-attr]
    new = apply_overrides(
        tree,
        ['callbacks=[{ "@ref" = "demo:stop" }, { "@config" = "EarlyStopConfig", patience = 1 }]'],
        registry=registry,
    )
    assert [c.patience for c in new.callbacks] == [7, 1]
    new = apply_overrides(tree, ["callbacks[0]=@demo:stop"], registry=registry)
    assert [c.patience for c in new.callbacks] == [7, 3]


def test_inline_declarations_need_allowed_imports(registry: Registry) -> None:
    tree = registry.resolve("demo:trainer")
    value = '{ "@config" = "declarative_fixtures:SGDConfig", lr = 0.01 }'
    new = apply_overrides(tree, [f"optimizer={value}"], registry=registry, allow=ALLOW)
    assert new.optimizer == fx.SGDConfig(lr=0.01)
    with pytest.raises(DeclarationError, match="refusing to import") as caught:
        apply_overrides(tree, [f"optimizer={value}"], registry=registry)
    assert caught.value.path == 'optimizer."@config"'
    new = apply_overrides(
        tree, ['optimizer={ "@config" = "Fast", lr = 2.0 }'], aliases={"Fast": fx.SGDConfig}
    )
    assert new.optimizer == fx.SGDConfig(lr=2.0)


def test_a_mapping_of_python_values(registry: Registry) -> None:
    tree = registry.resolve("demo:trainer")
    new = apply_overrides(
        tree,
        {
            "model": RegistrationKey("mlp_big", namespace="demo"),
            "optimizer": fx.SGDConfig(lr=0.2),
            "note": "@not a reference",
            "callbacks[0].patience": 5,
        },
        registry=registry,
    )
    assert new.model.hidden == 1024
    assert new.optimizer == fx.SGDConfig(lr=0.2)
    assert new.note == "@not a reference"
    assert new.callbacks[0].patience == 5


def test_sharing_survives_and_a_shared_node_changes_everywhere(registry: Registry) -> None:
    tree = registry.resolve("demo:shared")
    assert tree.anything["x"] is tree.anything["y"]
    new = apply_overrides(tree, ["anything.x.batch=5"])
    assert new.anything["x"] is new.anything["y"]
    assert new.anything["y"].batch == 5
    assert tree.anything["y"].batch == 32


@pytest.mark.parametrize(
    ("override", "message", "path"),
    [
        (
            "model.hiden=3",
            "MLPConfig at model has no field 'hiden'; did you mean 'model.hidden'",
            "model.hiden",
        ),
        (
            "epoch=3",
            "TrainerConfig at the root has no field 'epoch'; did you mean 'epochs'",
            "epoch",
        ),
        (
            "callbacks[5].patience=1",
            "callbacks is a list of 2 items; no item 5; did you mean 'callbacks[1].patience'",
            "callbacks[5].patience",
        ),
        ("callbacks.x=1", "callbacks is a list of 2 items; no item 'x'", "callbacks.x"),
        ("weights.zz.y=1", "weights has no entry 'zz'", "weights.zz.y"),
        ("epochs.x=1", "epochs holds int 10, which has no 'x'", "epochs.x"),
        ("model[0]=1", "has no field [0]", "model[0]"),
        (
            "model.hidden=abc",
            "Input should be a valid integer, unable to parse string as an integer (got 'abc')",
            "model.hidden",
        ),
        (
            "callbacks[0].patience=-1",
            "greater than or equal to 0 (got -1)",
            "callbacks[0].patience",
        ),
        (
            "callbacks=[{ patiense = 1 }]",
            "at [0].patiense: Extra inputs are not permitted",
            "callbacks",
        ),
        ("model=3", "Input should be a valid dictionary or instance of MLPConfig (got 3)", "model"),
        ("model=@demo:nope", "no registration 'demo:nope'", "model"),
        ("optimizer=@demo:mlp", "instance of SGDConfig (got a MLPConfig)", "optimizer"),
        ("model=@bad key", "malformed key 'bad key'", "model"),
        ('model={ "@ref" = 3 }', "@ref holds a key string", 'model."@ref"'),
    ],
)
def test_bad_overrides_name_the_path_and_the_nearest_ones(
    registry: Registry, override: str, message: str, path: str
) -> None:
    tree = registry.resolve("demo:trainer")
    with pytest.raises(DeclarationError) as caught:
        apply_overrides(tree, [override], registry=registry)
    assert message in caught.value.reason
    assert caught.value.path == path
    assert caught.value.file == f"override {override!r}"
    assert str(caught.value).startswith(f"override {override!r}: {path}: ")


@pytest.mark.parametrize("override", ["epochs", "=3", ".x=1", "a..b=1", "[0=1", "a b=1"])
def test_malformed_overrides(registry: Registry, override: str) -> None:
    with pytest.raises(DeclarationError, match="expected PATH=VALUE"):
        apply_overrides(registry.resolve("demo:trainer"), [override])


def test_swapping_needs_a_registry_and_trees_resolved(registry: Registry) -> None:
    tree = registry.resolve("demo:trainer")
    with pytest.raises(DeclarationError, match="needs a registry"):
        apply_overrides(tree, ["model=@demo:mlp_big"])
    unresolved = registry.get("demo:trainer").config
    with pytest.raises(DeclarationError, match="unresolved reference to 'demo:mlp'"):
        apply_overrides(unresolved, ["model.hidden=3"])
    assert apply_overrides(unresolved, ["epochs=2"]).epochs == 2
    with pytest.raises(UsageError):
        apply_overrides("tree", ["a=1"])  # type: ignore[arg-type]


def test_a_single_string_and_mapping_paths() -> None:
    assert apply_overrides(fx.MLPConfig(), "hidden=5").hidden == 5
    with pytest.raises(DeclarationError, match="malformed path"):
        apply_overrides(fx.MLPConfig(), {"hidden..x": 5})


def test_parse_path() -> None:
    assert parse_path('a.b[1]["c d"].e') == ("a", "b", 1, "c d", "e")
    assert parse_path("a[-1]['x.y']") == ("a", -1, "x.y")
    assert parse_path('weights."b c".x') == ("weights", "b c", "x")
    for bad in ["", ".a", "a.", "a[x]", "a b"]:
        with pytest.raises(ValueError, match="malformed path"):
            parse_path(bad)


def test_overrides_are_checked_against_conditions() -> None:
    from cinnamon.demo import LinearModelConfig, SyntheticDataConfig, TrainerConfig
    from cinnamon.errors import ConditionError

    registry = Registry()
    registry.register(
        TrainerConfig(
            data=SyntheticDataConfig(n_features=4), model=LinearModelConfig(n_features=4)
        ),
        name="trainer",
    )
    tree = registry.resolve("trainer")
    assert apply_overrides(tree, ["model.n_features=4"]).model.n_features == 4
    with pytest.raises(ConditionError, match=r"^trainer: condition 'features match' failed"):
        apply_overrides(tree, ["model.n_features=3"])
    both = apply_overrides(tree, ["model.n_features=3", "data.n_features=3"])
    assert both.data.n_features == 3
