"""Ready-made configuration for publishing to a registry with the tools teams use: twine
(``.pypirc``), uv (``--publish-url`` and ``[[tool.uv.index]]``), poetry, pdm and hatch.

A pure function of the base URL and the registry's slugs, so the REST API, the UI and the
tests render the very same text. The token never appears: every snippet reads it from
``TOKEN_VARIABLE``. To support another tool, add a function returning a ``Snippet`` and
list it in ``publish_instructions``.
"""

from __future__ import annotations

from dataclasses import dataclass

TOKEN_VARIABLE = "PACKYARD_TOKEN"
TOKEN = f"${TOKEN_VARIABLE}"
USERNAME = "__token__"


@dataclass(frozen=True, slots=True)
class Snippet:
    """One way to publish: ``tool`` is a stable key, ``language`` says how to show ``text``
    (``shell``, ``ini`` or ``toml``)."""

    tool: str
    title: str
    language: str
    text: str


@dataclass(frozen=True, slots=True)
class PublishInstructions:
    upload_url: str  # what the tools POST to (PyPI's /legacy/ equivalent)
    index_url: str  # the simple index, for --check-url and installs
    repository_name: str  # the name the snippets give this registry in tool config
    token_variable: str
    snippets: tuple[Snippet, ...]


@dataclass(frozen=True, slots=True)
class _Target:
    name: str
    upload_url: str
    index_url: str


def publish_instructions(base_url: str, organization: str, registry: str) -> PublishInstructions:
    """Every snippet for publishing to ``registry`` of ``organization`` served at ``base_url``."""
    root = f"{base_url.rstrip('/')}/{organization}/{registry}/pypi"
    target = _Target(name=registry, upload_url=f"{root}/", index_url=f"{root}/simple/")
    snippets = (
        _pypirc(target),
        _uv_publish(target),
        _uv_index(target),
        _poetry(target),
        _pdm(target),
        _hatch(target),
    )
    return PublishInstructions(
        upload_url=target.upload_url,
        index_url=target.index_url,
        repository_name=target.name,
        token_variable=TOKEN_VARIABLE,
        snippets=snippets,
    )


def _pypirc(target: _Target) -> Snippet:
    text = (
        "# ~/.pypirc\n"
        "[distutils]\n"
        "index-servers =\n"
        f"    {target.name}\n"
        "\n"
        f"[{target.name}]\n"
        f"repository = {target.upload_url}\n"
        f"username = {USERNAME}\n"
        f"password = <your token>\n"
        "\n"
        f"# then: twine upload --repository {target.name} dist/*\n"
    )
    return Snippet("twine", "twine with .pypirc", "ini", text)


def _uv_publish(target: _Target) -> Snippet:
    # uv reads the check URL without the publish credentials, so it carries its own.
    scheme, _, rest = target.index_url.partition("://")
    check_url = f"{scheme}://{USERNAME}:{TOKEN}@{rest}"
    text = (
        f"uv publish --publish-url {target.upload_url} \\\n"
        f'  --check-url "{check_url}" \\\n'
        f'  --username {USERNAME} --password "{TOKEN}" dist/*\n'
    )
    return Snippet("uv", "uv publish", "shell", text)


def _uv_index(target: _Target) -> Snippet:
    variable = target.name.upper().replace("-", "_")
    text = (
        "# pyproject.toml\n"
        "[[tool.uv.index]]\n"
        f'name = "{target.name}"\n'
        f'url = "{target.index_url}"\n'
        f'publish-url = "{target.upload_url}"\n'
        "explicit = true\n"
        "\n"
        "# then:\n"
        f"#   export UV_INDEX_{variable}_USERNAME={USERNAME}\n"
        f'#   export UV_INDEX_{variable}_PASSWORD="{TOKEN}"\n'
        f'#   uv publish --index {target.name} --username {USERNAME} --password "{TOKEN}"\n'
    )
    return Snippet("uv-index", "uv with [[tool.uv.index]]", "toml", text)


def _poetry(target: _Target) -> Snippet:
    text = (
        f"poetry config repositories.{target.name} {target.upload_url}\n"
        f'poetry config http-basic.{target.name} {USERNAME} "{TOKEN}"\n'
        f"poetry publish --build -r {target.name}\n"
    )
    return Snippet("poetry", "poetry", "shell", text)


def _pdm(target: _Target) -> Snippet:
    text = (
        f"pdm config repository.{target.name}.url {target.upload_url}\n"
        f"pdm config repository.{target.name}.username {USERNAME}\n"
        f'PDM_PUBLISH_PASSWORD="{TOKEN}" pdm publish -r {target.name}\n'
    )
    return Snippet("pdm", "pdm", "shell", text)


def _hatch(target: _Target) -> Snippet:
    text = (
        "# hatch's config.toml (hatch config find)\n"
        f"[publish.index.repos.{target.name}]\n"
        f'url = "{target.upload_url}"\n'
        "\n"
        f'# then: hatch publish -r {target.name} -u {USERNAME} -a "{TOKEN}"\n'
    )
    return Snippet("hatch", "hatch", "toml", text)
