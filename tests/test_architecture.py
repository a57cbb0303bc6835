"""Which way imports point is a rule the build checks: the import-linter contracts in pyproject.toml hold,
and each kind of contract fails the check when a module breaks it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("market", "sellers", "ranking", "payments", "feedback")
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    # The tree's own packages come first on the path, before the installed (editable) project.
    env = os.environ | {"PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        check=False,
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_project_keeps_every_import_contract():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "source", "contract"),
    [
        ("sellers/_upward.py", "from market.app import asgi\n", "Layers:"),
        ("market/core/_reaches_out.py", "import sellers.catalog\n", "market.core is the leaf"),
        ("market/orders/_borrows.py", "from sellers.routes import SellerController\n", "routes of another"),
        ("ranking/_new_leaf.py", "from ranking import engine\n", None),  # imports only downward: kept
        ("ranking/_cycle.py", "from ranking import engine\n", "No import cycles"),
    ],
)
def test_a_module_that_breaks_a_contract_fails_the_check(tmp_path, module, source, contract):
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / module).write_text(source)
    if module == "ranking/_cycle.py":  # and the engine's own import of filters now imports the probe back
        filters = tmp_path / "ranking" / "filters.py"
        filters.write_text(filters.read_text() + "\nfrom ranking import _cycle  # noqa: E402,F401\n")

    result = lint_imports(tmp_path)

    if contract is None:
        assert result.returncode == 0, result.stdout + result.stderr
        return
    assert result.returncode != 0, result.stdout
    assert "0 broken" not in result.stdout, result.stdout
    _, _, report = result.stdout.partition("Broken contracts")
    assert contract in " ".join(report.split()), result.stdout  # the report wraps long names
    assert Path(module).stem in report  # and names the offending module
