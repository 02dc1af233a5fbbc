"""``giftcash quote`` and ``giftcash brands list`` price from the live catalogue, through
the same use case as ``POST /v1/quotes``: an operator's rate override, a switched-off
brand and the issuer kill switch show on the command line exactly as in the API. SQLite
and PostgreSQL."""

from __future__ import annotations

import test_admin_world
from test_admin_world import World
from typer.testing import CliRunner

from giftcash.domain.brands import find_brand
from giftcash.domain.quotes import quote as static_quote
from giftcash.entrypoints.cli import app as cli_app
from giftcash.entrypoints.cli import console as cli_console

world = test_admin_world.world  # the shared fixture


def _api_quote(w: World, brand_id: str, face: int) -> dict:
    r = w.client.post(
        "/v1/quotes", json={"brand_id": brand_id, "face_value": face, "funding_source": "cash"}
    )
    assert r.status_code == 200, r.text
    return r.json()


def _cli(w: World, data_dir, *args: str) -> str:
    env = {"GIFTCASH_DATABASE_URL": w.url, "GIFTCASH_DATA_DIR": str(data_dir)}
    result = CliRunner().invoke(cli_app, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.output


def test_the_cli_quotes_the_live_catalogue_as_the_api_does(world: World, tmp_path, monkeypatch):
    w = world
    monkeypatch.setattr(cli_console, "_width", 250)  # tables unwrapped, whatever the tty
    adm = w.operator("adm", "admin")
    r = w.client.patch(
        "/v1/admin/brands/cultureland", json={"buyback_rate_bps": 8_500}, headers=adm
    )
    assert r.status_code == 200, r.text
    r = w.client.patch("/v1/admin/brands/booknlife", json={"enabled": False}, headers=adm)
    assert r.status_code == 200, r.text

    api = _api_quote(w, "cultureland", 10_000)
    assert api["declined"] is None and api["fee_bps"] == 1_500
    out = _cli(w, tmp_path, "quote", "cultureland", "10000", "--funding-source", "cash")
    assert f"fee            │ {api['fee']:,} KRW (15.00%)" in out
    assert f"payout         │ {api['payout']:,} KRW" in out
    shipped = static_quote(find_brand("cultureland"), 10_000, "cash")
    assert shipped.payout != api["payout"]  # the override is not the shipped rate
    assert f"{shipped.payout:,} KRW" not in out

    assert find_brand("booknlife").enabled  # shipped on: the operator switched it off
    api = _api_quote(w, "booknlife", 10_000)
    assert api["declined"]["code"] == "brand_disabled"
    out = _cli(w, tmp_path, "quote", "booknlife", "10000", "-f", "cash")
    assert f"[{api['declined']['code']}] {api['declined']['message']}" in out

    r = w.client.patch("/v1/admin/issuers/cultureland", json={"enabled": False}, headers=adm)
    assert r.status_code == 200, r.text
    api = _api_quote(w, "cultureland", 10_000)
    assert api["declined"]["code"] == "issuer_disabled"
    out = _cli(w, tmp_path, "quote", "cultureland", "10000")
    assert f"[{api['declined']['code']}] {api['declined']['message']}" in out

    listed = {
        line.split("│")[1].strip(): line
        for line in _cli(w, tmp_path, "brands", "list").splitlines()
        if line.count("│") > 3 and line.split("│")[1].strip()
    }
    assert "85.00%" in listed["cultureland"] and listed["cultureland"].rstrip("│ ").endswith("no")
    assert listed["booknlife"].rstrip("│ ").endswith("no")
    assert listed["munhwa"].rstrip("│ ").endswith("yes")


def test_an_unknown_brand_is_exit_3_as_the_api_says_404(world: World, tmp_path):
    w = world
    assert (
        w.client.post(
            "/v1/quotes", json={"brand_id": "nope", "face_value": 10_000, "funding_source": "cash"}
        ).status_code
        == 404
    )
    env = {"GIFTCASH_DATABASE_URL": w.url, "GIFTCASH_DATA_DIR": str(tmp_path)}
    result = CliRunner().invoke(cli_app, ["quote", "nope", "10000"], env=env)
    assert result.exit_code == 3
    assert "not_found" in result.output or "brand_not_found" in result.output
