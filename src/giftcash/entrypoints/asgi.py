"""ASGI factory for ``giftcash serve`` (uvicorn ``--factory``): settings from GIFTCASH_*."""

from __future__ import annotations

from fastapi import FastAPI

from giftcash.bootstrap import build_deps
from giftcash.config import load_settings
from giftcash.entrypoints.api.app import create_app


def create() -> FastAPI:
    from giftcash.adapters.observability.logs import configure_logging

    settings = load_settings()
    configure_logging(settings.log_level, json_lines=settings.log_format == "json")
    return create_app(build_deps(settings))
