"""What `mockserver` says when it starts: where everything is, the credentials, and a first request."""

from __future__ import annotations

from mockserver.app import API_DOCS, CONTROL_DOCS


def banner(
    base: str,
    client_id: str,
    client_secret: str,
    project: str,
    cluster_id: str,
    clock: str,
    api: str,
    *,
    control: bool = True,
    control_token: str | None = None,
) -> str:
    """What the server says at start. Without the control API (a real deployment) there is no dashboard;
    on an exposed server the dashboard's address carries the control token it needs."""
    fragment = f"#token={control_token}" if control_token else ""
    dashboard = f"  Dashboard:    {base}/{fragment}\n" if control else ""
    control_docs = f"\n  Control docs: {base}{CONTROL_DOCS}" if control else ""
    body = (
        f'{{"name": "hello", "projectId": "{project}", "clusterId": "{cluster_id}", '
        f'"spec": {{"image": "python:3.11", "compute": {{"gpuDevicesRequest": 1}}}}}}'
    )
    return f"""Run:ai Trainings mock server (API {api}, {clock} clock) on {base}
{dashboard}  API:          {base}/api/v1
  API docs:     {base}{API_DOCS}{control_docs}
  Credentials:  clientId={client_id} clientSecret={client_secret}

Try it:
  TOKEN=$(curl -s -X POST {base}/api/v1/token -H 'Content-Type: application/json' \\
    -d '{{"grantType":"app_token","AppId":"{client_id}","AppSecret":"{client_secret}"}}' \\
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["accessToken"])')
  curl -s -X POST {base}/api/v1/workloads/trainings -H "Authorization: Bearer $TOKEN" \\
    -H 'Content-Type: application/json' -d '{body}'

Press Ctrl-C to stop."""
