"""What anyone may see of a unit's published evaluations (公示): the board at /public/units/{id} for
the building's entrance, its JSON and the daily seal; and a member's own results (/me/evaluations and the
member page's screen)."""

from pathlib import Path

TEMPLATE_DIRECTORY = Path(__file__).parent / "templates"
