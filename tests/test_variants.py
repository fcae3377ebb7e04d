from __future__ import annotations

import itertools
import os
import pickle
import subprocess
import sys
import textwrap
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from pydantic import model_validator
from typing_extensions import Self

from cinnamon import (
    Component,
    Configuration,
    Param,
    Ref,
    RegistrationKey,
    Registry,
    Variant,
    Variants,
    condition,
)
from cinnamon.errors import (
    ConditionError,
    ConfigurationError,
    DeclarationError,
    NotRegisteredError,
    UsageError,
)

ROOT = Path(__file__).resolve().parent.parent

# -- a small tree to vary ---------------------------------------------------------------


class MLP(Component):
    def __init__(self, hidden: int, n_features: int) -> None:
        self.hidden, self.n_features = hidden, n_features


class CNN(Component):
    def __init__(self, channels: int, n_features: int) -> None:
        self.channels, self.n_features = channels, n_features


class SGD(Component):
    def __init__(self, lr: float) -> None:
        self.lr = lr


class Loader(Component):
    def __init__(self, n_features: int) -> None:
        self.n_features = n_features


class Trainer(Component):
    def __init__(self, model: MLP | CNN, optimizer: SGD, data: Loader, epochs: int) -> None:
        self.model, self.optimizer, self.data, self.epochs = model, optimizer, data, epochs


class MLPConfig(Configuration, component=MLP):
    hidden: int = Param(32, ge=1, variants=[16, 32])
    n_features: int = 4


class CNNConfig(Configuration, component=CNN):
    channels: int = Param(8, variants=[8, 16, 32])
    n_features: int = 4


class SGDConfig(Configuration, component=SGD):
    lr: float = Param(0.1, gt=0, variants=[0.1, 0.01])


class LoaderConfig(Configuration, component=Loader):
    n_features: int = Param(4, variants=[4, 8])


MLP_KEY, CNN_KEY = RegistrationKey("mlp"), RegistrationKey("cnn")


class TrainerConfig(Configuration, component=Trainer):
    model: Ref[MLPConfig | CNNConfig] = Param(MLP_KEY, variants=[MLP_KEY, CNN_KEY])
    optimizer: Ref[SGDConfig] = Param(default_factory=SGDConfig)
    data: Ref[LoaderConfig] = RegistrationKey("loader")
    epochs: int = 1

    @condition("features match")
    def features_match(self) -> bool:
        assert isinstance(self.model, (MLPConfig, CNNConfig))
        assert isinstance(self.data, LoaderConfig)
        return self.model.n_features == self.data.n_features


def trainer_registry() -> Registry:
    registry = Registry()
    registry.register(MLPConfig(), name="mlp")
    registry.register(CNNConfig(), name="cnn")
    registry.register(LoaderConfig(), name="loader")
    registry.register(TrainerConfig(), name="trainer")
    return registry


# A flat grid, for order and counting.


class Inner(Configuration):
    a: int = Param(0, variants=[1, 2])
    b: str = "x"


class Outer(Configuration):
    first: int = Param(0, variants=[10, 20, 30])
    inner: Inner = Param(default_factory=Inner)
    last: str = Param("p", variants=["p", "q"])


def overrides_of(grid: Variants) -> list[dict[str, Any]]:
    return [dict(variant.overrides) for variant in grid]


# -- axes, order and counting ----------------------------------------------------------------


def test_axes_are_found_depth_first_and_combined_last_axis_fastest() -> None:
    grid = Registry().variants(Outer())
    assert grid.axes == (("first", (10, 20, 30)), ("inner.a", (1, 2)), ("last", ("p", "q")))
    assert grid.count() == len(grid) == 12
    expected = [
        {"first": first, "inner.a": a, "last": last}
        for first, a, last in itertools.product((10, 20, 30), (1, 2), ("p", "q"))
    ]
    assert overrides_of(grid) == expected
    assert [variant.index for variant in grid] == list(range(12))
    assert overrides_of(grid) == expected  # re-iterable
    assert repr(grid) == "<Variants of 'Outer': 3 axes, 12 combinations>"


