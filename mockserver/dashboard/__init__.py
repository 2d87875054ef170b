"""The live dashboard at `/`: a static page (HTML, CSS, plain JavaScript, shipped in the package) that
listens to the control API's event stream and drives the control API. Served only with the control API."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from starlette.types import ASGIApp, Receive, Scope, Send

STATIC = Path(__file__).resolve().parent / "static"


@dataclass(frozen=True)
class Asset:
    file: str
    content_type: str


# Every URL the page needs; nothing else under these paths is served.
ASSETS = {
    "/": Asset("index.html", "text/html; charset=utf-8"),
    "/index.html": Asset("index.html", "text/html; charset=utf-8"),
    "/dashboard/app.js": Asset("app.js", "text/javascript; charset=utf-8"),
    "/dashboard/style.css": Asset("style.css", "text/css; charset=utf-8"),
}
# The page talks only to this server: no CDN, no inline script, no frames.
POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'"
)


class DashboardPages:
    """Answers GET and HEAD for the dashboard's few files; everything else goes on to the API."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        asset = ASSETS.get(scope.get("path", "")) if scope["type"] == "http" else None
        if asset is None or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        body = (STATIC / asset.file).read_bytes()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", asset.content_type.encode()),
                    (b"content-length", str(len(body)).encode()),
                    (b"cache-control", b"no-cache"),
                    (b"content-security-policy", POLICY.encode()),
                    (b"x-content-type-options", b"nosniff"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})
