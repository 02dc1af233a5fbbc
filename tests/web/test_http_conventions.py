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


def _routes_with_methods() -> list[tuple[str, set[str]]]:
    """Each path of the route table (its parameters filled in) with the methods of every
    route that takes it: ``/admin/cases/export`` is also ``/admin/cases/{case_id}``."""
    table = [
        (re.compile(re.sub(r"\{[a-z_]+\}", "[^/]+", r.path) + "$"), r.path, r.methods or ())
        for router in _routers()
        for r in router.routes
        if getattr(r, "methods", None)
    ]
    paths = {re.sub(r"\{[a-z_]+\}", "nope", path) for _, path, _ in table}
    return sorted(
        (p, {m for pattern, _, methods in table if pattern.match(p) for m in methods})
        for p in paths
    )


def test_options_on_every_route_answers_204_with_the_methods_it_allows(site):
    client = site.client
    routes = _routes_with_methods()
    assert len(routes) > 30 and ("/v1/quotes", {"POST"}) in routes
    for path, methods in routes:
        r = client.options(path)
        assert r.status_code == 204, path
        assert r.content == b"", path
        allow = {m.strip() for m in r.headers["allow"].split(",")}
        expected = methods | {"OPTIONS"} | ({"HEAD"} if "GET" in methods else set())
        assert allow == expected, path
    assert client.options("/no/such/page").status_code == 404


def test_a_method_a_route_lacks_is_405_with_allow(site):
    r = site.client.delete("/v1/brands")
    assert r.status_code == 405
    assert r.headers["allow"] == "GET"
    assert r.headers["content-type"].startswith("application/problem+json")


def test_the_docs_page_loads_nothing_from_outside_the_app(site):
    client = site.client
    page = client.get("/v1/docs")
    assert page.status_code == 200
    refs = re.findall(r"""(?:src|href|url)\s*[=:]\s*['"]([^'"]+)['"]""", page.text)
    assert len(refs) >= 4  # style, icon, script, the schema
    for ref in refs:
        assert ref.startswith("/") and not ref.startswith("//"), ref
        assert client.get(ref).status_code == 200, ref
    assert "http://" not in page.text and "https://" not in page.text
    script = client.get("/v1/docs/assets/swagger-ui-bundle.js")
    assert "SwaggerUIBundle" in script.text[:100_000] or len(script.content) > 500_000
    assert client.options("/v1/docs/assets/swagger-ui.css").headers["allow"] == "GET, HEAD, OPTIONS"
