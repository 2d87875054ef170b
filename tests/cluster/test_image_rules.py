"""Which images the fake cannot pull: a registry host under `.invalid` (RFC 2606), nothing else."""

from __future__ import annotations

import pytest

from mockserver.cluster.jobcontroller import image_host, unpullable


@pytest.mark.parametrize(
    ("image", "host", "fails"),
    [
        ("busybox", None, False),
        ("library/ubuntu:22.04", None, False),
        ("nvcr.io/nvidia/pytorch:24.01", "nvcr.io", False),
        ("registry.invalid/team/app:1", "registry.invalid", True),
        ("Registry.INVALID:5000/app", "Registry.INVALID", True),
        ("localhost/app", "localhost", False),
        ("team.invalid", None, False),  # a Docker Hub name, not a registry host
        (None, None, False),
    ],
)
def test_only_registry_hosts_under_invalid_cannot_be_pulled(image, host, fails):
    assert image_host(image) == host
    assert unpullable(image) is fails
