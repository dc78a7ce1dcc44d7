"""The staff console at /admin/: server-rendered pages over the staff services."""

from pathlib import Path

TEMPLATE_DIRECTORY = Path(__file__).parent / "templates"
STATIC_DIRECTORY = Path(__file__).parent / "static"