def test_each_variant_is_a_tree_and_builds() -> None:
    grid = Registry().variants(Outer())
    variant = grid.variant(7)
    assert repr(variant) == "<Variant 7: first=20 inner.a=2 last='q'>"
    tree = variant.resolve()
    assert (tree.first, tree.inner.a, tree.last) == (20, 2, "q")
    assert variant.resolve() is not tree  # fresh every time
    tree.inner.a = 1
    assert variant.resolve().inner.a == 2
    assert grid.base == Outer()  # the base is never changed


def test_variant_by_index_matches_the_enumeration() -> None:
    grid = trainer_registry().variants("trainer")
    listed = list(grid)
    for index in range(grid.count()):
        assert dict(grid.variant(index).overrides) == dict(listed[index].overrides)
        assert grid.variant(index).index == index
    assert grid.variant(-1).index == grid.count() - 1
    with pytest.raises(IndexError, match=r"variant 48 is outside a grid of 48 combinations"):
        grid.variant(48)
    with pytest.raises(IndexError, match=r"variant -49 is outside"):
        grid.variant(-49)


def test_without_variants_the_base_tree_is_the_only_variant() -> None:
    class Plain(Configuration, component=SGD):
        lr: float = 0.5

    registry = Registry()
    registry.register(Plain(), name="plain")
    grid = registry.variants("plain")
    assert (grid.axes, grid.count()) == ((), 1)
    (only,) = list(grid)
    assert dict(only.overrides) == {}
    assert repr(only) == "<Variant 0: the base tree>"
    assert only.resolve() == registry.resolve("plain")
    assert only.build().lr == 0.5


def test_an_axis_without_values_makes_an_empty_grid() -> None:
    class Nothing(Configuration):
        lr: float = Param(0.1, variants=[])
        momentum: float = Param(0.9, variants=[0.8, 0.9])

    grid = Registry().variants(Nothing())
    assert grid.count() == len(grid) == 0
    assert list(grid) == []
    assert list(grid.valid()) == []
    with pytest.raises(IndexError, match="outside a grid of 0 combinations"):
        grid.variant(0)


def test_count_does_not_enumerate_a_huge_grid() -> None:
    class Many(Configuration):
        items: list[Inner] = Param(default_factory=lambda: [Inner() for _ in range(200)])

    grid = Registry().variants(Many())
    assert grid.count() == 2**200
    last = grid.variant(2**200 - 1)
    assert set(last.overrides.values()) == {2}
    assert last.resolve().items[199].a == 2


def test_axes_inside_lists_and_dicts_and_shared_nodes() -> None:
    class Holder(Configuration):
        items: list[Inner] = Param(default_factory=lambda: [Inner(), Inner(b="y")])
        table: dict[str, Inner] = Param(default_factory=lambda: {"a key": Inner()})
        left: Ref[Inner] = RegistrationKey("inner").with_shared()
        right: Ref[Inner] = RegistrationKey("inner").with_shared()

    registry = Registry()
    registry.register(Inner(), name="inner")
    grid = registry.variants(Holder())
    assert [path for path, _ in grid.axes] == [
        "items[0].a",
        "items[1].a",
        'table."a key".a',
        "left.a",  # the shared node is one axis, at the first place the walk meets it
    ]
    tree = grid.variant(-1).resolve()
    assert [item.a for item in tree.items] == [2, 2]
    assert tree.items[1].b == "y"
    assert tree.table["a key"].a == 2
    assert tree.left is tree.right
    assert tree.right.a == 2


# -- reference alternatives and nested axes --------------------------------------------------


