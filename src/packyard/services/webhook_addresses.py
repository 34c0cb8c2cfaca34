"""Where a webhook may be sent: the host of its URL is resolved and every address it has
must be public (``core.webhooks.refused_address``) unless the operator allows private ones
(``PACKYARD_WEBHOOK_ALLOW_PRIVATE``). Checked when a hook is saved (422) and again before
each send (the name may since point elsewhere).

A send then connects to the address that was checked, not to whatever the name resolves
to a moment later: a name whose DNS answer changes between the check and the connection
(DNS rebinding) cannot steer the request to a private address. The URL's host still goes
in the ``Host`` header and, over TLS, in SNI and the certificate check.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit, urlunsplit

from packyard.core.webhooks import refused_address


class RefusedDestination(Exception):
    """The URL may not be sent to; the message says why."""


@dataclass(frozen=True, slots=True)
class Destination:
    urls: tuple[str, ...]  # the URL with its host replaced by each checked address, in order
    host_header: str  # the URL's host (and port, when given), as given
    server_name: str  # the name TLS checks the certificate against


def destination(url: str, allow_private: bool) -> Destination:
    """The checked address to send ``url``'s request to; raises RefusedDestination for a
    name that does not resolve or resolves to any address that is not public."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise RefusedDestination(f"{host!r} does not resolve ({error})") from None
    addresses = [str(info[4][0]) for info in infos]
    if not addresses:
        raise RefusedDestination(f"{host!r} has no address")
    if not allow_private:
        for address in addresses:
            problem = refused_address(address)
            if problem is not None:
                raise RefusedDestination(
                    f"{host!r} resolves to {problem}: webhooks reach public addresses only "
                    "(an operator may allow private ones with PACKYARD_WEBHOOK_ALLOW_PRIVATE=true)"
                )
    return Destination(
        urls=tuple(_with_host(parts, address) for address in dict.fromkeys(addresses)),
        host_header=parts.netloc.rpartition("@")[2],
        server_name=host,
    )


def _with_host(parts: SplitResult, address: str) -> str:
    netloc = f"[{address}]" if ipaddress.ip_address(address).version == 6 else address
    if parts.port is not None:
        netloc += f":{parts.port}"
    userinfo, at, _ = parts.netloc.rpartition("@")
    if at:  # credentials in the URL still become the request's basic auth
        netloc = f"{userinfo}@{netloc}"
    return urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))


def destination_problem(url: str, allow_private: bool) -> str | None:
    """Why ``url`` may not be sent to, or None."""
    try:
        destination(url, allow_private)
    except RefusedDestination as refused:
        return str(refused)
    return None
