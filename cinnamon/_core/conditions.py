"""Conditions: named invariants of a configuration, checked on every resolved tree.

A condition is a method of a configuration marked with :func:`condition`. It runs on the
resolved tree, where references are already replaced by the configurations they name,
so it can compare fields across the tree::

    class TrainerConfig(Configuration, component=Trainer):
        model: Ref[ModelConfig]
        data: Ref[DataConfig]

        @condition("features match")
        def features_match(self) -> bool:
            return self.model.n_features == self.data.n_features

The conditions of each class are found once and kept, so resolving a tree whose classes
have none costs one dictionary look-up per node.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from typing import Any, TypeVar, overload

from cinnamon._core.configuration import Configuration
from cinnamon._core.tree import TreePath, values
from cinnamon.errors import ConditionError, UsageError, add_note

__all__ = ["Condition", "check_conditions", "check_nodes", "condition", "conditions_of"]

F = TypeVar("F", bound=Callable[..., Any])

#: A condition of a class: its name and the function to call with a node.
Condition = tuple[str, Callable[[Any], Any]]

_MARK = "__cinnamon_condition__"
_found: dict[type[Configuration], tuple[Condition, ...]] = {}


@overload
def condition(name: F, /) -> F: ...


@overload
def condition(name: str | None = None, /) -> Callable[[F], F]: ...


def condition(name: str | F | None = None, /) -> F | Callable[[F], F]:
    """Mark a method of a configuration as a condition of its resolved trees.

    Use it bare (``@condition``, named after the method) or with a name
    (``@condition("features match")``). The method takes only ``self``, a node of a
    resolved tree, and returns true when the node is fine. To say why it is not, raise
    ``ValueError`` (or fail an ``assert``) with a message; any other exception is a bug
    in the condition and comes through as it is, with a note saying where.

    Conditions are checked, for every node of every resolved tree, by
    :meth:`Registry.resolve <cinnamon.Registry.resolve>`, :meth:`Registry.build
    <cinnamon.Registry.build>` and each variant of a grid; a failure raises
    :class:`~cinnamon.errors.ConditionError`. Subclasses inherit conditions; a subclass
    that redefines the method without the mark drops the condition.

    Raises:
        UsageError: the name is empty, or the decorated object is not a function.
    """
    if callable(name):
        return _mark(name, str(getattr(name, "__name__", "")))
    if name is not None and (not isinstance(name, str) or not name):
        msg = f"condition() takes a non-empty name, not {name!r}"
        raise UsageError(msg)
    label = name

    def decorate(function: F) -> F:
        return _mark(function, label or str(getattr(function, "__name__", "")))

    return decorate


def _mark(function: F, name: str) -> F:
    if not inspect.isfunction(function):
        msg = (
            f"@condition marks a plain method of a Configuration (def name(self) -> bool), "
            f"not {function!r}"
        )
        raise UsageError(msg)
    setattr(function, _MARK, name)
    return function


def conditions_of(cls: type[Configuration]) -> tuple[Condition, ...]:
    """Return the conditions of ``cls`` (its own and inherited ones), in definition order.

    Bases come first, then each class's methods in the order they are written. The
    answer is computed once per class.
    """
    found = _found.get(cls)
    if found is None:
        names: dict[str, None] = {}
        for klass in reversed(cls.__mro__):
            for attribute, value in vars(klass).items():
                if getattr(value, _MARK, None) is not None:
                    names[attribute] = None
        conditions: list[Condition] = []
        for attribute in names:
            method = getattr(cls, attribute, None)
            name = getattr(method, _MARK, None)
            if isinstance(name, str) and callable(method):  # not redefined without a mark
                conditions.append((name, method))
        found = _found[cls] = tuple(conditions)
    return found


def check_nodes(nodes: Iterable[tuple[Configuration, TreePath]]) -> None:
    """Check the conditions of each ``(node, path)``, in order.

    Raises:
        ConditionError: a condition returned false or raised ``ValueError`` or
            ``AssertionError``; the message names the node's path and the condition.
        UsageError: a condition returned ``None`` (a forgotten ``return``).
    """
    for node, path in nodes:
        for name, method in conditions_of(type(node)):
            _check(node, path, name, method)


def check_conditions(root: Configuration, label: str) -> None:
    """Check every condition of every node of the resolved tree under ``root``.

    ``label`` is the root's path (a key's name, or a class name). Each node is checked
    once, however many places share it, children before their parents as resolution
    does. The walk keeps its own stack, so deep trees need no recursion.

    Raises:
        ConditionError, UsageError: as :func:`check_nodes`.
    """
    order = [
        (value, path)
        for value, path in values(root, label, backwards=True)
        if isinstance(value, Configuration) and conditions_of(type(value))
    ]
    # The walk met parents first; resolution checks children first, and so do we.
    check_nodes(reversed(order))


def _check(node: Configuration, path: TreePath, name: str, method: Callable[[Any], Any]) -> None:
    try:
        result = method(node)
    except (ValueError, AssertionError) as error:
        raise ConditionError(str(path), name, str(error)) from error
    except Exception as error:
        add_note(error, f"cinnamon: raised while checking condition {name!r} at {str(path)!r}")
        raise
    if result is None:
        msg = (
            f"{path}: condition {name!r} of {type(node).__name__} returned None; a condition "
            "returns True or False (or raises ValueError to say why it fails)"
        )
        raise UsageError(msg)
    if not result:
        raise ConditionError(str(path), name)
