"""Domain errors and the one place that turns any error into an RFC 9457 problem response."""

from __future__ import annotations

import json
import logging
import re
import traceback
from typing import Any

import asyncpg
import msgspec
from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    ValidationException,
)
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.utils.scope.state import ScopeState
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

logger = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"


class FieldProblem(msgspec.Struct):
    """One thing wrong with the input. A 400 `validation_error` names its `field`: the dotted path of
    the field (`metrics.0.weight`), a header's or parameter's name, or `body`. A 422 `import_invalid`
    names the sheet's `row`, its `column` when one is to blame, and a `code` per kind of mistake."""

    message: str
    field: str | msgspec.UnsetType = msgspec.UNSET
    row: int | msgspec.UnsetType = msgspec.UNSET
    column: str | msgspec.UnsetType | None = msgspec.UNSET
    code: str | msgspec.UnsetType = msgspec.UNSET


class Problem(msgspec.Struct):
    """Every error answer (RFC 9457, application/problem+json). `code` is the stable, machine-readable
    reason (snake_case) a client acts on; `errors` comes with 400 `validation_error` (each a field) and
    422 `import_invalid` (each a row)."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: list[FieldProblem] | msgspec.UnsetType = msgspec.UNSET


class DomainError(Exception):
    """A refusal with a meaning a client can act on; `code` is part of the public contract."""

    status_code = 409
    code = "conflict"
    title = "Conflict"

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extra = extra


class NotFound(DomainError):
    status_code = 404
    code = "not_found"
    title = "Not found"


class Forbidden(DomainError):
    status_code = 403
    code = "forbidden"
    title = "Forbidden"


class Unauthenticated(DomainError):
    status_code = 401
    code = "unauthenticated"
    title = "Authentication required"


class InvalidCredentials(DomainError):
    status_code = 401
    code = "invalid_credentials"
    title = "Wrong username or password"


class InvalidToken(DomainError):
    status_code = 401
    code = "invalid_token"
    title = "Token is not usable"


class AccountDisabled(DomainError):
    """Said only once the password proved right: a wrong one answers `invalid_credentials` as ever."""

    status_code = 403
    code = "account_disabled"
    title = "This account is switched off"


class PasswordChangeRequired(DomainError):
    status_code = 403
    code = "password_change_required"
    title = "Change the password first"


class WrongPassword(DomainError):
    status_code = 400
    code = "wrong_password"
    title = "The current password is wrong"


class MemberInactive(DomainError):
    code = "member_inactive"
    title = "This member is switched off"


class TooManyAttempts(DomainError):
    status_code = 429
    code = "too_many_attempts"
    title = "Too many failed attempts"

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Try again in {retry_after} seconds")
        self.retry_after = retry_after


class Conflict(DomainError):
    pass


class InvalidInput(DomainError):
    """Input that is well-formed but breaks a rule of the contract (400 validation_error)."""

    status_code = 400
    code = "validation_error"
    title = "Invalid input"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}", errors=[{"field": field, "message": message}])


class InsufficientPoints(DomainError):
    code = "insufficient_points"
    title = "Not enough points"


class CapReached(DomainError):
    code = "cap_reached"
    title = "Rule cap reached"


class AlreadyReversed(DomainError):
    code = "already_reversed"
    title = "Transaction already reversed"


class AlreadyAwarded(DomainError):
    code = "already_awarded"
    title = "This work has already earned its points"


class NotReversible(DomainError):
    code = "not_reversible"
    title = "Transaction cannot be reversed"


class IdempotencyKeyReused(DomainError):
    status_code = 422
    code = "idempotency_key_reused"
    title = "Idempotency-Key reused with a different request"


class IdempotencyInProgress(DomainError):
    code = "idempotency_in_progress"
    title = "A request with this Idempotency-Key is still running"


def problem_body(status: int, code: str, title: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": f"https://red-points.example/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        **extra,
    }


def problem(status: int, code: str, title: str, detail: str, **extra: Any) -> Response[dict[str, Any]]:
    return Response(
        problem_body(status, code, title, detail, **extra), status_code=status, media_type=PROBLEM_MEDIA_TYPE
    )


def database_unavailable() -> Response[dict[str, Any]]:
    response = problem(503, "unavailable", "Database unavailable", "The database connection was lost; retry")
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def domain_error_body(exc: DomainError) -> dict[str, Any]:
    return problem_body(exc.status_code, exc.code, exc.title, exc.detail, **exc.extra)


def domain_error_handler(_: Request, exc: DomainError) -> Response[dict[str, Any]]:
    response = problem(exc.status_code, exc.code, exc.title, exc.detail, **exc.extra)
    if isinstance(exc, TooManyAttempts):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


_MSGSPEC_PATH = re.compile(r"at `\$\.?([^`]*)`")


def _dotted(path: str) -> str:
    return re.sub(r"\[(\d+)\]", r".\1", path).strip(".")


_MISSING_FIELD = re.compile(r"missing required field `([^`]+)`")


def _field_error(path: str, message: str) -> dict[str, str]:
    """One `errors` item: the path made dotted (`a[0]` -> `a.0`), a missing field named in full."""
    field = _dotted(path)
    missing = _MISSING_FIELD.search(message)
    if missing:
        field = f"{field}.{missing.group(1)}".strip(".")
    return {"field": field or "body", "message": message}


def _validation_errors(exc: ValidationException) -> list[dict[str, str]]:
    errors: list[dict[str, str]] = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if not isinstance(item, dict):
            continue
        message = str(item.get("message", "invalid value"))
        match = _MSGSPEC_PATH.search(message)
        if match:
            path = match.group(1)
            message = message[: match.start()].rstrip(" -")
        else:
            path = str(item.get("key", ""))
        if path == "data" and item.get("source") == "body":
            # Litestar names the body after the handler's `data` argument; clients know it as the body.
            path = ""
            if message == "'data'":
                message = "a JSON object is required"
        errors.append(_field_error(path, message))
    if not errors:
        errors.append({"field": "body", "message": exc.detail or "invalid request"})
    return errors


# -- PostgreSQL away or starting ----------------------------------------------------------------------
# While PostgreSQL restarts, the service meets it in several shapes: a pooled connection the server
# closed (asyncpg's own errors when a driver statement ran on it, SQLAlchemy's `connection_invalidated`
# otherwise), a refused or missing socket while it is down (a bare `OSError` out of asyncpg's connect),
# and "the database system is starting up" (SQLSTATE 57P03, wrapped by SQLAlchemy without
# `connection_invalidated`, since no connection existed yet). All of them are an outage a retry
# outlives (503), never a bug (500). The pools replace dead connections themselves
# (database/dead_connections.py).

# What a client is told to wait before retrying; a restart of PostgreSQL takes about that long.
RETRY_AFTER_SECONDS = 2

_CONNECTION_LOST = (
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
)
# SQLSTATE class 08 (connection exception), 57P01-57P03 (shut down, crashed, starting up) and
# 53300 (too many connections: every backend still taken just after a restart).
_OUTAGE_SQLSTATES = ("08", "57P01", "57P02", "57P03", "53300")


def _from_the_driver(exc: BaseException) -> bool:
    """Whether an OSError was raised while connecting to PostgreSQL, not by a file or another server."""
    return any(
        frame.f_globals.get("__name__", "").startswith(("asyncpg", "sqlalchemy"))
        for frame, _ in traceback.walk_tb(exc.__traceback__)
    )


def _causes(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen and len(seen) < 8:
        seen.append(current)
        orig = current.orig if isinstance(current, DBAPIError) else None
        current = orig if isinstance(orig, BaseException) else current.__cause__ or current.__context__
    return seen


def database_unreachable(exc: BaseException) -> bool:
    """Whether `exc` says PostgreSQL is away, starting or dropped this connection: a retry will do."""
    for cause in _causes(exc):
        if isinstance(cause, DBAPIError) and cause.connection_invalidated:
            return True
        if isinstance(cause, (*_CONNECTION_LOST, PoolTimeout)):
            return True
        sqlstate: Any = getattr(cause, "sqlstate", None)
        if isinstance(sqlstate, str) and sqlstate.startswith(_OUTAGE_SQLSTATES):
            return True
        if isinstance(cause, OSError) and _from_the_driver(cause):
            return True
    return False


# PostgreSQL text cannot hold U+0000 (22021) nor characters outside the database encoding (22P05).
_UNSTORABLE_TEXT = {"22021", "22P05"}
_UNSTORABLE_MESSAGE = "contains a character that cannot be stored (U+0000)"


def _path_of_nul(value: Any, path: str = "") -> str | None:
    if isinstance(value, str):
        return path if "\x00" in value else None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        found = _path_of_nul(item, f"{path}.{key}".strip("."))
        if found is not None:
            return found
    return None


def _unstorable_text_field(request: Request) -> str:
    """Which input carried the unstorable character: a query parameter, a body field, else "body"."""
    try:
        for name, value in request.query_params.items():
            if "\x00" in name or "\x00" in value:
                return name
        body = ScopeState.from_scope(request.scope).body
        if isinstance(body, bytes) and body:
            return _path_of_nul(json.loads(body)) or "body"
    except Exception:  # noqa: S110 - locating the field is a courtesy; the answer stays a 400
        pass
    return "body"


def _sqlstate(exc: Exception) -> str | None:
    """PostgreSQL's error code, through SQLAlchemy or straight from asyncpg (database/driver.py)."""
    if isinstance(exc, DBAPIError):
        return getattr(exc.orig, "sqlstate", None)
    if isinstance(exc, asyncpg.PostgresError):
        return exc.sqlstate
    return None


