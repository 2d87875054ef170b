"""Builds the ASGI application: Connexion serving our two contracts over one fake cluster."""

from __future__ import annotations

import gc
import logging
import random
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TextIO

from connexion import AsyncApp
from connexion.exceptions import OAuthProblem
from connexion.middleware import MiddlewarePosition
from connexion.options import SwaggerUIOptions
from connexion.resolver import RelativeResolver
from connexion.security import BearerSecurityHandler

from mockserver.cluster.clock import ManualClock, RealtimeClock
from mockserver.cluster.cluster import FakeCluster
from mockserver.config import ServerConfig, load_config
from mockserver.dashboard import DashboardPages
from mockserver.dashboard.stream import EventStream
from mockserver.handlers.state import MockState
from mockserver.http.auth import TokenRejected, TokenService
from mockserver.http.controlpages import ControlFromPages
from mockserver.http.cors import Cors, CorsPolicy
from mockserver.http.errors import install_error_handlers
from mockserver.http.exposure import ControlGuard
from mockserver.http.limits import BODY_TIMEOUT_SECONDS
from mockserver.http.literal_paths import LiteralPaths
from mockserver.http.middleware import AppState, BodyGuard, FaultInjection, Faults
from mockserver.http.not_simulated import NotSimulated, Unserved
from mockserver.http.prefer import PreferCode
from mockserver.http.recorder import RequestRecorder
from mockserver.http.requesthead import HostPolicy, RequestHead
from mockserver.http.requestlog import RequestLog
from mockserver.http.routes import Routes
from mockserver.http.servers_box import ServersBox
from mockserver.http.spec_once import (
    checked_fingerprints,
    remember_built_documents,
    validate_each_document_once,
)
from mockserver.http.tokenlimit import TokenRateLimit
from mockserver.http.validation import install_formats, validator_map
from mockserver.http.virtualdate import VirtualDate
from mockserver.persistence import Durability, Journal
from mockserver.requests_ring import DEFAULT_RING_SIZE, RequestRing
from mockserver.specs import CONTROL_SPEC, load_spec, served_document
from mockserver.versions import DEFAULT_VERSION, VERSIONS

log = logging.getLogger("mockserver")
API_DOCS = "/api/v1/docs"
CONTROL_DOCS = "/api/mock/v1/docs"
# Young (generation 1) collections between two full ones once the server is up; CPython's default is 10.
FULL_COLLECTION_EVERY = 100
_heap_settled = False


def settle_heap() -> None:
    """Once per process, when the server starts serving: the cyclic collector set for a long-lived heap.

    A full collection walks every tracked object, and what the fake holds (start-up's documents, routes
    and validators; then the trainings, about ten objects each) is most of them: at CPython's default
    rate a run of creates paused the server for 30 to 190 ms several times in eight seconds, which was
    the tail of create latency. What start-up built is collected once and frozen (never walked again;
    it is freed as usual if it is ever let go), and full collections come ten times less often. Young
    collections, where the per-request garbage dies, are unchanged."""
    global _heap_settled
    if _heap_settled:
        return
    _heap_settled = True
    gc.collect()
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_COLLECTION_EVERY)


@asynccontextmanager
async def _serving(_: Any) -> AsyncIterator[None]:
    settle_heap()  # the middleware stack (and the fast path) is built before the first lifespan event
    yield


def _bearer_info(tokens: TokenService) -> Callable[[str], dict[str, Any]]:
    """The bearer check both Connexion's security layer and the fast path call."""

    def bearer_info(token: str) -> dict[str, Any]:
        try:
            principal = tokens.verify(token)
        except TokenRejected as rejected:
            raise OAuthProblem(detail=str(rejected)) from rejected
        return {"sub": principal.client_id, "principal": principal}

    return bearer_info


def _signed_in(tokens: TokenService) -> Callable[[str], bool]:
    def signed_in(token: str) -> bool:
        try:
            tokens.verify(token)
        except TokenRejected:
            return False
        return True

    return signed_in


def load_fast_path() -> type | None:
    """The fast path's middleware, or None when it cannot be imported: it reaches into private modules of
    Connexion and jsonschema, and a release that renames them must turn it off, not stop the server."""
    try:
        from mockserver.http.fastpath import FastPath
    except (ImportError, AttributeError) as error:
        log.warning("fast path off, Connexion answers every request: a dependency changed (%s)", error)
        return None
    return FastPath


def _identify(tokens: TokenService) -> Callable[[str], str | None]:
    """The request log's caller: the application a token authenticates, None if it does not."""

    def identify(token: str) -> str | None:
        try:
            return tokens.verify(token).client_id
        except TokenRejected:
            return None

    return identify


def _bearer_handler(bearer_info: Callable[[str], dict[str, Any]]) -> type[BearerSecurityHandler]:
    class Bearer(BearerSecurityHandler):  # type: ignore[misc]  # connexion ships no type information
        def _resolve_func(self, security_scheme: dict[str, Any]) -> Any:
            return bearer_info

    return Bearer


