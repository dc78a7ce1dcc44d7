"""How people's names are searched and shown to others."""

from __future__ import annotations

from pypinyin import Style, lazy_pinyin


def pinyin_initials(name: str) -> str:
    """张三 -> "zs": what staff type to find someone (pinyin initials, as staff search on paper lists)."""
    return "".join(syllable[:1] for syllable in lazy_pinyin(name, style=Style.FIRST_LETTER, errors="ignore")).lower()


def mask_name(name: str) -> str:
    """Keep the first character, star the rest: 张三 -> 张*, 欧阳娜娜 -> 欧*** (docs/api.md, "Masking")."""
    return name[:1] + "*" * (len(name) - 1)


def mask_phone(phone: str) -> str:
    return phone[:3] + "*" * max(len(phone) - 7, 0) + phone[-4:] if len(phone) >= 7 else "*" * len(phone)
