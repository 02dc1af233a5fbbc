"""``giftcash brands list`` in an 80-column terminal: one line per brand, the ids a user
types whole however many brands there are; ``giftcash brands show ID`` has the rest."""

from __future__ import annotations

import dataclasses

import pytest
from rich.console import Console
from typer.testing import CliRunner

from giftcash.catalogue import live as catalogue
from giftcash.domain.brands import find_brand
from giftcash.entrypoints.cli import app as cli_app
from giftcash.entrypoints.cli import catalogue as cli_catalogue


def _brands(n: int) -> dict:
    base = find_brand("cultureland")
    out = {}
    for i in range(n):
        b = dataclasses.replace(
            base,
            id=f"lotte_department_store_{i:02d}",  # 25 characters: longer than any shipped
            name_ko="롯데백화점 모바일 상품권 (지류 교환형) 제" + str(i),
            name="Lotte Department Store mobile gift certificate",
            issuer="lotte_department_store",
            enabled=i % 3 != 0,
        )
        out[b.id] = b
    return out


@pytest.fixture
def eighty_columns(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    console = Console()
    assert console.width == 80
    monkeypatch.setattr(cli_catalogue, "console", console)
    monkeypatch.setattr(cli_catalogue, "deps_for", lambda url: None)
    monkeypatch.setattr(catalogue, "current_brands", lambda deps: _brands(35))


def test_the_list_fits_80_columns_with_every_id_whole(eighty_columns):
    result = CliRunner().invoke(cli_app, ["brands", "list"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert all(len(line) <= 80 for line in lines), max(lines, key=len)
    rows = [line for line in lines if line.startswith("│")]
    assert len(rows) == 35  # one line a brand
    for i, row in enumerate(rows):
        cells = [c.strip() for c in row.strip("│").split("│")]
        assert cells[0] == f"lotte_department_store_{i:02d}"
        assert cells[3] == "90.00%"
        assert cells[4] == ("no" if i % 3 == 0 else "yes")
    assert "giftcash brands show ID" in result.output


def test_show_has_the_face_values_and_the_code_format(eighty_columns):
    result = CliRunner().invoke(cli_app, ["brands", "show", "lotte_department_store_07"])
    assert result.exit_code == 0, result.output
    b = _brands(35)["lotte_department_store_07"]
    assert b.face_values.describe().split()[0] in result.output
    assert "16 digits" in result.output and "fee 10.00%" in result.output
    assert all(len(line) <= 80 for line in result.output.splitlines())


def test_show_of_an_unknown_brand_is_exit_3(eighty_columns):
    result = CliRunner().invoke(cli_app, ["brands", "show", "nope"])
    assert result.exit_code == 3
    assert "brand_not_found" in result.output


def test_show_says_whether_a_brand_is_redeemed_or_resold(eighty_columns, monkeypatch):
    from giftcash.domain.brands import Disposition

    result = CliRunner().invoke(cli_app, ["brands", "show", "lotte_department_store_07"])
    assert "redeem at the issuer" in result.output
    resold = {
        k: dataclasses.replace(b, disposition=Disposition.RESELL, resell_hold_s=3600)
        for k, b in _brands(35).items()
    }
    monkeypatch.setattr(catalogue, "current_brands", lambda deps: resold)
    result = CliRunner().invoke(cli_app, ["brands", "show", "lotte_department_store_07"])
    assert result.exit_code == 0, result.output
    assert "resell (seller paid after 3600 s)" in result.output
