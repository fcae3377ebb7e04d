"""The public registry: the core's, plus what needs the layers above it.

Loading declarative files lives in the files layer and grids of variants in the runs
layer; both take a :class:`~cinnamon._core.registry.BaseRegistry`, so the core never
imports them. This class, on the top floor, puts the three together under one name.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any, Literal, final

from cinnamon._core.configuration import Configuration
from cinnamon._core.key import RegistrationKey
from cinnamon._core.registry import BaseRegistry
from cinnamon._files import declarative
from cinnamon._runs.variants import Variants, variants_of

__all__ = ["Registry"]


@final
class Registry(BaseRegistry):
    """Configurations registered under keys, resolved and built into component trees.

    Registries are independent instances; make as many as you like. All methods are safe
    to call from several threads at once.
    """

    __slots__ = ()

    def load(
        self,
        path: str | os.PathLike[str],
        *,
        allow: Iterable[str] = (),
        aliases: Mapping[str, Any] | None = None,
        replace: bool = False,
    ) -> list[RegistrationKey]:
        """Register every entry of a declarative file (TOML, YAML or JSON).

        Either every registration in the file (and the files it extends) is added or,
        if anything is wrong, none is. See ``docs/declarative.md`` for the format.

        Args:
            path: a ``.toml``, ``.yaml``, ``.yml`` or ``.json`` file.
            allow: package roots whose classes the file may name by import path
                (``"mypkg"`` allows ``"mypkg.models:MLP"``); ``cinnamon`` is always
                allowed, and nothing else is imported.
            aliases: short names for classes (``{"MLPConfig": MLPConfig}``); classes
                already registered here are also known by their ``__name__``.
            replace: overwrite registrations with the same keys.

        Returns:
            The keys added, bases first.

        Raises:
            DeclarationError: the file cannot be read, is malformed, names a class it
                may not import, or holds values its configurations refuse.
        """
        return declarative.load(self, path, allow=allow, aliases=aliases, replace=replace)

    def loads(
        self,
        text: str,
        *,
        format: Literal["toml", "yaml", "json"] = "toml",  # noqa: A002 - as json.loads
        allow: Iterable[str] = (),
        aliases: Mapping[str, Any] | None = None,
        source: str | os.PathLike[str] | None = None,
        replace: bool = False,
    ) -> list[RegistrationKey]:
        """Register every entry of a declarative file's text; see :meth:`load`.

        Args:
            text: the file's text.
            format: ``"toml"``, ``"yaml"`` or ``"json"``.
            allow: package roots the text may import classes from.
            aliases: short names for classes.
            source: where the text came from: named in errors, and the folder that
                relative ``extends`` paths start from.
            replace: overwrite registrations with the same keys.
        """
        return declarative.loads(
            self,
            text,
            format=format,
            allow=allow,
            aliases=aliases,
            source=source,
            replace=replace,
        )

    def variants(
        self,
        target: RegistrationKey | str | Configuration,
        *,
        overrides: Mapping[str, Any] | Iterable[str] = (),
    ) -> Variants:
        """Return the grid of every combination of the variants in ``target``'s tree.

        Each field declared with ``Param(..., variants=[...])``, or with ``{ "@variants"
        = [...] }`` in a file, anywhere in the resolved tree is an axis; the grid is
        lazy (see :class:`~cinnamon.Variants` and ``docs/variants.md``).

        Args:
            target: a key, its string form, or a configuration.
            overrides: ``PATH=VALUE`` strings or a mapping of paths to values, as
                :func:`~cinnamon.apply_overrides` takes them, applied to the base tree
                first. A field they set is pinned: it is not varied.

        Raises:
            NotRegisteredError, CycleError: as :meth:`resolve`, for the tree and for
                every reference alternative.
            ConfigurationError: a variant its field refuses.
            DeclarationError: a malformed fixed override.
            UsageError: a fixed override inside a field that is varied.
        """
        return variants_of(self, target, overrides)
