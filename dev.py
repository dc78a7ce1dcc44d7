"""Developer entry point: `python3 dev.py serve` or `python3 dev.py test [pytest args]`.

Needs only Python 3.11+ and pip: it creates `.venv` in the repository, installs the project into it
(again only when pyproject.toml changed), then hands over to the service or to pytest.
Standard library only, because nothing else is installed yet when it first runs.
"""

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

# Checked before anything else so an old interpreter gets a sentence, not a traceback
# (ruff assumes 3.11 from pyproject.toml, which is exactly what this line cannot assume).
if sys.version_info < (3, 11):  # noqa: UP036
    sys.exit(
        "Red Points needs Python 3.11 or newer; this is Python {}.{}. "
        "Run it with a newer interpreter, for example: python3.11 dev.py serve".format(*sys.version_info[:2])
    )

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
EXE = ".exe" if os.name == "nt" else ""
PYTHON = BIN / f"python{EXE}"
# Touched after a successful install; an install that failed half-way leaves it stale, so it is retried.
STAMP = VENV / ".red-points-installed"

USAGE = """usage: python3 dev.py serve [args]   run the service (embedded PostgreSQL + Valkey unless
                                     DATABASE_URL / REDIS_URL are set)
       python3 dev.py test [args]    run the test suite (extra args go to pytest)"""


def ensure_venv() -> None:
    if PYTHON.exists():
        return
    print(f"dev.py: creating {VENV}", flush=True)
    created_dir = not VENV.exists()
    try:
        venv.create(VENV, with_pip=True)
    except subprocess.CalledProcessError:
        # A venv without pip would pass the check above next time and fail later, less clearly.
        if created_dir:
            shutil.rmtree(VENV, ignore_errors=True)
        # Debian and Ubuntu ship venv's pip bootstrap (ensurepip) as a separate package.
        sys.exit(
            "dev.py: could not create .venv (ensurepip failed); on Debian/Ubuntu run "
            "`sudo apt-get install python3-venv`, then try again"
        )


def ensure_installed() -> None:
    pyproject = ROOT / "pyproject.toml"
    if STAMP.exists() and STAMP.stat().st_mtime >= pyproject.stat().st_mtime:
        return
    print("dev.py: installing the project and its test tools into .venv", flush=True)
    # Editable, so code changes need no reinstall; only dependency changes (pyproject.toml) do.
    result = subprocess.run(  # noqa: S603 (fixed arguments, no shell)
        [str(PYTHON), "-m", "pip", "install", "--disable-pip-version-check", "-e", ".[test]"], cwd=ROOT
    )
    if result.returncode != 0:
        sys.exit(f"dev.py: pip install failed (exit {result.returncode})")
    STAMP.touch()


def run(argv: list[str]) -> None:
    # Run from the repository root so pytest finds its config and the embedded data lands in the
    # git-ignored .data/ folder whichever directory dev.py was started from.
    os.chdir(ROOT)
    if os.name == "nt":
        # os.exec* on Windows spawns a child and returns at once, which breaks Ctrl+C and exit codes.
        sys.exit(subprocess.run(argv).returncode)  # noqa: S603
    # Replace this process so signals (Ctrl+C, CI timeouts) reach the server or pytest directly.
    os.execv(argv[0], argv)  # noqa: S606 (our own venv's executables)


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in ("serve", "test"):
        sys.exit(USAGE)
    command, extra = sys.argv[1], sys.argv[2:]
    ensure_venv()
    ensure_installed()
    if command == "serve":
        run([str(BIN / f"points-service{EXE}"), "serve", *extra])
    else:
        # pytest's own fault handler is off again once the session ends; a crash while the
        # interpreter shuts down (one CI run ended in a segmentation fault after every test had
        # passed) should still print each thread's stack rather than a bare exit code 139.
        os.environ.setdefault("PYTHONFAULTHANDLER", "1")
        run([str(PYTHON), "-m", "pytest", *extra])


if __name__ == "__main__":
    main()
