"""The subcommands around a results folder's catalog: ``catalog`` builds ``catalog.sqlite`` and
``serve`` serves the design's metadata API over it.

:func:`add` registers them, in the order of ``vstack-sim --help``.
"""

from __future__ import annotations

import argparse

from vstack_sim.cli.common import arg_type

# -- catalog ------------------------------------------------------------------


def _cmd_catalog(args: argparse.Namespace) -> int:
    from vstack_sim.results import catalog_db

    print(catalog_db.build_catalog_for_folder(args.result_dir, allow_huge=args.allow_huge))
    return 0


def _add_catalog(subparsers) -> None:
    p = subparsers.add_parser(
        "catalog",
        help="build catalog.sqlite of a results folder whose run had outputs.catalog off",
        description="Rebuild the end-of-run catalog of RESULT_DIR (reruns its recorded scenario and checks "
                    "that the summary comes out identical) and write RESULT_DIR/catalog.sqlite.",
    )
    p.add_argument("result_dir", metavar="RESULT_DIR", help="a folder written by 'vstack-sim run'")
    p.add_argument("--allow-huge", action="store_true",
                   help="rerun a scenario beyond the up-front resource limits (see docs/limits.md)")
    p.set_defaults(func=_cmd_catalog)


# -- serve --------------------------------------------------------------------


def _port(text: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise ValueError(f"must be a port number 0-65535, got {text}")
    return int(text)


def _cmd_serve(args: argparse.Namespace) -> int:
    from vstack_sim.service import app

    return app.serve(args.result_dir, host=args.host, port=args.port, quiet=args.quiet)


def _add_serve(subparsers) -> None:
    p = subparsers.add_parser(
        "serve",
        help="serve the design's metadata API over a results folder's catalog (needs the serve extra)",
        description="Serve /redundancy/recommend, /redundancy/override, /redundancy/efficiency and "
                    "/storage/overhead over RESULT_DIR/catalog.sqlite; overrides persist in serve-state.sqlite.",
    )
    p.add_argument("result_dir", metavar="RESULT_DIR", help="a results folder with catalog.sqlite")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1, this machine only)")
    p.add_argument("--port", type=arg_type("port", _port), default=8080,
                   help="port (default 8080; 0 picks a free one)")
    p.add_argument("--quiet", action="store_true", help="no line on standard error per request")
    p.set_defaults(func=_cmd_serve)


def add(subparsers) -> None:
    """Register catalog and serve, in that order."""
    _add_catalog(subparsers)
    _add_serve(subparsers)
