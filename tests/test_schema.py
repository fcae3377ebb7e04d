from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

import declarative_fixtures as fx
import pytest

from cinnamon import Configuration, RegistrationKey, Registry
from cinnamon._files.declarative import loads
from cinnamon._files.schema import json_schema
from cinnamon.errors import UsageError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

F = "declarative_fixtures"

FILE = f"""
"$schema" = "./schema.json"
extends = ["base.toml"]

[registrations."demo:mlp"]
config = "MLPConfig"
fields = {{ hidden = 64 }}

[registrations."demo:trainer[fast]"]
config = "{F}:TrainerConfig"
component = "{F}:Trainer"
description = "fast"

[registrations."demo:trainer[fast]".fields]
epochs = 10
model = {{ "@ref" = "demo:mlp" }}
loader = {{ "@ref" = "demo:loader", "@shared" = true }}
optimizer = {{ "@config" = "{F}:SGDConfig", lr = 0.5 }}
callbacks = [{{ "@config" = "{F}:EarlyStopConfig", patience = 2 }}, {{ "@ref" = "demo:stop" }}]
weights = {{ a = 1.0 }}

[registrations.partial]
config = "{F}:TrainerConfig"
"""


def registry() -> Registry:
    registry = Registry()
    registry.register(fx.MLPConfig, name="mlp")
    registry.register(fx.TrainerConfig(epochs=1), name="trainer")
    return registry


def test_the_structure_of_the_schema() -> None:
    schema = json_schema(registry())
    json.dumps(schema)  # plain JSON all through
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert set(schema["properties"]) == {"$schema", "extends", "registrations"}
    assert schema["additionalProperties"] is False
    registrations = schema["properties"]["registrations"]
    assert registrations["additionalProperties"] == {"$ref": "#/$defs/cinnamon.Entry"}
    defs = schema["$defs"]
    entry = defs["cinnamon.Entry"]
    assert set(entry["properties"]) == {"config", "component", "description", "fields"}
    rules = {
        tuple(rule["if"]["properties"]["config"]["enum"]): rule["then"] for rule in entry["allOf"]
    }
    assert rules[("MLPConfig", f"{F}:MLPConfig")] == {
        "properties": {"fields": {"$ref": "#/$defs/MLPConfig.fields"}}
    }
    hidden = defs["MLPConfig.fields"]["properties"]["hidden"]["anyOf"]
    assert hidden[0] == defs["MLPConfig"]["properties"]["hidden"]
    assert hidden[1]["properties"]["@variants"] == {"type": "array", "items": hidden[0]}
    assert ("TrainerConfig", f"{F}:TrainerConfig") in rules
    trainer = defs["TrainerConfig"]
    assert "required" not in trainer  # an extending file may leave fields to its base
    assert {"$ref": "#/$defs/cinnamon.Reference"} in trainer["properties"]["model"]["anyOf"]
    reference = defs["cinnamon.Reference"]
    assert reference["required"] == ["@ref"]
    # nested classes, known only through fields, are named by import path
    assert defs["SGDConfig"]["properties"]["@config"] == {"enum": [f"{F}:SGDConfig"]}
    assert defs["MLPConfig"]["properties"]["@config"] == {"enum": ["MLPConfig", f"{F}:MLPConfig"]}


def test_classes_and_aliases() -> None:
    schema = json_schema([fx.SGDConfig], aliases={"Optimizer": fx.SGDConfig})
    names = schema["$defs"]["cinnamon.Entry"]["allOf"][0]["if"]["properties"]["config"]["enum"]
    assert names == ["Optimizer", "SGDConfig", f"{F}:SGDConfig"]
    empty = json_schema([])
    assert "allOf" not in empty["$defs"]["cinnamon.Entry"]
    with pytest.raises(UsageError, match="takes configuration classes"):
        json_schema([int])  # type: ignore[list-item]


def test_ambiguous_names_and_local_classes() -> None:
    class MLPConfig(Configuration):
        size: int = 1

    class Odd(Configuration):
        run: Callable[[], int] = print  # not describable in JSON: any value
        key: RegistrationKey = RegistrationKey("x")

    schema = json_schema([fx.MLPConfig, MLPConfig, Odd])
    names = [
        rule["if"]["properties"]["config"]["enum"]
        for rule in schema["$defs"]["cinnamon.Entry"]["allOf"]
    ]
    assert [f"{F}:MLPConfig"] in names  # "MLPConfig" alone would be ambiguous
    assert ["Odd"] in names  # no import path for a local class
    odd = next(d for n, d in schema["$defs"].items() if n.endswith("Odd"))
    assert odd["properties"]["run"].get("type") is None
    assert odd["properties"]["key"] == {"$ref": "#/$defs/cinnamon.Reference"}


def test_a_real_file_validates() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json_schema(registry())
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    document = tomllib.loads(FILE)
    assert list(validator.iter_errors(document)) == []


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (
            lambda d: d["registrations"]["demo:mlp"]["fields"].update(hiden=3),
            ["registrations", "demo:mlp", "fields"],
        ),
        (
            lambda d: d["registrations"]["demo:mlp"]["fields"].update(hidden="many"),
            ["registrations", "demo:mlp", "fields", "hidden"],
        ),
        (
            lambda d: d["registrations"]["demo:trainer[fast]"]["fields"].update(
                model={"@ref": "a", "x": 1}
            ),
            ["registrations", "demo:trainer[fast]", "fields", "model"],
        ),
        (
            lambda d: d["registrations"]["demo:trainer[fast]"]["fields"].update(
                model={"@ref": "bad key"}
            ),
            ["registrations", "demo:trainer[fast]", "fields", "model"],
        ),
        (lambda d: d["registrations"]["demo:mlp"].update(feilds={}), ["registrations", "demo:mlp"]),
        (lambda d: d.update(registration={}), []),
        (lambda d: d["registrations"].update({"bad key": {}}), ["registrations"]),
    ],
)
def test_mistakes_are_flagged(change: Any, where: list[str]) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(json_schema(registry()))
    document = tomllib.loads(FILE)
    change(document)
    errors = list(validator.iter_errors(document))
    assert errors
    assert any(list(error.absolute_path) == where for error in errors)


def test_the_schema_agrees_with_the_loader_on_a_loaded_file() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    target = registry()
    text = FILE.split("[registrations.partial]", maxsplit=1)[0].replace(
        'extends = ["base.toml"]\n', ""
    )
    loads(target, text.replace('"$schema" = "./schema.json"\n', ""), allow=[F], replace=True)
    validator = jsonschema.Draft202012Validator(json_schema(target))
    assert list(validator.iter_errors(tomllib.loads(text))) == []


def test_variants_at_the_top_of_fields_validate() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(json_schema(registry()))
    document = tomllib.loads(FILE)
    fields = document["registrations"]["demo:mlp"]["fields"]
    fields["hidden"] = {"@variants": [16, 32, 64]}
    assert list(validator.iter_errors(document)) == []
    fields["hidden"] = {"@variants": [16, "many"]}
    errors = list(validator.iter_errors(document))
    assert errors
    assert list(errors[0].absolute_path)[:4] == ["registrations", "demo:mlp", "fields", "hidden"]
