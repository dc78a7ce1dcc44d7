"""Rosters in and out: org units and members imported from a spreadsheet, and members exported in the
import's own columns, so a sheet can go out, be edited in Excel or WPS and come back in.

An import checks every row first and says, in Chinese, everything that is wrong with the file
(`ImportInvalid`, 422); only a file without an error is written, all of it in the request's one
transaction. A member is matched by phone within the tenant, a unit by name under its parent, so
importing the same file twice creates nothing the second time. Real runs of one tenant take a
transaction-scoped advisory lock, so a second upload of the same sheet waits for the first and then
finds its members; the unique (tenant, phone) constraint with ON CONFLICT DO NOTHING stays the last
word should anything else insert a member meanwhile.
"""

from __future__ import annotations

import functools
import re
import secrets
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio
from sqlalchemy import insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from points_service.auth.models import LoginAccount, UsernameLogin
from points_service.auth.passwords import hash_password
from points_service.auth.principal import Principal
from points_service.errors import DomainError, InvalidInput
from points_service.org.models import Member, OrgUnit
from points_service.org.names import pinyin_initials
from points_service.org.reach import Subtree
from points_service.org.service import OrgService
from points_service.org.sheets import Sheet, SheetRow

# Column names of the two sheets (the contract's, in Chinese as staff keep them).
NAME, PHONE, UNIT_PATH, PARTY, POSITION, USERNAME = "姓名", "手机号", "所属组织", "党员身份", "职务", "登录名"
MEMBER_COLUMNS = [NAME, PHONE, UNIT_PATH, PARTY, POSITION, USERNAME]
UNIT_NAME, UNIT_KIND, UNIT_PARENT = "名称", "类型", "上级"
UNIT_COLUMNS = [UNIT_NAME, UNIT_KIND, UNIT_PARENT]

PARTY_WORDS = {"群众": "none", "在职党员": "in_service", "退休党员": "retired", "流动党员": "mobile"}
PARTY_LABELS = {value: word for word, value in PARTY_WORDS.items()}
KIND_WORDS = {
    "区": "district",
    "街道": "street",
    "社区": "community",
    "小区": "area",
    "支部": "branch",
    "党小组": "group",
    "户": "household",
    "网格": "grid",
}
KIND_LABELS = {value: word for word, value in KIND_WORDS.items()}
PHONE_PATTERN = re.compile(r"^1\d{10}$")
USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9_.@-]{3,64}$")
# Letters and digits nobody misreads on a printed slip (no 0/O, 1/l/I).
PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # noqa: S105 (an alphabet, not a password)
TEMPORARY_PASSWORD_LENGTH = 10
BATCH = 1000
Progress = Callable[[int, int], Awaitable[None]]
NOBODY = object()
# A name held in another tenant: never this file's member.
ELSEWHERE = object()
# Argon2 hashes of new logins, a few at a time off the event loop.
HASHING_AT_ONCE = 4


MEMBER_INSERT_COLUMNS = ("id", "name", "phone", "org_unit_id", "party_status", "cadre_position", "pinyin_initials")
INSERT_MEMBERS = text(
    """
    INSERT INTO members (tenant_id, id, name, phone, org_unit_id, party_status, cadre_position, pinyin_initials)
    SELECT :tenant, * FROM unnest(CAST(:id AS uuid[]), CAST(:name AS text[]), CAST(:phone AS text[]),
                                  CAST(:org_unit_id AS uuid[]), CAST(:party_status AS text[]),
                                  CAST(:cadre_position AS text[]), CAST(:pinyin_initials AS text[]))
    ON CONFLICT (tenant_id, phone) DO NOTHING
    RETURNING id
    """
)
# What LedgerService.open_member_accounts opens for one member, for many at once.
OPEN_MEMBER_ACCOUNTS = text(
    """
    INSERT INTO ledger_accounts (tenant_id, id, kind, member_id, balance, entry_count, last_hash)
    SELECT :tenant, gen_random_uuid(), kind, member_id, 0, 0, ''
      FROM unnest(CAST(:members AS uuid[])) AS member_id
     CROSS JOIN (VALUES ('member_available'), ('member_held')) AS kinds(kind)
    """
)


