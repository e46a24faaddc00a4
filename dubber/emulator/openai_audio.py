"""What OpenAI's ``/v1/audio/*`` endpoints share (seed documents 002 and 004): where they are served, how
they refuse a request, multipart form bodies, and answers that are plain bytes.

Refusals use OpenAI's words: ``invalid_request_error`` with a ``code`` saying what kind of fault
(``missing_required_parameter``, ``invalid_value``, ...) and ``param`` naming the field; they are sent
in the ``OPENAI`` dialect, which has no request id in the body.

Form bodies are parsed by the standard library (``email`` with its HTTP policy). The service contract
hands ``read`` the body without the request's headers, so the boundary is read from the body itself:
a form body opens with its first delimiter line (RFC 7578 §4.1; clients send no preamble).
"""
from __future__ import annotations

import email.parser
import email.policy
import json
from dataclasses import dataclass
from typing import Any, NoReturn

from dubber.emulator.dialects import ApiError
from dubber.emulator.service import Reply

__all__ = ["AUDIO_PREFIX", "Upload", "byte_reply", "invalid", "missing", "read_form", "read_json", "with_model"]

AUDIO_PREFIX = "/v1/audio"  # under the emulator's OpenAI prefix (server.OPENAI_PREFIX)
_PARSER = email.parser.BytesParser(policy=email.policy.HTTP)


def invalid(message: str, param: str | None, code: str | None = "invalid_value", status: int = 400) -> NoReturn:
    """Refuse the request as OpenAI does: ``invalid_request_error``, naming the field."""
    raise ApiError(status, message, param, code=code, kind="invalid_request_error")


def missing(param: str) -> NoReturn:
    invalid(f"Missing required parameter: '{param}'.", param, "missing_required_parameter")


@dataclass(frozen=True)
class Upload:
    """A form part that carries a file."""

    filename: str | None
    content_type: str
    data: bytes


def _boundary(raw: bytes) -> bytes:
    first = raw.split(b"\r\n", 1)[0]
    if not first.startswith(b"--") or len(first) < 3 or b'"' in first:
        invalid("Could not parse multipart form: send multipart/form-data", None, None)
    return first[2:].rstrip()


def read_form(raw: bytes) -> dict[str, Any]:
    """A multipart/form-data body as fields: text parts as ``str``, file parts as ``Upload``.

    >>> read_form(b'--b\\r\\nContent-Disposition: form-data; name="model"\\r\\n\\r\\nwhisper-1\\r\\n--b--\\r\\n')
    {'model': 'whisper-1'}
    """
    header = b'Content-Type: multipart/form-data; boundary="' + _boundary(raw) + b'"\r\n\r\n'
    message = _PARSER.parsebytes(header + raw)
    if not message.is_multipart() or message.defects:
        invalid("Could not parse multipart form", None, None)
    fields: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue  # a part without a field name is no field at all
        data = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is not None or not part.get_content_type().startswith("text/"):
            fields[name] = Upload(filename, part.get_content_type(), data)
        else:
            try:
                fields[name] = data.decode(part.get_content_charset() or "utf-8")
            except (LookupError, UnicodeDecodeError):
                invalid(f"'{name}' is not valid text", name)
    return fields


def read_json(raw: bytes) -> dict[str, Any]:
    """A JSON object body (``/audio/speech``), refused in OpenAI's words when it is not one."""
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        invalid("We could not parse the JSON body of your request. (HINT: This likely means you aren't using "
                "your HTTP library correctly.)", None, None)
    if not isinstance(body, dict):
        invalid("The request body must be a JSON object.", None, None)
    return body


def with_model(fields: dict[str, Any]) -> dict[str, Any]:
    """``fields``, once their ``model`` is known to be there: refused here, in OpenAI's words, because the
    router's own check (run after ``read``) speaks DashScope's."""
    if fields.get("model") is None:
        missing("model")
    if not isinstance(fields["model"], str):
        invalid("Invalid type for 'model': expected a string.", "model", "invalid_type")
    return fields


def byte_reply(content_type: str, data: bytes, broken: bool = False) -> Reply:
    """``data`` with its length; ``broken`` (the drop fault): only the first half is sent."""
    return Reply(content_type, (data[: len(data) // 2] if broken else data,), length=len(data), complete=not broken)
