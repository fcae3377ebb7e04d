"""Component: the base class of what the registry builds, and how trees of them nest."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, final

if TYPE_CHECKING:
    from cinnamon._core.configuration import Configuration
    from cinnamon._core.key import RegistrationKey
    from cinnamon._core.tree import TreePath

__all__ = ["BuildInfo", "Component"]


@final
class BuildInfo:
    """Where a built component came from.

    Attributes:
        key: the registration it was built from, or ``None`` for an inline
            configuration.
        config: the resolved configuration it was built from (treat it as read-only).
        path: its dotted path from the root of the build (``""`` for the root).
    """

    __slots__ = ("_path", "config", "key")

    def __init__(
        self, key: RegistrationKey | None, config: Configuration, path: TreePath | str
    ) -> None:
        """Record the origin of one node of a build."""
        self.key = key
        self.config = config
        self._path = path

    @property
    def path(self) -> str:
        """The dotted path of the component from the root of its build."""
        return str(self._path)

    def __repr__(self) -> str:
        return f"BuildInfo(key={self.key!r}, path={self.path!r})"


class Component:
    """The base class of everything the registry builds.

    A component is an ordinary class: define any ``__init__`` whose parameters are named
    like its configuration's fields (there is no need to call ``super().__init__()``), and
    construct it by hand in tests like any other object.

    Components nest: an attribute that holds a component, or a list, tuple or dict of
    them, makes those components its children (see :meth:`children` and :meth:`walk`).

    A component built by a :class:`~cinnamon.Registry` carries ``__cinnamon__``, a
    :class:`BuildInfo` with the key and resolved configuration it was built from; it is
    ``None`` on components made by hand.
    """

    __cinnamon__: BuildInfo | None = None

    def children(self) -> Iterator[tuple[str, Component]]:
        """Yield ``(name, child)`` for each direct child component, in attribute order.

        Children in lists and tuples are named ``attr[i]``, those in dicts ``attr[key]``.
        """
        for name, value in vars(self).items():
            if name.startswith("__"):
                continue
            if isinstance(value, Component):
                yield name, value
            elif isinstance(value, (list, tuple)):
                for index, item in enumerate(value):
                    if isinstance(item, Component):
                        yield f"{name}[{index}]", item
            elif isinstance(value, Mapping):
                for entry, item in value.items():
                    if isinstance(item, Component):
                        yield f"{name}[{entry!r}]", item

    def walk(self) -> Iterator[Component]:
        """Yield every component of the tree, pre-order, starting with this one.

        A component reachable along several paths (or through a cycle of attributes) is
        yielded once. The walk uses no recursion, so trees of any depth are fine.
        """
        seen: set[int] = set()
        stack: list[Component] = [self]
        while stack:
            component = stack.pop()
            if id(component) in seen:
                continue
            seen.add(id(component))
            yield component
            stack.extend(reversed([child for _, child in component.children()]))

    def __repr__(self) -> str:
        info = self.__cinnamon__
        where = f" from {str(info.key)!r}" if info is not None and info.key is not None else ""
        return f"<{type(self).__name__}{where}>"
