from __future__ import annotations

import sys
import threading
import types
from typing import Any

import pytest

from cinnamon import (
    Component,
    Configuration,
    Param,
    Ref,
    Registration,
    RegistrationKey,
    Registry,
    registration,
)
from cinnamon.errors import (
    AlreadyRegisteredError,
    ConfigurationError,
    CycleError,
    InvalidKeyError,
    NotRegisteredError,
    UsageError,
)
from tests.fakes import (
    BrokenConfig,
    HolderConfig,
    Leaf,
    LeafConfig,
    Model,
    ModelConfig,
    Node,
    NodeConfig,
    OptionsConfig,
    chain,
)


@pytest.fixture
def registry() -> Registry:
    registry = Registry()
    registry.register(LeafConfig(size=7), name="encoder")
    registry.register(LeafConfig(size=2), name="head", tags={"small"})
    return registry


# -- registering -------------------------------------------------------------------------


def test_register_returns_the_key(registry: Registry) -> None:
    key = registry.register(LeafConfig(), name="m", tags={"a", "b"}, namespace="n")
    assert key == RegistrationKey("m", {"a", "b"}, "n")
    entry = registry.get("n:m[a,b]")
    assert entry.component is Leaf
    assert entry.description == "A leaf with a size."
    assert entry.key == key


def test_register_a_class_uses_its_defaults(registry: Registry) -> None:
    key = registry.register(LeafConfig, name="defaults")
    assert registry.get(key).config == LeafConfig()


def test_duplicate_keys_are_refused_unless_replaced(registry: Registry) -> None:
    with pytest.raises(AlreadyRegisteredError, match="'encoder' is already registered") as info:
        registry.register(LeafConfig(), name="encoder")
    assert info.value.key == RegistrationKey("encoder")
    assert isinstance(info.value, ValueError)
    replacement = LeafConfig(size=99)
    registry.register(replacement, name="encoder", replace=True)
    assert registry.get("encoder").config is replacement


def test_register_misuse(registry: Registry) -> None:
    with pytest.raises(UsageError, match="'x': expected a Configuration to register, got dict"):
        registry.register({"size": 1}, name="x")  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="component must be a class or callable"):
        registry.register(LeafConfig(), name="x", component=5)  # type: ignore[arg-type]
    with pytest.raises(InvalidKeyError):
        registry.register(LeafConfig(), name="bad name")
    assert "x" not in registry


def test_explicit_component_and_description(registry: Registry) -> None:
    class Other(Component):
        def __init__(self, size: int, label: str) -> None:
            self.size = size

    key = registry.register(LeafConfig(), name="other", component=Other, description="custom")
    assert registry.get(key).description == "custom"
    assert type(registry.build(key)) is Other


def test_registries_are_independent() -> None:
    first, second = Registry(), Registry()
    first.register(LeafConfig(), name="only-here")
    assert "only-here" in first
    assert "only-here" not in second


def test_queries(registry: Registry) -> None:
    registry.register(LeafConfig(), name="encoder", tags={"small", "fast"}, namespace="demo")
    registry.register(LeafConfig(), name="other", tags={"small"}, namespace="demo")
    assert len(registry) == 4
    assert registry.keys(name="encoder") == [
        RegistrationKey("encoder"),
        RegistrationKey("encoder", {"small", "fast"}, "demo"),
    ]
    assert registry.keys(tags={"small"}) == [
        RegistrationKey("head", {"small"}),
        RegistrationKey("encoder", {"small", "fast"}, "demo"),
        RegistrationKey("other", {"small"}, "demo"),
    ]
    assert registry.keys(tags={"small", "fast"}, namespace="demo") == [
        RegistrationKey("encoder", {"small", "fast"}, "demo")
    ]
    assert list(registry) == registry.keys()
    assert "demo:other[small]" in registry
    assert RegistrationKey("missing") not in registry
    assert repr(registry) == "<Registry with 4 registrations>"


def test_unregister(registry: Registry) -> None:
    entry = registry.unregister("encoder")
    assert isinstance(entry, Registration)
    assert "encoder" not in registry
    with pytest.raises(NotRegisteredError, match="no registration 'encoder'"):
        registry.unregister("encoder")


# -- decorators and discovery --------------------------------------------------------------


@registration("from-function", namespace="marks")
@registration("from-function-big", namespace="marks")
def _marked() -> LeafConfig:
    return LeafConfig(size=11)


class MarkedConfig(Configuration, component=Leaf):
    size: int = 1
    label: str = "marked"

    @classmethod
    @registration("small", namespace="marks", tags={"s"})
    def small(cls) -> MarkedConfig:
        return cls(size=2)

    @registration("large", namespace="marks")
    @classmethod
    def large(cls) -> MarkedConfig:
        return cls(size=200)


