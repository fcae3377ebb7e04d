from __future__ import annotations

import pickle
import subprocess
import sys
import types

import pytest

import cinnamon
from cinnamon import RegistrationKey, Registry, errors


def test_all_matches_the_public_names() -> None:
    for name in cinnamon.__all__:  # the names are imported on first use: use them all
        getattr(cinnamon, name)
    public = {
        name
        for name, value in vars(cinnamon).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert set(cinnamon.__all__) - {"__version__"} == public
    assert cinnamon.__all__ == sorted(cinnamon.__all__)
    assert isinstance(cinnamon.__version__, str)
    assert set(cinnamon.__all__) <= set(dir(cinnamon))


def test_import_cinnamon_stays_light() -> None:
    # `import cinnamon` (and so `cinnamon --help`) must not pay for pydantic up front.
    code = "import sys, cinnamon; print(sorted(m for m in sys.modules if 'pydantic' in m))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_a_refused_value_from_a_file_or_override_is_a_configuration_error() -> None:
    error = errors.InvalidValueError("bad", file="f.toml", line=3, path="a.b")
    assert isinstance(error, errors.ConfigurationError)
    assert isinstance(error, errors.DeclarationError)
    assert error.errors == (("a.b", "bad"),)
    assert str(error) == "f.toml:3: a.b: bad"
    assert pickle.loads(pickle.dumps(error)).errors == error.errors


def test_every_error_is_a_cinnamon_error_and_its_builtin() -> None:
    expected = {
        errors.NotFoundError: LookupError,
        errors.NotRegisteredError: LookupError,
        errors.AlreadyRegisteredError: ValueError,
        errors.InvalidKeyError: ValueError,
        errors.CycleError: ValueError,
        errors.ConfigurationError: ValueError,
        errors.ConditionError: ValueError,
        errors.StateError: ValueError,
        errors.StateMismatchError: ValueError,
        errors.DeclarationError: ValueError,
        errors.InvalidValueError: ValueError,
        errors.HookpointError: ValueError,
        errors.UsageError: TypeError,
    }
    assert set(expected) | {errors.CinnamonError} == {
        getattr(errors, name) for name in errors.__all__
    }
    for error, builtin in expected.items():
        assert issubclass(error, errors.CinnamonError)
        assert issubclass(error, builtin)


@pytest.mark.parametrize(
    "error",
    [
        errors.NotRegisteredError(
            RegistrationKey("x"), path="a.b", suggestions=[RegistrationKey("y")]
        ),
        errors.AlreadyRegisteredError(RegistrationKey("x")),
        errors.CycleError([RegistrationKey("a"), RegistrationKey("a")]),
        errors.ConfigurationError([("a.b", "bad")]),
        errors.ConditionError("trainer", "features match", "8 != 3"),
        errors.DeclarationError("bad", file="f.toml", line=3, path="x"),
        errors.UsageError("misuse"),
    ],
)
def test_errors_survive_pickling(error: errors.CinnamonError) -> None:
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert str(copy) == str(error)
    assert vars(copy) == vars(error)


def test_typing_checks_stay_importable() -> None:
    from tests import typing_checks

    registry = Registry()
    registry.register(typing_checks.EngineConfig(), name="engine")
    typing_checks.check_build(registry)
    typing_checks.check_guard()
