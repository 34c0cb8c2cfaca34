"""What ``packyard quickstart`` prints: where the UI is and how to sign in, then commands
that work when pasted, in order, into a shell in the folder the quickstart ran in.

Commands are the lines indented by four spaces (nothing else is; a line ending in a
backslash goes on in the next), so a person can copy them and a test can find them. They
are the snippets every other place shows (``core.snippets``), with the sample's files in
place of the example ones, and read the token from ``${PACKYARD_TOKEN}``, which the first
command exports.
"""

from __future__ import annotations

import os
import shlex
import textwrap
from dataclasses import dataclass
from pathlib import Path

from packyard.cli import sample_package
from packyard.core.snippets import (
    EXAMPLE_FILE,
    TOKEN_PLACEHOLDER,
    TOKEN_VARIABLE,
    USER_NAME,
    RegistryAddress,
    install_snippets,
    publish_snippets,
)

COMMAND_INDENT = "    "


@dataclass(frozen=True, slots=True)
class Demo:
    """What the quickstart set up, as the printed instructions need it."""

    registry: str
    token: str
    email: str
    password: str | None  # None: the user existed before and its password was not saved
    sample_files: list[Path]


def instructions(base: str, organization: str, demo: Demo) -> str:
    """The whole text, ready for the terminal."""
    address = RegistryAddress(base, organization, demo.registry)
    files = [_shown(path) for path in demo.sample_files]
    sdist = next(f for f in files if f.endswith(".tar.gz"))
    everything = " ".join(shlex.quote(f) for f in files)
    publish = {s.key: s.text for s in publish_snippets(address)}
    requirement = f"{sample_package.NAME}=={sample_package.VERSION}"
    install = {
        s.key: s.text for s in install_snippets(address, public=False, requirement=requirement)
    }
    twine = (
        f"twine upload --repository-url {address.upload_url} "
        f'-u {USER_NAME} -p "{TOKEN_PLACEHOLDER}" {everything}'
    )
    lines = [
        "",
        f"Packyard is starting at {base} with a demo organization and a private registry.",
        f"  organization: {organization}    registry: {demo.registry}",
        "",
        # The sign-in page, then the organization's: a visitor not signed in is not shown
        # a private organization (not even that it exists).
        "Sign in to the web UI:",
        f"  {base}/sign-in?next=/organizations/{organization}/packages",
        f"  email: {demo.email}",
        f"  password: {_password_line(demo)}",
        "",
        "In another shell in this folder, keep the token (read and write packages):",
        _commands(f"export {TOKEN_VARIABLE}={demo.token}"),
        "",
        f"Publish the sample package {requirement} (written to {_folder(files[0])}/) with",
        "curl, twine or uv (publishing the same file again changes nothing):",
        _commands(publish["curl"].replace(EXAMPLE_FILE, sdist)),
        _commands(twine),
        _commands(publish["uv"].replace("dist/*", everything)),
        "",
        "Install it into an active virtual environment with pip or uv, and use it:",
        _commands(install["pip"]),
        _commands(install["uv"]),
        _commands(f'python -c "import {sample_package.MODULE}; {sample_package.MODULE}.hello()"'),
        "",
        "Configuration for poetry, pdm and hatch: the registry's Publish tab in the web UI.",
        "Press Ctrl+C to stop the server; run the quickstart again to start it with the same data.",
        "",
    ]
    return "\n".join(lines)


def _commands(text: str) -> str:
    return textwrap.indent(text.rstrip("\n"), COMMAND_INDENT)


def _password_line(demo: Demo) -> str:
    if demo.password is not None:
        return demo.password
    return (
        "(the user existed before the quickstart saved a password; "
        "create another with `packyard user create`)"
    )


def _shown(path: Path) -> str:
    """``path`` relative to the current folder when it lies inside it (shorter to read)."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _folder(file: str) -> str:
    return os.path.dirname(file) or "."
