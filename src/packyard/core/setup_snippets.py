"""Setup & usage: how to point pip, uv and friends at a registry, with a placeholder where
the token goes. Pure string building from the public base URL; the REST API and the UI
both show these.

To add a client, add a key to ``setup_snippets`` and a line to its test.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

TOKEN_PLACEHOLDER = "$TOKEN"
PACKAGE_PLACEHOLDER = "PACKAGE"
USER_NAME = "x"  # any user name works; the token is the password


def index_url(base: str, organization: str, registry: str) -> str:
    return f"{base.rstrip('/')}/{organization}/{registry}/pypi/simple/"


def _with_credentials(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{USER_NAME}:{TOKEN_PLACEHOLDER}@{parts.netloc}{parts.path}"


def _env_name(registry: str) -> str:
    return re.sub(r"[^A-Z0-9]", "_", registry.upper())


def setup_snippets(base: str, organization: str, registry: str) -> dict[str, str]:
    """Snippets keyed by client: ``pip``, ``pip_conf``, ``requirements_txt``, ``uv_pip``,
    ``uv_sync`` and ``pyproject_toml``."""
    plain = index_url(base, organization, registry)
    authed = _with_credentials(plain)
    env = _env_name(registry)
    return {
        "pip": f'pip install --index-url "{authed}" {PACKAGE_PLACEHOLDER}',
        "pip_conf": f"[global]\nindex-url = {authed}\n",
        "requirements_txt": f"--index-url {authed}\n{PACKAGE_PLACEHOLDER}\n",
        "uv_pip": f'uv pip install --index-url "{authed}" {PACKAGE_PLACEHOLDER}',
        "uv_sync": (
            f"export UV_INDEX_{env}_USERNAME={USER_NAME}\n"
            f'export UV_INDEX_{env}_PASSWORD="{TOKEN_PLACEHOLDER}"\n'
            "uv sync"
        ),
        "pyproject_toml": (
            f'[[tool.uv.index]]\nname = "{registry}"\nurl = "{plain}"\ndefault = true\n'
        ),
    }
