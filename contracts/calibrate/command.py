"""`contracts calibrate --url URL --out profile.yaml`: measure, write the fake's configuration, start the
fake with it, measure again, and report the drift.

Exit codes: 0 calibrated and no drift, 1 calibrated but the fake drifts from the backend (or the script
could not finish on one of them), 2 usage errors.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from contracts.backend.auth import FAKE_CREDENTIALS, AuthError, Credentials, TokenSource
from contracts.backend.discovery import discover
from contracts.backend.safety import NameSource, new_run_id, writes_policy
from contracts.backend.server import LocalServer, fake_command
from contracts.backend.target import Target, TargetError
from contracts.calibrate.drift import compare, render
from contracts.calibrate.measure import Backend, Measurement, ScriptSettings, measure
from contracts.calibrate.profile import timing_from, unmeasured, write_config
from contracts.urls import url_fix

EXIT_NO_DRIFT, EXIT_DRIFT = 0, 1
DEFAULT_IMAGE = "busybox:1.36"
MINIMAL_COMPUTE = {"cpuCoreRequest": 0.1, "cpuMemoryRequest": "100M"}

EPILOG = """\
examples:
  contracts calibrate --url http://127.0.0.1:8080 --out profile.yaml
  RUNAI_TOKEN=... contracts calibrate --url https://tenant.run.ai --allow-writes --project-id 7 \\
      --cluster-id <uuid> --out profile.yaml
  mockserver --config profile.yaml --real-deployment    # the fake, timed like the backend
"""


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    add_auth: Callable[[argparse.ArgumentParser], None],
) -> None:
    parser = commands.add_parser(
        "calibrate",
        help="measure a backend's phase timings, write a fake config that reproduces them, report drift",
        description=__doc__.split("\n\n")[0],
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--url", required=True, help="base URL of the deployment (without /api/v1)")
    parser.add_argument("--out", type=Path, required=True, help="where to write the fake's YAML config")
    parser.add_argument(
        "--drift-report", type=Path, help="where to write the drift report (default: OUT with .drift.md)"
    )
    parser.add_argument("--project-id", help="project to create trainings in (default: discovered)")
    parser.add_argument("--cluster-id", help="cluster to create trainings in (default: discovered)")
    parser.add_argument("--allow-writes", action="store_true", help="create trainings on a non-loopback URL")
    parser.add_argument(
        "--image", default=DEFAULT_IMAGE, help="image of the trainings (default: %(default)s)"
    )
    parser.add_argument(
        "--poll",
        type=_poll,
        default=0.2,
        help="seconds between two reads: the resolution (default: %(default)s)",
    )
    add_auth(parser)


def _poll(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value <= 10:
        raise argparse.ArgumentTypeError(f"must be more than 0 and at most 10 seconds, got {text}")
    return value


def _tokens(args: argparse.Namespace, target: Target) -> TokenSource:
    if args.client_id:
        if not args.client_secret:
            raise AuthError("--client-id needs --client-secret (or RUNAI_CLIENT_SECRET)")
        return TokenSource(target.base_url, credentials=Credentials(args.client_id, args.client_secret))
    if args.token:
        return TokenSource(target.base_url, token=args.token)
    if target.control is not None:
        return TokenSource(target.base_url, credentials=FAKE_CREDENTIALS)
    raise AuthError("no credentials: pass --token (or RUNAI_TOKEN), or --client-id and --client-secret")


def _measure(
    target: Target,
    tokens: TokenSource,
    settings: ScriptSettings,
    project_id: str | None = None,
    cluster_id: str | None = None,
) -> Measurement:
    placement = discover(target.base_url, tokens.token(), target.control, project_id, cluster_id)
    names = NameSource(new_run_id(None))
    return measure(Backend(target.base_url, tokens), placement, names, settings)


def run(args: argparse.Namespace) -> int:
    fix = url_fix(args.url)
    if fix:
        raise TargetError(fix)
    writable, _ = writes_policy(args.url, args.allow_writes)
    if not writable:
        raise TargetError("calibration creates trainings: a target that is not loopback needs --allow-writes")
    settings = ScriptSettings(args.image, MINIMAL_COMPUTE, poll=args.poll)
    target = Target.connect(args.url)
    try:
        print(f"contracts calibrate: measuring {target.base_url}")
        backend = _measure(target, _tokens(args, target), settings, args.project_id, args.cluster_id)
    finally:
        target.close()
    timing = timing_from(backend)
    write_config(timing, args.out)
    print(f"contracts calibrate: timing {timing}; config in {args.out}")
    print("contracts calibrate: measuring our fake started with it")
    command = fake_command(seed=None, config=args.out, clock="realtime", real_deployment=True)
    with LocalServer.start(command) as server:
        fake_target = Target(base_url=server.base_url, control=None)
        tokens = TokenSource(server.base_url, credentials=FAKE_CREDENTIALS)
        fake = _measure(fake_target, tokens, settings)
    differences = compare(backend, fake)
    report = args.drift_report or args.out.with_suffix(".drift.md")
    report.write_text(render(target.base_url, backend, fake, timing, unmeasured()), encoding="utf-8")
    print(
        f"contracts calibrate: {len(differences)} difference(s) between the backend and the fake; report in {report}"
    )
    for difference in differences:
        print(f"  - {difference.what}: backend {difference.backend}, fake {difference.fake}")
    return EXIT_DRIFT if differences else EXIT_NO_DRIFT
