"""Takes the README's dashboard screenshot: a live fake with a busy cluster, seen by headless Chromium.

    python -m tests.ui.screenshot docs/dashboard.png

Not a test: run it by hand when the page changes. The scene is the same every time (seed 0, manual clock).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import httpx

from tests.cli.live import start
from tests.ui.browser import headless_chromium, why_no_browser

CLUSTER_ID = "71f69d83-ba66-4822-adf5-55ce55efd210"
WIDTH = 1600


def busy_cluster(api: httpx.Client) -> None:
    """Whole GPUs, fractions, MIG slices, a crash loop, a queue, and a reclaim by a non-preemptible load."""

    def training(name: str, project: str, compute: dict[str, object], **spec: object) -> None:
        body = {
            "name": name,
            "projectId": project,
            "clusterId": CLUSTER_ID,
            "spec": {"image": "nvcr.io/nvidia/pytorch:24.01-py3", "compute": compute, **spec},
        }
        api.post("/api/v1/workloads/trainings", json=body).raise_for_status()

    portion = {"gpuDevicesRequest": 1, "gpuRequestType": "portion"}
    training("llama-finetune", "1", {"gpuDevicesRequest": 3})
    training("bert-sweep-1", "1", {**portion, "gpuPortionRequest": 0.5})
    training("bert-sweep-2", "3", {**portion, "gpuPortionRequest": 0.25})
    training("resnet50", "3", {"gpuDevicesRequest": 2})
    training(
        "tiny-mig", "3", {"gpuDevicesRequest": 1, "gpuRequestType": "migProfile", "migProfile": "1g.5gb"}
    )
    training(
        "mid-mig", "4", {"gpuDevicesRequest": 1, "gpuRequestType": "migProfile", "migProfile": "3g.20gb"}
    )
    training("h100-pretrain", "1", {"gpuDevicesRequest": 8}, nodePools=["my-node-pool-a"])
    training("crash-loop", "4", {"gpuDevicesRequest": 1}, command="sh -c 'exit 3'")
    training("too-big", "1", {"gpuDevicesRequest": 6})
    api.post("/api/mock/v1/clock/advance", json={"seconds": 6}).raise_for_status()
    notebook = {
        "name": "notebook",
        "projectId": "4",
        "compute": {"gpuDevicesRequest": 2},
        "priority": 125,
        "preemptible": False,
        "nodePools": ["default"],
    }
    api.post("/api/mock/v1/workloads", json=notebook).raise_for_status()
    api.post("/api/mock/v1/clock/advance", json={"seconds": 4}).raise_for_status()


def main(target: str = "docs/dashboard.png") -> int:
    reason = why_no_browser()
    if reason:
        print(f"screenshot: {reason}", file=sys.stderr)
        return 1
    server = start("--quiet")
    browser = headless_chromium(WIDTH, 1200)
    try:
        with httpx.Client(base_url=server.base_url, timeout=10) as api:
            token = api.post(
                "/api/v1/token",
                json={"grantType": "app_token", "AppId": "mock-app", "AppSecret": "mock-secret"},
            ).json()["accessToken"]
            api.headers["Authorization"] = f"Bearer {token}"
            busy_cluster(api)
        browser.get(f"{server.base_url}/")
        time.sleep(2)  # the stream's first snapshot and events
        height = browser.execute_script("return document.documentElement.scrollHeight")
        browser.set_window_size(WIDTH, min(height + 20, 2600))
        time.sleep(0.5)
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(target)
        print(f"screenshot: {target}")
    finally:
        browser.quit()
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