def test_reference_alternatives_swap_the_sub_tree() -> None:
    registry = trainer_registry()
    grid = registry.variants("trainer")
    assert grid.axes == (
        ("model", (MLP_KEY, CNN_KEY)),
        ("model.hidden", (16, 32)),
        ("model.channels", (8, 16, 32)),
        ("optimizer.lr", (0.1, 0.01)),
        ("data.n_features", (4, 8)),
    )
    assert grid.count() == 2 * 2 * 3 * 2 * 2
    cnn = next(v for v in grid if v.overrides.get("model") == CNN_KEY and v.check() is None)
    assert dict(cnn.overrides) == {
        "model": CNN_KEY,
        "model.channels": 8,
        "optimizer.lr": 0.1,
        "data.n_features": 4,
    }
    trainer = cnn.build()
    assert isinstance(trainer.model, CNN)
    assert trainer.model.channels == 8
    assert trainer.model.__cinnamon__.key == CNN_KEY  # the registration it came from
    assert trainer.model.__cinnamon__.path == "trainer.model"


def test_an_axis_absent_from_the_chosen_alternative_is_skipped_as_a_repeat() -> None:
    grid = trainer_registry().variants("trainer")
    reasons = {variant.index: variant.check() for variant in grid}
    # model=mlp, hidden=16, channels=16 (absent from an MLP): the same tree as channels=8.
    repeat = grid.variant(4)  # digits (0, 0, 1, 0, 0): mlp, 16, channels 16, 0.1, 4
    assert dict(repeat.overrides) == dict(grid.variant(0).overrides)
    assert reasons[repeat.index] == (
        "trainer.model.channels: does not apply when 'model' is @mlp, "
        "so this combination repeats variant 0"
    )
    assert repr(repeat) == (
        "<Variant 4: model=@mlp model.hidden=16 optimizer.lr=0.1 data.n_features=4 "
        "(repeats variant 0)>"
    )
    with pytest.raises(ConfigurationError, match="repeats variant 0") as caught:
        repeat.resolve()
    assert caught.value.path == "trainer.model.channels"
    # Every distinct tree appears once: an MLP with 2 sizes, a CNN with 3, times 2 x 2,
    # each with data of 4 or 8 features, of which the condition keeps the matching half.
    distinct = {
        tuple(sorted((path, str(value)) for path, value in v.overrides.items()))
        for v in grid
        if "repeats" not in (reasons[v.index] or "")
    }
    assert len(distinct) == (2 + 3) * 2 * 2
    valid = [index for index, reason in reasons.items() if reason is None]
    assert len(valid) == (2 + 3) * 2  # data.n_features=8 breaks the condition
    assert reasons[1] == "trainer: condition 'features match' failed"


def test_axes_nested_two_alternatives_deep_appear_once_each() -> None:
    class Leaf(Configuration):
        x: int = Param(0, variants=[1, 2])

    class Empty(Configuration):
        pass

    class Mid(Configuration):
        inner: Ref[Leaf | Empty] = Param(
            RegistrationKey("c"), variants=[RegistrationKey("c"), RegistrationKey("d")]
        )

    class Top(Configuration):
        block: Ref[Mid | Empty] = Param(
            RegistrationKey("a"), variants=[RegistrationKey("a"), RegistrationKey("b")]
        )

    registry = Registry()
    for name, config in {"a": Mid(), "b": Empty(), "c": Leaf(), "d": Empty()}.items():
        registry.register(config, name=name)
    grid = registry.variants(Top())
    assert [path for path, _ in grid.axes] == ["block", "block.inner", "block.inner.x"]
    checks = {variant.index: variant.check() for variant in grid}
    valid = [index for index, reason in checks.items() if reason is None]
    assert [dict(grid.variant(index).overrides) for index in valid] == [
        {"block": RegistrationKey("a"), "block.inner": RegistrationKey("c"), "block.inner.x": 1},
        {"block": RegistrationKey("a"), "block.inner": RegistrationKey("c"), "block.inner.x": 2},
        {"block": RegistrationKey("a"), "block.inner": RegistrationKey("d")},
        {"block": RegistrationKey("b")},
    ]
    assert checks[3] == (
        "Top.block.inner.x: does not apply when 'block.inner' is @d, "
        "so this combination repeats variant 2"
    )
    assert checks[7] == (
        "Top.block.inner: does not apply when 'block' is @b, so this combination repeats variant 4"
    )
    assert grid.variant(2).resolve().block.inner == Empty()