def create_app(
    config: ServerConfig | None = None,
    *,
    clock: str = "manual",
    speed: float = 1.0,
    seed: int | None = 0,
    api: str = DEFAULT_VERSION,
    token_secret: str | None = None,
    control_token: str | None = None,
    read_timeout: float = BODY_TIMEOUT_SECONDS,
    cors: str | None = None,
    control_cors: str | None = None,
    hosts: HostPolicy | None = None,
    request_log: TextIO | None = None,
    profile: str = "default",
    real_deployment: bool = False,
    state_file: Path | None = None,
    state_recover: bool = False,
    own_process: bool = False,
    request_journal: int = DEFAULT_RING_SIZE,
) -> AsyncApp:
    """The mock server. Defaults suit tests: embedded config, manual clock, seed 0, API 2.18.

    `cors`: allowed origins of the Run:ai API (`*` or a comma-separated list; None answers no preflight);
    `control_cors`: the same for the control API (None: no page of another origin reaches it). `hosts`:
    the `Host` names answered (None: any; the CLI passes loopback names and those it was given). `request_log`:
    where one line per request goes (the CLI passes stdout; None logs nothing). `profile`: a named timing
    profile under the config's own timing keys. `real_deployment`: behave like a real Run:ai deployment —
    no control API, `mock.runai/*` annotations ignored (the container's command still decides).
    `state_file`: keep every accepted change there and replay it at start (raises StateFileError);
    `state_recover`: keep the valid part of a damaged one instead of refusing it.
    `own_process`: the app is the process (the CLI's server): its heap is settled for a long-lived server
    when it starts serving (`settle_heap`); an app embedded in someone else's process leaves their
    collector alone. `request_journal`: how many answered requests the request journal keeps (0: none)."""
    config = config or load_config()
    state, durable = _open_state(
        config, clock, speed, seed, api, token_secret, profile, real_deployment, state_file, state_recover
    )
    state.requests = RequestRing(request_journal)
    install_formats()
    # Connexion re-checks every copy of a document (start-up time); the packaged ones were checked when
    # spec/index.json was written.
    validate_each_document_once(checked_fingerprints())
    remember_built_documents()  # and resolves it again for every app a process makes
    specs = {state.version.spec: served_document(state.version.spec, state.version.name)}
    if not real_deployment:  # a real deployment has no control API: its paths answer 404 like any other
        specs[CONTROL_SPEC] = load_spec(CONTROL_SPEC)
    app = AsyncApp(__name__, lifespan=_serving if own_process else None)
    bearer_info = _bearer_info(state.tokens)
    _add_apis(app, specs, state, bearer_info)
    routes = Routes(specs.values())
    install_error_handlers(app, routes)
    _add_middlewares(
        app,
        state,
        routes,
        durable,
        control=CONTROL_SPEC in specs,
        request_log=request_log,
        hosts=hosts,
        cors=cors,
        control_cors=control_cors,
        control_token=control_token,
        read_timeout=read_timeout,
    )
    # The hot operations on a path compiled once from the same document; Connexion answers the rest.
    fast_path = load_fast_path()
    if fast_path is not None:
        app.add_middleware(
            fast_path,
            position=MiddlewarePosition.BEFORE_SWAGGER,
            spec=specs[state.version.spec],
            verify=bearer_info,
            resolver=RelativeResolver("mockserver.handlers"),
            routes=routes,
            # What the request validation picks for a JSON body: a refusal made here is the one it makes.
            body_validator=validator_map()["body"]["application/json"],
        )
    if durable:
        durable.restore(app, state, control_token)
        app.mock_durability = durable  # for the CLI banner
    app.mock_state = state  # for in-process tests and the CLI banner
    return app


def _open_state(
    config: ServerConfig,
    clock: str,
    speed: float,
    seed: int | None,
    api: str,
    token_secret: str | None,
    profile: str,
    real_deployment: bool,
    state_file: Path | None,
    state_recover: bool,
) -> tuple[MockState, Durability | None]:
    """The app's one state object, on a state file's replay clock when there is one."""
    settings = {"api": api, "profile": profile, "realDeployment": str(real_deployment)}
    durable = (
        Durability.open(
            state_file,
            config=config,
            seed=seed,
            clock=clock,
            speed=speed,
            settings=settings,
            recover_damage=state_recover,
        )
        if state_file
        else None
    )
    seed = durable.seed if durable else seed
    live_clock = ManualClock() if clock == "manual" else RealtimeClock(speed=speed)
    state = MockState(
        cluster=FakeCluster(
            config.topology,
            config.timing.with_profile(profile),
            durable.replay_clock if durable else live_clock,
            seed,
            honour_annotations=not real_deployment,
        ),
        tokens=TokenService.create(config.accounts, token_secret),
        faults=Faults(rng=random.Random(seed)),
        version=VERSIONS[api],
    )
    return state, durable


