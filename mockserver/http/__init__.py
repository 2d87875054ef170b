"""The HTTP edge: everything between a socket and a handler.

Middlewares (app state, body guard, faults, Prefer, CORS, request log, control-page guard), the
Connexion subclasses and patches, tokens, error bodies, request validation, the fast path and the
uvicorn guard. `routes.py` is the one reading of the served documents' operations they all share.
The domain (`cluster/`), the views, parsing and handlers never import from here except the handlers'
error types and the caller's identity.
"""
