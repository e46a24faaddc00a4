"""Language names and codes: what users type → what the service expects.

Users may write ``en``, ``zh-CN``, ``English`` or ``Chinese``; langcodes normalises them. The service's
examples send short codes (``"zh"``, ``"en"``), so dubber sends the code of the base language, keeping
``yue`` (Cantonese) apart from ``zh`` because the service lists it as its own language.
"""
from __future__ import annotations

from dataclasses import dataclass

import langcodes

from dubber.errors import OptionError

# The 18 languages qwen3-livetranslate-flash translates between.
SUPPORTED: dict[str, str] = {
    "zh": "Chinese", "en": "English", "ja": "Japanese", "ko": "Korean", "fr": "French",
    "de": "German", "ru": "Russian", "it": "Italian", "es": "Spanish", "pt": "Portuguese",
    "yue": "Cantonese", "id": "Indonesian", "vi": "Vietnamese", "th": "Thai", "ar": "Arabic",
    "hi": "Hindi", "el": "Greek", "tr": "Turkish",
}

# Scripts whose text is not separated by spaces and whose characters are double width.
CJK = frozenset({"zh", "yue", "ja"})


@dataclass(frozen=True)
class Lang:
    code: str  # what the API is sent, e.g. "zh"
    name: str  # English name, e.g. "Chinese"
    iso639_2: str  # for container language tags, e.g. "chi"

    def __str__(self) -> str:
        return self.code


def _lookup(text: str) -> langcodes.Language:
    try:
        return langcodes.Language.get(text)
    except (langcodes.LanguageTagError, ValueError):
        pass
    try:
        return langcodes.find(text)
    except LookupError as exc:
        raise OptionError(f"unknown language {text!r}") from exc


def parse_lang(text: str) -> Lang:
    """Normalise a user's language to one the service supports.

    >>> parse_lang("zh-CN").code, parse_lang("English").code, parse_lang("pt-BR").name
    ('zh', 'en', 'Portuguese')
    """
    raw = text.strip()
    if not raw:
        raise OptionError("empty language")
    language = _lookup(raw)
    code = language.language or ""
    if code in ("cmn", "wuu"):  # Mandarin and Wu are sent as Chinese
        code = "zh"
    if code not in SUPPORTED:
        supported = ", ".join(sorted(SUPPORTED))
        raise OptionError(f"unsupported language {text!r} (supported: {supported})")
    return Lang(code=code, name=SUPPORTED[code], iso639_2=langcodes.Language.get(code).to_alpha3())


def parse_langs(text: str | None) -> tuple[Lang, ...]:
    """A comma-separated list of languages (``fr,de,ja``), in order, each once.

    >>> [lang.code for lang in parse_langs("fr, de,French,,ja")]
    ['fr', 'de', 'ja']
    """
    langs = [parse_lang(part) for part in (text or "").split(",") if part.strip()]
    return tuple({lang.code: lang for lang in langs}.values())


def is_cjk(code: str) -> bool:
    return code in CJK
