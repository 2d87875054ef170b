"""Backend access: how a backend is reached, over HTTP only.

`target` (the URL, or our fake started as a local process by `server`), `auth` (credentials and
tokens), `discovery` (where the run may place trainings), `control` (the fake's own control API, only
for our fake), `journal` and `cleanup` (every training the run creates is recorded and deleted again) and
`safety` (run ids, names and which backends may be written to).

This layer judges nothing and drives nothing: it imports none of `contracts.oracle`, `contracts.run` and
`contracts.reports`.
"""
