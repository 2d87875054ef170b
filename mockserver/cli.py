"""`mockserver`: serve the fake Run:ai Trainings API on loopback."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from mockserver.app import API_DOCS, CONTROL_DOCS, create_app
from mockserver.cluster.errors import ConfigError
from mockserver.config import DEFAULT_CONFIG, load_config
from mockserver.versions import DEFAULT_VERSION, VERSIONS


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="mockserver",
        description="A local fake Run:ai control plane for trainings (API 2.18): token, create, get, "
        "suspend, resume, delete, on a simulated GPU cluster with quotas, fair share and preemption.",
        epilog="The embedded default config has cluster 71f69d83-ba66-4822-adf5-55ce55efd210, project '1' and "
        "the credentials mock-app / mock-secret. Control API and its docs: /api/mock/v1/docs.",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default: %(default)s, loopback only)"
    )
    parser.add_argument("--port", type=int, default=8080, help="port to listen on (default: %(default)s)")
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
        help="seed for ids, name suffixes and token keys: same seed + same requests = same answers",
    )
    parser.add_argument(
        "--api",
        choices=sorted(VERSIONS),
        default=DEFAULT_VERSION,
        help="API version to serve: 2.18 (create 200, delete 204) or latest (create 202, "
        "delete 202 with a body, deletedAt, preemptibility) (default: %(default)s)",
    )
    parser.add_argument("--log-level", default="warning", choices=("debug", "info", "warning", "error"))
    args = parser.parse_args(argv)
    if args.speed <= 0:
        parser.error("--speed must be positive")
    if not 0 <= args.port <= 65535:
        parser.error("--port must be between 0 and 65535")
    return args


def banner(
    base: str, client_id: str, client_secret: str, project: str, cluster_id: str, clock: str, api: str
) -> str:
    body = (
        f'{{"name": "hello", "projectId": "{project}", "clusterId": "{cluster_id}", '
        f'"spec": {{"image": "python:3.11", "compute": {{"gpuDevicesRequest": 1}}}}}}'
    )
    return f"""Run:ai Trainings mock server (API {api}, {clock} clock)
  API:          {base}/api/v1
  API docs:     {base}{API_DOCS}
  Control docs: {base}{CONTROL_DOCS}
  Credentials:  clientId={client_id} clientSecret={client_secret}

Try it:
  TOKEN=$(curl -s -X POST {base}/api/v1/token -H 'Content-Type: application/json' \\
    -d '{{"grantType":"app_token","AppId":"{client_id}","AppSecret":"{client_secret}"}}' \\
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["accessToken"])')
  curl -s -X POST {base}/api/v1/workloads/trainings -H "Authorization: Bearer $TOKEN" \\
    -H 'Content-Type: application/json' -d '{body}'

Press Ctrl-C to stop."""


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        config = load_config(args.config)
    except ConfigError as error:
        print(f"mockserver: invalid configuration: {error}", file=sys.stderr)
        return 2
    import uvicorn

    app = create_app(config, clock=args.clock, speed=args.speed, seed=args.seed, api=args.api)
    account = config.accounts[0]
    project = (
        next(iter(config.topology.projects)) if account.projects is None else sorted(account.projects)[0]
    )
    shown_host = f"[{args.host}]" if ":" in args.host else args.host
    print(
        banner(
            f"http://{shown_host}:{args.port}",
            account.client_id,
            account.client_secret,
            project,
            config.topology.cluster_id,
            args.clock,
            args.api,
        ),
        flush=True,
    )
    logging.basicConfig(level=args.log_level.upper())
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, workers=1)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
