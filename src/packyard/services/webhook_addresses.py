"""Where a webhook may be sent: the host of its URL is resolved and every address it has
must be public (``core.webhooks.refused_address``) unless the operator allows private ones
(``PACKYARD_WEBHOOK_ALLOW_PRIVATE``). Checked when a hook is saved (422) and again before
each send (the name may since point elsewhere)."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

from packyard.core.webhooks import refused_address


def destination_problem(url: str, allow_private: bool) -> str | None:
    """Why ``url`` may not be sent to, or None. A name that does not resolve is a problem
    too: nothing could be delivered."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        return f"{host!r} does not resolve ({error})"
    if allow_private:
        return None
    for *_, address in infos:
        problem = refused_address(str(address[0]))
        if problem is not None:
            return (
                f"{host!r} resolves to {problem}: webhooks reach public addresses only "
                "(an operator may allow private ones with PACKYARD_WEBHOOK_ALLOW_PRIVATE=true)"
            )
    return None
