"""The layers are enforced: `make lint` runs import-linter's contracts (pyproject.toml), and an
import against the arrows fails it. Shown here on a copy of the code with one upward import added."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(tree: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tree,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def tree(tmp_path):
    """The apps and the contracts, copied: the tests change the copy, never the code."""
    for package in ("accounts", "departments", "issues", "config"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("*.pyc"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_code_keeps_every_contract(tree):
    result = lint_imports(tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_an_upward_import_between_apps_fails(tree):
    roles = tree / "accounts" / "roles.py"
    roles.write_text(roles.read_text() + "\nfrom issues.models import Issue  # noqa\n")
    result = lint_imports(tree)
    assert result.returncode != 0
    assert "accounts <- departments <- issues BROKEN" in result.stdout
    assert "accounts.roles -> issues.models" in result.stdout


def test_a_model_importing_a_service_fails(tree):
    models = tree / "issues" / "models" / "reports.py"
    models.write_text(models.read_text() + "\nfrom issues import services  # noqa\n")
    result = lint_imports(tree)
    assert result.returncode != 0
    assert "issues.models.reports -> issues.services" in result.stdout
