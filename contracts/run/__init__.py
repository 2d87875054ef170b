"""The run: what the harness does, in which order, and what came of it.

`plan` (what a run will do, shown by `--dry-run`), `execute` (runs it), `events` (the stream it says
what happened on; the journal, the progress lines and the report collector subscribe), `fuzz` (the
Schemathesis phases), `scenarios` (lifecycle scenarios), `outcome` (everything a run found, for the
reports), `progress` (what the terminal shows), `interruption` (Ctrl-C and SIGTERM) and `determinism` (a
seed gives the same requests). It uses the oracle to judge and the backend layer to reach the target.
"""
