"""The ceiling of bench/reads.py: a Litestar app with one handler that does nothing, served by the same
server with the same workers as the service. A read's rate divided by this one's is the share of the
app server's own ceiling that the read reaches on this machine, in this minute."""

from __future__ import annotations

from litestar import Litestar, get


@get("/noop", sync_to_thread=False)
def noop() -> dict[str, bool]:
    return {"ok": True}


app = Litestar(route_handlers=[noop], logging_config=None, debug=False)
