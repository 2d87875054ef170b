"""`mockserver`: serve the fake Run:ai Trainings API on loopback.

Every flag can also be set through the environment (`--port` is `RUNAI_MOCK_PORT`, `--quiet` is
`RUNAI_MOCK_QUIET=1` …); a flag on the command line wins over its variable.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import sys
from pathlib import Path
from types import FrameType
from typing import Any

from connexion import AsyncApp

from mockserver.about import package_version
from mockserver.app import create_app
from mockserver.audit.options import (
    add_journal_options,
    audit_at_stop,
    check_journal_options,
    start_phase_coverage,
)
from mockserver.banner import banner
from mockserver.cluster.cluster import stop_advances
from mockserver.cluster.errors import ConfigError
from mockserver.cluster.timing import PROFILES
from mockserver.config import DEFAULT_CONFIG, ServerConfig, load_config
from mockserver.dashboard.stream import close_streams
from mockserver.http.exposure import exposure_notice, is_loopback, new_control_token
from mockserver.http.limits import HEADER_TIMEOUT_SECONDS
from mockserver.http.requesthead import HostPolicy
from mockserver.persistence import StateFileError
from mockserver.versions import DEFAULT_VERSION, VERSIONS

ENV_PREFIX = "RUNAI_MOCK_"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
# Open dashboard streams never end by themselves; after this long a stop cancels them.
GRACEFUL_SHUTDOWN_SECONDS = 2


def env_name(action: argparse.Action) -> str:
    long = next(o for o in action.option_strings if o.startswith("--"))
    return ENV_PREFIX + long[2:].upper().replace("-", "_")


def _with_environment(parser: argparse.ArgumentParser, environ: dict[str, str]) -> None:
    """Defaults from RUNAI_MOCK_* variables, converted and checked as the flag itself would be."""
    for action in parser._actions:
        if not any(o.startswith("--") for o in action.option_strings) or action.dest in ("help", "version"):
            continue
        name = env_name(action)
        action.help = f"{action.help or ''} [env {name}]".strip()
        if name not in environ:
            continue
        raw = environ[name]
        value: Any
        if isinstance(action, argparse._StoreTrueAction):
            if raw.strip().lower() not in _TRUE | _FALSE:
                parser.error(f"{name}={raw!r}: must be one of 1, true, yes, on, 0, false, no, off")
            value = raw.strip().lower() in _TRUE
        else:
            try:
                value = action.type(raw) if callable(action.type) else raw
            except (TypeError, ValueError):
                parser.error(f"{name}={raw!r}: not a valid value for {action.option_strings[-1]}")
            if action.choices is not None and value not in action.choices:
                parser.error(f"{name}={raw!r}: must be one of {', '.join(map(str, action.choices))}")
        action.default = value


def build_parser(environ: dict[str, str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mockserver",
        description="A local fake Run:ai control plane (API 2.18 to 2.24): trainings and workspaces, the "
        "workloads and organisation views, on a simulated GPU cluster with quotas, fair share and preemption. "
        "Every flag can also be set as an environment variable, shown in brackets.",
        epilog="The embedded default config has cluster 71f69d83-ba66-4822-adf5-55ce55efd210, project '1' and "
        "the credentials mock-app / mock-secret. Dashboard: /. Control API and its docs: /api/mock/v1/docs. "
        "Scenario files: mockserver scenario run FILE… (docs/scenarios.md).",
    )
    parser.add_argument("--version", action="version", version=f"mockserver {package_version()}")
    _add_cluster_options(parser)
    _add_browser_options(parser)
    _add_output_options(parser)
    _add_guard_options(parser)
    _with_environment(parser, environ)
    return parser


def _add_cluster_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default: %(default)s, loopback only)"
    )
    parser.add_argument(
        "--port", type=int, default=8080, help="port to listen on; 0 picks a free one (default: %(default)s)"
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help=f"YAML file with topology, accounts and timing (default: the embedded {DEFAULT_CONFIG.name})",
    )
    parser.add_argument(
        "--clock",
        choices=("realtime", "manual"),
        default="realtime",
        help="realtime: phases move by themselves; manual: only through POST "
        "/api/mock/v1/clock/advance (default: %(default)s)",
    )
    parser.add_argument(
        "--speed",
        type=float,
        default=1.0,
        help="virtual seconds per real second on the realtime clock (default: %(default)s)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=None,
        help="seed for ids, name suffixes and simulated randomness (never token keys): same seed + same requests = same answers",
    )
    parser.add_argument(
        "--api",
        choices=sorted(VERSIONS),
        default=DEFAULT_VERSION,
        help="API version to serve, 2.18 to 2.24 (latest is 2.24): each with its own contract and its "
        "differences, e.g. create 200 and delete 204 up to 2.20, 202 from 2.21 (docs/versions.md) "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--profile",
        choices=sorted(PROFILES),
        default="default",
        help="timing profile: default (Running about 4 s after create) or realistic (image pull, a 2 s "
        "scheduler period, a visible Deleting phase); the config's own timing keys win (default: %(default)s)",
    )
    parser.add_argument(
        "--real-deployment",
        action="store_true",
        help="behave like a real Run:ai deployment: no control API or dashboard, mock.runai/* annotations "
        "ignored; the container's command (sleep N, exit X) decides how a training runs",
    )


def _add_browser_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--cors",
        metavar="ORIGIN",
        default=None,
        help="let web pages of this origin (a comma-separated list, or '*') call the Run:ai API: preflights "
        "answered, answers marked. Never covers the control API (default: off)",
    )
    parser.add_argument(
        "--control-cors",
        metavar="ORIGIN",
        default=None,
        help="let web pages of this origin (a comma-separated list, or '*') call the control API, which "
        "can reset the cluster and set faults; only for a page you trust (default: no other origin)",
    )
    parser.add_argument(
        "--allowed-host",
        metavar="NAME",
        default=None,
        help="also answer requests whose Host is this name (a comma-separated list); by default only "
        "loopback names and the --host address are answered, which keeps DNS rebinding out",
    )


def _add_output_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--quiet", action="store_true", help="no request log (one line per request on stdout by default)"
    )
    add_journal_options(parser)
    parser.add_argument(
        "--log-level",
        default="warning",
        choices=("debug", "info", "warning", "error"),
        help="how much of uvicorn's own logging shows (default: warning; the request log is separate)",
    )


def _add_guard_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--expose",
        action="store_true",
        help="allow a --host that is not loopback; the control API then requires a token printed at start",
    )
    parser.add_argument(
        "--token-secret",
        default=None,
        help="key that signs access tokens, so they stay valid across restarts (default: random per process)",
    )
    parser.add_argument(
        "--read-timeout",
        type=float,
        default=HEADER_TIMEOUT_SECONDS,
        help="seconds a client may take to send its headers, and again its body, before a 408 "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--state",
        type=Path,
        metavar="FILE",
        default=None,
        help="keep the cluster in this SQLite file: every accepted change is saved before its answer, "
        "and a restart with the same file continues where the last run stopped (default: memory only)",
    )
    parser.add_argument(
        "--state-recover",
        action="store_true",
        help="start even if the --state file is damaged: keep the commands before the damage, move the "
        "damaged file aside and say how many commands were dropped (default: refuse to start, exit 2)",
    )


def parse_args(argv: list[str] | None = None, environ: dict[str, str] | None = None) -> argparse.Namespace:
    parser = build_parser(dict(os.environ) if environ is None else environ)
    args = parser.parse_args(argv)
    if args.speed <= 0:
        parser.error("--speed must be positive")
    if not 0 <= args.port <= 65535:
        parser.error("--port must be between 0 and 65535")
    if not is_loopback(args.host) and not args.expose:
        parser.error(
            f"--host {args.host} is not a loopback address: the network could reach the control API "
            "(reset, clock, faults). Add --expose to serve it anyway; the control API then requires a token."
        )
    if not 0 < args.read_timeout <= 3600:
        parser.error("--read-timeout must be a positive number of seconds, at most 3600")
    check_journal_options(parser, args)
    return args


def listen(host: str, port: int) -> socket.socket:
    """Binds before anything is printed, so a busy port is one clear error and `--port 0` shows the real port."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does: restarts need no wait
    try:
        sock.bind((host, port))
        sock.listen(2048)  # connections made as soon as the banner shows wait in the backlog
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def host_policy(bind: str, allowed: str | None) -> HostPolicy | None:
    """The Host names answered: loopback names, the bound address, and the --allowed-host names. A server
    exposed on every address (0.0.0.0, ::) without --allowed-host cannot know its names: any Host."""
    names = [name for name in (allowed or "").split(",") if name.strip()]
    if not names and bind in ("0.0.0.0", "::", ""):
        return None
    return HostPolicy([bind, *names])


