"""Pipelines: components that hold an ordered sequence of child components.

A :class:`CallbackPipeline` dispatches a hookpoint by flattening itself (and the
pipelines nested in it) into the bound methods that implement it, kept as one entry of
the dispatch tables of :mod:`cinnamon._hooks.callback`. Any change to a pipeline's children
drops its tables and those of every pipeline that holds it, found through weak parent
links, so the tables are never stale and no call pays for a check.
"""

from __future__ import annotations

import difflib
import heapq
import os
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, ClassVar

from cinnamon._core.component import Component
from cinnamon._core.configuration import Configuration, Param, Ref
from cinnamon._hooks.callback import Callback, Hook, forget, lock, state_of
from cinnamon.errors import ConfigurationError, CycleError, NotFoundError, UsageError, add_note

__all__ = [
    "CallbackPipeline",
    "CallbackPipelineConfig",
    "OrderedPipeline",
    "Pipeline",
    "PipelineConfig",
]

_PARENTS = "_cinnamon_parents"


class Pipeline(Component):
    """A component holding an ordered sequence of child components.

    ``Pipeline([a, b])`` holds ``a`` then ``b``; :meth:`get_pipeline` returns them in
    the order they run. The children are kept as a tuple in :attr:`components`; change
    them with :meth:`append`, :meth:`extend`, :meth:`insert`, :meth:`remove` or by
    assigning ``pipeline.components = [...]``. A pipeline may hold other pipelines, to
    any depth, but never itself.

    Args:
        components: the children, in order.

    Raises:
        UsageError: a child is not a component (of the kind the pipeline accepts), or
            adding it would put the pipeline inside itself.
    """

    #: What the pipeline accepts as a child.
    child_type: ClassVar[type[Component]] = Component

    def __init__(self, components: Iterable[Component] = ()) -> None:
        """Hold ``components``, in order."""
        self.components = components

    @property
    def components(self) -> tuple[Component, ...]:
        """The children, in the order they were given."""
        # Kept in __dict__ under the same name so that children() reports them as
        # 'components[i]'; the property (a data descriptor) still wins every lookup.
        found: tuple[Component, ...] = self.__dict__.get("components", ())
        return found

    @components.setter
    def components(self, components: Iterable[Component]) -> None:
        self._replace(lambda _: components)

    def get_pipeline(self) -> list[Component]:
        """Return the children in the order they run."""
        return list(self.components)

    def append(self, component: Component) -> None:
        """Add ``component`` at the end."""
        self._replace(lambda old: (*old, component))

    def extend(self, components: Iterable[Component]) -> None:
        """Add ``components`` at the end, in order."""
        self._replace(lambda old: (*old, *_items(components)))

    def insert(self, index: int, component: Component) -> None:
        """Add ``component`` before position ``index`` (as :meth:`list.insert` does)."""
        self._replace(lambda old: _inserted(old, index, component))

    def remove(self, component: Component) -> None:
        """Remove the first occurrence of ``component`` (compared by identity).

        Raises:
            NotFoundError: ``component`` is not a child of this pipeline.
        """
        self._replace(lambda old: _removed(old, component))

    def __getstate__(self) -> dict[str, Any]:
        """Return the state to pickle or copy, without caches or parent links."""
        return state_of(self)

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Restore a pickled or copied pipeline and link it to its child pipelines."""
        self.__dict__.update(state)
        for child in self.components:
            if isinstance(child, Pipeline):
                _parents(child).add(self)

    # -- changes -------------------------------------------------------------------------

    def _replace(self, change: Callable[[tuple[Component, ...]], Iterable[Component]]) -> None:
        """Apply ``change`` (old children -> new children) and drop the stale caches."""
        with lock:
            old = self.components
            new = tuple(_items(change(old)))
            for child in new:
                self._check_child(child)
            self._accept(old, new)
            self.__dict__["components"] = new
            for child in old:
                if isinstance(child, Pipeline) and not any(child is c for c in new):
                    _parents(child).discard(self)
            for child in new:
                if isinstance(child, Pipeline):
                    _parents(child).add(self)
            self._changed()

    def _check_child(self, child: object) -> None:
        kind = type(self).child_type
        if not isinstance(child, kind):
            msg = (
                f"{type(self).__name__} holds {kind.__name__} instances, "
                f"not {type(child).__name__} {child!r:.80}"
            )
            raise UsageError(msg)
        if _encloses(child, self):
            msg = f"cannot put {child!r} inside {self!r}: it would contain itself"
            raise UsageError(msg)

    def _accept(self, old: tuple[Component, ...], new: tuple[Component, ...]) -> None:
        """Hook for subclasses: check or adapt to a change of children (under the lock)."""

    def _changed(self) -> None:
        """Drop the dispatch tables of this pipeline and of every pipeline holding it."""
        seen: set[int] = set()
        stack: list[Pipeline] = [self]
        while stack:
            pipeline = stack.pop()
            if id(pipeline) in seen:
                continue
            seen.add(id(pipeline))
            if isinstance(pipeline, Callback):
                forget(pipeline)
            stack.extend(pipeline.__dict__.get(_PARENTS, ()))


class OrderedPipeline(Pipeline):
    """A pipeline that runs its children in an explicit order, given by index.

    ``order`` lists positions in :attr:`components` (``0`` is the first child); those
    children run first, in that order, and any child it leaves out runs after them in
    its place in the list. ``OrderedPipeline([a, b, c], order=[2, 0])`` runs ``c``,
    ``a``, ``b``. The order follows the children it names when they move: after
    ``remove`` or ``insert`` it still names the same children (a removed child drops
    out of it).

    Args:
        components: the children.
        order: positions in ``components``, each at most once; ``None`` keeps the
            order of ``components``.

    Raises:
        NotFoundError: ``order`` names a position with no child.
        ConfigurationError: ``order`` names a position twice.
        UsageError: ``order`` is not a sequence of integers.
    """

    def __init__(
        self, components: Iterable[Component] = (), order: Iterable[int] | None = None
    ) -> None:
        """Hold ``components``, to run in ``order``."""
        super().__init__(components)
        self.order = order

    @property
    def order(self) -> tuple[int, ...] | None:
        """The positions that run first, in order, or ``None``."""
        found: tuple[int, ...] | None = self.__dict__.get("order")
        return found

    @order.setter
    def order(self, order: Iterable[int] | None) -> None:
        with lock:
            self.__dict__["order"] = None if order is None else _order(order, self.components)
            self._changed()

    def get_pipeline(self) -> list[Component]:
        """Return the children in the order they run."""
        children = self.components
        order = self.order
        if order is None:
            return list(children)
        named = set(order)
        rest = [child for index, child in enumerate(children) if index not in named]
        return [children[index] for index in order] + rest

    def _accept(self, old: tuple[Component, ...], new: tuple[Component, ...]) -> None:
        order = self.order
        if order is None:
            return
        # Follow each named child to its new position (first occurrence, by identity).
        where: dict[int, int] = {}
        for index, child in enumerate(new):
            where.setdefault(id(child), index)
        moved = [where[id(old[index])] for index in order if id(old[index]) in where]
        self.__dict__["order"] = tuple(dict.fromkeys(moved))


class CallbackPipeline(Pipeline, Callback):
    """A callback made of callbacks: every hookpoint reaches each child, in order.

    :meth:`setup`, :meth:`clear` and :meth:`run` go to every child in the order of
    :meth:`get_pipeline`, and through nested pipelines to any depth. Hook methods
    defined on a pipeline subclass itself run before its children's. Which children
    implement a hookpoint is worked out once, on its first dispatch, so a child without
    the hookpoint costs nothing per call; changing the children (here or in a nested
    pipeline) makes the pipeline look again.

    The children run in the order given, except where ordering constraints say
    otherwise: the :attr:`~cinnamon.Callback.runs_after` and
    :attr:`~cinnamon.Callback.runs_before` of the children's classes, and the
    pipeline's own ``after``. Constraints order siblings (the children of one
    pipeline), move a child only as far as they must, and never reorder two children
    of the same class.

    Args:
        components: the callbacks, in order.
        after: class names of children mapped to the class names of the children they
            run after, e.g. ``{"Checkpoint": ["EarlyStopping"]}``; unlike a class's own
            constraints, each name must match a child.

    Raises:
        UsageError: a child is not a :class:`Callback`, or ``after`` is not a mapping
            of names to lists of names.
        NotFoundError: a name in ``after`` matches no child.
        CycleError: the constraints of the children contradict each other.
    """

    child_type: ClassVar[type[Component]] = Callback
    # Whether an enclosing pipeline may flatten this one's children into its own
    # dispatch; a pipeline that changes its children's hooks (a filter) must not be.
    _cinnamon_flattened: ClassVar[bool] = True

    def __init__(
        self,
        components: Iterable[Component] = (),
        after: Mapping[str, Iterable[str]] | None = None,
    ) -> None:
        """Hold ``components``, ordered by their constraints and by ``after``."""
        self.__dict__["after"] = checked = _constraints(after)
        super().__init__(components)
        # Names are checked against the children given here only: removing a child
        # later must not break the pipeline, so get_pipeline ignores a name gone since.
        _ordered(list(self.components), checked, self, strict=True)

    @property
    def after(self) -> dict[str, tuple[str, ...]]:
        """The pipeline's own ordering constraints (see the class docstring)."""
        found: dict[str, tuple[str, ...]] = self.__dict__.get("after", {})
        return dict(found)

    def get_pipeline(self) -> list[Component]:
        """Return the children in the order they run, ordering constraints applied."""
        return _ordered(super().get_pipeline(), self.__dict__.get("after", {}), self)

    def _accept(self, old: tuple[Component, ...], new: tuple[Component, ...]) -> None:
        super()._accept(old, new)
        _ordered(list(new), self.__dict__.get("after", {}), self)  # refuse a cycle now

    def setup(self, component: Any = None, save_path: str | os.PathLike[str] | None = None) -> None:
        """Attach this pipeline and every callback in it to ``component``."""
        Callback.setup(self, component, save_path)
        for child, expanded in self._each("setup"):
            if expanded:
                Callback.setup(child, component, save_path)
            else:
                child.setup(component=component, save_path=save_path)

    def clear(self) -> None:
        """Detach this pipeline and every callback in it."""
        Callback.clear(self)
        for child, expanded in self._each("clear"):
            if expanded:
                Callback.clear(child)
            else:
                child.clear()

    def _cinnamon_own(self, hookpoint: str) -> tuple[Hook, ...]:
        """The pipeline's own hook, then its children's, nested pipelines flattened."""
        hooks = list(Callback._cinnamon_own(self, hookpoint))
        for child, expanded in self._each("run"):
            if expanded:
                hooks.extend(Callback._cinnamon_own(child, hookpoint))
            else:
                hooks.extend(child._cinnamon_outside(hookpoint))
        return tuple(hooks)

    def _each(self, method: str) -> Iterator[tuple[Callback, bool]]:
        """Yield every callback below this pipeline, depth first, in running order.

        A nested CallbackPipeline that does not override ``method`` is *expanded*
        (yielded with ``True``, then its children): the caller handles its own part
        and its children come next. Working with a stack instead of recursion lets
        pipelines nest to any depth.
        """
        default = getattr(CallbackPipeline, method)
        stack: list[Iterator[Component]] = [iter(self.get_pipeline())]
        while stack:
            child = next(stack[-1], None)
            if child is None:
                stack.pop()
            elif not isinstance(child, Callback):
                msg = f"{type(self).__name__} holds Callback instances, not {child!r:.80}"
                raise UsageError(msg)
            elif (
                isinstance(child, CallbackPipeline)
                and getattr(type(child), method) is default
                and (child._cinnamon_flattened or method != "run")
            ):
                yield child, True
                stack.append(iter(child.get_pipeline()))
            else:
                yield child, False


