"""The oracle: what is judged. Pure rules over answers the harness has already received.

`rules` (what a body, name or timestamp must look like), `checks` (Schemathesis checks that apply them
to one exchange), `phases` (the legal phase machine of a training), `ledger` (what each training the run
created may be doing now) and `findings` (a broken rule with the exchange that shows it).

Nothing here reaches a backend or drives a run: this layer imports neither `contracts.backend` nor
`contracts.run`.
"""
