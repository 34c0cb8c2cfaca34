"""Against the real PyPI (run with ``-m network``): a composite over a private registry and
PyPI installs a private package together with a real public dependency."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.builders import Dist, write_wheel
from tests.support.clients import Venv
from tests.support.driver import new_organization
from tests.support.server import PackyardServer

pytestmark = [pytest.mark.network, pytest.mark.timeout(600)]


@pytest.fixture
def real_pypi_yard(tmp_path: Path) -> Iterator[PackyardServer]:
    server = PackyardServer(data_dir=tmp_path / "data", log_path=tmp_path / "server.log")
    server.start()
    yield server
    server.stop()


def test_pip_installs_a_real_pypi_dependency_through_a_composite(
    real_pypi_yard: PackyardServer, pip_venv: Venv, tmp_path: Path
) -> None:
    org = new_organization(real_pypi_yard)
    private = org.registry("Private")
    private.publish(
        write_wheel(Dist("packyard-net-app", "1.0", requires=["six==1.16.0"]), tmp_path),
        org.token("write_packages"),
    )
    composite = org.composite("All", "private", "pypi", options=("--min-release-age", "1 day"))
    pip_venv.pip_install(composite.index_url(composite.token()), "packyard-net-app")
    assert pip_venv.installed_version("packyard_net_app") == "1.0"
    assert (
        "1.16.0" in pip_venv.run(pip_venv.python, "-c", "import six; print(six.__version__)").stdout
    )
