"""Same seed, same run, wherever the package is installed and whatever else the process imported.

Hypothesis (6.131 and later) salts generated data with literals it collects from every "local" module in
`sys.modules`: files outside site-packages and the standard library. An editable install of this package
is local, a wheel is not; a CLI run imports other modules than a pytest session. So the same seed sent
different requests (695 creates from an editable install, 684 from a wheel). The harness generates from
the contract alone: it keeps that pool empty.
"""

from __future__ import annotations

from hypothesis.internal.conjecture import providers
from hypothesis.internal.constants_ast import Constants


def _no_local_constants() -> Constants:
    return Constants()


def generate_from_the_contract_alone() -> None:
    """Idempotent; affects Hypothesis in this process (the harness runs in a process of its own)."""
    providers._get_local_constants = _no_local_constants
    # Pools already worked out from local constants would still be drawn from.
    providers.CONSTANTS_CACHE.cache.clear()
