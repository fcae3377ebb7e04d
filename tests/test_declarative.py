from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path
from typing import Any

import declarative_fixtures as fx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cinnamon import Configuration, Registration, RegistrationKey, Registry
from cinnamon._core.resolve import registration_of
from cinnamon._files.declarative import check_allow, decode, load, loads
from cinnamon._files.formats import Document
from cinnamon.errors import CinnamonError, DeclarationError, UsageError

ALLOW = [fx.ROOT]
F = "declarative_fixtures"


def toml(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(toml(text), encoding="utf-8")
    return path


def fail(text: str, *, registry: Registry | None = None, **options: Any) -> DeclarationError:
    options.setdefault("allow", ALLOW)
    options.setdefault("source", "demo.toml")
    with pytest.raises(DeclarationError) as caught:
        loads(registry or Registry(), toml(text), **options)
    return caught.value


TRAINER = f"""
[registrations."demo:mlp"]
config = "{F}:MLPConfig"
fields = {{ hidden = 64 }}

[registrations."demo:loader"]
config = "{F}:LoaderConfig"

[registrations."demo:trainer[fast]"]
config = "{F}:TrainerConfig"
description = "the quick one"

[registrations."demo:trainer[fast]".fields]
epochs = 10
model = {{ "@ref" = "demo:mlp" }}
loader = {{ "@ref" = "demo:loader", "@shared" = true }}
optimizer = {{ "@config" = "{F}:SGDConfig", lr = 0.5 }}
callbacks = [
    {{ "@config" = "{F}:EarlyStopConfig", patience = 2 }},
    {{ "@ref" = "demo:stop" }},
]
weights = {{ "@@odd" = 1.0, plain = 2.0 }}
"""


# -- what a file declares -----------------------------------------------------------------


def test_a_file_declares_keys_classes_references_and_inline_configs() -> None:
    registry = Registry()
    keys = loads(registry, toml(TRAINER), allow=ALLOW)
    assert keys == [
        RegistrationKey("mlp", namespace="demo"),
        RegistrationKey("loader", namespace="demo"),
        RegistrationKey("trainer", {"fast"}, "demo"),
    ]
    entry = registry.get("demo:trainer[fast]")
    assert entry.component is fx.Trainer
    assert entry.description == "the quick one"
    config = entry.config
    assert isinstance(config, fx.TrainerConfig)
    assert config.epochs == 10
    assert config.model == RegistrationKey("mlp", namespace="demo")
    assert not config.model.shared
    assert config.loader == RegistrationKey("loader", namespace="demo")
    assert isinstance(config.loader, RegistrationKey)
    assert config.loader.shared
    assert config.optimizer == fx.SGDConfig(lr=0.5)
    assert config.callbacks == [fx.EarlyStopConfig(patience=2), RegistrationKey.parse("demo:stop")]
    assert config.weights == {"@odd": 1.0, "plain": 2.0}
    mlp = registry.get("demo:mlp")
    assert mlp.config == fx.MLPConfig(hidden=64)
    assert mlp.description == "A small network."  # the class's, by default


def test_a_string_is_never_a_reference() -> None:
    registry = Registry()
    loads(
        registry,
        f'[registrations.s]\nconfig = "{F}:Settings"\nfields = {{ text = "demo:mlp" }}\n',
        allow=ALLOW,
    )
    assert registry.get("s").config.text == "demo:mlp"


def test_component_defaults_to_the_class_and_can_be_named() -> None:
    registry = Registry()
    loads(
        registry,
        toml(f"""
        [registrations.plain]
        config = "{F}:MLPConfig"
        [registrations.wide]
        config = "{F}:MLPConfig"
        component = "{F}:WideMLP"
        """),
        allow=ALLOW,
    )
    assert registry.get("plain").component is fx.MLP
    assert registry.get("wide").component is fx.WideMLP
    assert isinstance(registry.build("wide"), fx.WideMLP)


def test_loaded_trees_resolve_and_build() -> None:
    registry = Registry()
    text = TRAINER + f'\n[registrations."demo:stop"]\nconfig = "{F}:EarlyStopConfig"\n'
    loads(registry, toml(text), allow=ALLOW)
    trainer = registry.build("demo:trainer[fast]", fx.Trainer)
    assert trainer.model.hidden == 64
    assert trainer.optimizer.lr == 0.5
    assert [c.patience for c in trainer.callbacks] == [2, 3]
    assert trainer.weights == {"@odd": 1.0, "plain": 2.0}


def test_aliases_and_registered_class_names() -> None:
    registry = Registry()
    registry.register(fx.MLPConfig, name="seed")
    text = """
    [registrations.a]
    config = "MLPConfig"
    component = "MLP"
    [registrations.b]
    config = "Optimizer"
    """
    loads(registry, toml(text), aliases={"Optimizer": fx.SGDConfig})
    assert type(registry.get("a").config) is fx.MLPConfig
    assert registry.get("a").component is fx.MLP
    assert type(registry.get("b").config) is fx.SGDConfig


def test_an_ambiguous_class_name_is_an_error_naming_the_candidates() -> None:
    class MLPConfig(Configuration):
        size: int = 1

    registry = Registry()
    registry.register(fx.MLPConfig, name="one")
    registry.register(MLPConfig, name="two")
    error = fail('[registrations.a]\nconfig = "MLPConfig"\n', registry=registry)
    assert "ambiguous" in error.reason
    assert f"'{F}:MLPConfig'" in error.reason
    assert "test_an_ambiguous_class_name" in error.reason
    assert error.line == 2
    assert error.path == "registrations.a.config"


def test_an_unknown_class_name_suggests_close_ones() -> None:
    error = fail('[registrations.a]\nconfig = "MLPConfg"\n', aliases={"MLPConfig": fx.MLPConfig})
    assert "unknown class name 'MLPConfg'; did you mean 'MLPConfig'?" in error.reason
    error = fail('[registrations.a]\nconfig = "mypkg.models.MLPConfig"\n')
    assert "'package.module:QualName'" in error.reason


def test_cinnamon_itself_is_always_allowed() -> None:
    registry = Registry()
    loads(registry, '[registrations.empty]\nconfig = "cinnamon:Configuration"\n')
    assert type(registry.get("empty").config) is Configuration


# -- safety -------------------------------------------------------------------------------


@pytest.fixture
def sneaky(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A package whose import leaves a mark on disk."""
    package = tmp_path / "sneaky"
    package.mkdir()
    flag = tmp_path / "imported.flag"
    (package / "__init__.py").write_text(
        f"from pathlib import Path\nPath({str(flag)!r}).write_text('ran')\nclass Thing: pass\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "sneaky", raising=False)
    return flag


@pytest.mark.parametrize("allow", [(), ("sneak",), ("sneaky_other",), ("sneakyx",)])
def test_an_import_outside_the_allowed_roots_is_refused_before_importing(
    sneaky: Path, allow: tuple[str, ...]
) -> None:
    error = fail('[registrations.a]\nconfig = "sneaky:Thing"\n', allow=allow)
    assert "refusing to import 'sneaky:Thing'" in error.reason
    assert error.line == 2
    assert "sneaky" not in sys.modules
    assert not sneaky.exists()


def test_an_allowed_import_happens_and_the_class_is_checked(sneaky: Path) -> None:
    error = fail('[registrations.a]\nconfig = "sneaky:Thing"\n', allow=["sneaky"])
    assert "not a Configuration class" in error.reason
    assert sneaky.read_text() == "ran"


def test_refusals_cover_inline_declarations_and_components(sneaky: Path) -> None:
    error = fail(f'[registrations.a]\nconfig = "{F}:MLPConfig"\ncomponent = "sneaky:Thing"\n')
    assert "refusing to import" in error.reason
    error = fail(
        f"""
        [registrations.a]
        config = "{F}:TrainerConfig"
        fields = {{ epochs = 1, model = {{ "@config" = "sneaky:Thing" }} }}
        """
    )
    assert "refusing to import" in error.reason
    assert error.path == 'registrations.a.fields.model."@config"'
    assert not sneaky.exists()


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("declarative_fixtures:Missing", "has no attribute 'Missing'"),
        ("declarative_fixtures.nope:Thing", "cannot import 'declarative_fixtures.nope'"),
        ("declarative_fixtures:", "malformed import path"),
        ("declarative_fixtures:NotAConfiguration", "not a Configuration class"),
        ("os.path:join", "refusing to import"),
        ("../evil:x", "malformed import path"),
    ],
)
def test_bad_import_paths(name: str, reason: str) -> None:
    error = fail(f'[registrations.a]\nconfig = "{name}"\n')
    assert reason in error.reason


def test_a_component_must_be_a_class() -> None:
    error = fail(f'[registrations.a]\nconfig = "{F}:MLPConfig"\ncomponent = "{F}:ROOT"\n')
    assert "a file names classes, not" in error.reason


def test_check_allow() -> None:
    assert check_allow(["a", "b.c"]) == ("cinnamon", "a", "b.c")
    with pytest.raises(UsageError, match="not the string"):
        check_allow("mypkg")
    with pytest.raises(UsageError, match="not a package name"):
        check_allow(["my-pkg"])
    with pytest.raises(UsageError, match="aliases must be a mapping"):
        loads(Registry(), "", aliases=[("a", 1)])  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="unknown format"):
        loads(Registry(), "", format="ini")  # type: ignore[arg-type]


# -- malformed files ----------------------------------------------------------------------


def test_toml_syntax_errors_name_the_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.toml", '[registrations.a]\nconfig = "x"\nfields = { a = }\n')
    with pytest.raises(DeclarationError) as caught:
        load(Registry(), path)
    error = caught.value
    assert error.file == str(path)
    assert error.line == 3
    assert error.reason.startswith("invalid TOML: Invalid value (column")
    assert str(error).startswith(f"{path}:3: invalid TOML")
    end = fail('[registrations.a]\nconfig = "unterminated\n')
    assert end.line == 2


def test_json_syntax_errors_name_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.json", '{\n  "registrations": {\n    "a": {,}\n  }\n}\n')
    with pytest.raises(DeclarationError) as caught:
        load(Registry(), path)
    assert caught.value.line == 3
    assert caught.value.reason.startswith("invalid JSON")


def test_yaml_syntax_errors_name_the_line(tmp_path: Path) -> None:
    pytest.importorskip("yaml")
    path = write(tmp_path, "bad.yaml", "registrations:\n  a:\n    config: [unclosed\n")
    with pytest.raises(DeclarationError) as caught:
        load(Registry(), path)
    assert caught.value.line is not None
    assert caught.value.line >= 3
    assert caught.value.reason.startswith("invalid YAML")


def test_duplicate_keys_in_json_and_yaml_are_errors() -> None:
    error = fail('{"registrations": {\n"a": {},\n"a": {}\n}}', format="json")
    assert "duplicate key 'a'" in error.reason
    assert error.line == 3
    pytest.importorskip("yaml")
    error = fail("registrations:\n  a: {}\n  a: {}\n", format="yaml")
    assert "duplicate key 'a'" in error.reason
    assert error.line == 3


def test_python_tags_in_yaml_are_refused_and_run_nothing(tmp_path: Path) -> None:
    pytest.importorskip("yaml")
    flag = tmp_path / "ran"
    text = (
        "registrations:\n"
        "  a:\n"
        f"    config: !!python/object/apply:pathlib.Path.touch [!!python/object/apply:pathlib.Path [{str(flag)!r}]]\n"
    )
    error = fail(text, format="yaml")
    assert "YAML tag '!!python/object/apply:pathlib.Path" in error.reason
    assert "safe" in error.reason
    assert error.line == 3
    assert not flag.exists()


def test_yaml_alias_bombs_are_refused() -> None:
    pytest.importorskip("yaml")
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 8)]
    error = fail("\n".join(lines) + "\n", format="yaml")
    assert "expands to more than" in error.reason


def test_yaml_without_pyyaml_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "yaml", None)
    error = fail("registrations: {}\n", format="yaml")
    assert "pip install 'cinnamon[yaml]'" in error.reason


def test_values_nested_too_deeply() -> None:
    deep = "[" * 5000 + "]" * 5000
    assert "nested too deeply" in fail(f"x = {deep}\n").reason
    # Python 3.13's JSON parser reads this depth without recursing, so the file fails
    # on its first wrong key instead; either way it is a DeclarationError, not a crash.
    error = fail(f'{{"x": {deep}}}', format="json")
    assert "nested too deeply" in error.reason or error.reason.startswith("unknown key 'x'")


@pytest.mark.parametrize(
    ("text", "reason", "path", "line"),
    [
        ('{"registrations": []}', "registrations must be a table", "registrations", 1),
        ("[1, 2]", "holds a table at the top, not a list", "", None),
        (
            '{"registration": {}}',
            "unknown key 'registration'; did you mean 'registrations'?",
            "registration",
            1,
        ),
        ('{"registrations": {"a": 3}}', "an entry must be a table", "registrations.a", 1),
        (
            '{"registrations": {"a": {"feilds": {}}}}',
            "did you mean 'fields'?",
            "registrations.a.feilds",
            1,
        ),
        (
            '{"registrations": {"a": {"config": 3}}}',
            "config must be a string",
            "registrations.a.config",
            1,
        ),
        (
            '{"registrations": {"a": {"fields": []}}}',
            "fields must be a table",
            "registrations.a.fields",
            1,
        ),
        ('{"registrations": {"a": {}}}', "names no configuration class", "registrations.a", 1),
        ('{"registrations": {"a b": {}}}', "malformed key 'a b'", 'registrations."a b"', 1),
        ('{"extends": 3}', "extends must be a file name or a list", "extends", 1),
        ('{"extends": [3]}', "extends lists file names", "extends[0]", 1),
    ],
)
def test_valid_syntax_but_the_wrong_shape(
    text: str, reason: str, path: str, line: int | None
) -> None:
    error = fail(text, format="json")
    assert reason in error.reason
    assert error.path == path
    assert error.line == line


def test_wrong_shape_in_toml_points_at_the_line() -> None:
    error = fail(
        """
        [registrations.a]
        config = "declarative_fixtures:MLPConfig"

        [registrations.b]
        config = "declarative_fixtures:MLPConfig"
        fields = "hidden = 3"
        """
    )
    assert error.line == 6
    assert error.path == "registrations.b.fields"


def test_an_empty_file_declares_nothing() -> None:
    assert loads(Registry(), "") == []
    assert loads(Registry(), "{}", format="json") == []


# -- values a configuration refuses ------------------------------------------------------


def test_an_unknown_field_suggests_near_matches_with_its_line() -> None:
    error = fail(
        f"""
        [registrations."demo:mlp"]
        config = "{F}:MLPConfig"

        [registrations."demo:mlp".fields]
        hidden = 3
        activaton = "tanh"
        """
    )
    assert error.reason == "unknown field 'activaton' of MLPConfig; did you mean 'activation'?"
    assert error.path == 'registrations."demo:mlp".fields.activaton'
    assert error.line == 6
    assert str(error) == f"demo.toml:6: {error.path}: {error.reason}"


def test_an_unknown_field_without_near_matches_lists_the_fields() -> None:
    error = fail(f'[registrations.a]\nconfig = "{F}:SGDConfig"\nfields = {{ zzz = 1 }}\n')
    assert "unknown field 'zzz' of SGDConfig (its fields: lr, momentum)" in error.reason


def test_errors_inside_nested_values_have_full_paths_and_lines() -> None:
    error = fail(
        f"""
        [registrations.t]
        config = "{F}:TrainerConfig"
        [registrations.t.fields]
        epochs = 1
        callbacks = [
            {{ "@config" = "{F}:EarlyStopConfig" }},
            {{ "@config" = "{F}:EarlyStopConfig", patiense = 3 }},
        ]
        """
    )
    assert error.path == "registrations.t.fields.callbacks[1].patiense"
    assert "did you mean 'patience'?" in error.reason
    assert error.line == 7


def test_plain_tables_for_configuration_fields_are_checked_too() -> None:
    error = fail(
        f"""
        [registrations.t]
        config = "{F}:TrainerConfig"
        [registrations.t.fields]
        epochs = 1
        model = {{ hiden = 3 }}
        """
    )
    assert error.path == "registrations.t.fields.model.hiden"
    assert "unknown field 'hiden' of MLPConfig; did you mean 'hidden'?" in error.reason


def test_a_wrong_value_reports_every_problem() -> None:
    error = fail(
        f"""
        [registrations.t]
        config = "{F}:TrainerConfig"
        [registrations.t.fields]
        epochs = 0
        model = 3
        """
    )
    assert error.path == "registrations.t.fields.epochs"
    assert "greater than or equal to 1 (got 0)" in error.reason
    assert (
        "registrations.t.fields.model: Input should be a valid dictionary or instance of MLPConfig"
        in error.reason
    )
    assert "RegistrationKey" not in error.reason  # the other branch of Ref[...] is noise
    assert "demo.toml:5:" in error.reason


def test_a_missing_required_field() -> None:
    error = fail(f'[registrations.t]\nconfig = "{F}:TrainerConfig"\n')
    assert error.path == "registrations.t.fields.epochs"
    assert "missing" in error.reason
    assert error.line == 1


def test_a_reference_to_a_configuration_the_field_refuses() -> None:
    error = fail(
        f"""
        [registrations.t]
        config = "{F}:TrainerConfig"
        fields = {{ epochs = 1, optimizer = {{ "@config" = "{F}:MLPConfig" }} }}
        """
    )
    assert error.path == "registrations.t.fields.optimizer"
    assert "instance of SGDConfig (got a MLPConfig)" in error.reason


@pytest.mark.parametrize(
    ("value", "reason", "path"),
    [
        ('{ "@reff" = "a" }', "unknown directive '@reff'; did you mean '@ref'?", 'x."@reff"'),
        ('{ "@shared" = true }', "@shared goes with @ref", 'x."@shared"'),
        ('{ "@component" = "x:y" }', "@component goes with @config", 'x."@component"'),
        ('{ "@ref" = "a", b = 1 }', "a reference takes only @ref and @shared, not b", "x"),
        ('{ "@ref" = 3 }', "@ref holds a key string", 'x."@ref"'),
        ('{ "@ref" = "a", "@shared" = "yes" }', "@shared is true or false", 'x."@shared"'),
        ('{ "@ref" = "not a key" }', "malformed key 'not a key'", 'x."@ref"'),
        ('{ "@config" = 3 }', "a class name must be a string", 'x."@config"'),
    ],
)
def test_directive_errors(value: str, reason: str, path: str) -> None:
    error = fail(
        f'[registrations.s]\nconfig = "{F}:Settings"\nfields = {{ anything = {{ x = {value} }} }}\n'
    )
    assert reason in error.reason
    assert error.path == f"registrations.s.fields.anything.{path}"
    assert error.line == 3


def test_directives_are_not_field_names() -> None:
    error = fail(f'[registrations.s]\nconfig = "{F}:Settings"\nfields = {{ "@ref" = "x" }}\n')
    assert "directives go inside field values" in error.reason


def test_an_inline_component_must_be_the_class_default() -> None:
    ok = f'{{ "@config" = "{F}:MLPConfig", "@component" = "{F}:MLP" }}'
    registry = Registry()
    loads(
        registry,
        f'[registrations.s]\nconfig = "{F}:Settings"\nfields = {{ child = {ok} }}\n',
        allow=ALLOW,
    )
    assert registry.get("s").config.child == fx.MLPConfig()
    wide = f'{{ "@config" = "{F}:MLPConfig", "@component" = "{F}:WideMLP" }}'
    error = fail(f'[registrations.s]\nconfig = "{F}:Settings"\nfields = {{ child = {wide} }}\n')
    assert "register it under a key and reference that" in error.reason


# -- registering ---------------------------------------------------------------------------


def test_two_spellings_of_one_key_in_a_file_are_an_error() -> None:
    error = fail(
        f"""
        [registrations."demo:x[a,b]"]
        config = "{F}:MLPConfig"
        [registrations."demo:x[b,a]"]
        config = "{F}:MLPConfig"
        """
    )
    assert "'demo:x[b,a]' is the same key as 'demo:x[a,b]' (line 1)" in error.reason
    assert error.line == 3


def test_a_key_already_registered_is_an_error_unless_replacing() -> None:
    registry = Registry()
    registry.register(fx.MLPConfig, name="a")
    error = fail(f'[registrations.a]\nconfig = "{F}:SGDConfig"\n', registry=registry)
    assert "'a' is already registered; pass replace=True" in error.reason
    assert error.line == 1
    loads(registry, f'[registrations.a]\nconfig = "{F}:SGDConfig"\n', allow=ALLOW, replace=True)
    assert type(registry.get("a").config) is fx.SGDConfig


@pytest.mark.parametrize(
    "broken",
    [
        'config = "declarative_fixtures:Nope"',
        'config = "declarative_fixtures:MLPConfig"\nfields = { hidden = 0 }',
        'config = "os:getcwd"',
        "config = ",
    ],
)
def test_loading_is_all_or_nothing(broken: str) -> None:
    registry = Registry()
    registry.register(fx.MLPConfig, name="kept")
    before = {key: registry.get(key) for key in registry}
    text = f'[registrations.one]\nconfig = "{F}:MLPConfig"\n[registrations.two]\nconfig = "{F}:SGDConfig"\n'
    with pytest.raises(DeclarationError):
        loads(registry, text + f"[registrations.broken]\n{broken}\n", allow=ALLOW)
    assert list(registry) == list(before)
    assert all(registry.get(key) is entry for key, entry in before.items())


def test_several_files_load_into_one_registry_and_refer_to_each_other(tmp_path: Path) -> None:
    models = write(
        tmp_path,
        "models.toml",
        f'[registrations."demo:mlp"]\nconfig = "{F}:MLPConfig"\nfields = {{ hidden = 8 }}\n',
    )
    trainers = write(
        tmp_path,
        "trainers.json",
        json.dumps(
            {
                "registrations": {
                    "demo:trainer": {
                        "config": f"{F}:TrainerConfig",
                        "fields": {"epochs": 2, "model": {"@ref": "demo:mlp"}},
                    }
                }
            }
        ),
    )
    registry = Registry()
    assert load(registry, trainers, allow=ALLOW) == [RegistrationKey("trainer", namespace="demo")]
    assert load(registry, models, allow=ALLOW) == [RegistrationKey("mlp", namespace="demo")]
    assert registry.resolve("demo:trainer").model == fx.MLPConfig(hidden=8)


def test_yaml_files_have_the_same_structure(tmp_path: Path) -> None:
    pytest.importorskip("yaml")
    path = write(
        tmp_path,
        "t.yml",
        f"""
        registrations:
          demo:trainer:
            config: {F}:TrainerConfig
            fields:
              epochs: 3
              model: {{"@ref": demo:mlp}}
              optimizer:
                "@config": {F}:SGDConfig
                lr: 0.25
        """,
    )
    registry = Registry()
    load(registry, path, allow=ALLOW)
    config = registry.get("demo:trainer").config
    assert config.optimizer == fx.SGDConfig(lr=0.25)
    assert config.model == RegistrationKey("mlp", namespace="demo")


def test_yaml_semantic_errors_use_the_node_lines() -> None:
    pytest.importorskip("yaml")
    error = fail(
        f"""
        registrations:
          a:
            config: {F}:MLPConfig
            fields:
              hidden: 4
              hiden: 5
        """,
        format="yaml",
    )
    assert error.line == 6
    assert error.path == "registrations.a.fields.hiden"


def test_json_semantic_errors_use_the_token_lines() -> None:
    text = json.dumps(
        {
            "registrations": {
                "a": {"config": f"{F}:MLPConfig", "fields": {"hidden": 4, "dropout": 5}}
            }
        },
        indent=2,
    )
    error = fail(text, format="json")
    assert error.path == "registrations.a.fields.dropout"
    assert text.splitlines()[error.line - 1].strip() == '"dropout": 5'  # type: ignore[operator]


def test_file_errors(tmp_path: Path) -> None:
    with pytest.raises(DeclarationError, match=r"unknown file type '\.ini'"):
        load(Registry(), tmp_path / "x.ini")
    with pytest.raises(DeclarationError, match="cannot read"):
        load(Registry(), tmp_path / "missing.toml")
    (tmp_path / "latin.toml").write_bytes(b'x = "\xe9"\n')
    with pytest.raises(DeclarationError, match="not UTF-8"):
        load(Registry(), tmp_path / "latin.toml")


# -- extends ------------------------------------------------------------------------------


def test_a_file_extends_another_and_overrides_it(tmp_path: Path) -> None:
    write(
        tmp_path,
        "base.toml",
        f"""
        [registrations."demo:mlp"]
        config = "{F}:MLPConfig"
        [registrations."demo:trainer"]
        config = "{F}:TrainerConfig"
        description = "base"
        [registrations."demo:trainer".fields]
        epochs = 10
        model = {{ "@config" = "{F}:MLPConfig", hidden = 4, activation = "tanh" }}
        optimizer = {{ "@config" = "{F}:SGDConfig", lr = 0.5, momentum = 0.9 }}
        callbacks = [{{ "@config" = "{F}:EarlyStopConfig" }}, {{ "@config" = "{F}:EarlyStopConfig" }}]
        weights = {{ a = 1.0, b = 2.0 }}
        """,
    )
    (tmp_path / "sub").mkdir()
    path = write(
        tmp_path / "sub",
        "fast.toml",
        f"""
        extends = "../base.toml"
        [registrations."demo:trainer".fields]
        epochs = 2
        model = {{ hidden = 8 }}
        optimizer = {{ "@ref" = "demo:sgd" }}
        callbacks = [{{ "@config" = "{F}:EarlyStopConfig", patience = 1 }}]
        weights = {{ b = 3.0 }}
        [registrations."demo:sgd"]
        config = "{F}:SGDConfig"
        """,
    )
    registry = Registry()
    keys = load(registry, path, allow=ALLOW)
    assert [str(key) for key in keys] == ["demo:mlp", "demo:trainer", "demo:sgd"]
    entry = registry.get("demo:trainer")
    assert entry.description == "base"
    config = entry.config
    assert config.epochs == 2
    assert config.model == fx.MLPConfig(hidden=8, activation="tanh")  # tables merge
    assert config.optimizer == RegistrationKey("sgd", namespace="demo")  # a reference replaces
    assert config.callbacks == [fx.EarlyStopConfig(patience=1)]  # lists replace
    assert config.weights == {"a": 1.0, "b": 3.0}


def test_an_inline_declaration_of_another_class_replaces_the_base_one(tmp_path: Path) -> None:
    write(
        tmp_path,
        "base.toml",
        f'[registrations.s]\nconfig = "{F}:Settings"\nfields = {{ anything = {{ "@config" = "{F}:MLPConfig", hidden = 3 }} }}\n',
    )
    path = write(
        tmp_path,
        "over.toml",
        f'extends = "base.toml"\n[registrations.s]\nfields = {{ anything = {{ "@config" = "{F}:SGDConfig" }} }}\n',
    )
    registry = Registry()
    load(registry, path, allow=ALLOW)
    assert registry.get("s").config.anything == fx.SGDConfig()


def test_several_bases_apply_in_order_and_each_once(tmp_path: Path) -> None:
    write(
        tmp_path,
        "root.toml",
        f'[registrations.a]\nconfig = "{F}:MLPConfig"\nfields = {{ hidden = 1, activation = "root" }}\n',
    )
    write(tmp_path, "left.toml", 'extends = "root.toml"\n[registrations.a.fields]\nhidden = 2\n')
    write(
        tmp_path,
        "right.json",
        '{"extends": ["root.toml"], "registrations": {"a": {"fields": {"activation": "right"}}}}',
    )
    path = write(tmp_path, "top.toml", 'extends = ["left.toml", "right.json"]\n')
    registry = Registry()
    load(registry, path, allow=ALLOW)
    # root is read once, before left: right's later copy of it does not undo left's hidden.
    assert registry.get("a").config == fx.MLPConfig(hidden=2, activation="right")


def test_extends_cycles_are_errors_naming_the_files(tmp_path: Path) -> None:
    write(tmp_path, "a.toml", 'extends = ["b.toml"]\n')
    (tmp_path / "b.toml").write_text('\nextends = ["a.toml"]\n')
    with pytest.raises(DeclarationError) as caught:
        load(Registry(), tmp_path / "a.toml")
    error = caught.value
    assert "extends cycle:" in error.reason
    assert "a.toml' -> '" in error.reason
    assert "b.toml' -> '" in error.reason
    assert error.file is not None
    assert error.file.endswith("b.toml")
    assert error.line == 2
    assert error.path == "extends[0]"


def test_a_file_extending_itself(tmp_path: Path) -> None:
    path = write(tmp_path, "a.toml", 'extends = "a.toml"\n')
    with pytest.raises(DeclarationError, match="extends cycle"):
        load(Registry(), path)


def test_a_missing_or_unknown_base(tmp_path: Path) -> None:
    path = write(tmp_path, "a.toml", 'extends = ["nope.toml"]\n')
    with pytest.raises(DeclarationError) as caught:
        load(Registry(), path)
    assert "cannot read" in caught.value.reason
    assert caught.value.file == str(path)
    assert caught.value.line == 1
    path = write(tmp_path, "b.toml", 'extends = ["base.ini"]\n')
    with pytest.raises(DeclarationError, match=r"unknown file type '\.ini'"):
        load(Registry(), path)


def test_errors_in_a_base_name_the_base(tmp_path: Path) -> None:
    base = write(
        tmp_path,
        "base.toml",
        f'[registrations.a]\nconfig = "{F}:MLPConfig"\n\n[registrations.a.fields]\nhidden = 0\n',
    )
    path = write(
        tmp_path, "top.toml", 'extends = "base.toml"\n[registrations.a.fields]\nactivation = "x"\n'
    )
    with pytest.raises(DeclarationError) as caught:
        load(Registry(), path, allow=ALLOW)
    assert caught.value.file == str(base)
    assert caught.value.line == 5
    broken = write(tmp_path, "broken.toml", "x = \n")
    path = write(tmp_path, "top2.toml", 'extends = "broken.toml"\n')
    with pytest.raises(DeclarationError) as caught:
        load(Registry(), path)
    assert caught.value.file == str(broken)


def test_loads_resolves_extends_from_its_source(tmp_path: Path) -> None:
    write(tmp_path, "base.toml", f'[registrations.a]\nconfig = "{F}:MLPConfig"\n')
    registry = Registry()
    loads(registry, 'extends = "base.toml"\n', source=tmp_path / "virtual.toml", allow=ALLOW)
    assert "a" in registry


# -- line numbers --------------------------------------------------------------------------


def test_toml_lines_survive_tricky_syntax() -> None:
    text = toml(
        '''
        # a comment with = and [brackets]
        title = """
        [registrations.fake]
        x = 1
        """
        [registrations."demo:a".fields]   # trailing comment
        list = [
            1,  # one
            { x = 1, "y.z" = 'q' },
            [2, 3],
        ]
        when = 1979-05-27 07:32:00Z
        dotted.key = "v"

        [[registrations."demo:a".fields.rows]]
        a = 1
        [[registrations."demo:a".fields.rows]]
        a = 2
        '''
    )
    document = Document(text, "toml", "t.toml", None)
    assert document.line_of(("title",)) == 2
    assert document.line_of(("x",)) is None
    fields = ("registrations", "demo:a", "fields")
    assert document.line_of(fields) == 6
    assert document.line_of((*fields, "list")) == 7
    assert document.line_of((*fields, "list", 1)) == 9
    assert document.line_of((*fields, "list", 1, "y.z")) == 9
    assert document.line_of((*fields, "list", 2, 1)) == 10
    assert document.line_of((*fields, "when")) == 12
    assert document.line_of((*fields, "dotted", "key")) == 13
    assert document.line_of((*fields, "rows", 1, "a")) == 18
    assert document.line_of((*fields, "nothing", "here")) == 6


def test_the_line_scanner_keeps_what_it_found_when_confused() -> None:
    document = Document('a = 1\nb = "x"\n', "toml", "t.toml", None)
    document.text = "a = 1\nb = ??? {\n"  # not what was parsed: the scanner gives up quietly
    assert document.line_of(("a",)) == 1


# -- decode, for overrides -----------------------------------------------------------------


def test_decode_turns_file_syntax_into_values() -> None:
    class Place:
        def fail(self, reason: str, parts: tuple[str | int, ...]) -> DeclarationError:
            return DeclarationError(reason, path=str(parts))

    assert decode({"@ref": "a", "@shared": True}, Place(), root="") == RegistrationKey("a")
    assert decode([{"@@k": 1}], Place(), root="") == [{"@k": 1}]
    assert decode(3, Place(), root="") == 3
    with pytest.raises(DeclarationError, match="refusing"):
        decode({"@config": "os:getcwd"}, Place(), root="")


# -- any input gives a result or a CinnamonError -----------------------------------------

_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 5), st.floats(allow_nan=False), st.text(max_size=5)
)
_keys = st.sampled_from(
    ["@ref", "@shared", "@config", "@component", "@@x", "hidden", "lr", "epochs", "model", "a"]
)
_values = st.recursive(
    _scalars | st.sampled_from([f"{F}:MLPConfig", "demo:mlp", "MLPConfig"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_keys, inner, max_size=3),
    max_leaves=10,
)
_entries = st.dictionaries(
    st.sampled_from(["config", "component", "fields", "description", "junk"]),
    st.sampled_from([f"{F}:MLPConfig", f"{F}:TrainerConfig", "MLPConfig", "os:getcwd"]) | _values,
    max_size=4,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(
        st.sampled_from(["registrations", "extends", "other"]),
        st.dictionaries(st.sampled_from(["a", "demo:b", "bad key", "c[x]"]), _entries, max_size=3)
        | _values,
        max_size=2,
    )
)
def test_any_document_loads_or_raises_a_cinnamon_error(document: dict[str, Any]) -> None:
    registry = Registry()
    registry.register(fx.MLPConfig, name="seed")
    before = list(registry)
    try:
        keys = loads(registry, json.dumps(document), format="json", allow=ALLOW, source="fuzz.json")
    except CinnamonError:
        assert list(registry) == before
    else:
        assert all(isinstance(registry.get(key), Registration) for key in keys)
        for key in keys:
            assert registration_of(registry.get(key).config) is None


def test_environment_variables_are_read_in_plain_entries_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The loader reads common entries by a quick pass; a string that interpolates must
    # still be interpolated there, in a field, in a list and in a nested table.
    from cinnamon import Configuration, Param

    class Holder(Configuration):
        name: str = ""
        names: list[str] = Param(default_factory=list)
        table: dict[str, str] = Param(default_factory=dict)

    monkeypatch.setenv("CINNAMON_TEST_WORD", "seven")
    registry = Registry()
    registry.loads(
        "[registrations.x]\n"
        'config = "Holder"\n'
        "[registrations.x.fields]\n"
        'name = "${env:CINNAMON_TEST_WORD}"\n'
        'names = ["a", "${env:CINNAMON_TEST_WORD}"]\n'
        'table = { k = "$${literal}" }\n',
        aliases={"Holder": Holder},
    )
    config = registry.get("x").config
    assert (config.name, config.names, config.table) == (
        "seven",
        ["a", "seven"],
        {"k": "${literal}"},
    )