def test_collect_a_function_and_a_class() -> None:
    registry = Registry()
    assert sorted(registry.collect(_marked)) == [
        RegistrationKey("from-function", namespace="marks"),
        RegistrationKey("from-function-big", namespace="marks"),
    ]
    keys = registry.collect(MarkedConfig)
    assert set(keys) == {
        RegistrationKey("small", {"s"}, "marks"),
        RegistrationKey("large", namespace="marks"),
    }
    assert registry.build("marks:small[s]", Leaf).size == 2
    assert registry.build("marks:large", Leaf).size == 200
    assert registry.build("marks:from-function", Leaf).size == 11


def test_collect_is_all_or_nothing() -> None:
    registry = Registry()
    registry.register(LeafConfig(), name="large", namespace="marks")
    with pytest.raises(AlreadyRegisteredError):
        registry.collect(MarkedConfig)
    assert registry.keys() == [RegistrationKey("large", namespace="marks")]


def test_collect_misuse() -> None:
    registry = Registry()
    with pytest.raises(UsageError, match="not a module, a class, or a function marked"):
        registry.collect(lambda: None)

    @registration("wrong")
    def wrong() -> Any:
        return {"size": 1}

    with pytest.raises(
        UsageError, match=r"'wrong': .*wrong\(\) must return a Configuration, got dict"
    ):
        registry.collect(wrong)

    class NotAConfig:
        @classmethod
        @registration("nope")
        def make(cls) -> LeafConfig:
            return LeafConfig()

    with pytest.raises(UsageError, match="the class is not a Configuration"):
        registry.collect(NotAConfig)