def _add_apis(
    app: AsyncApp, specs: dict[str, dict[str, Any]], state: MockState, bearer_info: Callable[..., Any]
) -> None:
    """The Run:ai API of the served version, and the control API unless this is a real deployment."""
    common = {
        "resolver": RelativeResolver("mockserver.handlers"),
        "validator_map": validator_map(),
        # Unknown query parameters are ignored, as the real service does; 400 is not declared for most ops.
        "strict_validation": False,
        "validate_responses": False,
        "security_map": {"bearer": _bearer_handler(bearer_info)},
    }
    app.add_api(
        specs[state.version.spec],
        name="trainings",
        swagger_ui_options=SwaggerUIOptions(spec_path="/api/v1/openapi.json", swagger_ui_path=API_DOCS),
        **common,
    )
    if CONTROL_SPEC in specs:
        app.add_api(
            specs[CONTROL_SPEC],
            name="control",
            swagger_ui_options=SwaggerUIOptions(spec_path="/openapi.json", swagger_ui_path="/docs"),
            **common,
        )


def _add_middlewares(
    app: AsyncApp,
    state: MockState,
    routes: Routes,
    durable: Durability | None,
    *,
    control: bool,
    request_log: TextIO | None,
    hosts: HostPolicy | None,
    cors: str | None,
    control_cors: str | None,
    control_token: str | None,
    read_timeout: float,
) -> None:
    # Outermost first: every answer gets the virtual clock's Date (forced, preflight and dashboard ones
    # too), the log sees every answer, CORS marks every answer.
    app.add_middleware(VirtualDate, position=MiddlewarePosition.BEFORE_EXCEPTION, now=state.cluster.now)
    if state.requests.enabled:  # the request journal: what the client saw, outer errors included
        app.add_middleware(
            RequestRecorder,
            position=MiddlewarePosition.BEFORE_EXCEPTION,
            ring=state.requests,
            routes=routes,
            tokens=state.tokens,
            virtual_now=state.cluster.clock.now,
        )
    if request_log is not None:
        app.add_middleware(
            RequestLog,
            position=MiddlewarePosition.BEFORE_EXCEPTION,
            sink=request_log,
            identify=_identify(state.tokens),
        )
    app.add_middleware(RequestHead, position=MiddlewarePosition.BEFORE_EXCEPTION, hosts=hosts)
    app.add_middleware(TokenRateLimit, position=MiddlewarePosition.BEFORE_EXCEPTION)
    if cors or control_cors:
        app.add_middleware(
            Cors,
            position=MiddlewarePosition.BEFORE_EXCEPTION,
            policy=CorsPolicy(cors) if cors else None,
            control_policy=CorsPolicy(control_cors) if control_cors else None,
        )
    app.add_middleware(ServersBox, position=MiddlewarePosition.BEFORE_EXCEPTION)
    app.add_middleware(PreferCode, position=MiddlewarePosition.BEFORE_EXCEPTION, routes=routes)
    if control:  # the dashboard drives the control API: without it, no dashboard
        app.add_middleware(DashboardPages, position=MiddlewarePosition.BEFORE_EXCEPTION)
    if control_token:  # an exposed server: the control API answers only with its token
        app.add_middleware(ControlGuard, position=MiddlewarePosition.BEFORE_EXCEPTION, token=control_token)
    if control:  # no page of another site reaches the control API (inside CORS's marks)
        app.add_middleware(
            ControlFromPages,
            position=MiddlewarePosition.BEFORE_EXCEPTION,
            allowed=CorsPolicy(control_cors) if control_cors else None,
            routes=routes,
        )
    if control:  # the dashboard's event stream is control API: inside the token's guard
        app.add_middleware(EventStream, position=MiddlewarePosition.BEFORE_EXCEPTION, cluster=state.cluster)
    app.add_middleware(
        FaultInjection, position=MiddlewarePosition.BEFORE_EXCEPTION, faults=state.faults, routes=routes
    )
    # A real Run:ai path the fake does not serve says so (501), before routing can blame the id or method.
    unserved = Unserved.of_version(state.version.name, routes)
    app.add_middleware(NotSimulated, position=MiddlewarePosition.BEFORE_EXCEPTION, unserved=unserved)
    app.add_middleware(LiteralPaths, position=MiddlewarePosition.BEFORE_EXCEPTION, routes=routes)
    app.add_middleware(
        BodyGuard,
        position=MiddlewarePosition.BEFORE_EXCEPTION,
        routes=routes,
        timeout=read_timeout,
        signed_in=_signed_in(state.tokens),
    )
    if durable:  # innermost but for the state: it sees the answer the handler gave
        app.add_middleware(
            Journal, position=MiddlewarePosition.BEFORE_EXCEPTION, **durable.journal_options(state)
        )
    app.add_middleware(AppState, position=MiddlewarePosition.BEFORE_EXCEPTION, state=state)
