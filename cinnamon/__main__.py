"""``python -m cinnamon``: build a small component tree and print it."""

from __future__ import annotations

from cinnamon import Component, Configuration, Param, Ref, RegistrationKey, Registry


class Layer(Component):
    """A layer of a toy network."""

    def __init__(self, units: int) -> None:
        """Keep the layer's width."""
        self.units = units


class Network(Component):
    """A toy network made of layers."""

    def __init__(self, layers: list[Layer], name: str) -> None:
        """Keep the layers in order."""
        self.layers = layers
        self.name = name


class LayerConfig(Configuration, component=Layer):
    """A layer's width."""

    units: int = Param(16, description="output units", ge=1)


class NetworkConfig(Configuration, component=Network):
    """A stack of layers."""

    layers: list[Ref[LayerConfig]] = Param(default_factory=list, description="layers in order")
    name: str = Param("net", description="a label for the network")


def main() -> None:
    """Register a small tree, build it and print each component with its origin."""
    registry = Registry()
    registry.register(LayerConfig(units=32), name="wide", namespace="demo")
    registry.register(LayerConfig(units=4), name="narrow", namespace="demo")
    wide, narrow = (
        RegistrationKey("wide", namespace="demo"),
        RegistrationKey("narrow", namespace="demo"),
    )
    registry.register(
        NetworkConfig(layers=[wide, narrow, LayerConfig(units=8)], name="toy"),
        name="network",
        namespace="demo",
    )
    network = registry.build("demo:network", Network)
    for component in network.walk():
        info = component.__cinnamon__
        origin = f" <- {info.key}" if info and info.key else " (inline)"
        print(f"{info.path if info else '?':<20} {type(component).__name__}{origin}")


if __name__ == "__main__":
    main()
