"""Where registrations come from: ./pyproject.toml, --config and --layer files, --discover.

Also puts file and line on errors about references, which are only found when a tree
is resolved, long after its files were read.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cinnamon.errors import CinnamonError, CycleError, DeclarationError, NotRegisteredError

if TYPE_CHECKING:
    from cinnamon._core.configuration import Configuration
    from cinnamon._core.key import RegistrationKey
    from cinnamon._files.declarative import Loaded
    from cinnamon._registry import Registry

__all__ = ["Session", "import_hint", "project_settings"]


def project_settings() -> dict[str, list[str]]:
    """Read ``[tool.cinnamon]`` from ``./pyproject.toml``: configs, discover, allow."""
    path = Path("pyproject.toml")
    if not path.is_file():
        return {}
    from cinnamon._files.formats import parse_toml  # noqa: PLC0415 - only when there is one

    data = parse_toml(path.read_text(encoding="utf-8"), str(path))
    tool = data.get("tool")
    settings = tool.get("cinnamon", {}) if isinstance(tool, dict) else {}
    if not isinstance(settings, dict):
        reason = "must be a table"
        raise DeclarationError(reason, file=str(path), path="tool.cinnamon")
    found: dict[str, list[str]] = {}
    for name in ("configs", "discover", "allow"):
        value = settings.get(name, [])
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            reason = "must be a list of strings"
            raise DeclarationError(reason, file=str(path), path=f"tool.cinnamon.{name}")
        found[name] = value
    unknown = sorted(set(settings) - set(found))
    if unknown:
        reason = f"unknown setting(s) {', '.join(unknown)}; use configs, discover or allow"
        raise DeclarationError(reason, file=str(path), path="tool.cinnamon")
    return found


class Session:
    """The registry of one command, and where its file registrations are written."""

    def __init__(self, arguments: argparse.Namespace) -> None:
        from cinnamon._files.declarative import load_files  # noqa: PLC0415 - keeps `--help` fast
        from cinnamon._registry import Registry  # noqa: PLC0415

        settings = project_settings()
        self.allow = [*settings.get("allow", []), *arguments.allow]
        self.registry: Registry = Registry()
        for package in [*settings.get("discover", []), *arguments.discover]:
            self.registry.discover(package)
        files: list[tuple[str, bool]] = [(name, False) for name in settings.get("configs", [])]
        files += getattr(arguments, "files", [])
        self.loaded: Loaded = load_files(self.registry, files, allow=self.allow)

    def key(self, text: str) -> RegistrationKey:
        """The registration named on the command line; a missing one fails with suggestions."""
        from cinnamon._core.key import RegistrationKey  # noqa: PLC0415 - keeps `--help` fast

        key = RegistrationKey.coerce(text)
        self.registry.get(key)
        return key

    def resolve(self, key: RegistrationKey) -> Configuration:
        """Resolve ``key``; a missing reference or a cycle names the file and line."""
        try:
            return self.registry.resolve(key)
        except (NotRegisteredError, CycleError) as error:
            raise self.placed(error, key) from error

    def base(self, key: RegistrationKey) -> Configuration:
        """The base tree of ``key``'s variants: resolved, its conditions left to each variant."""
        try:
            return self.registry.variants(key).base
        except (NotRegisteredError, CycleError) as error:
            raise self.placed(error, key) from error

    def tree(self, arguments: argparse.Namespace, overrides: list[str]) -> Configuration:
        """The resolved tree of ``arguments.key`` with ``overrides`` applied."""
        tree = self.resolve(self.key(arguments.key))
        if overrides:
            from cinnamon._runs.overrides import apply_overrides  # noqa: PLC0415

            tree = apply_overrides(tree, overrides, registry=self.registry, allow=self.allow)
        return tree

    def placed(self, error: CinnamonError, root: RegistrationKey) -> CinnamonError:
        """``error`` as a file error at the place that wrote it, if a file did."""
        if isinstance(error, CycleError):
            places = []
            for key in error.cycle[:-1]:
                if isinstance(key, str):  # a cycle of callbacks, not of registrations
                    continue
                where = self.loaded.where(key.with_shared(shared=False))
                if where is not None:
                    places.append((key, where))
            if not places:
                return error
            shown = ", ".join(f"{key} at {_shown(where)}" for key, where in places)
            first, (file, line) = places[0]
            return DeclarationError(
                f"{error} (declared: {shown})",
                file=file,
                line=line,
                path=f'registrations."{first}"',
            )
        assert isinstance(error, NotRegisteredError)  # noqa: S101 - the two kinds caught
        found = self._reference(root, error.path)
        if found is None:
            return error
        owner, parts = found
        where = self.loaded.where(owner, parts)
        if where is None:
            return error
        from cinnamon._files.formats import render_path  # noqa: PLC0415

        reason = str(error).removeprefix(f"{error.path}: ")
        if owner != root and error.path:  # the file names the field, the tree path the route
            reason += f" (reached from {root} as {error.path})"
        return DeclarationError(
            reason,
            file=where[0],
            line=where[1],
            path=render_path(("registrations", str(owner), "fields", *parts)),
        )

    def _reference(
        self, root: RegistrationKey, path: str
    ) -> tuple[RegistrationKey, tuple[str | int, ...]] | None:
        """The registration holding the reference at ``path`` (from the root), and where."""
        from cinnamon._core.configuration import Configuration  # noqa: PLC0415
        from cinnamon._core.key import RegistrationKey  # noqa: PLC0415
        from cinnamon._runs.overrides import parse_path  # noqa: PLC0415

        try:
            parts = parse_path(path)[1:]  # the first part is the root's name
        except ValueError:
            return None
        owner, inside = root, []  # type: tuple[RegistrationKey, list[str | int]]
        value: Any = self.registry.get(root).config
        for part in parts:
            if isinstance(value, RegistrationKey):
                owner, inside = value.with_shared(shared=False), []
                if owner not in self.registry:
                    return None
                value = self.registry.get(owner).config
            if isinstance(value, Configuration) and isinstance(part, str):
                value = value.__dict__.get(part)
            elif isinstance(value, (list, tuple)) and isinstance(part, int):
                value = value[part] if -len(value) <= part < len(value) else None
            elif isinstance(value, dict):
                value = value.get(part)
            else:
                return None
            inside.append(part)
        return owner, tuple(inside)


def _shown(where: tuple[str, int | None]) -> str:
    return where[0] if where[1] is None else f"{where[0]}:{where[1]}"


def import_hint(error: BaseException) -> str | None:
    """How to make a module importable, when ``error`` comes from a missing one."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ModuleNotFoundError) and current.name:
            top = current.name.partition(".")[0]
            here = Path.cwd()
            return (
                f"Python cannot find the module {top!r}. cinnamon imports from the folder it "
                f"runs in ({here}), from installed packages and from PYTHONPATH: run it in the "
                f"folder that holds {top!r}, install your project with "
                f"`{Path(sys.executable).name} -m pip install -e .`, or set "
                "PYTHONPATH=/folder/holding/it"
            )
        current = current.__cause__ or current.__context__
    return None
