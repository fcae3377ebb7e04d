"""Developer tasks: `nox -s tests lint typing` (and `bench`, `demo`)."""

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
    """mypy --strict on the package."""
    session.install("-e", ".", "mypy>=1.10", "pyyaml>=6", "types-pyyaml")
    session.run("mypy", "--strict", "cinnamon", "tests/typing_checks.py")


@nox.session
def bench(session: nox.Session) -> None:
    """Every benchmark in one run; each prints ratios against its own baseline."""
    session.install("-e", ".")
    session.run("python", "benchmarks/run.py", *session.posargs)


@nox.session
def demo(session: nox.Session) -> None:
    """The README's main job."""
    session.install("-e", ".")
    session.run("python", "-m", "cinnamon")