def _stop_quietly(signum: int, frame: FrameType | None) -> None:
    """uvicorn stops cleanly on SIGINT/SIGTERM, then re-raises the signal to the handler found before it
    started; this one lets `main` return 0 instead of dying with 143 or a KeyboardInterrupt."""


def main(argv: list[str] | None = None) -> int:
    given = sys.argv[1:] if argv is None else argv
    if given[:1] == ["scenario"]:  # `mockserver scenario run FILE…` (mockserver/scenario/cli.py)
        from mockserver.scenario.cli import main as scenario_main

        return scenario_main(given[1:])
    args = parse_args(argv)
    try:
        config = load_config(args.config)
    except ConfigError as error:
        print(f"mockserver: invalid configuration: {error}", file=sys.stderr)
        return 2
    try:
        sock = listen(args.host, args.port)
    except OSError as error:
        hint = " (pick another --port, or --port 0 for a free one)" if error.errno == 98 else ""
        reason = error.strerror or str(error)
        print(f"mockserver: cannot listen on {args.host}:{args.port}: {reason}{hint}", file=sys.stderr)
        return 1
    control_token = None if is_loopback(args.host) else new_control_token()
    try:
        app = create_app(
            config,
            hosts=host_policy(args.host, args.allowed_host),
            control_cors=args.control_cors,
            clock=args.clock,
            speed=args.speed,
            seed=args.seed,
            api=args.api,
            cors=args.cors,
            request_log=None if args.quiet else sys.stdout,
            token_secret=args.token_secret,
            control_token=control_token,
            read_timeout=args.read_timeout,
            profile=args.profile,
            real_deployment=args.real_deployment,
            state_file=args.state,
            state_recover=args.state_recover,
            own_process=True,
            request_journal=args.request_journal,
        )
    except StateFileError as error:  # corrupt, foreign, in use, or written by a server with other settings
        sock.close()
        print(f"mockserver: cannot use the state file: {error}", file=sys.stderr)
        return 2
    _announce(args, config, app, sock, control_token)
    coverage = start_phase_coverage(app.mock_state, args)
    _run(app, args, sock)
    status = audit_at_stop(app.mock_state, args, coverage)
    print("mockserver: stopped", flush=True)
    return status


