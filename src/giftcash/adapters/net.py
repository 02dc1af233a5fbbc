"""The system's name resolver as the service's ``Resolver`` port (service/outbound.py)."""

from __future__ import annotations

import socket


class SystemResolver:
    def resolve(self, host: str, port: int) -> list[str]:
        """Every address getaddrinfo gives for ``host``, in its order, once each. The C
        library reads every form a URL's host can take (names, dotted quads, integers,
        hexadecimal and short dotted forms, IPv6 literals), which is why the outbound
        check judges its answer and not the spelling."""
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError):
            raise LookupError(host) from None
        return list(dict.fromkeys(str(info[4][0]) for info in infos))