class PipelineConfig(Configuration, component=Pipeline):
    """The children of a pipeline, each a reference to a registration or inline.

    Bound to :class:`Pipeline`; register it with ``component=CallbackPipeline`` (or
    subclass it with another ``component=``) to build another kind of pipeline. The
    registry builds every child first and passes the list in. For an
    :class:`OrderedPipeline`, subclass it with an ``order: list[int] | None`` field.
    """

    components: list[Ref[Configuration]] = Param(
        default_factory=list, description="the child components, in order"
    )


class CallbackPipelineConfig(PipelineConfig, component=CallbackPipeline):
    """The children of a :class:`CallbackPipeline` and the pipeline's ordering constraints.

    ``after`` maps the class names of children to the class names of the children they
    run after; see :class:`CallbackPipeline`.
    """

    after: dict[str, list[str]] = Param(
        default_factory=dict,
        description="class names of children mapped to the class names they run after",
    )


def _constraints(after: object) -> dict[str, tuple[str, ...]]:
    """Check a pipeline's ``after`` and return it as a dict of tuples."""
    if after is None:
        return {}
    if not isinstance(after, Mapping):
        msg = f"after= maps class names to lists of class names, not {after!r:.80}"
        raise UsageError(msg)
    checked: dict[str, tuple[str, ...]] = {}
    for name, earlier in after.items():
        if isinstance(earlier, str) or not isinstance(earlier, Iterable):
            msg = f"after[{name!r}] is a list of class names, not {earlier!r:.80}"
            raise UsageError(msg)
        names = tuple(earlier)
        if not isinstance(name, str) or not all(isinstance(n, str) for n in names):
            msg = f"after= holds class names (str), not {name!r}: {list(names)!r:.80}"
            raise UsageError(msg)
        checked[name] = names
    return checked


