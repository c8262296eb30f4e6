"""``evolve dashboard [DIR ...] [--port N]``: a read-only local web page over run directories."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from evolve.errors import ConfigError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("dashboard", help="watch run directories live in a browser (read-only, local)")
    p.add_argument("dirs", nargs="*", type=Path, default=[Path("results")], metavar="DIR",
                   help="directories holding run directories (default: results)")
    p.add_argument("--port", type=int, default=8050, help="TCP port (default 8050; 0 picks a free one)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1: this machine only)")
    p.set_defaults(func=run_dashboard)


def run_dashboard(args: argparse.Namespace) -> int:
    from evolve.ui.dashboard.app import serve

    for folder in args.dirs:
        if not folder.is_dir():
            raise ConfigError(f"DIR {str(folder)!r}: not a directory")
    if not 0 <= args.port <= 65535:
        raise ConfigError(f"--port {args.port}: expected 0..65535")
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"evolve dashboard: warning: --host {args.host}: the page is visible to other machines "
              "(it has no login)", file=sys.stderr)
    print(f"evolve dashboard: http://{args.host}:{args.port}/ over {', '.join(map(str, args.dirs))} "
          "(Ctrl-C stops)", file=sys.stderr)
    serve(list(args.dirs), host=args.host, port=args.port)
    return 0