def _out_of_range(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return False
        if isinstance(seen, OverflowError):
            return True
        # Raised by asyncpg before sending, about a value the request brought: never the database's fault.
        if isinstance(seen, asyncpg.DataError) and str(seen).startswith("invalid input for query argument"):
            return "out of range" in str(seen)
        seen = seen.__cause__ or seen.__context__
    return False


def http_exception_handler(request: Request, exc: Exception) -> Response[dict[str, Any]]:
    if _sqlstate(exc) in _UNSTORABLE_TEXT:
        field = _unstorable_text_field(request)
        return problem(
            400,
            "validation_error",
            "Invalid input",
            f"{field}: {_UNSTORABLE_MESSAGE}",
            errors=[{"field": field, "message": _UNSTORABLE_MESSAGE}],
        )
    if database_unreachable(exc):
        # PostgreSQL is restarting, starting up or dropped this connection; the pools replace dead
        # connections by themselves (database/dead_connections.py), so a retry works once it is back. An outage,
        # not a bug: one line in the log, no traceback.
        logger.warning("database unavailable (%s); answered 503", type(exc).__name__)
        return database_unavailable()
    if isinstance(exc, ValidationException):
        errors = _validation_errors(exc)
        return problem(400, "validation_error", "Invalid input", errors[0]["message"], errors=errors)
    if _out_of_range(exc):
        # Date arithmetic on a client's date near year 1 or 9999 (the day after 9999-12-31), or such a
        # moment handed to the database (asyncpg sends it in UTC, where 0001-01-01T00:00+14:00 falls in
        # year 0): the input is out of the range the service supports, not a fault of the service.
        message = "A date is out of the range the service supports"
        return problem(
            400, "validation_error", "Invalid input", message, errors=[{"field": "request", "message": message}]
        )
    if isinstance(exc, RecursionError) and "deserializing" in str(exc):
        message = "JSON is nested too deeply"
        return problem(
            400, "validation_error", "Invalid input", message, errors=[{"field": "body", "message": message}]
        )
    if isinstance(exc, NotAuthorizedException):
        return problem(401, "unauthenticated", "Authentication required", exc.detail)
    if isinstance(exc, HTTPException):
        status = exc.status_code
        code = {
            400: "validation_error",
            403: "forbidden",
            404: "not_found",
            405: "method_not_allowed",
            413: "payload_too_large",
            415: "unsupported_media_type",
            429: "too_many_requests",
            503: "unavailable",
        }.get(status, "error")
        if status == 400:
            return problem(400, code, "Invalid input", exc.detail, errors=[{"field": "body", "message": exc.detail}])
        response = problem(status, code, exc.detail, exc.detail)
        if status == 503:
            response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    logger.exception("unhandled error")
    return problem(HTTP_500_INTERNAL_SERVER_ERROR, "internal_error", "Internal error", "Something went wrong")


EXCEPTION_HANDLERS = {DomainError: domain_error_handler, Exception: http_exception_handler}