def test_inline_alternatives_and_alternatives_in_lists() -> None:
    class Ensemble(Configuration):
        members: list[Ref[MLPConfig | CNNConfig]] = Param(
            default_factory=list, variants=[[MLP_KEY], [CNN_KEY, MLPConfig(hidden=99)]]
        )

    registry = trainer_registry()
    grid = registry.variants(Ensemble())
    assert [path for path, _ in grid.axes] == [
        "members",
        "members[0].hidden",
        "members[0].channels",
        "members[1].hidden",
    ]
    valid = list(grid.valid())
    assert len(valid) == 2 + 3 * 2
    last = valid[-1].resolve()
    assert isinstance(last.members[0], CNNConfig)
    assert (last.members[0].channels, last.members[1].hidden) == (32, 32)


def test_a_missing_or_unfit_alternative_is_refused_when_the_grid_is_made() -> None:
    class Typo(Configuration):
        model: Ref[MLPConfig] = Param(MLP_KEY, variants=[MLP_KEY, RegistrationKey("mlpp")])

    class Unfit(Configuration):
        model: Ref[MLPConfig] = Param(MLP_KEY, variants=[MLP_KEY, CNN_KEY])

    registry = trainer_registry()
    with pytest.raises(
        NotRegisteredError, match=r"^Typo\.model: no registration 'mlpp'.*did you mean 'mlp'\?$"
    ):
        registry.variants(Typo())
    with pytest.raises(
        ConfigurationError,
        match=r"^Unfit\.model: variant 1 names registration 'cnn', which holds a CNNConfig, "
        r"but this field accepts MLPConfig$",
    ):
        registry.variants(Unfit())


def test_the_grid_is_a_snapshot_of_the_registry() -> None:
    registry = trainer_registry()
    grid = registry.variants("trainer")
    registry.register(CNNConfig(n_features=99), name="cnn", replace=True)
    assert grid.variant(24).resolve().model.n_features == 4


# -- what is refused, and why -----------------------------------------------------------------


def test_a_variant_its_field_refuses_is_reported_naming_the_field() -> None:
    class Bad(Configuration):
        lr: float = Param(0.1, gt=0, variants=[0.1, -1.0])  # class creation stays cheap

    with pytest.raises(
        ConfigurationError,
        match=r"^Bad\.lr: variant 1 \(-1\.0\) is refused: Input should be greater than 0$",
    ):
        Registry().variants(Bad())


def test_variants_are_given_as_their_field_holds_them() -> None:
    class Coerced(Configuration):
        rate: float = Param(1.0, variants=[1, 2])
        model: Ref[MLPConfig] = Param(MLP_KEY, variants=["mlp"])

    grid = trainer_registry().variants(Coerced())
    assert grid.axes == (("rate", (1.0, 2.0)), ("model", (MLP_KEY,)), ("model.hidden", (16, 32)))
    assert isinstance(grid.axes[0][1][0], float)


def test_a_combination_its_configuration_refuses_is_skipped_with_the_reason() -> None:
    class Window(Configuration):
        low: int = Param(0, variants=[0, 5])
        high: int = Param(3, variants=[3, 10])

        @model_validator(mode="after")
        def ordered(self) -> Self:
            if self.low >= self.high:
                msg = "low must be below high"
                raise ValueError(msg)
            return self

    class Holder(Configuration):
        window: Window = Param(default_factory=Window)

    grid = Registry().variants(Holder())
    checks = [(dict(v.overrides), v.check()) for v in grid]
    assert checks == [
        ({"window.low": 0, "window.high": 3}, None),
        ({"window.low": 0, "window.high": 10}, None),
        (
            {"window.low": 5, "window.high": 3},
            "Holder.window: Value error, low must be below high (got {'low': 5, 'high': 3})",
        ),
        # Both values are set before the node is validated: (5, 10) is fine.
        ({"window.low": 5, "window.high": 10}, None),
    ]
    with pytest.raises(ConfigurationError, match=r"^Holder\.window: Value error") as caught:
        grid.variant(2).resolve()
    assert caught.value.path == "Holder.window"
    with pytest.raises(ConfigurationError, match="low must be below high"):
        grid.variant(2).build()