class ImportInvalid(DomainError):
    status_code = 422
    code = "import_invalid"
    title = "The file has errors"


@dataclass(frozen=True, slots=True)
class RowError:
    row: int
    column: str | None
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class NewLogin:
    row: int
    username: str
    temporary_password: str
    name: str = ""
    member_id: uuid.UUID | None = None


@dataclass
class ImportOutcome:
    dry_run: bool
    rows: int
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    logins: list[NewLogin] | None = None


@dataclass
class _Errors:
    found: list[RowError] = field(default_factory=list)

    def add(self, row: int, column: str | None, code: str, message: str) -> None:
        self.found.append(RowError(row, column, code, message))

    def raise_any(self) -> None:
        if self.found:
            found = sorted(self.found, key=lambda error: error.row)
            raise ImportInvalid(
                f"{len(found)} 处错误，未导入任何内容 ({len(found)} errors, nothing was written)",
                errors=[{"row": e.row, "column": e.column, "code": e.code, "message": e.message} for e in found],
            )


def _split_path(value: str) -> list[str]:
    return [part.strip() for part in value.split("/") if part.strip()]


def _missing_columns(sheet: Sheet, required: Sequence[str], errors: _Errors) -> bool:
    missing = [column for column in required if column not in sheet.columns]
    for column in missing:
        errors.add(1, column, "required", f"缺少“{column}”列")
    return bool(missing)


def temporary_password() -> str:
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(TEMPORARY_PASSWORD_LENGTH))


@dataclass
class _Unit:
    id: uuid.UUID
    name: str
    kind: str
    path: str
    parent_id: uuid.UUID | None
    new: bool = False


class _Tree:
    """The units below one unit (or the whole tenant), by (parent, name): what a path names."""

    def __init__(self, root: _Unit | None, units: Iterable[_Unit]) -> None:
        self.root = root
        self.children: dict[tuple[uuid.UUID | None, str], _Unit] = {}
        for unit in units:
            self.children.setdefault((unit.parent_id, unit.name), unit)

    def find(self, names: Sequence[str]) -> _Unit | None:
        unit = self.root
        for name in names:
            unit = self.children.get((unit.id if unit else None, name))
            if unit is None:
                return None
        return unit

    def add(self, unit: _Unit) -> None:
        self.children[(unit.parent_id, unit.name)] = unit


