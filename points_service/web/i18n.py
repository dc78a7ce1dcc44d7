"""One catalogue format for every page: a Python dict of words per language, Simplified Chinese first
(the default, DESIGN.md section 4), English beside it, merged over the words the web layer itself shows
(sign-in, session ended, page expired, not found, try again) so no page repeats them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from points_service.web import words_accounts

DEFAULT_LANGUAGE = "zh-CN"

# What the shared sign-in, session and problem pages say; a page may reword any of them in its own dicts.
LAYER_ZH_CN: dict[str, str] = {
    "other_language": "English",
    "username": "用户名",
    "password": "密码",
    "sign_in": "登录",
    "sign_out": "退出",
    "signed_out": "已退出登录",
    "invalid_credentials": "用户名或密码错误",
    "too_many_attempts": "尝试次数太多，请 {minutes} 分钟后再试",
    "session_ended": "登录已过期，请重新登录",
    "page_expired": "页面已过期，请刷新后重试",
    "not_found": "找不到，或不在您的权限范围内",
    "forbidden": "您没有权限进行这项操作",
    "conflict": "当前状态下不能这样做，请刷新后再看",
    "invalid_input": "填写有误，请检查后再试",
    "too_large": "提交的内容太大了",
    "try_again": "操作未完成，请重试",
    "back": "返回",
}
LAYER_EN: dict[str, str] = {
    "other_language": "中文",
    "username": "Username",
    "password": "Password",
    "sign_in": "Sign in",
    "sign_out": "Sign out",
    "signed_out": "Signed out",
    "invalid_credentials": "Wrong username or password",
    "too_many_attempts": "Too many attempts; please try again in {minutes} minutes",
    "session_ended": "Your session ended; please sign in again",
    "page_expired": "This page has expired; please reload it and try again",
    "not_found": "Not found, or outside what you may see",
    "forbidden": "You may not do that",
    "conflict": "Not possible in its current state; please reload and look again",
    "invalid_input": "Please check the form and try again",
    "too_large": "What you sent is too large",
    "try_again": "That did not go through; please try again",
    "back": "Back",
}
LAYER_WORDS: dict[str, dict[str, str]] = {
    "zh-CN": {**LAYER_ZH_CN, **words_accounts.ZH_CN},
    "en": {**LAYER_EN, **words_accounts.EN},
}


@dataclass(frozen=True)
class Catalogue:
    """A page's words: `Catalogue({"zh-CN": ZH_CN, "en": EN})`. `words(lang)` is the page's dict over the
    layer's; `supported(asked)` reads a language as typed by hand (`zh`, `zh-cn`, `en`)."""

    languages: Mapping[str, Mapping[str, str]]
    default: str = DEFAULT_LANGUAGE
    _merged: dict[str, Mapping[str, str]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        merged = {
            lang: {**LAYER_WORDS.get(lang, LAYER_WORDS[DEFAULT_LANGUAGE]), **words}
            for lang, words in self.languages.items()
        }
        object.__setattr__(self, "_merged", merged)

    def words(self, lang: str) -> Mapping[str, str]:
        return self._merged.get(lang) or self._merged[self.default]

    def supported(self, asked: str | None) -> str | None:
        if not asked:
            return None
        wanted = asked.strip().lower()
        for known in self._merged:
            if wanted in (known.lower(), known.split("-")[0].lower()):
                return known
        return None

    def __contains__(self, key: object) -> bool:
        return key in self.words(self.default)

    def missing(self) -> dict[str, set[str]]:
        """Per language, the keys another language has and this one lacks (empty when complete)."""
        every = set().union(*(set(words) for words in self._merged.values()))
        return {lang: every - set(words) for lang, words in self._merged.items() if every - set(words)}
