"""The small checks every service's validator is made of: each refuses with a 400 naming the field.

Messages and ``param`` paths follow DashScope's ("messages[0].role"); the dialect only changes the
envelope they are sent in.
"""
from __future__ import annotations

from typing import Any, Mapping

from dubber.emulator.dialects import ApiError

__all__ = ["check", "field"]


def check(ok: bool, message: str, param: str | None) -> None:
    """Refuse the request with a 400 unless ``ok``."""
    if not ok:
        raise ApiError(400, message, param)


def field(obj: Mapping[str, Any], key: str, kind: type, where: str, default: Any = None) -> Any:
    """``obj[key]`` checked to be a ``kind``; ``default`` when absent or null.

    >>> field({"stream": True}, "stream", bool, "stream", False), field({}, "stream", bool, "stream", False)
    (True, False)
    """
    value = obj.get(key)
    if value is None:
        return default
    check(isinstance(value, kind), f"{where} must be of type {kind.__name__}", where)
    return value
