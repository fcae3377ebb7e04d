from __future__ import annotations

import pytest
from pydantic import ValidationError
from pydantic_core import PydanticUndefined

from cinnamon import Configuration, Param, RegistrationKey
from cinnamon.errors import CinnamonError, ConfigurationError, UsageError
from tests.fakes import Leaf, LeafConfig, ModelConfig, OptionsConfig, RequiredConfig


def test_values_and_defaults() -> None:
    config = LeafConfig(size=5)
    assert (config.size, config.label) == (5, "leaf")
    assert LeafConfig.default() == LeafConfig()
    assert LeafConfig.__component__ is Leaf
    assert OptionsConfig.__component__ is None


def test_invalid_values_raise_configuration_error_with_path() -> None:
    with pytest.raises(
        ConfigurationError, match=r"^LeafConfig\.size: Input should be greater"
    ) as info:
        LeafConfig(size=-1)
    error = info.value
    assert isinstance(error, ValueError)
    assert isinstance(error, CinnamonError)
    assert error.path == "LeafConfig.size"
    assert isinstance(error.__cause__, ValidationError)
    with pytest.raises(
        ConfigurationError, match=r"ModelConfig\.options\.verbose: Input should be a valid boolean"
    ):
        ModelConfig(options={"verbose": "perhaps"})


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(
        ConfigurationError, match=r"LeafConfig\.sise: Extra inputs are not permitted"
    ):
        LeafConfig(sise=3)


def test_assignment_is_validated() -> None:
    config = LeafConfig()
    config.size = 10
    assert config.size == 10
    with pytest.raises(ConfigurationError, match=r"LeafConfig\.size: .*got 'big'"):
        config.size = "big"  # type: ignore[assignment]
    assert config.size == 10
    with pytest.raises(ConfigurationError, match="Object has no attribute 'nope'"):
        config.nope = 1


def test_defaults_are_validated() -> None:
    class BadDefault(Configuration):
        size: int = Param("not a number")

    with pytest.raises(ConfigurationError, match=r"BadDefault\.size"):
        BadDefault()


def test_default_requires_every_field_to_have_one() -> None:
    with pytest.raises(ConfigurationError, match=r"RequiredConfig\.size: Field required"):
        RequiredConfig.default()


def test_param_metadata_from_class_and_instance() -> None:
    info = LeafConfig.params()["size"]
    assert info.description == "how big"
    assert info.tags == frozenset({"shape"})
    assert info.variants == (1, 2, 3)
    assert info.default == 3
    assert info.annotation is int
    assert not info.required
    assert LeafConfig().params()["size"] is info
    plain = LeafConfig.params()["label"]
    assert (plain.description, plain.tags, plain.variants) == (None, frozenset(), None)
    assert RequiredConfig.params()["size"].required
    assert RequiredConfig.params()["size"].default is PydanticUndefined
    assert LeafConfig.model_json_schema()["properties"]["size"]["tags"] == ["shape"]


def test_param_constraints_and_factories() -> None:
    class Bounded(Configuration):
        items: list[int] = Param(default_factory=list, max_length=2)
        name: str = Param("a", pattern=r"^[a-z]+$")

    first, second = Bounded(), Bounded()
    first.items.append(1)
    assert second.items == []
    with pytest.raises(ConfigurationError, match=r"Bounded\.items"):
        Bounded(items=[1, 2, 3])
    with pytest.raises(ConfigurationError, match=r"Bounded\.name"):
        Bounded(name="A")


def test_param_misuse() -> None:
    with pytest.raises(UsageError, match="not the string 'abc'"):
        Param(1, tags="abc")
    with pytest.raises(UsageError, match="component must be a class or callable"):

        class Bad(Configuration, component=3):  # type: ignore[arg-type]
            pass


def test_fields_may_hold_keys_configs_and_containers() -> None:
    config = ModelConfig(encoder="demo:enc", head=LeafConfig(size=1))
    assert config.encoder == RegistrationKey("enc", namespace="demo")
    assert config.head == LeafConfig(size=1)
    assert ModelConfig(head=None).head is None


def test_component_binding_is_inherited() -> None:
    class BiggerLeaf(LeafConfig):
        extra: int = 0

    assert BiggerLeaf.__component__ is Leaf
