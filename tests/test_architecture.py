"""The house's shape: the import contracts in pyproject.toml hold (and would catch a wrong import),
each package's tables reach the schema through its plugin, and the plugins' commands reach the CLI."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner
from importlinter.cli import lint_imports

from points_service.app import model_modules, schema
from points_service.cli import main

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("points_service", "merchants", "admin")


def test_the_import_contracts_hold() -> None:
    assert lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True, no_logo=True) == 0


def test_a_wrong_import_breaks_a_contract(tmp_path: Path) -> None:
    """The contracts run over a copy in which merchants imports admin: the linter must refuse it."""
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    with (tmp_path / "merchants" / "errors.py").open("a") as errors:
        errors.write("\nfrom admin.routes import admin_router  # noqa: E402, F401\n")
    check = subprocess.run(
        [
            sys.executable,
            "-c",
            "from importlinter.cli import lint_imports; raise SystemExit(lint_imports(no_cache=True))",
        ],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 1, check.stdout + check.stderr
    assert "merchants and admin never import each other BROKEN" in check.stdout


def test_every_models_module_is_brought_by_the_core_or_a_plugin() -> None:
    declared = {module.__name__ for module in model_modules()}
    on_disk = {
        ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for package in PACKAGES
        for path in (ROOT / package).rglob("models.py")
    }
    assert on_disk == declared
    assert len(schema().tables) > len(on_disk)


def test_the_plugins_bring_their_commands() -> None:
    listed = CliRunner().invoke(main, ["--help"]).output
    assert "sweep" in listed  # merchants
    assert "warnings" in listed  # admin
    assert "run" in CliRunner().invoke(main, ["warnings", "--help"]).output
