"""NVIDIA NeMo-Run's DGX Cloud executor, in its default configuration, against the fake.

    pip install nemo-run==0.11.1 leptonai==0.27.3     # in a venv of its own: NeMo-Run pins a lot
    mockserver --speed 10 &
    python examples/nemo_run_executor.py --url http://127.0.0.1:8080

The executor signs in with client credentials, finds its project by name, copies the experiment into the
PVC with a "data mover" workspace (it polls it every 10 seconds until Completed, then deletes it), submits
the training and follows it with `status()`. Add `--from-cluster` for `launched_from_cluster=True` (no
data mover). The last line printed is JSON: the job id and the phases `status()` reported.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time

from nemo_run.core.execution.dgxcloud import DGXCloudExecutor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8080", help="the fake's base URL")
    parser.add_argument("--project", default="team-b", help="project name to submit to")
    parser.add_argument("--from-cluster", action="store_true", help="launched_from_cluster=True")
    parser.add_argument("--timeout", type=float, default=120, help="seconds to wait for Running")
    args = parser.parse_args()
    home = os.environ.get("NEMORUN_HOME") or tempfile.mkdtemp(prefix="nemo-run-")
    executor = DGXCloudExecutor(
        base_url=f"{args.url}/api/v1",
        kube_apiserver_url="https://kubernetes.invalid",  # not used by the fake
        client_id="mock-app",
        client_secret="mock-secret",
        project_name=args.project,
        container_image="nvcr.io/nvidia/nemo:24.12",
        pvc_nemo_run_dir=os.path.join(home, "pvc"),
        pvcs=[{"name": "nemo-workspace", "path": os.path.join(home, "pvc"), "claimName": "nemo-claim"}],
        launched_from_cluster=args.from_cluster,
        gpus_per_node=1,
    )
    experiment = os.path.join(home, "experiments", "pretrain")
    os.makedirs(os.path.join(experiment, "task"), exist_ok=True)
    executor.assign("pretrain-1", experiment, "task", "task")
    job_id, first = executor.launch("Pretrain_Llama.Small", ["python", "-m", "train"])
    seen, deadline = [first], time.monotonic() + args.timeout
    while seen[-1] != "Running" and time.monotonic() < deadline:
        time.sleep(0.2)
        state = executor.status(job_id)
        if state is not None and state.value != seen[-1]:
            seen.append(state.value)
    print(json.dumps({"job_id": job_id, "phases": seen}))


if __name__ == "__main__":
    main()