def test_discover_imports_a_package(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "discoverable"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    (package / "models.py").write_text(
        "from cinnamon import registration\n"
        "from tests.fakes import LeafConfig\n"
        "@registration('leaf', namespace='found')\n"
        "def leaf():\n    return LeafConfig(size=4)\n"
    )
    (package / "sub" / "more.py").write_text(
        "from cinnamon import registration\n"
        "from tests.fakes import LeafConfig\n"
        "from discoverable.models import leaf  # imported marks are not collected twice\n"
        "@registration('more', namespace='found')\n"
        "def more():\n    return LeafConfig(size=5)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = Registry()
    keys = registry.discover("discoverable")
    assert sorted(keys) == [
        RegistrationKey("leaf", namespace="found"),
        RegistrationKey("more", namespace="found"),
    ]
    assert Registry().discover("discoverable.models") == [
        RegistrationKey("leaf", namespace="found")
    ]
    for name in [n for n in sys.modules if n.startswith("discoverable")]:
        monkeypatch.delitem(sys.modules, name)


def test_discover_is_all_or_nothing_when_an_import_fails(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "halfbroken"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text(
        "from cinnamon import registration\nfrom tests.fakes import LeafConfig\n"
        "@registration('a')\ndef a():\n    return LeafConfig()\n"
    )
    (package / "b.py").write_text("raise RuntimeError('b is broken')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = Registry()
    with pytest.raises(RuntimeError, match="b is broken"):
        registry.discover("halfbroken")
    assert len(registry) == 0
    for name in [n for n in sys.modules if n.startswith("halfbroken")]:
        monkeypatch.delitem(sys.modules, name)


def test_collect_a_module() -> None:
    module = types.ModuleType("virtual_marks")
    exec(  # noqa: S102
        "from cinnamon import registration\nfrom tests.fakes import LeafConfig\n"
        "@registration('v')\ndef v():\n    return LeafConfig()\n",
        module.__dict__,
    )
    assert Registry().collect(module) == [RegistrationKey("v")]


# -- building --------------------------------------------------------------------------------


def test_build_injects_built_children(registry: Registry) -> None:
    registry.register(ModelConfig(head=RegistrationKey("head", {"small"})), name="model")
    model = registry.build("model", Model)
    assert isinstance(model.encoder, Leaf)
    assert (model.encoder.size, model.head.size, model.dropout) == (7, 2, 0.1)
    assert isinstance(model.options, OptionsConfig)  # no component: passed on as settings


def test_lists_and_dicts_of_references_become_lists_and_dicts(registry: Registry) -> None:
    class Bag(Component):
        def __init__(self, items: dict[str, Any], seq: tuple[Any, ...]) -> None:
            self.items, self.seq = items, seq

    class BagConfig(Configuration, component=Bag):
        items: dict[str, Ref[LeafConfig] | int] = Param(default_factory=dict)
        seq: tuple[Ref[LeafConfig], ...] = ()

    registry.register(
        BagConfig(
            items={"a": RegistrationKey("encoder"), "b": LeafConfig(size=1), "c": 3},
            seq=(RegistrationKey("head", {"small"}),),
        ),
        name="bag",
    )
    bag = registry.build("bag")
    assert bag.items["a"].size == 7
    assert bag.items["b"].size == 1
    assert bag.items["c"] == 3
    assert isinstance(bag.seq, tuple)
    assert bag.seq[0].size == 2
    assert [name for name, _ in bag.children()] == ["items['a']", "items['b']", "seq[0]"]


def test_build_order_does_not_depend_on_registration_order() -> None:
    registry = Registry()
    registry.register(ModelConfig(head=RegistrationKey("late")), name="model")
    registry.register(LeafConfig(size=1), name="late")
    registry.register(LeafConfig(size=2), name="encoder")
    model = registry.build("model", Model)
    assert (model.encoder.size, model.head.size) == (2, 1)


def test_every_build_is_fresh_and_references_fresh_by_default(registry: Registry) -> None:
    registry.register(ModelConfig(head=RegistrationKey("encoder")), name="model")
    first, second = registry.build("model", Model), registry.build("model", Model)
    assert first is not second
    assert first.encoder is not second.encoder
    assert first.encoder is not first.head


def test_shared_references_give_one_instance_per_build(registry: Registry) -> None:
    shared = RegistrationKey("encoder").with_shared()
    registry.register(ModelConfig(encoder=shared, head=shared), name="model")
    first, second = registry.build("model", Model), registry.build("model", Model)
    assert first.encoder is first.head
    assert first.encoder is not second.encoder
    assert len(list(first.walk())) == 2


def test_inline_configuration_builds_without_registration() -> None:
    class Holder(Component):
        def __init__(self, child: Leaf) -> None:
            self.child = child

    class HolderConfig(Configuration, component=Holder):
        child: LeafConfig = Param(default_factory=LeafConfig)

    holder = Registry().build(HolderConfig(child=LeafConfig(size=8)), Holder)
    assert holder.child.size == 8
    assert holder.__cinnamon__ is not None
    assert holder.__cinnamon__.key is None
    assert holder.child.__cinnamon__ is not None
    assert holder.child.__cinnamon__.path == "HolderConfig.child"


def test_built_components_know_their_origin(registry: Registry) -> None:
    registry.register(ModelConfig(), name="model", namespace="demo")
    model = registry.build("demo:model", Model)
    info = model.encoder.__cinnamon__
    assert info is not None
    assert info.key == RegistrationKey("encoder")
    assert info.config == LeafConfig(size=7)
    assert info.path == "model.encoder"
    assert model.__cinnamon__ is not None
    assert model.__cinnamon__.path == "model"
    assert repr(model.encoder) == "<Leaf from 'encoder'>"
    assert "__cinnamon__" in vars(model.encoder)  # per instance, not in the user's namespace


def test_build_checks_the_expected_type(registry: Registry) -> None:
    with pytest.raises(UsageError, match="built a Leaf, but Model was expected"):
        registry.build("encoder", Model)


def test_changes_after_a_build_are_seen_by_the_next_build(registry: Registry) -> None:
    registry.register(ModelConfig(), name="model")
    assert registry.build("model", Model).encoder.size == 7
    registry.get("encoder").config.size = 70
    assert registry.build("model", Model).encoder.size == 70
    registry.register(LeafConfig(size=700), name="encoder", replace=True)
    assert registry.build("model", Model).encoder.size == 700
    registry.get("model").config.encoder = RegistrationKey("head", {"small"})
    assert registry.build("model", Model).encoder.size == 2


def test_deep_chain_builds_without_recursion_error() -> None:
    registry = Registry()
    tip = chain(registry, 10_000)
    node = registry.build(tip, Node)
    depth = 1
    while node.kids:
        node = node.kids[0]
        depth += 1
    assert depth == 10_000
    assert node.__cinnamon__ is not None
    assert node.__cinnamon__.path.count(".children[0]") == 9_999
    resolved = registry.resolve(tip)
    assert isinstance(resolved, NodeConfig)


def test_resolve_returns_a_fresh_resolved_tree(registry: Registry) -> None:
    registry.register(ModelConfig(head=RegistrationKey("head", {"small"})), name="model")
    resolved = registry.resolve("model")
    assert isinstance(resolved, ModelConfig)
    assert resolved.encoder == LeafConfig(size=7)
    assert resolved.head == LeafConfig(size=2)
    resolved.dropout = 0.5
    assert registry.get("model").config.dropout == 0.1
    assert registry.resolve(ModelConfig(encoder=LeafConfig(size=1))).encoder == LeafConfig(size=1)


# -- errors ----------------------------------------------------------------------------------


def test_missing_root_suggests_close_matches(registry: Registry) -> None:
    with pytest.raises(
        NotRegisteredError, match=r"no registration 'encodr' .* did you mean 'encoder'"
    ) as info:
        registry.build("encodr")
    assert isinstance(info.value, LookupError)
    assert info.value.suggestions == (RegistrationKey("encoder"),)
    with pytest.raises(
        NotRegisteredError, match=r"no registration 'nothing-like-it' in namespace 'default'$"
    ):
        registry.get("nothing-like-it")


def test_missing_reference_names_path_and_suggestions(registry: Registry) -> None:
    registry.register(NodeConfig(children=[LeafConfig(), RegistrationKey("encodr")]), name="tree")
    with pytest.raises(
        NotRegisteredError,
        match=r"^tree\.children\[1\]: no registration 'encodr' in namespace 'default'; did you mean 'encoder'\?",
    ) as info:
        registry.build("tree")
    assert info.value.path == "tree.children[1]"
    assert info.value.key == RegistrationKey("encodr")


def test_same_name_in_another_namespace_is_suggested(registry: Registry) -> None:
    registry.register(LeafConfig(), name="thing", namespace="demo")
    with pytest.raises(NotRegisteredError, match="did you mean 'demo:thing'"):
        registry.get("thing")


def test_cycle_names_every_key() -> None:
    registry = Registry()
    registry.register(NodeConfig(children=[RegistrationKey("b")]), name="a")
    registry.register(NodeConfig(children=[RegistrationKey("c")]), name="b")
    registry.register(NodeConfig(children=[RegistrationKey("a")]), name="c")
    registry.register(NodeConfig(children=[RegistrationKey("a")]), name="entry")
    with pytest.raises(CycleError, match="dependency cycle: 'a' -> 'b' -> 'c' -> 'a'") as info:
        registry.build("entry")
    assert info.value.cycle == tuple(RegistrationKey(name) for name in "abca")
    registry.register(NodeConfig(children=[RegistrationKey("self")]), name="self")
    with pytest.raises(CycleError, match="'self' -> 'self'"):
        registry.resolve("self")


def test_long_cycle_does_not_recurse() -> None:
    registry = Registry()
    for index in range(5_000):
        registry.register(
            NodeConfig(children=[RegistrationKey(f"c{(index + 1) % 5_000}")]), name=f"c{index}"
        )
    with pytest.raises(CycleError) as info:
        registry.build("c0")
    assert len(info.value.cycle) == 5_001


def test_reference_to_the_wrong_kind_of_configuration(registry: Registry) -> None:
    registry.register(OptionsConfig(), name="options")
    registry.register(ModelConfig(encoder=RegistrationKey("options")), name="model")
    with pytest.raises(
        ConfigurationError,
        match=r"model\.encoder: registration 'options' holds a OptionsConfig, but this field accepts LeafConfig",
    ):
        registry.build("model")


def test_user_constructor_errors_come_through_with_a_note(registry: Registry) -> None:
    registry.register(BrokenConfig(size=3), name="broken")
    registry.register(HolderConfig(child=RegistrationKey("broken")), name="parent")
    with pytest.raises(RuntimeError, match="cannot make a Broken of size 3") as info:
        registry.build("parent")
    notes = getattr(info.value, "__notes__", [])
    assert any("'parent.child'" in note and "'broken'" in note for note in notes)


def test_constructor_signature_mismatch(registry: Registry) -> None:
    class Narrow(Component):
        def __init__(self, size: int) -> None:
            self.size = size

    class Needy(Component):
        def __init__(self, size: int, label: str, extra: int) -> None:
            pass

    registry.register(LeafConfig(), name="narrow", component=Narrow)
    with pytest.raises(
        UsageError, match=r"narrow: .*Narrow\(\) does not take 'label', which LeafConfig passes"
    ):
        registry.build("narrow")
    registry.register(LeafConfig(), name="needy", component=Needy)
    with pytest.raises(
        UsageError, match=r"Needy\(\) requires 'extra', which LeafConfig does not have"
    ):
        registry.build("needy")


def test_building_settings_without_a_component(registry: Registry) -> None:
    registry.register(OptionsConfig(), name="options")
    with pytest.raises(
        UsageError, match="registration 'options' \\(OptionsConfig\\) names no component"
    ):
        registry.build("options")
    with pytest.raises(
        UsageError, match="the configuration \\(OptionsConfig\\) names no component"
    ):
        registry.build(OptionsConfig())


def test_bad_targets(registry: Registry) -> None:
    with pytest.raises(InvalidKeyError):
        registry.build("a:b:c")
    with pytest.raises(UsageError):
        registry.build(42)  # type: ignore[call-overload]


def test_kwargs_constructors_and_functions_are_fine() -> None:
    def factory(**values: Any) -> dict[str, Any]:
        return values

    registry = Registry()
    registry.register(LeafConfig(size=4), name="plain", component=factory)
    assert registry.build("plain") == {"size": 4, "label": "leaf"}


# -- threads ---------------------------------------------------------------------------------


def test_concurrent_register_and_build_lose_nothing() -> None:
    registry = Registry()
    registry.register(LeafConfig(size=1), name="encoder")
    registry.register(ModelConfig(), name="model")
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def work(worker: int) -> None:
        try:
            barrier.wait()
            for index in range(200):
                registry.register(LeafConfig(size=index), name=f"w{worker}-{index}")
                assert registry.build("model", Model).encoder.size == 1
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(worker,)) for worker in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(registry) == 2 + 8 * 200


def test_concurrent_duplicate_registration_has_one_winner() -> None:
    registry = Registry()
    outcomes: list[str] = []
    barrier = threading.Barrier(8)

    def work() -> None:
        barrier.wait()
        try:
            registry.register(LeafConfig(), name="contested")
            outcomes.append("won")
        except AlreadyRegisteredError:
            outcomes.append("lost")

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["lost"] * 7 + ["won"]


def test_fields_of_any_annotated_and_mixed_dict_types(registry: Registry) -> None:
    from typing import Annotated

    class Loose(Component):
        def __init__(self, anything: Any, marked: Any, table: dict[str, Any], fixed: int) -> None:
            self.anything, self.marked, self.table, self.fixed = anything, marked, table, fixed

    class LooseConfig(Configuration, component=Loose):
        anything: Any = None
        marked: Annotated[Ref[LeafConfig], "documented"] = RegistrationKey("encoder")
        table: dict[str, Any] = Param(default_factory=dict)
        fixed: int = 0

    registry.register(
        LooseConfig(
            anything=RegistrationKey("head", {"small"}),
            table={"leaf": LeafConfig(size=5), "options": OptionsConfig(), "n": 1},
        ),
        name="loose",
    )
    loose = registry.build("loose")
    assert loose.anything.size == 2
    assert loose.marked.size == 7
    assert loose.table["leaf"].size == 5
    assert loose.table["options"] == OptionsConfig()
    assert loose.table["n"] == 1


def test_factories_without_a_signature_are_called_as_they_are() -> None:
    registry = Registry()
    registry.register(LeafConfig(size=3), name="as-dict", component=dict)
    assert registry.build("as-dict") == {"size": 3, "label": "leaf"}


def test_registration_marks_on_staticmethods_and_misuse() -> None:
    class Presets:
        @staticmethod
        @registration("static")
        def make() -> LeafConfig:
            return LeafConfig(size=9)

    registry = Registry()
    assert registry.collect(Presets) == [RegistrationKey("static")]
    assert registry.build("static", Leaf).size == 9
    with pytest.raises(UsageError, match=r"decorates functions and classmethods, not 3"):
        registration("x")(3)  # type: ignore[type-var]


def test_add_registrations_checks_its_input() -> None:
    registry = Registry()
    with pytest.raises(UsageError, match="expected a Registration, got str"):
        registry.add_registrations(["nope"])  # type: ignore[list-item]
    entry = Registration(RegistrationKey("x"), LeafConfig(), Leaf, "")
    with pytest.raises(AlreadyRegisteredError, match="'x' is already registered"):
        registry.add_registrations([entry, entry])
    assert len(registry) == 0
    assert registry.add_registrations([entry]) == [RegistrationKey("x")]
    assert registry.add_registrations([entry], replace=True) == [RegistrationKey("x")]


def test_building_a_resolved_tree_keeps_its_registrations(registry: Registry) -> None:
    class Other(Component):
        def __init__(self, size: int, label: str) -> None:
            self.size = size

    registry.register(LeafConfig(size=5), name="other", component=Other)
    registry.register(HolderConfig(child=RegistrationKey("other")), name="holder")
    tree = registry.resolve("holder")
    rebuilt = registry.build(tree)
    assert type(rebuilt.child) is Other
    assert rebuilt.child.__cinnamon__.key == RegistrationKey("other")