def test_conditions_that_reject_everything_leave_nothing_to_build() -> None:
    class Never(Configuration, component=SGD):
        lr: float = Param(0.1, variants=[0.1, 0.2, 0.3])

        @condition("never")
        def never(self) -> bool:
            return False

    grid = Registry().variants(Never())
    skipped: list[tuple[int, str]] = []
    assert list(grid.valid(lambda variant, reason: skipped.append((variant.index, reason)))) == []
    assert skipped == [(index, "Never: condition 'never' failed") for index in range(3)]
    with pytest.raises(ConditionError, match=r"^Never: condition 'never' failed$"):
        grid.variant(0).build()


def test_a_bug_in_a_condition_is_raised_by_check_not_reported() -> None:
    class Careless(Configuration):
        lr: float = Param(0.1, variants=[0.1, 0.2])

        @condition("forgets to return")
        def careless(self) -> Any:
            pass

    with pytest.raises(
        UsageError, match=r"condition 'forgets to return' of Careless returned None"
    ):
        Registry().variants(Careless()).variant(0).check()


def test_the_base_tree_may_break_a_condition_that_variants_mend() -> None:
    registry = trainer_registry()
    registry.register(LoaderConfig(n_features=8), name="loader", replace=True)
    with pytest.raises(ConditionError):
        registry.resolve("trainer")  # MLP takes 4 features, the loader has 8
    grid = registry.variants("trainer")
    assert [v.overrides["data.n_features"] for v in grid.valid()] == [4] * 10


def test_check_keeps_the_tree_for_build(monkeypatch: pytest.MonkeyPatch) -> None:
    grid = trainer_registry().variants("trainer")
    variant = grid.variant(0)
    assert variant.check() is None
    calls: list[int] = []
    real = Variant.resolve

    def counting(self: Variant) -> Configuration:
        calls.append(self.index)
        return real(self)

    monkeypatch.setattr(Variant, "resolve", counting)
    assert isinstance(variant.build(), Trainer)
    assert calls == []  # built from the tree check() made
    assert isinstance(variant.build(), Trainer)
    assert calls == [0]  # once only


# -- fixed overrides ----------------------------------------------------------------------


def test_fixed_overrides_apply_first_and_pin_their_fields() -> None:
    registry = trainer_registry()
    grid = registry.variants("trainer", overrides=["optimizer.lr=0.5", "epochs=3"])
    assert "optimizer.lr" not in dict(grid.axes)
    assert grid.count() == 24
    tree = next(grid.valid()).resolve()
    assert (tree.optimizer.lr, tree.epochs) == (0.5, 3)
    assert "optimizer.lr" not in grid.variant(0).overrides


def test_a_fixed_swap_brings_its_own_axes() -> None:
    registry = trainer_registry()
    grid = registry.variants("trainer", overrides={"model": CNN_KEY})
    assert [path for path, _ in grid.axes] == ["model.channels", "optimizer.lr", "data.n_features"]
    grid = registry.variants("trainer", overrides="model=@cnn")
    assert grid.count() == 12


def test_a_fixed_override_inside_a_varied_field_is_refused() -> None:
    with pytest.raises(
        UsageError,
        match=r"^the fixed override of 'model\.n_features' lies inside 'model', whose variants "
        r"replace it in every combination",
    ):
        trainer_registry().variants("trainer", overrides=["model.n_features=8"])


def test_a_malformed_fixed_override_is_reported() -> None:
    with pytest.raises(DeclarationError, match=r"did you mean 'optimizer\.lr'"):
        trainer_registry().variants("trainer", overrides=["optimizer.rl=0.5"])
    with pytest.raises(DeclarationError, match="expected PATH=VALUE"):
        trainer_registry().variants("trainer", overrides=["optimizer.lr"])


# -- files ---------------------------------------------------------------------------------

