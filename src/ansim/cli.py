"""The ``ansim`` command line: thin typer commands over the core, grouped by topic in ``commands/``."""

from __future__ import annotations

import importlib
import sys

import typer
from rich.console import Console

from ansim.errors import AnsimError

app = typer.Typer(
    name="ansim",
    help="Ansim (안심): real-time pandemic risk for Seoul.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
err_console = Console(stderr=True)

# Each topic module defines ``register(app)``; one line here per topic keeps the CLI a map.
_COMMAND_MODULES = (
    "store",
    "serve",
    "epi",
    "alerts",
    "route",
    "risk",
    "forecast",
    "plans",
    "scale",
    "keys",
)

for _name in _COMMAND_MODULES:
    importlib.import_module(f"ansim.commands.{_name}").register(app)


def main() -> None:
    """Entry point: run the app, turning domain errors into one clear line and exit status 2."""
    try:
        app(standalone_mode=False)
    except AnsimError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.exit(1)
    except Exception as exc:  # click usage errors carry their own exit code and message
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise


if __name__ == "__main__":
    main()