def _matches(callback: Component, target: type | str) -> bool:
    """Whether a constraint's ``target`` (a class or a class name) names ``callback``."""
    if isinstance(target, str):
        return any(kind.__name__ == target for kind in type(callback).__mro__)
    return isinstance(callback, target)


def _ordered(
    children: list[Component],
    after: Mapping[str, tuple[str, ...]],
    pipeline: Pipeline,
    *,
    strict: bool = False,
) -> list[Component]:
    """``children`` reordered as little as their ordering constraints allow.

    The constraints are edges between positions; a topological sort that always takes
    the earliest free position keeps the given order wherever no constraint applies.
    ``strict`` refuses a name in ``after`` that matches no child.
    """
    if strict:
        _check_names(children, after, pipeline)
    before = _edges(children, after)
    if not any(before.values()):
        return children
    waiting = dict.fromkeys(before, 0)
    for targets in before.values():
        for target in targets:
            waiting[target] += 1
    free = [index for index, count in waiting.items() if count == 0]
    heapq.heapify(free)
    order: list[int] = []
    while free:
        index = heapq.heappop(free)
        order.append(index)
        for target in before[index]:
            waiting[target] -= 1
            if waiting[target] == 0:
                heapq.heappush(free, target)
    if len(order) < len(children):
        raise _cycle_error(children, before, set(before) - set(order), pipeline)
    return [children[index] for index in order]


