"""Translating the API's `spec.compute` block into one pod's request."""

from __future__ import annotations

import pytest

from mockserver.cluster.resources import PodRequest
from mockserver.parsing.compute import pod_request_from_compute


@pytest.mark.parametrize(
    ("compute", "expected"),
    [
        (None, PodRequest()),
        ({}, PodRequest()),
        ({"gpuDevicesRequest": 2}, PodRequest(gpus=2)),
        (
            {"gpuDevicesRequest": 1, "gpuRequestType": "portion", "gpuPortionRequest": 0.5},
            PodRequest(gpu_fraction=0.5, gpu_devices=1),
        ),
        (
            {"gpuDevicesRequest": 3, "gpuRequestType": "portion", "gpuPortionRequest": 0.25},
            PodRequest(gpu_fraction=0.25, gpu_devices=3),
        ),
        (
            {"gpuRequestType": "portion", "gpuPortionRequest": 0.5},
            PodRequest(gpu_fraction=0.5, gpu_devices=1),
        ),
        ({"gpuRequestType": "portion", "gpuPortionRequest": 1.0, "gpuDevicesRequest": 2}, PodRequest(gpus=2)),
        (
            {"gpuRequestType": "memory", "gpuMemoryRequest": "10Gi"},
            PodRequest(gpu_memory_mib=10240, gpu_devices=1),
        ),
        ({"gpuRequestType": "migProfile", "migProfile": "1g.5gb"}, PodRequest(mig_profile="1g.5gb")),
        ({"cpuCoreRequest": 0.5, "cpuMemoryRequest": "512Mi"}, PodRequest(cpu_millis=500, memory_mib=512)),
    ],
)
def test_each_request_type(compute, expected):
    assert pod_request_from_compute(compute) == expected


def test_only_the_selected_request_type_counts():
    seed = {
        "gpuDevicesRequest": 1,
        "gpuRequestType": "portion",
        "gpuPortionRequest": 0.5,
        "gpuMemoryRequest": "10M",
        "migProfile": "1g.5gb",
    }
    assert pod_request_from_compute(seed) == PodRequest(gpu_fraction=0.5, gpu_devices=1)
    as_memory = pod_request_from_compute({**seed, "gpuRequestType": "memory"})
    assert as_memory.gpu_fraction is None and as_memory.mig_profile is None
    assert as_memory.gpu_memory_mib == pytest.approx(10e6 / 2**20)


def test_extended_resources_sum_by_name_and_skip_excluded():
    request = pod_request_from_compute(
        {
            "extendedResources": [
                {"resource": "b.example/x", "quantity": "2"},
                {"resource": "a.example/y", "quantity": "1k"},
                {"resource": "b.example/x", "quantity": "1"},
                {"resource": "c.example/z", "quantity": "5", "exclude": True},
            ]
        }
    )
    assert request.extended == (("a.example/y", 1000.0), ("b.example/x", 3.0))
    assert hash(request)


@pytest.mark.parametrize(
    "compute",
    [
        {"gpuDevicesRequest": "two"},
        {"gpuRequestType": "memory", "gpuMemoryRequest": "lots"},
        {"gpuRequestType": "memory", "gpuMemoryRequest": 5},
        {"gpuRequestType": "portion", "gpuPortionRequest": "half"},
        {"gpuRequestType": "portion", "gpuPortionRequest": -0.5},
        {"gpuRequestType": "migProfile"},
        {"gpuRequestType": "unknown", "gpuDevicesRequest": 1},
        {"cpuCoreRequest": True, "cpuMemoryRequest": "1e999"},
        {
            "extendedResources": [
                None,
                {"resource": 3},
                {"resource": "x", "quantity": "bad"},
                {"resource": "y"},
            ]
        },
        {"extendedResources": "none"},
    ],
)
def test_odd_input_never_crashes(compute):
    request = pod_request_from_compute(compute)
    assert not request.uses_gpu
    assert request.extended == ()
