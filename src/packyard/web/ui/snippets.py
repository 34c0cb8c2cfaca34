"""The commands and configuration the Installation and Publish Instructions tabs show,
built from the public base URL. Pure string building; ``$TOKEN`` marks where the token
goes, and public registries need none to install.

(The composite registries work has ``core/setup_snippets.py`` with the same keys; once
merged, ``install_snippets`` can delegate to it.)
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from packyard.core.setup_snippets import setup_snippets

TOKEN_PLACEHOLDER = "$TOKEN"
USER_NAME = "x"  # any user name works; the token is the password


@dataclass(frozen=True, slots=True)
class Snippet:
    key: str
    title: str
    text: str


def index_url(base: str, organization: str, registry: str) -> str:
    return f"{base.rstrip('/')}/{organization}/{registry}/pypi/simple/"


def _with_credentials(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{USER_NAME}:{TOKEN_PLACEHOLDER}@{parts.netloc}{parts.path}"


def install_snippets(
    base: str, organization: str, registry: str, *, public: bool, requirement: str = "PACKAGE"
) -> list[Snippet]:
    """pip, uv, pip.conf, requirements.txt and pyproject.toml forms for ``requirement``."""
    plain = index_url(base, organization, registry)
    url = plain if public else _with_credentials(plain)
    env = registry.upper().replace("-", "_")
    uv_env = (
        ""
        if public
        else f"export UV_INDEX_{env}_USERNAME={USER_NAME}\n"
        f'export UV_INDEX_{env}_PASSWORD="{TOKEN_PLACEHOLDER}"\n'
    )
    return [
        Snippet("pip", "pip", f'pip install --index-url "{url}" "{requirement}"'),
        Snippet("uv", "uv", f'uv pip install --index-url "{url}" "{requirement}"'),
        Snippet("pip-conf", "pip.conf", f"[global]\nindex-url = {url}\n"),
        Snippet("requirements", "requirements.txt", f"--index-url {url}\n{requirement}\n"),
        Snippet(
            "pyproject",
            "pyproject.toml (uv)",
            f'[[tool.uv.index]]\nname = "{registry}"\nurl = "{plain}"\n'
            f"default = true\n\n# then:\n{uv_env}uv add {requirement}",
        ),
    ]


SETUP_TITLES = {
    "pip": "pip",
    "uv_pip": "uv pip",
    "pip_conf": "pip.conf",
    "requirements_txt": "requirements.txt",
    "pyproject_toml": "pyproject.toml (uv)",
    "uv_sync": "uv sync",
}


def setup_usage_snippets(base: str, organization: str, registry: str) -> list[Snippet]:
    """The Setup & Usage tab of a composite: the same forms the REST ``/setup`` gives."""
    texts = setup_snippets(base, organization, registry)
    return [
        Snippet(key.replace("_", "-"), title, texts[key]) for key, title in SETUP_TITLES.items()
    ]


def publish_snippets(base: str, organization: str, registry: str) -> list[Snippet]:
    """curl against the REST API, and twine and uv against the upload API."""
    root = base.rstrip("/")
    api = f"{root}/v2/packages/organizations/{organization}/registries/{registry}/packages"
    upload = f"{root}/{organization}/{registry}/pypi/"
    return [
        Snippet(
            "curl",
            "curl",
            f'curl -X POST {api} \\\n  -H "Authorization: Bearer {TOKEN_PLACEHOLDER}" \\\n'
            '  -F "file=@dist/mypackage-1.0.tar.gz"',
        ),
        Snippet(
            "twine",
            "twine",
            f"twine upload --repository-url {upload} \\\n"
            f'  -u __token__ -p "{TOKEN_PLACEHOLDER}" dist/*',
        ),
        Snippet(
            "uv-publish",
            "uv publish",
            f'uv publish --publish-url {upload} --token "{TOKEN_PLACEHOLDER}" dist/*',
        ),
    ]
