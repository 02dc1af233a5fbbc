"""Run ASGI apps on loopback inside this process (uvicorn servers in threads)."""

from __future__ import annotations

import socket
import threading
import time

import uvicorn
from fastapi import FastAPI


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
        return True


class ServerThread:
    """A uvicorn server on its own thread; signals stay with the main thread.

    ``lifespan``: run the app's startup and shutdown (a simulator's background loop, such
    as the bank's deposit notifications); off by default."""

    def __init__(
        self, app: FastAPI, host: str, port: int, name: str, *, lifespan: bool = False
    ) -> None:
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level="warning",
            access_log=False,
            lifespan="on" if lifespan else "off",
        )
        self.server = uvicorn.Server(config)
        self.url = f"http://{host}:{port}"
        self.thread = threading.Thread(target=self.server.run, name=name, daemon=True)

    def start(self, timeout_s: float = 60.0) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + timeout_s
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError(f"{self.thread.name} could not start on {self.url}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.thread.name} did not start on {self.url}")
            time.sleep(0.02)
        # Port 0 asks the kernel for a free port: read back which one it gave.
        sockets = [sock for srv in self.server.servers for sock in srv.sockets]
        if sockets:
            host, port = sockets[0].getsockname()[:2]
            self.url = f"http://{host}:{port}"
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
