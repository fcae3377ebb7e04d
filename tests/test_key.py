from __future__ import annotations

import copy
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from cinnamon import RegistrationKey
from cinnamon.errors import CinnamonError, InvalidKeyError, UsageError

parts = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,10}", fullmatch=True)


def test_parts_and_defaults() -> None:
    key = RegistrationKey(name="m", tags={"a"}, namespace="n")
    assert (key.name, key.tags, key.namespace) == ("m", frozenset({"a"}), "n")
    plain = RegistrationKey("m")
    assert plain.namespace == "default"
    assert plain.tags == frozenset()


def test_equality_ignores_tag_order_and_sharing() -> None:
    first = RegistrationKey("m", ["a", "b"], "n")
    second = RegistrationKey("m", ("b", "a"), "n")
    assert first == second
    assert hash(first) == hash(second)
    assert first.with_shared() == first
    assert first.with_shared().shared
    assert not first.shared
    assert first != RegistrationKey("m", ["a"], "n")
    assert first != "n:m[a,b]"
    assert len({first, second, first.with_shared()}) == 1


def test_immutable() -> None:
    key = RegistrationKey("m")
    with pytest.raises(AttributeError, match="immutable"):
        key.name = "other"  # type: ignore[misc]
    with pytest.raises(AttributeError, match="immutable"):
        del key.name  # type: ignore[misc]


@pytest.mark.parametrize(
    ("key", "text"),
    [
        (RegistrationKey("m"), "m"),
        (RegistrationKey("m", {"b", "a"}), "m[a,b]"),
        (RegistrationKey("m", namespace="demo"), "demo:m"),
        (RegistrationKey("m.v2", {"x-1"}, "demo"), "demo:m.v2[x-1]"),
    ],
)
def test_string_form(key: RegistrationKey, text: str) -> None:
    assert str(key) == text
    assert RegistrationKey.parse(text) == key


@given(parts, st.frozensets(parts, max_size=4), parts)
def test_string_form_round_trips(name: str, tags: frozenset[str], namespace: str) -> None:
    key = RegistrationKey(name, tags, namespace)
    assert RegistrationKey.parse(str(key)) == key
    assert pickle.loads(pickle.dumps(key)) == key


@pytest.mark.parametrize(
    "text", ["", ":m", "m[", "m[]", "a:b:c", "m[a,]", "m [a]", "-m", "m[a b]", "ns:"]
)
def test_malformed_strings(text: str) -> None:
    with pytest.raises(InvalidKeyError, match="malformed key"):
        RegistrationKey.parse(text)


def test_invalid_parts() -> None:
    with pytest.raises(InvalidKeyError, match="invalid key name ''"):
        RegistrationKey("")
    with pytest.raises(InvalidKeyError, match="invalid key tag 'a b'"):
        RegistrationKey("m", {"a b"})
    with pytest.raises(InvalidKeyError, match="invalid key namespace 'x:y'"):
        RegistrationKey("m", namespace="x:y")
    with pytest.raises(UsageError, match="name must be a string, not int"):
        RegistrationKey(3)  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="not the string 'ab'"):
        RegistrationKey("m", "ab")
    with pytest.raises(UsageError, match="must be a str"):
        RegistrationKey.parse(None)  # type: ignore[arg-type]
    assert issubclass(InvalidKeyError, ValueError)
    assert issubclass(InvalidKeyError, CinnamonError)


def test_coerce() -> None:
    key = RegistrationKey("m", namespace="n")
    assert RegistrationKey.coerce(key) is key
    assert RegistrationKey.coerce("n:m") == key
    with pytest.raises(UsageError, match="got int"):
        RegistrationKey.coerce(5)  # type: ignore[arg-type]


def test_repr_and_order_and_copy() -> None:
    key = RegistrationKey("m", {"b", "a"}, "n", shared=True)
    assert repr(key) == "RegistrationKey(name='m', tags={'a', 'b'}, namespace='n', shared=True)"
    assert repr(RegistrationKey("m")) == "RegistrationKey(name='m')"
    assert sorted(
        [RegistrationKey("b"), RegistrationKey("a", namespace="z"), RegistrationKey("a")]
    ) == [
        RegistrationKey("a"),
        RegistrationKey("b"),
        RegistrationKey("a", namespace="z"),
    ]
    assert copy.copy(key) is key
    assert copy.deepcopy(key) is key
    assert pickle.loads(pickle.dumps(key)).shared


def test_pydantic_field() -> None:
    class Holder(BaseModel):
        key: RegistrationKey

    assert Holder(key="n:m[t]").key == RegistrationKey("m", {"t"}, "n")
    assert Holder(key=RegistrationKey("m")).model_dump() == {"key": "m"}
    assert Holder.model_validate_json('{"key": "n:m"}').key == RegistrationKey("m", namespace="n")
    with pytest.raises(ValueError, match="malformed key"):
        Holder(key="a:b:c")
    with pytest.raises(ValueError, match="expected a RegistrationKey, got int"):
        Holder(key=3)
    schema = Holder.model_json_schema()["properties"]["key"]
    assert schema["type"] == "string"


@given(st.text(max_size=30))
def test_any_text_parses_or_raises_invalid_key_error(text: str) -> None:
    try:
        key = RegistrationKey.parse(text)
    except InvalidKeyError:
        return
    assert str(key) == str(RegistrationKey.parse(str(key)))
