"""A simulator as a real process under uvicorn: a dropped connection reaches the client
as a broken response, and the state survives a SIGKILL and a restart."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow  # simulator processes under uvicorn, SIGKILLed


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(kind: str, port: int, data_dir: Path) -> subprocess.Popen:
    log = data_dir / f"{kind}.log"
    argv = [sys.executable, "-m", "giftcash.simulators", kind, "--port", str(port)]
    with log.open("ab") as sink:  # a file, not a pipe: a full pipe would block the server
        proc = subprocess.Popen(
            [*argv, "--data-dir", str(data_dir)], stdout=sink, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}/sim/health"
    for _ in range(300):  # bounded wait for the server to listen (not a timed assertion)
        if proc.poll() is not None:
            raise AssertionError(log.read_text(errors="replace"))
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.05)
    proc.kill()
    raise AssertionError("the simulator did not start")


@pytest.fixture
def procs() -> Iterator[list[subprocess.Popen]]:
    started: list[subprocess.Popen] = []
    yield started
    for p in started:
        if p.poll() is None:
            p.kill()
        p.wait()


def test_issuer_state_survives_sigkill_and_a_drop_is_a_broken_answer(
    tmp_path: Path, procs: list[subprocess.Popen]
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    procs.append(start("issuer", port, tmp_path))
    with httpx.Client(base_url=base, timeout=5.0) as http:
        sold = http.post(
            "/sim/vouchers",
            json={"brand_id": "cultureland", "face_value": 10_000, "purchase_channel": "cash"},
        ).json()
        http.post("/sim/faults", json={"lost_answer_rate": 1.0, "lost_answer_mode": "drop"})
        with pytest.raises(httpx.TransportError):
            http.post(
                "/v1/issuers/cultureland/redemptions",
                json={"code": sold["code"]},
                headers={"Idempotency-Key": "item-1"},
            )
        http.delete("/sim/faults")
        before = http.get("/v1/issuers/cultureland/redemptions/item-1")
        assert before.status_code == 200

    os.kill(procs[0].pid, signal.SIGKILL)
    procs[0].wait()
    procs.append(start("issuer", port, tmp_path))
    with httpx.Client(base_url=base, timeout=5.0) as http:
        after = http.get("/v1/issuers/cultureland/redemptions/item-1")
        assert after.json() == before.json()
        assert http.get("/sim/redemptions").json()["count"] == 1
        assert "DroppedConnection" not in (tmp_path / "issuer.log").read_text()
        assert http.get("/sim/faults").json()["lost_answer_rate"] == 0.0  # faults reset
        again = http.post(
            "/v1/issuers/cultureland/redemptions",
            json={"code": sold["code"]},
            headers={"Idempotency-Key": "item-2"},
        )
        assert again.status_code == 409
