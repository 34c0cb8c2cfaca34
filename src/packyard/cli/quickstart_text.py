"""What ``packyard quickstart`` prints: where the UI is and how to sign in, then commands
that work when pasted, in order, into a shell in the folder the quickstart ran in.

Commands are the lines indented by four spaces (nothing else is), one command a line, so
a person can copy them and a test can find them. They read the token from
``$PACKYARD_TOKEN``, which the first command exports.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass
from pathlib import Path

from packyard.cli import sample_package
from packyard.services.instructions import TOKEN, TOKEN_VARIABLE, USERNAME

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
    host = base.split("://", 1)[1]
    root = f"{base}/{organization}/{demo.registry}/pypi"
    index = f"http://x:{TOKEN}@{host}/{organization}/{demo.registry}/pypi/simple/"
    rest = f"{base}/v2/packages/organizations/{organization}/registries/{demo.registry}/packages"
    files = [_shown(path) for path in demo.sample_files]
    sdist = next(f for f in files if f.endswith(".tar.gz"))
    everything = " ".join(shlex.quote(f) for f in files)
    requirement = f"{sample_package.NAME}=={sample_package.VERSION}"
    lines = [
        "",
        f"Packyard is starting at {base} with a demo organization and a private registry.",
        f"  organization: {organization}    registry: {demo.registry}",
        "",
        "Sign in to the web UI:",
        f"  {base}/organizations/{organization}/packages",
        f"  email: {demo.email}",
        f"  password: {_password_line(demo)}",
        "",
        "In another shell in this folder, keep the token (read and write packages):",
        _command(f"export {TOKEN_VARIABLE}={demo.token}"),
        "",
        f"Publish the sample package {requirement} (written to {_folder(files[0])}/) with",
        "curl, twine or uv (publishing the same file again changes nothing):",
        _command(
            f'curl --fail-with-body -X POST {rest} -H "Authorization: Bearer {TOKEN}" '
            f'-F "file=@{sdist}"'
        ),
        _command(f'twine upload --repository-url {root}/ -u {USERNAME} -p "{TOKEN}" {everything}'),
        _command(
            f"uv publish --publish-url {root}/ --username {USERNAME} "
            f'--password "{TOKEN}" {everything}'
        ),
        "",
        "Install it into an active virtual environment with pip or uv, and use it:",
        _command(f'pip install --index-url "{index}" {requirement}'),
        _command(f'uv pip install --index-url "{index}" {requirement}'),
        _command(f'python -c "import {sample_package.MODULE}; {sample_package.MODULE}.hello()"'),
        "",
        "Configuration for poetry, pdm and hatch: the registry's Publish tab in the web UI.",
        "Press Ctrl+C to stop the server; run the quickstart again to start it with the same data.",
        "",
    ]
    return "\n".join(lines)


def _command(text: str) -> str:
    return COMMAND_INDENT + text


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