class RosterImport:
    """The imports and the export of one caller, always inside their reach (OrgService)."""

    def __init__(
        self, session: AsyncSession, principal: Principal, org: OrgService, progress: Progress | None = None
    ) -> None:
        self._session = session
        self._principal = principal
        self._tenant_id = principal.tenant_id
        self._org = org
        # Told (rows written, rows to write) as a real import writes, for a job's progress line.
        self._progress = progress

    async def _written(self, done: int, total: int) -> None:
        if self._progress is not None:
            await self._progress(done, total)

    async def _lock(self) -> None:
        # One real import per tenant at a time: a second upload reads what the first wrote.
        await self._session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended('roster-import:' || :tenant, 0))"),
            {"tenant": str(self._tenant_id)},
        )

    async def _base_unit(self, org_unit_id: uuid.UUID | None, field_name: str) -> OrgUnit:
        if org_unit_id is None:
            if self._principal.org_unit_id is None:
                raise InvalidInput(field_name, "required")
            org_unit_id = self._principal.org_unit_id
        return await self._org.unit_in_reach(org_unit_id)

    async def _units_below(self, path: str) -> list[_Unit]:
        rows = await self._session.execute(
            select(OrgUnit.id, OrgUnit.name, OrgUnit.kind, OrgUnit.path, OrgUnit.parent_id)
            .where(OrgUnit.tenant_id == self._tenant_id, Subtree(path).clause(OrgUnit.path))
            .order_by(OrgUnit.created_at, OrgUnit.id)
        )
        return [_Unit(*row) for row in rows]

    # -- org units --------------------------------------------------------------------------------

    async def import_units(self, sheet: Sheet, parent_id: uuid.UUID | None, dry_run: bool) -> ImportOutcome:
        if not dry_run:
            await self._lock()
        if parent_id is None and self._principal.is_admin:
            root = None
            units = await self._units_below("/")
        else:
            base = await self._base_unit(parent_id, "parent_id")
            root = _Unit(base.id, base.name, base.kind, base.path, base.parent_id)
            units = [unit for unit in await self._units_below(base.path) if unit.id != base.id]
        tree = _Tree(root, units)
        errors = _Errors()
        outcome = ImportOutcome(dry_run, len(sheet.rows))
        created: list[_Unit] = []
        renamed: dict[uuid.UUID, str] = {}
        if _missing_columns(sheet, [UNIT_NAME, UNIT_KIND], errors):
            errors.raise_any()
        for row in sheet.rows:
            name, kind_word, parent_path = row.get(UNIT_NAME), row.get(UNIT_KIND), row.get(UNIT_PARENT)
            if not name:
                errors.add(row.number, UNIT_NAME, "required", "名称不能为空")
            elif len(name) > 100:
                errors.add(row.number, UNIT_NAME, "invalid_value", "名称不能超过 100 个字")
            kind = KIND_WORDS.get(kind_word) or (kind_word if kind_word in KIND_LABELS else None)
            if not kind_word:
                errors.add(row.number, UNIT_KIND, "required", "类型不能为空")
            elif kind is None:
                errors.add(
                    row.number, UNIT_KIND, "invalid_value", f"不认识的类型“{kind_word}”，可填：{'、'.join(KIND_WORDS)}"
                )
            parent = tree.find(_split_path(parent_path))
            if parent is None and (parent_path.strip("/ ") or root is not None):
                errors.add(row.number, UNIT_PARENT, "unknown_unit", f"找不到上级组织“{parent_path}”")
                continue
            if not name or len(name) > 100 or kind is None:
                continue
            known = tree.children.get((parent.id if parent else None, name))
            if known is None:
                unit_id = uuid.uuid4()
                unit = _Unit(
                    unit_id,
                    name,
                    kind,
                    f"{parent.path if parent else '/'}{unit_id.hex}/",
                    parent.id if parent else None,
                    new=True,
                )
                tree.add(unit)
                created.append(unit)
                outcome.created += 1
            elif known.kind != kind and not known.new:
                known.kind = kind
                renamed[known.id] = kind
                outcome.updated += 1
            else:
                known.kind = kind
                outcome.unchanged += 1
        errors.raise_any()
        if not dry_run:
            for first in range(0, len(created), BATCH):
                await self._written(first, len(created))
                await self._session.execute(
                    insert(OrgUnit),
                    [
                        {
                            "tenant_id": self._tenant_id,
                            "id": unit.id,
                            "name": unit.name,
                            "kind": unit.kind,
                            "parent_id": unit.parent_id,
                            "path": unit.path,
                        }
                        for unit in created[first : first + BATCH]
                    ],
                )
            if renamed:
                await self._session.execute(
                    update(OrgUnit),
                    [{"tenant_id": self._tenant_id, "id": unit_id, "kind": kind} for unit_id, kind in renamed.items()],
                )
        return outcome

    # -- members ----------------------------------------------------------------------------------

    async def import_members(
        self, sheet: Sheet, org_unit_id: uuid.UUID | None, dry_run: bool, create_logins: bool
    ) -> ImportOutcome:
        if not dry_run:
            await self._lock()
        base = await self._base_unit(org_unit_id, "org_unit_id")
        root = _Unit(base.id, base.name, base.kind, base.path, base.parent_id)
        tree = _Tree(root, [unit for unit in await self._units_below(base.path) if unit.id != base.id])
        reach = await self._org.reach()
        errors = _Errors()
        if _missing_columns(sheet, [NAME, PHONE], errors):
            errors.raise_any()

        phones = {row.get(PHONE) for row in sheet.rows}
        known = {
            row.phone: row
            for row in await self._session.execute(
                select(
                    Member.id,
                    Member.name,
                    Member.phone,
                    Member.org_unit_id,
                    Member.party_status,
                    Member.cadre_position,
                    OrgUnit.path,
                    LoginAccount.username,
                )
                .join(OrgUnit, (OrgUnit.tenant_id == Member.tenant_id) & (OrgUnit.id == Member.org_unit_id))
                .outerjoin(
                    LoginAccount,
                    (LoginAccount.tenant_id == Member.tenant_id) & (LoginAccount.member_id == Member.id),
                )
                .where(Member.tenant_id == self._tenant_id, Member.phone.in_(list(phones)))
            )
        }
        wanted_usernames = {row.get(USERNAME).lower() for row in sheet.rows if row.get(USERNAME)}
        if create_logins:
            wanted_usernames |= {phone.lower() for phone in phones if phone}
        holders = await self._username_holders(wanted_usernames)

        # Names repeat in a street (张伟, 王芳); pinyin is the slow part of checking a row.
        initials = functools.cache(pinyin_initials)
        seen_phones: dict[str, int] = {}
        seen_usernames: dict[str, int] = {}
        new_rows: list[dict[str, Any]] = []
        changes: list[dict[str, Any]] = []
        logins: list[tuple[SheetRow, str, uuid.UUID | None, str]] = []  # row, username, member id, name
        outcome = ImportOutcome(dry_run, len(sheet.rows))
        for row in sheet.rows:
            at = row.number
            name, phone, path = row.get(NAME), row.get(PHONE), row.get(UNIT_PATH)
            party_word, position, username = row.get(PARTY), row.get(POSITION) or None, row.get(USERNAME)
            bad = False
            if not name:
                errors.add(at, NAME, "required", "姓名不能为空")
                bad = True
            elif len(name) > 100:
                errors.add(at, NAME, "invalid_value", "姓名不能超过 100 个字")
                bad = True
            if not phone:
                errors.add(at, PHONE, "required", "手机号不能为空")
                bad = True
            elif not PHONE_PATTERN.match(phone):
                errors.add(at, PHONE, "invalid_phone", f"手机号“{phone}”不是 1 开头的 11 位数字")
                bad = True
            elif phone in seen_phones:
                errors.add(at, PHONE, "duplicate_in_file", f"手机号与第 {seen_phones[phone]} 行重复")
                bad = True
            else:
                seen_phones[phone] = at
            unit = tree.find(_split_path(path))
            if unit is None:
                errors.add(at, UNIT_PATH, "unknown_unit", f"找不到组织“{path}”")
                bad = True
            party = PARTY_WORDS.get(party_word) or (party_word if party_word in PARTY_LABELS else None)
            if not party_word:
                party = "none"
            elif party is None:
                errors.add(
                    at, PARTY, "invalid_value", f"不认识的党员身份“{party_word}”，可填：{'、'.join(PARTY_WORDS)}"
                )
                bad = True
            if position is not None and len(position) > 50:
                errors.add(at, POSITION, "invalid_value", "职务不能超过 50 个字")
                bad = True
            existing = known.get(phone)
            if existing is not None and not reach.covers(existing.path):
                errors.add(at, PHONE, "out_of_reach", "此手机号属于您管辖范围以外的成员")
                bad = True
            login_name = username or phone
            mine = existing.id if existing is not None else None
            if username and not USERNAME_PATTERN.match(username):
                errors.add(at, USERNAME, "invalid_value", "登录名须为 3 到 64 个字母、数字或 _ . @ -")
                bad = True
            elif username and username.lower() in seen_usernames:
                errors.add(at, USERNAME, "duplicate_in_file", f"登录名与第 {seen_usernames[username.lower()]} 行重复")
                bad = True
            elif username or (
                create_logins and PHONE_PATTERN.match(phone) and (existing is None or existing.username is None)
            ):
                # The sheet names this person's login (登录名), or a new login would take the phone as its name.
                seen_usernames[login_name.lower()] = at
                holder = holders.get(login_name.lower(), NOBODY)
                if holder is not NOBODY and (mine is None or holder != mine):
                    column = USERNAME if username else PHONE
                    errors.add(at, column, "conflict", f"登录名“{login_name}”已被其他账号使用")
                    bad = True
            if bad or unit is None or party is None:
                continue
            if existing is None:
                member_id = uuid.uuid4()
                new_rows.append(
                    {
                        "tenant_id": self._tenant_id,
                        "id": member_id,
                        "name": name,
                        "phone": phone,
                        "org_unit_id": unit.id,
                        "party_status": party,
                        "cadre_position": position,
                        "pinyin_initials": initials(name),
                    }
                )
                outcome.created += 1
                if create_logins:
                    logins.append((row, login_name, member_id, name))
            else:
                fields = {"name": name, "org_unit_id": unit.id, "party_status": party, "cadre_position": position}
                if any(getattr(existing, key) != value for key, value in fields.items()):
                    changes.append(
                        {
                            "tenant_id": self._tenant_id,
                            "id": existing.id,
                            **fields,
                            "pinyin_initials": initials(name),
                        }
                    )
                    outcome.updated += 1
                else:
                    outcome.unchanged += 1
                if create_logins and existing.username is None:
                    logins.append((row, login_name, existing.id, name))
        errors.raise_any()
        if dry_run:
            return outcome

        writes = len(new_rows) + len(changes)
        created_ids = await self._insert_members(new_rows, writes)
        # Rows another writer inserted meanwhile (ON CONFLICT DO NOTHING) count as unchanged, never twice.
        skipped = len(new_rows) - len(created_ids)
        outcome.created -= skipped
        outcome.unchanged += skipped
        for first in range(0, len(changes), BATCH):
            await self._written(len(new_rows) + first, writes)
            await self._session.execute(update(Member), changes[first : first + BATCH])
        if create_logins:
            new_ids = {row["id"] for row in new_rows}
            logins = [login for login in logins if login[2] not in new_ids or login[2] in created_ids]
            outcome.logins = await self._create_logins(logins)
        return outcome

    async def _insert_members(self, rows: list[dict[str, Any]], writes: int) -> set[uuid.UUID]:
        # Column arrays through unnest: one short statement per batch. SQLAlchemy's multi-row VALUES
        # costs about a second of compiling per 1,000 rows, and its executemany half of that.
        created: set[uuid.UUID] = set()
        for first in range(0, len(rows), BATCH):
            await self._written(first, writes)
            batch = rows[first : first + BATCH]
            inserted = list(
                await self._session.scalars(
                    INSERT_MEMBERS,
                    {
                        "tenant": self._tenant_id,
                        **{column: [row[column] for row in batch] for column in MEMBER_INSERT_COLUMNS},
                    },
                )
            )
            created.update(inserted)
            if inserted:
                await self._session.execute(OPEN_MEMBER_ACCOUNTS, {"tenant": self._tenant_id, "members": inserted})
        return created

    async def _username_holders(self, usernames: set[str]) -> dict[str, object]:
        """Who holds each name already: the member (None for staff) when this tenant, else ELSEWHERE."""
        names = list(
            await self._session.execute(
                select(UsernameLogin.username, UsernameLogin.tenant_id, UsernameLogin.account_id).where(
                    UsernameLogin.username.in_(list(usernames))
                )
            )
        )
        own = [account_id for _, tenant_id, account_id in names if tenant_id == self._tenant_id]
        members: dict[uuid.UUID, uuid.UUID | None] = {}
        if own:
            rows = await self._session.execute(
                select(LoginAccount.id, LoginAccount.member_id).where(
                    LoginAccount.tenant_id == self._tenant_id, LoginAccount.id.in_(own)
                )
            )
            members = {account_id: member_id for account_id, member_id in rows}
        return {
            username: members.get(account_id) if tenant_id == self._tenant_id else ELSEWHERE
            for username, tenant_id, account_id in names
        }

    async def _create_logins(self, wanted: list[tuple[SheetRow, str, uuid.UUID | None, str]]) -> list[NewLogin]:
        passwords = [temporary_password() for _ in wanted]
        hashes: list[str] = [""] * len(wanted)
        limiter = anyio.Semaphore(HASHING_AT_ONCE)

        async def hash_one(index: int) -> None:
            async with limiter:
                hashes[index] = await hash_password(passwords[index])

        async with anyio.create_task_group() as group:
            for index in range(len(wanted)):
                group.start_soon(hash_one, index)
        rows = [
            {
                "tenant_id": self._tenant_id,
                "id": uuid.uuid4(),
                "username": username,
                "password_hash": hashes[index],
                "role": "member",
                "member_id": member_id,
                "password_change_required": True,
            }
            for index, (_, username, member_id, _) in enumerate(wanted)
        ]
        names = [
            {"username": row["username"].lower(), "tenant_id": row["tenant_id"], "account_kind": "member"}
            | {"account_id": row["id"]}
            for row in rows
        ]
        for first in range(0, len(rows), BATCH):
            await self._session.execute(insert(LoginAccount), rows[first : first + BATCH])
            await self._session.execute(insert(UsernameLogin), names[first : first + BATCH])
        return [
            NewLogin(row.number, username, passwords[index], name, member_id)
            for index, (row, username, member_id, name) in enumerate(wanted)
        ]

    # -- export -----------------------------------------------------------------------------------

    async def export_members(self, org_unit_id: uuid.UUID | None) -> tuple[OrgUnit, list[list[object]]]:
        """Every member of the subtree in the member import's columns, `所属组织` relative to the unit."""
        base = await self._base_unit(org_unit_id, "org_unit_id")
        units = {unit.id: unit for unit in await self._units_below(base.path)}

        def relative(unit_id: uuid.UUID) -> str:
            names: list[str] = []
            unit = units[unit_id]
            while unit.id != base.id:
                names.append(unit.name)
                parent = units.get(unit.parent_id) if unit.parent_id else None
                if parent is None:
                    break
                unit = parent
            return "/".join(reversed(names))

        paths: dict[uuid.UUID, str] = {}
        rows = await self._session.execute(
            select(
                Member.name,
                Member.phone,
                Member.org_unit_id,
                Member.party_status,
                Member.cadre_position,
                LoginAccount.username,
            )
            .join(OrgUnit, (OrgUnit.tenant_id == Member.tenant_id) & (OrgUnit.id == Member.org_unit_id))
            .outerjoin(
                LoginAccount, (LoginAccount.tenant_id == Member.tenant_id) & (LoginAccount.member_id == Member.id)
            )
            .where(Member.tenant_id == self._tenant_id, Subtree(base.path).clause(OrgUnit.path))
            .order_by(OrgUnit.path, Member.created_at, Member.id)
        )
        table: list[list[object]] = []
        for name, phone, unit_id, party, position, username in rows:
            if unit_id not in paths:
                paths[unit_id] = relative(unit_id)
            table.append([name, phone, paths[unit_id], PARTY_LABELS[party], position or "", username or ""])
        return base, table


def member_template() -> tuple[list[str], list[list[object]]]:
    """The member sheet's header and one example row (a download for staff to fill in)."""
    return MEMBER_COLUMNS, [["张三", "13800138000", "幸福小区/1号楼党小组", "在职党员", "楼栋长", ""]]


def unit_template() -> tuple[list[str], list[list[object]]]:
    return UNIT_COLUMNS, [["幸福小区", "小区", ""], ["1号楼党小组", "党小组", "幸福小区"]]