ALIASES = {
    "MLPConfig": MLPConfig,
    "CNNConfig": CNNConfig,
    "SGDConfig": SGDConfig,
    "LoaderConfig": LoaderConfig,
    "TrainerConfig": TrainerConfig,
}

FILE = """
[registrations.mlp]
config = "MLPConfig"
fields = { hidden = { "@variants" = [64, 128, 256] } }

[registrations.cnn]
config = "CNNConfig"

[registrations.loader]
config = "LoaderConfig"
fields = { n_features = { "@variants" = [4] } }

[registrations.trainer]
config = "TrainerConfig"

[registrations.trainer.fields]
model = { "@variants" = [{ "@ref" = "cnn" }, { "@ref" = "mlp" }] }
optimizer = { "@config" = "SGDConfig", lr = 0.05 }
epochs = { "@variants" = [1, 5] }
"""


def test_a_file_declares_variants_whose_first_value_is_the_base() -> None:
    registry = Registry()
    registry.loads(FILE, aliases=ALIASES)
    assert registry.get("mlp").config.hidden == 64
    assert registry.get("trainer").config.model == CNN_KEY
    assert registry.get("trainer").config.epochs == 1
    grid = registry.variants("trainer")
    assert grid.axes == (
        ("model", (CNN_KEY, MLP_KEY)),
        ("model.channels", (8, 16, 32)),  # the class's variants
        ("model.hidden", (64, 128, 256)),  # the file's, in place of the class's
        ("optimizer.lr", (0.1, 0.01)),
        ("data.n_features", (4,)),
        ("epochs", (1, 5)),
    )
    assert len(list(grid.valid())) == (3 + 3) * 2 * 2
    # The same configuration registered from Python has the class's variants only.
    assert trainer_registry().variants("mlp").axes == (("hidden", (16, 32)),)


@pytest.mark.parametrize(
    ("field", "message"),
    [
        (
            'hidden = { "@variants" = [8, 0] }',
            (
                r'fields\.hidden\."@variants"\[1\]: variant 1 \(0\) is refused: Input should '
                r"be greater than or equal to 1"
            ),
        ),
        (
            'hidden = { "@variants" = 8 }',
            r"@variants holds a list of the field's values, not int 8",
        ),
        ('hidden = { "@variants" = [8], x = 1 }', r"@variants takes no other keys; found x"),
        ('hiden = { "@variants" = [] }', r"unknown field 'hiden' of MLPConfig; did you mean"),
        (
            'n_features = [{ "@variants" = [1] }]',
            r"@variants declares the values of a field of a registration",
        ),
    ],
)
def test_file_variants_are_checked_where_they_are_written(field: str, message: str) -> None:
    text = f'[registrations.m]\nconfig = "MLPConfig"\n\n[registrations.m.fields]\n{field}\n'
    with pytest.raises(DeclarationError, match=message) as caught:
        Registry().loads(text, aliases=ALIASES)
    assert caught.value.line == 5


def test_an_empty_file_variant_list_keeps_the_default_and_empties_the_grid() -> None:
    registry = Registry()
    registry.loads(
        '[registrations.m]\nconfig = "MLPConfig"\nfields = { hidden = { "@variants" = [] } }\n',
        aliases=ALIASES,
    )
    assert registry.get("m").config.hidden == 32
    assert registry.variants("m").count() == 0


def test_a_file_overrides_a_base_files_variants(tmp_path: Path) -> None:
    (tmp_path / "base.toml").write_text(FILE)
    (tmp_path / "fixed.toml").write_text(
        'extends = "base.toml"\n[registrations.trainer.fields]\nepochs = 7\n'
        'model = { "@variants" = [{ "@ref" = "mlp" }] }\n'
    )
    registry = Registry()
    registry.load(tmp_path / "fixed.toml", aliases=ALIASES)
    grid = registry.variants("trainer")
    assert dict(grid.axes)["model"] == (MLP_KEY,)
    assert "epochs" not in dict(grid.axes)
    assert registry.get("trainer").config.epochs == 7


