"""Workload names: Kubernetes DNS labels, and the random suffix of `useGivenNameAsPrefix`."""

from __future__ import annotations

import random
import re
import string

MAX_NAME_LENGTH = 63
SUFFIX_LENGTH = 5
_DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_PREFIX = re.compile(r"^[a-z][-a-z0-9]*$")
_SUFFIX_ALPHABET = string.ascii_lowercase + string.digits


def name_problem(name: str, as_prefix: bool) -> str | None:
    """Why `name` cannot be used, or None when it can."""
    if as_prefix:
        if not _PREFIX.match(name):
            return "a name prefix must start with a lowercase letter and contain only lowercase letters, digits and '-'"
        return None
    if len(name) > MAX_NAME_LENGTH:
        return f"must be at most {MAX_NAME_LENGTH} characters, got {len(name)}"
    if not _DNS_LABEL.match(name):
        return (
            "must consist of lowercase letters, digits and '-', start with a letter "
            "and end with a letter or digit"
        )
    return None


def final_name(requested: str, as_prefix: bool, rng: random.Random) -> str:
    """The name the workload gets. Like Kubernetes' generateName, a long prefix is cut so the result fits."""
    if not as_prefix:
        return requested
    suffix = "".join(rng.choice(_SUFFIX_ALPHABET) for _ in range(SUFFIX_LENGTH))
    return f"{requested[: MAX_NAME_LENGTH - SUFFIX_LENGTH - 1]}-{suffix}"
