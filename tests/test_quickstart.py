"""The quickstart as a newcomer meets it: started in an empty folder, every command it
prints is pasted, in order, into one shell in that folder, and each has the effect it
promises (published, installed, signed in). A second run prints the same and still works."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import venv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx
import pytest
from playwright.sync_api import Browser

from tests.support.browser import browser, new_page, screenshot, sign_in
from tests.support.clients import Venv, isolated_env
from tests.support.publishers import TEST_BIN
from tests.support.server import STARTUP_TIMEOUT_SECONDS, free_port
from tests.support.waiting import answers, eventually

__all__ = ["browser"]
pytestmark = [pytest.mark.timeout(600), pytest.mark.backend_independent]

COMMAND_PREFIX = "    "  # how the quickstart marks a command (nothing else is so indented)
JSON_INDEX = {"Accept": "application/vnd.pypi.simple.v1+json"}
PROJECT = "hello-packyard"
MODULE = "hello_packyard"
WHEEL = "hello_packyard-1.0-py3-none-any.whl"
SDIST = "hello_packyard-1.0.tar.gz"


@dataclass
class Quickstart:
    """``packyard quickstart`` running in ``folder``, as the README says to start it."""

    folder: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> str:
        """Start it and return what it printed once the server answers."""
        output = self.folder / "quickstart.out"
        env = {k: v for k, v in os.environ.items() if not k.startswith("PACKYARD_")}
        with output.open("wb") as stdout, (self.folder / "server.log").open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "packyard.cli.main", "quickstart", "--port", str(self.port)],
                cwd=self.folder,
                env=env,
                stdout=stdout,
                stderr=log,
            )
        self._wait_until_ready()
        return output.read_text()

    def _wait_until_ready(self) -> None:
        process = self.process
        assert process is not None
        log = self.folder / "server.log"

        def healthy() -> bool:
            if process.poll() is not None:
                raise RuntimeError(log.read_text())
            return answers(f"{self.base_url}/healthz")

        eventually(
            healthy,
            STARTUP_TIMEOUT_SECONDS,
            lambda: f"quickstart did not start:\n{log.read_text()}",
        )

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # Ctrl+C, as the output says
            self.process.wait(timeout=30)
        self.process = None

    def files(self, token: str) -> set[str]:
        page = httpx.get(
            f"{self.base_url}/demo/python-packages/pypi/simple/{PROJECT}/",
            auth=("x", token),
            headers=JSON_INDEX,
            timeout=30,
        )
        if page.status_code == 404:
            return set()
        assert page.status_code == 200, page.text
        return {f["filename"] for f in page.json()["files"]}


class Shell:
    """One bash a person pastes into: commands run in order and share its variables."""

    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        # Commands reach bash on a descriptor of their own, not on stdin: a command that
        # reads stdin (as some tools do) must not swallow the commands after it.
        reader, writer = os.pipe()
        self._bash = subprocess.Popen(
            ["bash", "--noprofile", "--norc", f"/dev/fd/{reader}"],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            pass_fds=(reader,),
        )
        os.close(reader)
        self._commands = os.fdopen(writer, "w")

    def paste(self, command: str) -> str:
        """Run ``command`` as pasted; return its output, failing on a non-zero exit."""
        marker = "__packyard_command_done__"
        # On a line of its own even when the output does not end with one (curl's).
        self._commands.write(f"{command}\nprintf '\\n{marker} %d\\n' $?\n")
        self._commands.flush()
        stdout = self._stdout()
        lines: list[str] = []
        for line in stdout:
            if line.startswith(marker):
                status = int(line.split()[1])
                output = "".join(lines)
                assert status == 0, f"{command!r} exited {status}:\n{output}"
                return output
            lines.append(line)
        raise AssertionError(f"the shell ended during {command!r}:\n{''.join(lines)}")

    def _stdout(self) -> IO[str]:
        assert self._bash.stdout is not None
        return self._bash.stdout

    def close(self) -> None:
        self._commands.close()
        self._bash.wait(timeout=30)
        self._stdout().close()


def printed_commands(output: str) -> list[str]:
    """The commands, as a person copies them: indented lines, a trailing backslash going
    on in the next line."""
    commands: list[str] = []
    continued = False
    for line in output.splitlines():
        if not line.startswith(COMMAND_PREFIX):
            continued = False
            continue
        text = line[len(COMMAND_PREFIX) :]
        if continued:
            commands[-1] += "\n" + text
        else:
            commands.append(text)
        continued = text.endswith("\\")
    return commands


def printed_value(output: str, label: str) -> str:
    return next(
        line.split(": ", 1)[1]
        for line in output.splitlines()
        if line.strip().startswith(f"{label}: ")
    )


@pytest.fixture
def quickstart(tmp_path: Path) -> Iterator[Quickstart]:
    folder = tmp_path / "fresh-folder"
    folder.mkdir()
    started = Quickstart(folder, free_port())
    yield started
    started.stop()


@pytest.fixture
def active_venv(tmp_path: Path) -> Venv:
    """A virtual environment made as a person makes one (with its own pip), activated in
    the shell: its bin first on PATH, then the test tools (twine, uv)."""
    path = tmp_path / "user-venv"
    venv.create(path, with_pip=True)
    return Venv(path)


def _shell(folder: Path, active: Venv, home: Path) -> Shell:
    home.mkdir(exist_ok=True)
    env = isolated_env(
        {
            "HOME": str(home),
            "VIRTUAL_ENV": str(active.path),
            "PATH": os.pathsep.join([str(active.path / "bin"), str(TEST_BIN), os.environ["PATH"]]),
        }
    )
    return Shell(folder, env)


def test_every_printed_command_works_when_pasted_in_order(
    quickstart: Quickstart, active_venv: Venv, browser: Browser, tmp_path: Path
) -> None:
    output = quickstart.start()
    commands = printed_commands(output)
    tools = [command.split()[0] for command in commands]
    assert tools == ["export", "curl", "twine", "uv", "pip", "uv", "python"], output
    shell = _shell(quickstart.folder, active_venv, tmp_path / "home")
    try:
        _paste_and_check(shell, commands, quickstart, active_venv)
    finally:
        shell.close()
    _signs_in(browser, quickstart, output)


def _paste_and_check(
    shell: Shell, commands: list[str], quickstart: Quickstart, active: Venv
) -> None:
    export, curl, twine, uv_publish, pip, uv_pip, use = commands
    shell.paste(export)
    token = shell.paste("printenv PACKYARD_TOKEN").strip()
    assert token.startswith("pky") or len(token) > 20
    shell.paste(curl)
    assert quickstart.files(token) == {SDIST}
    shell.paste(twine)
    assert quickstart.files(token) == {SDIST, WHEEL}
    shell.paste(uv_publish)  # finds both files there already (--check-url) and succeeds
    assert quickstart.files(token) == {SDIST, WHEEL}
    shell.paste(pip)
    assert active.installed_version(MODULE) == "1.0"
    active.run(active.python, "-m", "pip", "uninstall", "-y", PROJECT)
    shell.paste(uv_pip)
    assert active.installed_version(MODULE) == "1.0"
    assert "Hello from a package served by Packyard" in shell.paste(use)


def _signs_in(browser: Browser, quickstart: Quickstart, output: str) -> None:
    page = new_page(browser)
    address = next(line.strip() for line in output.splitlines() if "/sign-in?" in line)
    sign_in(  # on the page printed, as a newcomer opens it: the form, then the organization
        page,
        quickstart.base_url,
        printed_value(output, "email"),
        printed_value(output, "password"),
        address,
    )
    assert "Wrong email or password" not in page.content()
    assert page.url == f"{quickstart.base_url}/organizations/demo/packages"
    assert printed_value(output, "email") in page.inner_text("body")  # signed in as them
    assert "Python packages" in page.inner_text("main")
    assert "2 packages" in page.inner_text("main")
    print(f"screenshot: {screenshot(page, 'quickstart-signed-in')}")
    page.context.close()


def test_a_second_run_prints_the_same_and_its_commands_still_work(
    quickstart: Quickstart, active_venv: Venv, tmp_path: Path
) -> None:
    first = quickstart.start()
    quickstart.stop()
    second = quickstart.start()
    assert printed_commands(second) == printed_commands(first)
    assert printed_value(second, "password") == printed_value(first, "password")
    for secret in ("quickstart-token", "quickstart-password"):
        mode = (quickstart.folder / "packyard-data" / secret).stat().st_mode
        assert mode & 0o777 == 0o600
    shell = _shell(quickstart.folder, active_venv, tmp_path / "home")
    try:
        export, curl, twine, *_ = printed_commands(second)
        shell.paste(export)
        shell.paste(curl)
        shell.paste(curl)  # the same file again: answered as already there
        shell.paste(twine)
    finally:
        shell.close()
    token = printed_commands(second)[0].split("=", 1)[1]
    assert quickstart.files(token) == {SDIST, WHEEL}