def _edges(children: list[Component], after: Mapping[str, tuple[str, ...]]) -> dict[int, set[int]]:
    """For each position, the positions that must run after it."""
    before: dict[int, set[int]] = {index: set() for index in range(len(children))}

    def link(first: int, then: int) -> None:
        if first != then and type(children[first]) is not type(children[then]):
            before[first].add(then)

    for then, child in enumerate(children):
        own = type(child).runs_after if isinstance(child, Callback) else ()
        declared = [t for name, earlier in after.items() if _matches(child, name) for t in earlier]
        later = type(child).runs_before if isinstance(child, Callback) else ()
        for position, other in enumerate(children):
            if any(_matches(other, target) for target in (*own, *declared)):
                link(position, then)
            if any(_matches(other, target) for target in later):
                link(then, position)
    return before


def _check_names(
    children: list[Component], after: Mapping[str, tuple[str, ...]], pipeline: Pipeline
) -> None:
    for name in sorted({name for pair in after.items() for name in (pair[0], *pair[1])}):
        if not any(_matches(child, name) for child in children):
            present = sorted({type(child).__name__ for child in children})
            close = difflib.get_close_matches(name, present, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            msg = (
                f"{type(pipeline).__name__}'s after= names {name!r}, but no child is a "
                f"{name} (the children are {', '.join(present) or 'none'}){hint}"
            )
            raise NotFoundError(msg)


def _cycle_error(
    children: list[Component], before: dict[int, set[int]], stuck: set[int], pipeline: Pipeline
) -> CycleError:
    """The error naming one cycle among the positions ``stuck`` (each on or after one)."""
    # Walk backwards from any stuck position: each has a stuck predecessor, so the walk
    # must come back to a position it has seen, which closes a cycle.
    earlier = {i: [j for j in stuck if i in before[j]] for i in stuck}
    path = [min(stuck)]
    while path.count(path[-1]) < 2:  # noqa: PLR2004 - until a position repeats
        path.append(min(earlier[path[-1]]))
    start = path.index(path[-1])
    names = [f"{type(children[i]).__name__} (child {i})" for i in path[start:]]
    error = CycleError(names)
    add_note(
        error,
        f"cinnamon: the ordering constraints (runs_after, runs_before, after=) of the "
        f"callbacks in {type(pipeline).__name__} contradict each other; on the cycle, "
        "each callback must run after the next one",
    )
    return error


def _parents(pipeline: Pipeline) -> weakref.WeakSet[Pipeline]:
    found: weakref.WeakSet[Pipeline] | None = pipeline.__dict__.get(_PARENTS)
    if found is None:
        found = pipeline.__dict__.setdefault(_PARENTS, weakref.WeakSet())
    return found


def _encloses(candidate: object, pipeline: Pipeline) -> bool:
    """Whether ``candidate`` is ``pipeline`` or holds it, at any depth.

    Climbs the parent links, which mirror the children, so that the cost is the number
    of enclosing pipelines (usually a handful) rather than the size of ``candidate``.
    """
    stack = [pipeline]
    seen: set[int] = set()
    while stack:
        item = stack.pop()
        if item is candidate:
            return True
        if id(item) not in seen:
            seen.add(id(item))
            stack.extend(item.__dict__.get(_PARENTS, ()))
    return False


def _items(components: object) -> tuple[Any, ...]:
    if isinstance(components, (str, bytes, Component)) or not isinstance(components, Iterable):
        msg = f"a pipeline's components must be an iterable of components, not {components!r:.80}"
        raise UsageError(msg)
    return tuple(components)


def _inserted(old: tuple[Component, ...], index: int, component: Component) -> list[Component]:
    children = list(old)
    children.insert(index, component)
    return children


def _removed(old: tuple[Component, ...], component: Component) -> list[Component]:
    for index, child in enumerate(old):
        if child is component:
            return [*old[:index], *old[index + 1 :]]
    msg = f"{component!r} is not in the pipeline"
    raise NotFoundError(msg)


def _order(order: Iterable[int], children: tuple[Component, ...]) -> tuple[int, ...]:
    if isinstance(order, (str, bytes)) or not isinstance(order, Iterable):
        msg = f"a pipeline's order must be a sequence of positions, not {order!r:.80}"
        raise UsageError(msg)
    positions = tuple(order)
    for position in positions:
        if not isinstance(position, int) or isinstance(position, bool):
            msg = f"a pipeline's order holds positions (int), not {position!r:.80}"
            raise UsageError(msg)
        if not 0 <= position < len(children):
            msg = (
                f"the order names position {position!r}, but the pipeline has no child "
                f"there (it has {len(children)}, at positions counted from 0)"
            )
            raise NotFoundError(msg)
    if len(set(positions)) != len(positions):
        twice = sorted({p for p in positions if positions.count(p) > 1})
        msg = f"names position {twice[0]!r} more than once: {list(positions)!r}"
        raise ConfigurationError([("order", msg)])
    return positions
