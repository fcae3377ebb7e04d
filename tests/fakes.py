"""Components and configurations shared by the tests."""

from __future__ import annotations

from typing import Any

from cinnamon import Component, Configuration, Param, Ref, RegistrationKey


class Leaf(Component):
    def __init__(self, size: int, label: str = "leaf") -> None:
        self.size = size
        self.label = label


class Node(Component):
    def __init__(self, children: list[Any], size: int) -> None:
        self.kids = children
        self.size = size


class Model(Component):
    def __init__(self, encoder: Any, head: Any, dropout: float, options: Any) -> None:
        self.encoder = encoder
        self.head = head
        self.dropout = dropout
        self.options = options


class Broken(Component):
    def __init__(self, size: int) -> None:
        msg = f"cannot make a Broken of size {size}"
        raise RuntimeError(msg)


class LeafConfig(Configuration, component=Leaf):
    """A leaf with a size."""

    size: int = Param(3, description="how big", ge=0, tags={"shape"}, variants=[1, 2, 3])
    label: str = "leaf"


class NodeConfig(Configuration, component=Node):
    """A node with children."""

    children: list[Ref[NodeConfig] | Ref[LeafConfig]] = Param(default_factory=list)
    size: int = 1


class OptionsConfig(Configuration):
    """Settings without a component: passed on as they are."""

    verbose: bool = False


class ModelConfig(Configuration, component=Model):
    """A model with an encoder and a head."""

    encoder: Ref[LeafConfig] = Param(RegistrationKey("encoder"), description="the encoder")
    head: Ref[LeafConfig] | None = None
    dropout: float = Param(0.1, ge=0.0, le=1.0)
    options: OptionsConfig = Param(default_factory=OptionsConfig)


class BrokenConfig(Configuration, component=Broken):
    size: int = 1


class RequiredConfig(Configuration, component=Leaf):
    size: int
    label: str = "required"


def chain(registry: Any, length: int) -> RegistrationKey:
    """Register n0 <- n1 <- ... and return the key of the last link."""
    registry.register(NodeConfig(), name="n0")
    for index in range(1, length):
        registry.register(
            NodeConfig(children=[RegistrationKey(f"n{index - 1}")], size=index), name=f"n{index}"
        )
    return RegistrationKey(f"n{length - 1}")


class Holder(Component):
    def __init__(self, child: Any) -> None:
        self.child = child


class HolderConfig(Configuration, component=Holder):
    """Holds any one configuration."""

    child: Ref[Configuration] | None = None