def _announce(
    args: argparse.Namespace,
    config: ServerConfig,
    app: AsyncApp,
    sock: socket.socket,
    control_token: str | None,
) -> None:
    """The banner, the mode, what the state file brought back, and who can reach an exposed server."""
    account = config.accounts[0]
    project = (
        next(iter(config.topology.projects)) if account.projects is None else sorted(account.projects)[0]
    )
    shown_host = f"[{args.host}]" if ":" in args.host else args.host
    print(
        banner(
            f"http://{shown_host}:{sock.getsockname()[1]}",
            account.client_id,
            account.client_secret,
            project,
            config.topology.cluster_id,
            args.clock,
            args.api,
            control=not args.real_deployment,
            control_token=control_token,
        ),
        flush=True,
    )
    if args.real_deployment:
        print(
            "  Mode:         real deployment (no control API; annotations ignored; commands decide)",
            flush=True,
        )
    if args.state:
        replayed, covered = app.mock_durability.replayed, app.mock_durability.snapshot_seq
        changes = "1 command" if replayed == 1 else f"{replayed} commands"
        base = f"snapshot of commands up to {covered}, then " if covered else ""
        print(
            f"State file: {args.state} ({base}{changes} replayed; each accepted change is kept)", flush=True
        )
        if app.mock_durability.recovered is not None:
            print(f"  RECOVERED: {app.mock_durability.recovered.summary()}", flush=True)
    if control_token:
        base = f"http://{shown_host}:{sock.getsockname()[1]}"
        hosts = host_policy(args.host, args.allowed_host)
        names = None if hosts is None else ", ".join(sorted(hosts.extra))
        print(exposure_notice(base, args.host, control_token, names), flush=True)


def _run(app: AsyncApp, args: argparse.Namespace, sock: socket.socket) -> None:
    """Serve until SIGINT or SIGTERM, which end open streams and clock advances first."""
    import uvicorn

    from mockserver.http.uvicorn_guard import guarded

    logging.basicConfig(level=args.log_level.upper())
    # A query parameter the operation does not declare is ignored, as the real API ignores it; Connexion
    # logs each one as an ERROR line ("not defined in specification"), which only alarms the user.
    logging.getLogger("connexion.decorators.parameter").setLevel(logging.CRITICAL)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            log_level=args.log_level,
            access_log=False,  # the request log replaces it
            date_header=False,  # the app sends Date from the virtual clock (mockserver/http/virtualdate.py)
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
            **guarded(args.read_timeout),  # slow and numerous clients are bounded
        )
    )
    stop_uvicorn = server.handle_exit

    def handle_exit(signum: int, frame: FrameType | None) -> None:
        close_streams()  # open dashboard streams end now: the stop is prompt and clean
        stop_advances()  # so does a clock advance at work in a worker thread
        stop_uvicorn(signum, frame)

    server.handle_exit = handle_exit  # type: ignore[method-assign,assignment]
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _stop_quietly)
    server.run(sockets=[sock])


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
