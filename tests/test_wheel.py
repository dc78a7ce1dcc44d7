"""The package is whole: a wheel built from the project holds every template and static file of the
three pages, so a non-editable install serves them as a checkout does."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("points_service", "merchants", "admin")


def page_files() -> set[str]:
    return {
        path.relative_to(ROOT).as_posix()
        for package in PACKAGES
        for path in (ROOT / package).rglob("*")
        if path.is_file() and {"templates", "static"} & set(path.relative_to(ROOT).parts)
    }


def test_the_wheel_holds_every_template_and_static_file(tmp_path: Path) -> None:
    # Built from a copy, so the checkout gets no build/ folder; offline, with this environment's setuptools.
    source = tmp_path / "source"
    source.mkdir()
    shutil.copy(ROOT / "pyproject.toml", source)
    for package in PACKAGES:
        shutil.copytree(ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__"))
    build = [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation", "--no-index"]
    subprocess.run([*build, "-w", str(tmp_path), "-q"], check=True)  # noqa: S603 (this interpreter, fixed arguments)
    (wheel,) = tmp_path.glob("red_points-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        packed = set(archive.namelist())
    expected = page_files()
    assert {
        "points_service/mobile/templates/member/home.html",
        "points_service/web/templates/web/page.html",
        "merchants/web/templates/member/rewards.html",
        "admin/console/static/console.css",
    } <= expected
    assert expected - packed == set()