def test_overrides_on_the_command_line_cannot_declare_variants() -> None:
    with pytest.raises(DeclarationError, match="@variants declares the values of a field"):
        trainer_registry().variants("trainer", overrides=['epochs={ "@variants" = [1, 2] }'])


# -- determinism, memory, pickling, depth ------------------------------------------------------

DETERMINISM = textwrap.dedent(
    """
    from cinnamon import Configuration, Param, Ref, RegistrationKey, Registry

    class Leaf(Configuration):
        size: int = Param(1, variants=[1, 2])
        tags: frozenset[str] = Param(frozenset(), variants=[frozenset({"b", "a", "c"})])

    class Root(Configuration):
        table: dict[str, Leaf] = Param(
            default_factory=lambda: {name: Leaf() for name in ("zeta", "alpha", "mid", "b")}
        )
        pick: Ref[Leaf] = Param(
            RegistrationKey("x", tags={"q", "p", "r"}),
            variants=[RegistrationKey("y", tags={"k", "j"}), RegistrationKey("x", tags={"q", "p", "r"})],
        )

    registry = Registry()
    registry.register(Leaf(), name="x", tags={"r", "q", "p"})
    registry.register(Leaf(size=2), name="y", tags={"j", "k"})
    grid = registry.variants(Root())
    print(grid.count())
    for variant in grid:
        shown = [
            (path, sorted(value) if isinstance(value, frozenset) else str(value))
            for path, value in variant.overrides.items()
        ]
        print(variant.index, shown, variant.check())
    """
)


def test_the_order_does_not_depend_on_the_hash_seed() -> None:
    outputs = []
    for seed in ("0", "1", "4242"):
        result = subprocess.run(
            [sys.executable, "-c", DETERMINISM],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)},
            timeout=120,
        )
        outputs.append(result.stdout)
    assert outputs[0] == outputs[1] == outputs[2]
    lines = outputs[0].splitlines()
    assert lines[0] == str(2**4 * 2 * (2 * 1) * (2 * 1))  # table, pick, each pick.size
    assert lines[1].startswith("0 [('table.zeta.size', '1'), ('table.zeta.tags', ['a', 'b', 'c'])")


def test_a_large_grid_enumerates_in_constant_memory() -> None:
    class Five(Configuration):
        a: int = Param(0, variants=list(range(10)))
        b: int = Param(0, variants=list(range(10)))
        c: int = Param(0, variants=list(range(10)))
        d: int = Param(0, variants=list(range(10)))
        e: int = Param(0, variants=list(range(10)))

    grid = Registry().variants(Five())
    assert grid.count() == 100_000
    tracemalloc.start()
    try:
        seen = 0
        for variant in grid:
            seen += len(variant.overrides)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert seen == 500_000
    # Keeping the variants (or a list of combinations) would take megabytes.
    assert peak < 64_000


def test_variants_are_rebuilt_from_their_index_not_pickled() -> None:
    registry = trainer_registry()
    grid = registry.variants("trainer")
    variant = grid.variant(24)
    for thing in (variant, grid):
        with pytest.raises(UsageError, match=r"send the variant's index and rebuild it"):
            pickle.dumps(thing)
    # Another process with an equal registry gets the same combination back.
    again = trainer_registry().variants("trainer").variant(24)
    assert dict(again.overrides) == dict(variant.overrides)
    assert again.resolve() == variant.resolve()


def test_deep_trees_are_walked_without_recursion() -> None:
    class Link(Configuration):
        next: Ref[Link] | Inner | None = None

    registry = Registry()
    for depth in range(5_000):
        following = RegistrationKey(f"n{depth + 1}") if depth < 4_999 else Inner()
        registry.register(Link(next=following), name=f"n{depth}")
    grid = registry.variants("n0")
    assert grid.axes == (("next." * 5_000 + "a", (1, 2)),)
    tree = grid.variant(-1).resolve()
    for _ in range(5_000):
        assert isinstance(tree.next, (Link, Inner))
        tree = tree.next
    assert tree == Inner(a=2)
