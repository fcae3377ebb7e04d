"""Developer tasks: `nox -s tests lint typing` (and `bench`, `demo`, `integrations`)."""

import nox

nox.options.sessions = ["tests", "lint", "typing"]
nox.options.default_venv_backend = "venv"

PYTHONS = ["3.10", "3.11", "3.12", "3.13"]


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """Run the test suite with branch coverage."""
    session.install("-e", ".[test]")
    session.run("pytest", "--cov=cinnamon", "--cov-report=term", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check over everything."""
    session.install("ruff>=0.6")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typing(session: nox.Session) -> None:
    """mypy --strict on the package, as Python 3.10 and as 3.13."""
    # tomli: mypy checks the Python 3.10 branch (python_version = "3.10"), which imports it
    # numpy: cinnamon.digits is typed against it
    session.install("-e", ".", "mypy>=1.10", "pyyaml>=6", "types-pyyaml", "tomli", "numpy")
    # Both ends of the supported range: the tomli branch is checked as 3.10, the
    # standard library's newer stubs (and unused ignores) as 3.13.
    for version in ("3.10", "3.13"):
        session.run(
            "mypy", "--strict", "--python-version", version, "cinnamon", "tests/typing_checks.py"
        )


@nox.session
def fuzz(session: nox.Session) -> None:
    """The property tests with a large budget, then the declarative loader for a set time.

    `nox -s fuzz` gives the loader 300 seconds after the properties; `nox -s fuzz -- 60`
    gives it 60. A failure prints the input that caused it: keep that input as a
    regression test (an @example on the property, or a plain test).
    """
    session.install("-e", ".[test]")
    seconds = session.posargs[0] if session.posargs else "300"
    session.run(
        "pytest",
        "-q",
        "-s",
        "--hypothesis-show-statistics",
        "tests/test_properties.py",
        "tests/test_safety.py",
        env={"HYPOTHESIS_PROFILE": "fuzz", "CINNAMON_FUZZ_SECONDS": seconds},
    )


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation site into docs/_build/html, with warnings as errors."""
    session.install("-e", ".[docs]")
    build = ["sphinx-build", "-W", "--keep-going", "-b", "html", "docs", "docs/_build/html"]
    session.run(*build, *session.posargs)


# The peers `benchmarks/bench_peers.py` compares against: installed in this session only,
# never runtime dependencies. (cinnamon-core 2.3.0 also imports as `cinnamon`, so the
# benchmark gives it a virtual environment of its own, cached under .bench-venvs/.)
BENCH_PEERS = ["hydra-core", "fiddle", "confection", "pluggy", "blinker"]


@nox.session
def bench(session: nox.Session) -> None:
    """Every benchmark in one run; each prints ratios against its own baseline."""
    session.install("-e", ".", *BENCH_PEERS)
    session.run("python", "benchmarks/run.py", *session.posargs)


@nox.session
def demo(session: nox.Session) -> None:
    """The README's main job."""
    session.install("-e", ".")
    session.run("python", "-m", "cinnamon")


# PyTorch's CPU wheel: a plain `torch` from the package index is a multi-gigabyte CUDA
# build. Pinned to the release whose CPU wheel the machines keep on disk.
TORCH = "torch==2.13.0"


@nox.session(python="3.11")
def integrations(session: nox.Session) -> None:
    """The framework adapters against the real frameworks, torch included.

    Keras runs in the normal test suite; Lightning and Hugging Face's Trainer need torch,
    too large for it, so their tests run here (elsewhere they are skipped, saying so).
    """
    session.install(TORCH)
    session.install("-e", ".[test,keras,lightning,huggingface,numpy]")
    tests = [
        "tests/test_integrations_lightning.py",
        "tests/test_integrations_huggingface.py",
        "tests/test_integrations_keras.py",
    ]
    session.run("pytest", "-q", "-rs", *tests, *session.posargs, env={"KERAS_BACKEND": "jax"})
