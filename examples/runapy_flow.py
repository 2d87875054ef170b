"""The official Python client, runapy, through a user's flow against the fake: look up, submit, follow,
suspend, delete.

    pip install runapy==1.224.0          # the runapy release that pairs with `mockserver --api latest`
    mockserver --api latest --speed 10 &
    python examples/runapy_flow.py       # --url http://127.0.0.1:8080 by default

runapy 1.2XY pairs with control plane 2.XY (runapy 1.218.0 with `--api 2.18`). Nothing here knows it talks
to a fake: point `--url` at a real deployment and pass its credentials, and the same code runs there.
"""

from __future__ import annotations

import argparse
import time

from runai.api_client import ApiClient
from runai.configuration import Configuration
from runai.models import TrainingCreationRequest
from runai.runai_client import RunaiClient


def wait_for(client: RunaiClient, workload_id: str, phase: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    seen = ""
    while seen != phase:
        if time.monotonic() > deadline:
            raise SystemExit(f"still {seen} after {timeout} s, waiting for {phase}")
        now = client.workloads.workloads.get_workload(workload_id=workload_id).data["phase"]
        if now != seen:
            print(f"  phase {now}")
            seen = now
        time.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8080", help="the control plane's base URL")
    parser.add_argument("--client-id", default="mock-app")
    parser.add_argument("--client-secret", default="mock-secret")
    parser.add_argument("--project", default="team-a", help="project name to submit to")
    parser.add_argument("--timeout", type=float, default=120, help="seconds any one wait may take")
    args = parser.parse_args()
    config = Configuration(
        client_id=args.client_id, client_secret=args.client_secret, runai_base_url=args.url
    )
    client = RunaiClient(ApiClient(config))
    try:
        cluster_id = client.organizations.clusters.get_clusters().data[0]["uuid"]
        projects = client.organizations.projects.get_projects(filter_by=[f"clusterId=={cluster_id}"]).data
        project = next(p for p in projects["projects"] if p["name"] == args.project)
        request = TrainingCreationRequest.from_dict(
            {
                "name": "runapy-example",
                "useGivenNameAsPrefix": True,
                "projectId": project["id"],
                "clusterId": cluster_id,
                "spec": {
                    "image": "python:3.11",
                    "command": "sleep 3600",
                    "compute": {"gpuDevicesRequest": 1},
                },
            }
        )
        created = client.workloads.trainings.create_training1(training_creation_request=request)
        workload_id = created.data["workloadId"]
        print(f"created {workload_id} in project {project['name']} (HTTP {created.status_code})")
        wait_for(client, workload_id, "Running", args.timeout)
        client.workloads.trainings.suspend_training(workload_id=workload_id)
        wait_for(client, workload_id, "Stopped", args.timeout)
        deleted = client.workloads.trainings.delete_training(workload_id=workload_id)
        print(f"deleted (HTTP {deleted.status_code})")
    finally:
        client.close()


if __name__ == "__main__":
    main()
