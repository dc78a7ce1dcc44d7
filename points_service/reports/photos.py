"""A problem report's photos (up to three), kept as files on disk: `<folder>/<tenant>/<report>/<n>.<ext>`
under the data folder by default (`POINTS_REPORT_PHOTOS_DIR` moves it).

Files are checked by their bytes, never by the name or type the browser claims: only JPEG, PNG and
WebP, at most 5 MiB each. They are read back only through `ReportService.visible` (the reporter;
staff who reach the report), so the store itself answers to nobody; a name it did not write is not
found. Photos are written after the report row, in the request that files it; if that transaction
then fails, the folder is left under a report id that does not exist and nobody can ever read it.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

from points_service.errors import DomainError, NotFound

MAX_PHOTOS = 3
MAX_PHOTO_BYTES = 5 * 1024 * 1024
MEDIA_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}
_NAME = re.compile(r"^[1-9]\.(jpg|png|webp)$")


class NotAnImage(DomainError):
    status_code = 400
    code = "not_an_image"
    title = "A photo must be a JPEG, PNG or WebP image"


class PhotoTooLarge(DomainError):
    status_code = 400
    code = "photo_too_large"
    title = "A photo may be at most 5 MiB"


class TooManyPhotos(DomainError):
    status_code = 400
    code = "too_many_photos"
    title = "A report has at most three photos"


def image_kind(data: bytes) -> str | None:
    """The image format by its first bytes (its magic number), or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def checked(photos: list[bytes], kept: int = 0) -> list[tuple[bytes, str]]:
    """Each photo with its format, or the refusal of the first that is not acceptable (`kept`: how many
    the report has already)."""
    if kept + len(photos) > MAX_PHOTOS:
        raise TooManyPhotos()
    kinds = []
    for data in photos:
        if len(data) > MAX_PHOTO_BYTES:
            raise PhotoTooLarge()
        kind = image_kind(data)
        if kind is None:
            raise NotAnImage()
        kinds.append((data, kind))
    return kinds


@dataclass(frozen=True)
class Photo:
    name: str
    media_type: str
    data: bytes


@dataclass(frozen=True)
class PhotoStore:
    root: Path

    def _folder(self, tenant_id: uuid.UUID, report_id: uuid.UUID) -> Path:
        return self.root / str(tenant_id) / str(report_id)

    async def save(self, tenant_id: uuid.UUID, report_id: uuid.UUID, photos: list[bytes]) -> list[str]:
        """Check and write photos after those the report has (the caller holds the report's row lock);
        the names of all of them."""
        kept = await self.names(tenant_id, report_id)
        kinds = checked(photos, len(kept))
        folder = self._folder(tenant_id, report_id)

        def write() -> list[str]:
            folder.mkdir(parents=True, exist_ok=True)
            names = list(kept)
            for number, (data, kind) in enumerate(kinds, start=len(kept) + 1):
                name = f"{number}.{kind}"
                (folder / name).write_bytes(data)
                names.append(name)
            return names

        return await asyncio.to_thread(write) if kinds else kept

    async def names(self, tenant_id: uuid.UUID, report_id: uuid.UUID) -> list[str]:
        folder = self._folder(tenant_id, report_id)

        def listed() -> list[str]:
            if not folder.is_dir():
                return []
            return sorted(path.name for path in folder.iterdir() if _NAME.match(path.name))

        return await asyncio.to_thread(listed)

    async def read(self, tenant_id: uuid.UUID, report_id: uuid.UUID, name: str) -> Photo:
        """One photo of a report the caller has already been allowed to see."""
        if not _NAME.match(name):
            raise NotFound(f"No such photo: {name}")
        path = self._folder(tenant_id, report_id) / name
        try:
            data = await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError as error:
            raise NotFound(f"No such photo: {name}") from error
        return Photo(name, MEDIA_TYPES[name.rsplit(".", 1)[1]], data)
