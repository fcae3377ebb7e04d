"""Hypothesis profiles: the normal suite stays quick; ``nox -s fuzz`` loads ``fuzz``."""

import os

import pytest
from hypothesis import HealthCheck, settings

from cinnamon._core.resolve import _Resolver

settings.register_profile(
    "fuzz",
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


# -- both forms of the tree walk ---------------------------------------------------------
#
# The resolver recurses while a branch is shallow and hands deeper branches to generators
# (cinnamon._core.resolve). Every test in these modules runs twice: as users run it, and
# with every branch handed to the generators from the root, so the two forms cannot drift.
TREE_MODULES = {
    "test_registry",
    "test_build_independence",
    "test_conditions",
    "test_variants",
    "test_overrides",
    "test_configuration",
    "test_component",
    "test_pipeline",
}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if metafunc.module.__name__.rpartition(".")[2] in TREE_MODULES:
        metafunc.fixturenames.append("walk_form")
        metafunc.parametrize("walk_form", ["recursive", "generators"], indirect=True)


@pytest.fixture
def walk_form(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "generators":
        monkeypatch.setattr(_Resolver, "deep", -1)
    return str(request.param)
