"""The merchant web page (/merchant/): server-rendered Jinja templates and a little plain JavaScript,
no build step and nothing fetched from elsewhere."""

from pathlib import Path

TEMPLATE_DIRECTORY = Path(__file__).parent / "templates"
STATIC_DIRECTORY = Path(__file__).parent / "static"
