"""Environment variables in string values: ``${env:NAME}`` and ``${env:NAME,default}``.

This is the only thing ever evaluated inside a value: no expressions, no references to
other fields, no code. ``$${`` writes a literal ``${``. Any other ``${...}`` is an error,
so that a typo (``${ENV:HOME}``) cannot pass silently as text.
"""

from __future__ import annotations

import os
import re

__all__ = ["interpolate"]

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_FORMS = "${env:NAME} or ${env:NAME,default}"


def interpolate(text: str) -> str:
    """Return ``text`` with every ``${env:...}`` replaced by the variable's value.

    Raises:
        ValueError: a variable without a default is not set, or a ``${`` that is not one
            of the two forms (the message says which and how to write it).
    """
    if "${" not in text:
        return text
    pieces: list[str] = []
    position = 0
    while True:
        start = text.find("${", position)
        if start < 0:
            pieces.append(text[position:])
            return "".join(pieces)
        if start > position and text[start - 1] == "$":  # `$${` is a literal `${`
            pieces.append(text[position : start - 1] + "${")
            position = start + 2
            continue
        pieces.append(text[position:start])
        end = text.find("}", start)
        if end < 0:
            msg = f"unclosed '${{' in {text!r}: write {_FORMS}, or $${{ for a literal '${{'"
            raise ValueError(msg)
        pieces.append(_value(text[start + 2 : end], text))
        position = end + 1


def _value(inside: str, text: str) -> str:
    kind, colon, rest = inside.partition(":")
    name, comma, default = rest.partition(",")
    name = name.strip()
    if kind != "env" or not colon or not _NAME.match(name):
        msg = (
            f"'${{{inside}}}' in {text!r} is not an interpolation cinnamon reads: only "
            f"{_FORMS} are (write $${{ for a literal '${{')"
        )
        raise ValueError(msg)
    value = os.environ.get(name)
    if value is not None:
        return value
    if comma:
        return default
    msg = (
        f"environment variable {name!r} is not set; set it, or give a default "
        f"with ${{env:{name},default}}"
    )
    raise ValueError(msg)
