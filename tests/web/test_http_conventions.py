"""Every GET route answers HEAD with the GET's status and headers and no body (checked over
the route table)."""

from __future__ import annotations

import re


def _routers():
    from giftcash.entrypoints.api import admin, admin_cases, operations, routes
    from giftcash.entrypoints.web import console_routers, customer_routers

    return [routes.router, admin.router, admin_cases.router, operations.router] + (
        customer_routers() + console_routers()
    )


def _get_paths(app) -> list[str]:
    out = ["/v1/docs", "/v1/openapi.json"]
    for r in (r for router in _routers() for r in router.routes):
        if "GET" in (getattr(r, "methods", None) or ()):
            out.append(re.sub(r"\{[a-z_]+\}", "nope", r.path))
    return sorted(set(out))


def test_every_get_route_answers_head_like_get(site):
    client = site.client
    paths = _get_paths(client.app)
    assert len(paths) > 30 and "/v1/brands" in paths and "/admin/cases" in paths
    for path in paths:
        got = client.get(path, follow_redirects=False)
        head = client.head(path, follow_redirects=False)
        assert head.status_code == got.status_code, path
        assert head.content == b"", path
        assert head.headers.get("content-type") == got.headers.get("content-type"), path
