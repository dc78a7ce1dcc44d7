from __future__ import annotations

import uuid
from dataclasses import dataclass

import msgspec
from litestar.datastructures import UploadFile

from points_service.org.imports import ImportOutcome


@dataclass
class UnitImportForm:
    file: UploadFile
    parent_id: uuid.UUID | None = None
    dry_run: bool = True


@dataclass
class MemberImportForm:
    file: UploadFile
    org_unit_id: uuid.UUID | None = None
    dry_run: bool = True
    create_logins: bool = False


class ImportRowError(msgspec.Struct):
    row: int
    column: str | None
    code: str
    message: str


class ImportedLogin(msgspec.Struct):
    row: int
    username: str
    temporary_password: str


class ImportAnswer(msgspec.Struct):
    dry_run: bool
    rows: int
    created: int
    updated: int
    unchanged: int
    errors: list[ImportRowError]
    logins: list[ImportedLogin] | msgspec.UnsetType = msgspec.UNSET


def import_answer(outcome: ImportOutcome) -> ImportAnswer:
    logins: list[ImportedLogin] | msgspec.UnsetType = msgspec.UNSET
    if outcome.logins is not None:
        logins = [ImportedLogin(login.row, login.username, login.temporary_password) for login in outcome.logins]
    return ImportAnswer(outcome.dry_run, outcome.rows, outcome.created, outcome.updated, outcome.unchanged, [], logins)
