"""Every install and publish snippet Packyard shows: the REST API (``/setup``,
``/publish-instructions`` and a package's ``installation``), the web UI's Installation and
Publish Instructions tabs, and ``packyard quickstart`` all render from here, so the
placeholder, the user name and the commands cannot drift apart.

Pure string building from a ``RegistryAddress``. The token never appears: every snippet
says ``TOKEN_PLACEHOLDER`` (``${PACKYARD_TOKEN}``), which bash and pip's requirements files
expand from the environment and a user replaces elsewhere. To support another client, add
a function returning a ``Snippet`` and list it in ``install_snippets`` or
``publish_snippets``; the keys are stable identifiers (the UI builds element ids from them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

TOKEN_VARIABLE = "PACKYARD_TOKEN"
TOKEN_PLACEHOLDER = "${" + TOKEN_VARIABLE + "}"
# Any user name works with a token as the password; PyPI's convention reads best.
USER_NAME = "__token__"
PACKAGE_PLACEHOLDER = "PACKAGE"
EXAMPLE_FILE = "dist/mypackage-1.0.tar.gz"
Language = Literal["shell", "ini", "text", "toml"]


@dataclass(frozen=True, slots=True)
class Snippet:
    """One way to do it: ``key`` is stable, ``language`` says how to show ``text``
    (``shell``, ``ini``, ``text`` or ``toml``)."""

    key: str
    title: str
    language: Language
    text: str


@dataclass(frozen=True, slots=True)
class RegistryAddress:
    """Where a registry is served: the public base URL and its two slugs."""

    base: str
    organization: str
    registry: str

    @property
    def upload_url(self) -> str:
        """What the upload tools POST to (PyPI's ``/legacy/`` equivalent)."""
        return f"{self.base.rstrip('/')}/{self.organization}/{self.registry}/pypi/"

    @property
    def index_url(self) -> str:
        """The simple index, for installs and ``--check-url``."""
        return f"{self.upload_url}simple/"

    @property
    def api_packages_url(self) -> str:
        """The REST endpoint that takes a file in a multipart form."""
        return (
            f"{self.base.rstrip('/')}/v2/packages/organizations/{self.organization}"
            f"/registries/{self.registry}/packages"
        )


def with_credentials(url: str) -> str:
    """``url`` with the user name and the token placeholder in it."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{USER_NAME}:{TOKEN_PLACEHOLDER}@{parts.netloc}{parts.path}"


def uv_index_variable(name: str) -> str:
    """The infix of uv's per-index credential variables: upper case, runs of anything
    else than letters and digits as ``_`` (``UV_INDEX_{infix}_PASSWORD``)."""
    return re.sub(r"[^A-Z0-9]", "_", name.upper())


def install_snippets(
    address: RegistryAddress, *, public: bool, requirement: str = PACKAGE_PLACEHOLDER
) -> tuple[Snippet, ...]:
    """pip, uv, pip.conf, requirements.txt and pyproject.toml forms installing
    ``requirement``; a public registry's need no token."""
    plain = address.index_url
    url = plain if public else with_credentials(plain)
    variable = uv_index_variable(address.registry)
    credentials = (
        ""
        if public
        else f"#   export UV_INDEX_{variable}_USERNAME={USER_NAME}\n"
        f'#   export UV_INDEX_{variable}_PASSWORD="{TOKEN_PLACEHOLDER}"\n'
    )
    pyproject = (
        "# pyproject.toml\n"
        f'[[tool.uv.index]]\nname = "{address.registry}"\nurl = "{plain}"\ndefault = true\n\n'
        f'# then:\n{credentials}#   uv add "{requirement}"\n'
    )
    return (
        Snippet("pip", "pip", "shell", f'pip install --index-url "{url}" "{requirement}"'),
        Snippet("uv", "uv pip", "shell", f'uv pip install --index-url "{url}" "{requirement}"'),
        Snippet("pip_conf", "pip.conf", "ini", f"[global]\nindex-url = {url}\n"),
        Snippet(
            "requirements_txt", "requirements.txt", "text", f"--index-url {url}\n{requirement}\n"
        ),
        Snippet("pyproject_toml", "pyproject.toml (uv)", "toml", pyproject),
    )


def publish_snippets(address: RegistryAddress) -> tuple[Snippet, ...]:
    """curl against the REST API; twine, uv, poetry, pdm and hatch against the upload API."""
    return (
        _curl(address),
        _twine(address),
        _uv_publish(address),
        _uv_index(address),
        _poetry(address),
        _pdm(address),
        _hatch(address),
    )


def _curl(address: RegistryAddress) -> Snippet:
    text = (
        f"curl -X POST {address.api_packages_url} \\\n"
        f'  -H "Authorization: Bearer {TOKEN_PLACEHOLDER}" \\\n'
        f'  -F "file=@{EXAMPLE_FILE}"\n'
    )
    return Snippet("curl", "curl", "shell", text)


def _twine(address: RegistryAddress) -> Snippet:
    # The password comes from the environment, so the token never sits in a file.
    name = address.registry
    text = (
        "# ~/.pypirc\n"
        "[distutils]\n"
        "index-servers =\n"
        f"    {name}\n"
        "\n"
        f"[{name}]\n"
        f"repository = {address.upload_url}\n"
        f"username = {USER_NAME}\n"
        "\n"
        f'# then: TWINE_PASSWORD="{TOKEN_PLACEHOLDER}" twine upload --repository {name} dist/*\n'
    )
    return Snippet("twine", "twine with .pypirc", "ini", text)


def _uv_publish(address: RegistryAddress) -> Snippet:
    # uv reads the check URL without the publish credentials, so it carries its own.
    text = (
        f"uv publish --publish-url {address.upload_url} \\\n"
        f'  --check-url "{with_credentials(address.index_url)}" \\\n'
        f'  --username {USER_NAME} --password "{TOKEN_PLACEHOLDER}" dist/*\n'
    )
    return Snippet("uv", "uv publish", "shell", text)


def _uv_index(address: RegistryAddress) -> Snippet:
    name = address.registry
    variable = uv_index_variable(name)
    text = (
        "# pyproject.toml\n"
        "[[tool.uv.index]]\n"
        f'name = "{name}"\n'
        f'url = "{address.index_url}"\n'
        f'publish-url = "{address.upload_url}"\n'
        "explicit = true\n"
        "\n"
        "# then:\n"
        f"#   export UV_INDEX_{variable}_USERNAME={USER_NAME}\n"
        f'#   export UV_INDEX_{variable}_PASSWORD="{TOKEN_PLACEHOLDER}"\n'
        f'#   uv publish --index {name} --username {USER_NAME} --password "{TOKEN_PLACEHOLDER}"\n'
    )
    return Snippet("uv_index", "uv with [[tool.uv.index]]", "toml", text)


def _poetry(address: RegistryAddress) -> Snippet:
    name = address.registry
    text = (
        f"poetry config repositories.{name} {address.upload_url}\n"
        f'poetry config http-basic.{name} {USER_NAME} "{TOKEN_PLACEHOLDER}"\n'
        f"poetry publish --build -r {name}\n"
    )
    return Snippet("poetry", "poetry", "shell", text)


def _pdm(address: RegistryAddress) -> Snippet:
    name = address.registry
    text = (
        f"pdm config repository.{name}.url {address.upload_url}\n"
        f"pdm config repository.{name}.username {USER_NAME}\n"
        f'PDM_PUBLISH_PASSWORD="{TOKEN_PLACEHOLDER}" pdm publish -r {name}\n'
    )
    return Snippet("pdm", "pdm", "shell", text)


def _hatch(address: RegistryAddress) -> Snippet:
    name = address.registry
    text = (
        "# hatch's config.toml (hatch config find)\n"
        f"[publish.index.repos.{name}]\n"
        f'url = "{address.upload_url}"\n'
        "\n"
        f'# then: hatch publish -r {name} -u {USER_NAME} -a "{TOKEN_PLACEHOLDER}"\n'
    )
    return Snippet("hatch", "hatch", "toml", text)
