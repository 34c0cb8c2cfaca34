"""What every ``packyard`` command shares: the data directory option, ``--json``, and the
services built from the settings with domain errors turned into a clean exit 1."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from packyard.cli import serving
from packyard.core.errors import PackyardError

if TYPE_CHECKING:
    # Imported where used: ``packyard serve`` stays up as the workers' supervisor, and
    # must not carry the application (SQLAlchemy, pydantic, the services) in its memory.
    from packyard.settings import Settings

F = TypeVar("F", bound=Callable[..., Any])

data_dir_option = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Data directory (default: $PACKYARD_DATA_DIR or ./packyard-data).",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")


def load_settings(data_dir: Path | None) -> Settings:
    from packyard.settings import Settings

    serving.export_data_dir(data_dir)
    return Settings() if data_dir is None else Settings(data_dir=data_dir)


def with_services(command: F) -> F:
    """Build services for the command from --data-dir/the environment; map errors to exit 1."""

    @functools.wraps(command)
    def wrapper(*args: Any, data_dir: Path | None, **kwargs: Any) -> Any:
        from packyard.bootstrap import build_services
        from packyard.preflight import SchemaNotReady

        try:
            services = build_services(load_settings(data_dir))
        except SchemaNotReady as error:
            raise click.ClickException(str(error)) from None
        try:
            return command(services, *args, **kwargs)
        except PackyardError as error:
            raise click.ClickException(error.message) from None
        finally:
            services.close()

    return data_dir_option(wrapper)  # type: ignore[return-value]
