"""What the optional extras say when they are missing; runs with or without them."""

from __future__ import annotations

import importlib
import sys

import pytest

from cinnamon.callbacks import NpzSerializer
from cinnamon.errors import UsageError


@pytest.mark.parametrize(
    ("adapter", "library", "extra"),
    [
        ("cinnamon.integrations.keras", "keras", "keras"),
        ("cinnamon.integrations.lightning", "lightning.pytorch", "lightning"),
        ("cinnamon.integrations.huggingface", "transformers", "huggingface"),
    ],
)
def test_an_adapter_without_its_framework_names_the_extra_to_install(
    monkeypatch: pytest.MonkeyPatch, adapter: str, library: str, extra: str
) -> None:
    monkeypatch.setitem(sys.modules, library, None)  # as if it were not installed
    monkeypatch.delitem(sys.modules, adapter, raising=False)
    with pytest.raises(UsageError, match=rf"needs {library}: .*pip install 'cinnamon\[{extra}\]'"):
        importlib.import_module(adapter)


def test_the_npz_serializer_without_numpy_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "numpy", None)
    with pytest.raises(UsageError, match=r"NpzSerializer needs numpy.*'cinnamon\[numpy\]'"):
        NpzSerializer()
