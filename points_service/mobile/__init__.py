"""The member's mobile page at /member/: phone-first, served by the app, no build step."""

from pathlib import Path

TEMPLATE_DIRECTORY = Path(__file__).parent / "templates"
STATIC_DIRECTORY = Path(__file__).parent / "static"
