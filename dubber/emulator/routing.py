"""Which service a request is for: its path picks the candidates, then the body's ``model`` picks one.

``SERVICES`` is the registry. Adding an emulated API means one new module in this package that defines
a ``Service`` and one entry here; services on a new path bring their path with them, and a model that
shares a path (as every chat model shares ``/chat/completions``) only adds itself to the candidates.

Errors raised before a service is chosen are shaped in the path's dialect: the one its services share,
or DashScope's for a path nobody serves (the emulator's home is DashScope's compatible endpoint).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping

from dubber.emulator import asr, livetranslate, omni, speech, whisper
from dubber.emulator.checks import check, field
from dubber.emulator.dialects import DASHSCOPE, ApiError, Dialect
from dubber.emulator.service import Service

__all__ = ["DEFAULT_DIALECT", "SERVICES", "Route", "Router"]

SERVICES: tuple[Service, ...] = (
    livetranslate.SERVICE,
    omni.SERVICE,
    asr.SERVICE,
    whisper.TRANSLATIONS,
    whisper.TRANSCRIPTIONS,
    speech.SERVICE,
)
DEFAULT_DIALECT = DASHSCOPE  # for paths no service serves


@dataclass(frozen=True)
class Route:
    """One served path: how its bodies are read, its errors shaped, and which model goes where."""

    path: str
    dialect: Dialect
    read: Callable[[bytes], Mapping[str, Any]]
    by_model: Mapping[str, Service]

    @classmethod
    def of(cls, path: str, services: list[Service]) -> "Route":
        """The route of the ``services`` registered on ``path``; ValueError if they cannot share it."""
        first = services[0]
        if any(s.dialect != first.dialect or s.read is not first.read for s in services):
            raise ValueError(f"the services on {path} must share their body reader and error dialect")
        by_model: dict[str, Service] = {}
        for service in services:
            for model in service.models:
                if model in by_model:
                    raise ValueError(f"{model} on {path} is claimed by {by_model[model].name} and {service.name}")
                by_model[model] = service
        return cls(path, first.dialect, first.read, by_model)

    def pick(self, raw: bytes) -> tuple[Service, Mapping[str, Any]]:
        """Read the body and pick the service its ``model`` names; ApiError (400, 404) if none."""
        fields = self.read(raw)
        model = field(fields, "model", str, "model")
        check(model is not None, "model is required", "model")
        service = self.by_model.get(model)
        if service is None:
            raise ApiError(404, f"The model `{model}` does not exist or you do not have access to it.",
                           "model", code="model_not_found")
        return service, fields


class Router:
    """The registry indexed by path; built once per emulator."""

    def __init__(self, services: Iterable[Service] = SERVICES) -> None:
        groups: dict[str, list[Service]] = {}
        for service in services:
            groups.setdefault(service.path, []).append(service)
        self._routes = {path: Route.of(path, group) for path, group in groups.items()}

    def dialect(self, path: str) -> Dialect:
        """The error dialect of ``path``, served or not."""
        route = self._routes.get(path)
        return route.dialect if route else DEFAULT_DIALECT

    def route(self, method: str, path: str) -> Route:
        """The route of ``method path``; a 404 ApiError if no service is served there."""
        route = self._routes.get(path)
        if route is None or method != "POST":  # every emulated API takes POSTs only
            raise ApiError(404, f"Unknown path: {method} {path}", None, code="not_found")
        return route
