"""`contracts calibrate`: measure a backend's phase timings and answers, write a configuration of our
fake that reproduces them, and report how far the fake so configured drifts from the backend.

`measure` (the script of minimal trainings, run against any backend), `profile` (dwell times to the
fake's `timing`, and the configuration file), `drift` (two measurements compared) and `command` (the
sub-command). It reaches backends through `contracts.backend` only; it judges no contract.
"""
