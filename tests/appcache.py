"""One API app per test process, given each test's ``deps``.

FastAPI builds every route's state (its dependants, parameter and response models) at
an app's first request, not when the app is made: about 90 ms for giftcash's routes on
this machine, paid again by every test that made its own app. The routes are the same
for every test, and what differs (``deps``, the adapters, flags a test sets) lives in
``app.state``, which the handlers read per request; so the tests share the app and each
gets a fresh ``app.state`` (the first app's adapters unless it replaces them)."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.datastructures import State

from giftcash.entrypoints.api.app import create_app
from giftcash.service.deps import Deps

_shared: list[tuple[FastAPI, object]] = []


def app_for(deps: Deps, **state: object) -> FastAPI:
    if not _shared:
        app = create_app(deps)
        _shared.append((app, app.state.adapters))
    app, adapters = _shared[0]
    app.state = State({"deps": deps, "adapters": adapters, **state})
    return app
