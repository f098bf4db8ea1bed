"""The command line: parses options, calls library functions, prints. No work happens here."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.markup import escape

from crmclean import __version__, ui
from crmclean.errors import CrmcleanError, ExitCode

app = typer.Typer(
    name="crmclean",
    help=(
        "Keep CRM data clean: audit, standardize, deduplicate, validate, score, and write fixes back safely.\n\n"
        "Examples:\n\n"
        "  crmclean audit examples/contacts.csv            # read-only report (HTML + JSON)\n\n"
        "  crmclean validate leads.xlsx --fail-on error    # gate an import; exit 1 on errors\n\n"
        "  crmclean rules list                             # every rule, with its code\n\n"
        "Exit codes: 0 clean, 1 findings at or above --fail-on, 2 usage or config error, 3 source or connector error."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"crmclean {__version__}")
        raise typer.Exit(0)


@app.callback()
def _global(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only errors.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    ui.MODE.quiet = quiet
    ui.MODE.debug = debug


def _register() -> None:
    # each verb lives in its own module and adds itself to `app`
    from crmclean.cli import (  # noqa: F401
        apply,
        audit,
        dedupe,
        forget,
        init,
        plan,
        rollback,
        rules,
        run,
        runs,
        score,
        standardize,
        validate,
    )


_register()


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: maps errors to one line and an exit code (``--debug`` adds the traceback
    but keeps the exit code)."""
    import errno
    import traceback

    debug = "--debug" in (argv if argv is not None else sys.argv)
    try:
        app(args=argv, standalone_mode=True)
    except CrmcleanError as exc:
        if debug:
            traceback.print_exc()
        ui.err.print(f"[red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(int(exc.exit_code))
    except KeyboardInterrupt:
        ui.err.print("interrupted")
        sys.exit(130)
    except OSError as exc:  # the file system refused: disk full, permissions, ... — a source error, not a bug
        if debug:
            traceback.print_exc()
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            where = f" writing {exc.filename}" if exc.filename else ""
            ui.err.print(f"[red]error:[/] disk full{escape(where)}: free some space and run again",
                         highlight=False, soft_wrap=True)
        else:
            ui.err.print(f"[red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(int(ExitCode.SOURCE))
    except MemoryError:
        if debug:
            traceback.print_exc()
        ui.err.print("[red]error:[/] out of memory reading the input (too large for this machine)", highlight=False)
        sys.exit(int(ExitCode.SOURCE))
    except Exception as exc:  # a bug: still one line unless --debug
        if debug:
            traceback.print_exc()
        ui.err.print(f"[red]internal error:[/] {type(exc).__name__}: {escape(str(exc))} (rerun with --debug for details)",
                     highlight=False)
        sys.exit(4)
