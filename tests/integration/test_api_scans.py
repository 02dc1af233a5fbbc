"""``POST /v1/scans`` and ``POST /v1/codes/detect`` through the API: a customer's
screenshot answers the code and its brand, the issuer knows the code read, hostile
files are problem+json with their codes, nothing is logged, and the OpenAPI document
describes the multipart upload."""

from __future__ import annotations

import logging
import secrets

import pytest

from apiworld import signup, world  # noqa: F401  (the fixture)
from couponimages import PDF, blank_png, coupon, png, png_bomb
from giftcash.domain.brands import find_brand
from giftcash.simulators.issuer import issue_code

pytestmark = pytest.mark.usefixtures("backend")


def upload(*files: bytes, name: str = "coupon.png") -> list:
    return [("images", (name, data, "image/png")) for data in files]


def test_a_screenshot_answers_its_code_and_brand_to_its_owner(world, caplog) -> None:  # noqa: F811
    auth = signup(world, "010-3333-1616")
    brand = find_brand("kyochon_coupon")
    code = issue_code(brand.code_format, secrets.SystemRandom())
    with caplog.at_level(logging.DEBUG):
        r = world.client.post("/v1/scans", files=upload(png(coupon(code, "QRCode", brand))),
                              headers=auth)  # fmt: skip
    assert r.status_code == 200, r.text
    (image,) = r.json()["images"]
    (found,) = image["codes"]
    assert found["code"] == code and found["brand_id"] == "kyochon_coupon"
    assert found["outcome"] == "detected" and found["candidates"][0]["kind"] == "product"
    assert code not in caplog.text and code[:8] not in caplog.text  # never in a log line


def test_scans_need_a_customer(world) -> None:  # noqa: F811
    r = world.client.post("/v1/scans", files=upload(blank_png()))
    assert r.status_code == 401


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        (PDF, 415, "image_type_unsupported"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 500, 422, "image_corrupt"),
        (None, 413, "image_too_many_pixels"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * (4 << 20), 413, "image_too_large"),
    ],
    ids=["pdf-named-png", "corrupt", "bomb", "oversize"],
)
def test_hostile_files_are_problems_with_their_codes(world, data, status, code) -> None:  # noqa: F811
    auth = signup(world, "010-3333-1617")
    r = world.client.post("/v1/scans", files=upload(data or png_bomb()), headers=auth)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == code and r.json()["image"] == 0


def test_limits_on_count_and_body(world) -> None:  # noqa: F811
    auth = signup(world, "010-3333-1618")
    r = world.client.post("/v1/scans", files=upload(*([PDF] * 6)), headers=auth)
    assert r.status_code == 422 and r.json()["code"] == "too_many_images"
    r = world.client.post("/v1/scans", files=upload(blank_png()), headers=auth)
    assert r.status_code == 422 and r.json()["code"] == "no_barcode_found"
    r = world.client.post("/v1/scans", json={"images": []}, headers=auth)
    assert r.status_code == 422 and r.json()["code"] == "malformed_multipart"
    big = b"\x89PNG" + b"\x00" * (22 << 20)
    r = world.client.post("/v1/scans", files=upload(big), headers=auth)
    assert r.status_code == 413 and r.json()["code"] == "request_too_large"


def test_a_mixed_paste_is_sorted_by_brand(world) -> None:  # noqa: F811
    auth = signup(world, "010-3333-1619")
    rng = secrets.SystemRandom()
    codes = {b: issue_code(find_brand(b).code_format, rng)
             for b in ("gs25_gift", "bhc_coupon", "emart_gift")}  # fmt: skip
    text = "\n".join([codes["gs25_gift"], codes["bhc_coupon"], "1234 5678 1234 5678",
                      codes["emart_gift"]])  # fmt: skip
    r = world.client.post("/v1/codes/detect", json={"text": text}, headers=auth)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["by_brand"] == {"gs25_gift": [1], "bhc_coupon": [2], "emart_gift": [4]}
    assert body["undecided"] == [3] and len(body["lines"][2]["candidates"]) >= 2
    assert all(c not in r.text for c in codes.values())  # the answer masks pasted codes


def test_the_openapi_document_describes_the_upload(world) -> None:  # noqa: F811
    spec = world.client.get("/v1/openapi.json").json()
    op = spec["paths"]["/v1/scans"]["post"]
    schema = op["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert schema["properties"]["images"]["items"]["format"] == "binary"
    assert "image_too_many_pixels" in op["description"]
