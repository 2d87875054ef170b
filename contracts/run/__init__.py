"""The run: what the harness does, in which order, and what came of it.

`plan` (what a run will do, shown by `--dry-run`), `execute` (runs it), `budget` (--max-duration),
`events` (the stream it says what happened on; the journal, the progress lines and the report collector
subscribe), `settings`, `fuzz` and `engine` (the Schemathesis phases: configured, then run), `probes`
(the requests without a valid token), `capacity` (the project's room and why the backend holds a
training), `walk` (the scenarios one after another), `scenarios` (each lifecycle scenario), `context`
(what a scenario works with), `waiting` (for a phase, on virtual or wall time), `outcome` (everything a
run found, for the reports), `checklist` (the checks that ran), `progress` (what the terminal shows),
`interruption` (Ctrl-C and SIGTERM) and `determinism` (a seed gives the same requests). It uses the
oracle to judge and the backend layer to reach the target.
"""
