"""Every error leaves the server as the API's `{code, message}` body (plus `complianceIssues` on a 400)."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from connexion import AsyncApp
from connexion.exceptions import ProblemException, UnsupportedMediaTypeProblem
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from starlette.exceptions import HTTPException

from mockserver.cluster.errors import (
    ClusterError,
    ComplianceIssue,
    Conflict,
    Forbidden,
    NotFound,
    SubmissionRejected,
)
from mockserver.http.errorbody import error_bytes
from mockserver.http.routes import Routes
from mockserver.http.validation import InvalidBody

log = logging.getLogger("mockserver")

# The one mapping of the cluster's errors to HTTP: anything else the cluster refuses is a bad request.
CLUSTER_STATUS: dict[type[ClusterError], int] = {NotFound: 404, Forbidden: 403, Conflict: 409}


def cluster_status(error: ClusterError) -> int:
    return next((status for kind, status in CLUSTER_STATUS.items() if isinstance(error, kind)), 400)


def error_response(
    status: int, message: str, issues: Iterable[ComplianceIssue] = (), headers: dict[str, str] | None = None
) -> ConnexionResponse:
    return ConnexionResponse(
        status_code=status,
        mimetype="application/json",
        content_type="application/json",
        body=error_bytes(status, message, issues),
        headers=headers or {},
    )


def install_error_handlers(app: AsyncApp, routes: Routes) -> None:
    def problem(request: ConnexionRequest, exc: ProblemException) -> ConnexionResponse:
        if isinstance(exc, InvalidBody):
            return error_response(400, exc.detail, exc.issues)
        if isinstance(exc, UnsupportedMediaTypeProblem):
            # 415 is not a documented answer of any operation; the bad content type is a bad request.
            return error_response(400, f"{exc.detail}. Send the body as application/json.")
        message = (exc.detail or exc.title or "Bad request").split("\n\n")[0]
        return error_response(exc.status, message, headers=dict(exc.headers or {}))

    def http(request: ConnexionRequest, exc: HTTPException) -> ConnexionResponse:
        if exc.status_code == 404:
            return error_response(404, f"No such endpoint: {request.method} {request.url.path}")
        if exc.status_code == 405:
            methods = routes.allowed(request.url.path)
            return error_response(
                405,
                f"Method {request.method} is not allowed here; use {', '.join(methods)}",
                headers={"Allow": ", ".join(methods)},
            )
        return error_response(exc.status_code, exc.detail or "Request failed")

    def cluster(request: ConnexionRequest, exc: ClusterError) -> ConnexionResponse:
        if isinstance(exc, SubmissionRejected):
            return error_response(400, exc.message, exc.issues)
        return error_response(cluster_status(exc), exc.message)

    def unhandled(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
        # Called after the except block has ended: log.exception would find no exception ("NoneType: None").
        log.error(
            "unhandled error on %s %s",
            request.method,
            request.url.path,
            exc_info=(type(exc), exc, exc.__traceback__),
        )
        return error_response(500, "Something went wrong.")

    app.add_error_handler(ProblemException, problem)
    app.add_error_handler(HTTPException, http)
    app.add_error_handler(ClusterError, cluster)
    app.add_error_handler(Exception, unhandled)
