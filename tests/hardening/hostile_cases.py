"""Hostile and careless requests, as raw bytes, each with the statuses the fake may answer.

Every answer must be a JSON `{code, message}` with `code` equal to the status; `uvicorn_plain` marks the
documented few that uvicorn answers itself before the app (none today: the guarded protocol answers
malformed HTTP and slow headers in JSON too).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass

from tests.hardening.rawhttp import request_bytes

CLUSTER_ID = "71f69d83-ba66-4822-adf5-55ce55efd210"
TRAININGS = "/api/v1/workloads/trainings"
SOME_ID = "0b5a8c0e-2f0e-4b5e-9a34-1f7c4f3f2d11"
JSON = {"Content-Type": "application/json"}


@dataclass(frozen=True)
class Keys:
    """What a case may need: a valid bearer token, a way to sign claims, an existing training."""

    token: str
    sign: Callable[[dict[str, object]], str]
    workload_id: str


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[Keys], bytes]
    expect: frozenset[int]


CASES: list[Case] = []


def case(name: str, *expect: int) -> Callable[[Callable[[Keys], bytes]], Callable[[Keys], bytes]]:
    def register(build: Callable[[Keys], bytes]) -> Callable[[Keys], bytes]:
        CASES.append(Case(name, build, frozenset(expect)))
        return build

    return register


def add(name: str, raw: bytes | Callable[[Keys], bytes], *expect: int) -> None:
    CASES.append(Case(name, raw if callable(raw) else _fixed(raw), frozenset(expect)))


def _fixed(raw: bytes) -> Callable[[Keys], bytes]:
    return lambda _k: raw


def bearer(keys: Keys) -> dict[str, str]:
    return {"Authorization": f"Bearer {keys.token}"}


def training(**spec: object) -> dict[str, object]:
    return {
        "name": "hostile",
        "projectId": "1",
        "clusterId": CLUSTER_ID,
        "spec": {"image": "busybox", **spec},
    }


def create(body: bytes, headers: dict[str, str] | None = JSON) -> Callable[[Keys], bytes]:
    return lambda k: request_bytes("POST", TRAININGS, {**bearer(k), **(headers or {})}, body)


def text(value: object) -> bytes:
    return json.dumps(value).encode()


# Body operations, with a valid-looking body each (token needs none, create needs the bearer token).
BODY_OPS: dict[str, tuple[str, str, bool]] = {
    "token": ("POST", "/api/v1/token", False),
    "create": ("POST", TRAININGS, True),
    "faults": ("PUT", "/api/mock/v1/faults", False),
    "advance": ("POST", "/api/mock/v1/clock/advance", False),
    "load": ("POST", "/api/mock/v1/workloads", False),
    "outcome": ("POST", f"/api/mock/v1/trainings/{SOME_ID}/outcome", False),
}


def body_op(op: str, body: bytes, headers: dict[str, str] | None = JSON) -> Callable[[Keys], bytes]:
    method, path, needs_auth = BODY_OPS[op]

    # A control call needs X-Mock-Control (or JSON) before its body is looked at: these cases are about bodies.
    control = {"X-Mock-Control": "1"} if path.startswith("/api/mock/") else {}

    def build(k: Keys) -> bytes:
        auth = bearer(k) if needs_auth else {}
        return request_bytes(method, path, {**auth, **control, **(headers or {})}, body)

    return build


DEEP_ARRAY = b"[" * 10_000 + b"]" * 10_000
DEEP_OBJECT = b'{"a":' * 10_000 + b"1" + b"}" * 10_000
HUGE_INT = b"9" * 5000

# --- 3. nesting, huge integers, missing content type, on every body operation (Run:ai and control API)
for op in BODY_OPS:
    add(f"{op}: array nested 10,000 deep", body_op(op, DEEP_ARRAY), 400)
    add(f"{op}: object nested 10,000 deep", body_op(op, DEEP_OBJECT), 400)
    add(f"{op}: integer of 5,000 digits", body_op(op, b'{"seconds": ' + HUGE_INT + b"}"), 400)
    add(f"{op}: no Content-Type", body_op(op, b'{"seconds": 1}', headers={}), 400)
    add(f"{op}: text/plain", body_op(op, b'{"seconds": 1}', {"Content-Type": "text/plain"}), 400)
    add(f"{op}: form", body_op(op, b"a=1&b=2", {"Content-Type": "application/x-www-form-urlencoded"}), 400)
    add(f"{op}: not UTF-8", body_op(op, b'{"name": "\xff\xfe"}'), 400)
    add(f"{op}: truncated JSON", body_op(op, b'{"seconds": '), 400)
    add(f"{op}: trailing garbage", body_op(op, b'{"seconds": 1} x'), 400)
    add(f"{op}: JSON array", body_op(op, b"[]"), 400)
    add(f"{op}: JSON string", body_op(op, b'"text"'), 400)

# --- 4. non-finite numbers, refused everywhere
for literal in (b"NaN", b"Infinity", b"-Infinity", b"1e400", b"-1e400"):
    shown = literal.decode()
    add(f"faults latencySeconds {shown}", body_op("faults", b'{"latencySeconds": ' + literal + b"}"), 400)
    add(f"faults errorRate {shown}", body_op("faults", b'{"errorRate": ' + literal + b"}"), 400)
    add(f"advance seconds {shown}", body_op("advance", b'{"seconds": ' + literal + b"}"), 400)
    add(
        f"create cpuCoreRequest {shown}",
        create(text(training(compute={"cpuCoreRequest": 0.5})).replace(b"0.5", literal)),
        400,
    )
    add(
        f"token AppId {shown}",
        body_op("token", b'{"grantType": "app_token", "AppId": ' + literal + b"}"),
        400,
    )

# --- 2. the error bomb: a body under 1 MiB with 345k bad values gets a small answer, quickly
add("create: 345k bad values", create(text(training(nodePools=[1] * 345_000))), 400)
add(
    "load: 300k bad values",
    body_op("load", text({"name": "x", "projectId": "1", "nodePools": [1] * 300_000})),
    400,
)

# Schema-valid, refused by the cluster's rules: the answer names the field without echoing 100k pools.
add("create: 100k unknown node pools", create(text(training(nodePools=["pool"] * 100_000))), 400)
add("create: name of 900 KiB", create(text({**training(), "name": "a" * 900_000})), 400)

# --- body size
add("create: Content-Length of 2 MiB announced", create(b"", {**JSON, "Content-Length": str(2 << 20)}), 400)
# Exactly one byte over: the server has read all of it when it answers (unread data would reset the socket).
add("create: body of 1 MiB + 1 byte", create(b" " * ((1 << 20) + 1)), 400)
add("faults: body of 1 MiB + 1 byte", body_op("faults", b" " * ((1 << 20) + 1)), 400)

# --- 5. slow clients: the server's read timeout answers 408 and closes
add(
    "create: body shorter than its Content-Length",
    create(b'{"name": "x"}', {**JSON, "Content-Length": "100"}),
    408,
)
add(
    "token: body shorter than its Content-Length",
    body_op("token", b"{", {**JSON, "Content-Length": "10"}),
    408,
)
add("headers never finished", b"GET /api/mock/v1/clock HTTP/1.1\r\nHost: 127.0.0.1\r\n", 408)
add("request line never finished", b"GET /api/mock/v1/cl", 408)
add("nothing sent at all", b"", 408)

# --- malformed HTTP (the guarded protocol answers it in JSON)
add("garbage request line", b"GARBAGE\r\n\r\n", 400)
# h11 bounds what it buffers of an unfinished head (16 KiB), so a head arriving in one read may be larger.
add(
    "headers of 200 KiB",
    b"GET /api/mock/v1/clock HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 200_000 + b"\r\n\r\n",
    400,
)
add("header without colon", b"GET /api/mock/v1/clock HTTP/1.1\r\nHost: 127.0.0.1\r\nNoColon\r\n\r\n", 400)
add(
    "negative Content-Length",
    b"POST /api/v1/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -1\r\n\r\n",
    400,
)
add(
    "Content-Length not a number",
    b"POST /api/v1/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ab\r\n\r\n",
    400,
)
add(
    "two different Content-Lengths",
    b"POST /api/v1/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n{}",
    400,
)
add(
    "bad chunked encoding",
    b"POST /api/v1/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    b"Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
    400,
)
add(
    "unknown transfer coding",
    b"POST /api/v1/token HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: gzip\r\n\r\n",
    400,
)
add("HTTP/1.1 without Host", b"GET /api/mock/v1/clock HTTP/1.1\r\n\r\n", 400)
add(
    "WebSocket upgrade",
    b"GET /api/v1/nothing-here HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
    b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
    404,
)
add("HTTP/2 preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 400)
add(
    "non-ASCII in the path",
    b"GET /api/v1/workloads/trainings/\xc3\xa9 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    400,
    404,
)


# --- 3 and 6. tokens: nested payloads, non-finite or missing exp/iat, signed with the server's own key
def _segment(claims: bytes) -> str:
    return base64.urlsafe_b64encode(claims).rstrip(b"=").decode()


def _nested_jwt(_k: Keys) -> str:
    payload = b'{"iss":"runai-mockserver","x":' + b"[" * 3000 + b"]" * 3000 + b"}"
    return f"{_segment(b'{}')}.{_segment(payload)}.c2ln"


AUTHED = {
    "get": ("GET", f"{TRAININGS}/{{id}}"),
    "suspend": ("POST", f"{TRAININGS}/{{id}}/suspend"),
    "resume": ("POST", f"{TRAININGS}/{{id}}/resume"),
    "delete": ("DELETE", f"{TRAININGS}/{{id}}"),
}


def authed(op: str, token: Callable[[Keys], str]) -> Callable[[Keys], bytes]:
    method, path = AUTHED[op]
    return lambda k: request_bytes(
        method, path.format(id=k.workload_id), {"Authorization": f"Bearer {token(k)}"}
    )


def signed(**claims: object) -> Callable[[Keys], str]:
    return lambda k: k.sign({"iss": "runai-mockserver", "sub": "mock-app", **claims})


BAD_TOKENS: dict[str, Callable[[Keys], str]] = {
    "payload nested 3,000 deep": _nested_jwt,
    "10,000-character token": lambda _k: "a" * 5000 + "." + "b" * 5000,
    "empty token": lambda _k: "",
    "two dots only": lambda _k: "..",
}
# Claims that a signer with the key could still put in: they must not make a token live for ever.
CLAIMS: dict[str, dict[str, object]] = {
    "exp NaN": {"exp": float("nan"), "iat": 1},
    "exp Infinity": {"exp": float("inf"), "iat": 1},
    "exp a string": {"exp": "9999999999", "iat": 1},
    "exp true": {"exp": True, "iat": 1},
    "exp missing": {"iat": 1},
    "iat NaN": {"exp": 9_999_999_999, "iat": float("nan")},
    "iat missing": {"exp": 9_999_999_999},
    "exp in the past": {"exp": 1, "iat": 0},
}
for label, claims in CLAIMS.items():
    BAD_TOKENS[f"signed, {label}"] = signed(**claims)

for op in AUTHED:
    for label, token in BAD_TOKENS.items():
        add(f"{op}: token {label}", authed(op, token), 401)


def refresh(token: Callable[[Keys], str]) -> Callable[[Keys], bytes]:
    return lambda k: request_bytes(
        "POST", "/api/v1/token", JSON, text({"grantType": "refresh_token", "refreshToken": token(k)})
    )


for label, token in BAD_TOKENS.items():
    add(f"refresh grant: token {label}", refresh(token), 400)

# --- paths, methods and query strings nobody documented
add("unknown path", request_bytes("GET", "/api/v1/nothing-here"), 404)
add("path of 8,000 characters", request_bytes("GET", "/api/v1/" + "a" * 8000), 404)
add(
    "training id of 8,000 characters",
    lambda k: request_bytes("GET", f"{TRAININGS}/{'a' * 8000}", bearer(k)),
    404,
)
add("NUL in the id", lambda k: request_bytes("GET", f"{TRAININGS}/%00", bearer(k)), 404)
add("dot segments", lambda k: request_bytes("GET", f"{TRAININGS}/..%2f..%2fetc%2fpasswd", bearer(k)), 404)
add("invalid percent-encoding", lambda k: request_bytes("GET", f"{TRAININGS}/%ff%fe", bearer(k)), 404)
add("PATCH a training", lambda k: request_bytes("PATCH", f"{TRAININGS}/{k.workload_id}", bearer(k)), 405)
add("PUT the trainings", lambda k: request_bytes("PUT", TRAININGS, bearer(k), b"{}"), 405)
add("made-up method", request_bytes("FROB", "/api/mock/v1/clock"), 405)
add("DELETE the clock", request_bytes("DELETE", "/api/mock/v1/clock", {"X-Mock-Control": "1"}), 405)
for query in (
    "after=NaN",
    "after=-1",
    "after=1e400",
    "limit=0",
    "limit=100001",
    "limit=Infinity",
    "after=%00",
):
    add(f"events?{query}", request_bytes("GET", f"/api/mock/v1/events?{query}"), 400)
BIG = "9" * 5000


def get(path: str) -> Callable[[Keys], bytes]:
    return lambda k: request_bytes("GET", path, bearer(k))


for query in (f"limit={BIG}", "limit=NaN", "limit=1e400", "filterBy=" + "a" * 8000, "sortBy=nope",
              "filterBy=name=~(a%2B)%2B%24", "filterBy=%00", "deleted=maybe"):  # fmt: skip
    add(f"workloads?{query[:40]}", get(f"/api/v1/workloads?{query}"), 400)
for path in (f"/api/v1/org-unit/projects?offset={BIG}", f"/api/v1/org-unit/departments?limit={BIG}",
             "/api/v1/clusters?verbosity=" + "x" * 5000, f"/api/mock/v1/events?after={BIG}"):  # fmt: skip
    add(f"GET {path[:45]}", get(path), 400)
add(
    "workload events limit of 5,000 digits",
    lambda k: request_bytes("GET", f"/api/v1/workloads/{k.workload_id}/events?limit={BIG}", bearer(k)),
    400,
)
add("outcome of an unknown training", body_op("outcome", b'{"outcome": "Failed"}'), 404)
add("outcome NaN", body_op("outcome", b'{"outcome": NaN}'), 400)
