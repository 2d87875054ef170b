"""The Kubernetes Job controller and kubelet under every kind that runs a container: pods one by one.

The workload's transition table (`lifecycle.py`) still says what a workload does as a whole (queued,
suspended, preempted, deleted); this module follows each of its pods and tells the table what the pods
add up to, in the words of docs/fidelity.md:

- **Job semantics** (Kubernetes, "Jobs: parallel execution"): `min(parallelism, completions -
  succeeded)` pods run at a time until `completions` have succeeded; then the workload is Completed.
- **Failures** count failed pods (restartPolicy Never) or container restarts (OnFailure/Always, in the
  same pod, which keeps its node and devices). The workload fails once they pass `backoffLimit`
  (Kubernetes, "Pod backoff failure policy"). A replacement pod is created after the Job controller's
  back-off (10 s doubling, capped at 6 min).
- **Phases from pods** (Run:ai docs, "Workloads: phases"): Pending until every pod is scheduled,
  Initializing until every pod runs, Running when all run, Degraded when a running workload loses a pod.
- **Pods that cannot start**: an image on a registry whose host ends in `.invalid` (RFC 2606) cannot be
  pulled (ErrImagePull, then ImagePullBackOff); a secret the cluster config does not list gives
  CreateContainerConfigError; a PVC it does not list keeps the pods unschedulable. A pod that cannot
  start fails its workload `timing.startFailure` seconds after its first error (our choice: Kubernetes
  retries for ever, Run:ai fails such workloads after a while).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mockserver.cluster.events import EventKind, PodTask, Timer
from mockserver.cluster.lifecycle import Trigger, termination_time
from mockserver.cluster.phases import Phase
from mockserver.cluster.pods import Pod, PodPhase, RestartPolicy
from mockserver.cluster.reasons import Reason, ReasonCode
from mockserver.cluster.scheduler import CycleResult
from mockserver.cluster.workload import Workload

if TYPE_CHECKING:
    from mockserver.cluster.engine import Engine

# Registry hosts that never resolve (RFC 2606 reserves the top-level domain `.invalid`).
UNPULLABLE_SUFFIX = ".invalid"


def image_host(image: str | None) -> str | None:
    """The registry host of an image reference (`registry.invalid/team/app:1` → `registry.invalid`);
    None for Docker Hub's short names (`busybox`, `library/ubuntu`)."""
    if not image or "/" not in image:
        return None
    first = image.split("/", 1)[0]
    return first.split(":", 1)[0] if ("." in first or ":" in first or first == "localhost") else None


def unpullable(image: str | None) -> bool:
    host = image_host(image)
    return host is not None and host.lower().endswith(UNPULLABLE_SUFFIX)


def pod_name(workload: Workload, pod: Pod) -> str:
    return workload.kind.job_pod_name(workload.name, pod.slot, pod.serial, workload.request.pods)


class JobController:
    """Moves the pods of the engine's workloads; the engine owns it and calls it on its hooks."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # ------------------------------------------------------------------ hooks
    def start(self, workload: Workload) -> int:
        """The workload enters the queue: the pods it needs now, all pending. Returns how many."""
        job, kind, request = workload.job, workload.kind, workload.request
        job.drop_active()
        job.parallelism = kind.pods(request.pods)
        job.completions = request.completions or job.parallelism
        job.minimum = kind.gang_minimum(request.pods, request.min_replicas)
        if job.minimum:
            # A gang starts over as a whole: every role runs again (docs/distributed.md, "Pods").
            job.completions, job.succeeded = job.parallelism, 0
        for slot in range(job.wanted()):
            job.new_pod(slot, self.engine.at)
        return job.active_count()

    def missing_claim(self, workload: Workload) -> str | None:
        claims = self.engine.topology.claims
        return next((c for c in workload.request.claims if c not in claims), None)

    def release(self, workload: Workload) -> None:
        """The workload gave its pods up (suspended, preempted, failed, completed, deleted)."""
        workload.job.drop_active()

    def on_cycle(self, result: CycleResult) -> None:
        engine = self.engine
        touched: dict[str, Workload] = {}
        # A moved pod (consolidation) is deleted like a lost one, and its replacement is bound below, to
        # its new node, in the same cycle: the workload loses no pod for long, so no POD_LOST.
        gone = [(*lost, True) for lost in result.lost] + [(*moved, False) for moved in result.moved]
        for job_id, slot, message, lost in gone:
            workload = engine.workloads.get(job_id)
            pod = None if workload is None else workload.job.by_slot(slot)
            if workload is None or pod is None:
                continue
            # The evicted pod is deleted; its controller makes a new one that waits (not a failure).
            workload.job.pods.remove(pod)
            workload.job.changed()
            workload.job.new_pod(slot, engine.at).replacement = True
            evicted = ReasonCode.NODE_NOT_READY in Reason.codes_of(message)  # its node went down
            self._pod_event(workload, pod, "Evicted" if evicted else "Preempted", message, warning=True)
            if lost and workload.actual_phase is Phase.RUNNING:
                engine.fire(workload, Trigger.POD_LOST, message)
            touched[job_id] = workload
        for job_id, slot, node, victims in result.pipelined:
            workload = engine.workloads.get(job_id)
            pod = None if workload is None else workload.job.by_slot(slot)
            if workload is not None:
                self._pipelined(workload, slot, pod, node, victims)
        for job_id, slot in result.bound:
            workload = engine.workloads.get(job_id)
            pod = None if workload is None else workload.job.by_slot(slot)
            if workload is None or pod is None or pod.phase is not PodPhase.PENDING:
                continue
            self._bound(workload, pod)
            touched[job_id] = workload
        for workload in touched.values():
            self.settle(workload)

    def on_timer(self, workload: Workload, timer: Timer) -> None:
        job, task = workload.job, timer.action
        if task is PodTask.REPLACE:
            if timer.generation == job.epoch:
                self.replenish(workload)
            return
        pod = job.by_serial(timer.pod)
        if task is PodTask.VICTIMS_GONE:
            if timer.pod < 0:  # a workload without pods of its own (a load): the timer carries the slot
                slot: int | None = timer.generation
            elif pod is not None and pod.generation == timer.generation and pod.phase is PodPhase.PENDING:
                slot = pod.slot
            else:
                slot = None  # set for an earlier state of the pod
            if slot is not None:
                self.engine.scheduler.unpipeline(workload.workload_id, slot)
                self.engine.request_cycle()  # bound by the next cycle
            return
        if task is PodTask.START_FAILED:
            # Whatever the back-off did meanwhile: a pod still waiting to start fails its workload.
            if pod is not None and pod.phase is PodPhase.STARTING and pod.reason is not None:
                reason = pod.reason
                self._finish(workload, pod, PodPhase.FAILED, None, reason)
                self.engine.fire(workload, Trigger.FAILED, f"{reason}: {pod.message}")
            return
        if pod is None or pod.generation != timer.generation:
            return  # set for an earlier state of the pod: fires into nothing
        if task is PodTask.CONTAINER_STARTED:
            self._container_started(workload, pod)
        elif task is PodTask.CONTAINER_RESTART:
            pod.reason = pod.message = None
            self._run(workload, pod)
            self.settle(workload)
        elif task is PodTask.CONTAINER_ENDED:
            self.container_ended(workload, pod, workload.attempt.succeeds, "")
        elif task is PodTask.PULL_BACK_OFF:
            self._waiting(
                workload, pod, "ImagePullBackOff", f'Back-off pulling image "{workload.request.image}"'
            )
            self._pod_event(workload, pod, "BackOff", pod.message or "", warning=True)

    # ------------------------------------------------------------ the pods
    def _touch(self, pod: Pod, phase: PodPhase | None = None) -> None:
        pod.generation += 1
        if phase is not None:
            pod.phase, pod.since = phase, self.engine.at

    def _timer(self, workload: Workload, pod: Pod, delay: float, task: PodTask) -> None:
        self.engine.timers.add(self.engine.at + delay, workload.workload_id, task, pod.generation, pod.serial)

    def _pipelined(
        self, workload: Workload, slot: int, pod: Pod | None, node: str, victims: list[str]
    ) -> None:
        """KAI placed the pod where its victims still terminate: it stays Pending, and is bound once the
        slowest victim's pods are gone (their termination, bounded by their grace period)."""
        engine = self.engine
        waits = [termination_time(v, engine.timing) for i in victims if (v := engine.workloads.get(i))]
        delay = max(waits, default=0.0)
        if pod is None:  # a workload without pods of its own (a load): the slot rides on the timer
            engine.timers.add(engine.at + delay, workload.workload_id, PodTask.VICTIMS_GONE, slot, -1)
            return
        self._pod_event(
            workload,
            pod,
            "Pipelined",
            f"Pod {self._namespace(workload)}/{pod_name(workload, pod)} was pipelined to node {node}",
        )
        self._timer(workload, pod, delay, PodTask.VICTIMS_GONE)

    def _bound(self, workload: Workload, pod: Pod) -> None:
        engine = self.engine
        placed = engine.scheduler.pod(workload.workload_id, pod.slot)
        self._touch(pod, PodPhase.STARTING)
        pod.placed = placed
        node = placed.node if placed else "a node"
        pool = placed.pool if placed else ""
        self._pod_event(
            workload,
            pod,
            "Scheduled",
            f"Successfully assigned pod {self._namespace(workload)}/{pod_name(workload, pod)} to node {node} "
            f"at node-pool {pool}",
        )
        self._pod_event(workload, pod, "Pulling", f'Pulling image "{workload.request.image}"')
        self._timer(workload, pod, engine.timing.initializing, PodTask.CONTAINER_STARTED)

    def _container_started(self, workload: Workload, pod: Pod) -> None:
        request, timing = workload.request, self.engine.timing
        secrets = self.engine.topology.secrets
        missing = next((s for s in request.secrets if s not in secrets), None)
        if unpullable(request.image):
            host = image_host(request.image)
            self._waiting(
                workload,
                pod,
                "ErrImagePull",
                f'Failed to pull image "{request.image}": dial tcp: lookup {host}: no such host',
            )
            self._pod_event(workload, pod, "Failed", pod.message or "", warning=True)
            self._timer(workload, pod, timing.restartBackoff, PodTask.PULL_BACK_OFF)
            self._timer(workload, pod, timing.startFailure, PodTask.START_FAILED)
            return
        if missing is not None:
            self._waiting(workload, pod, "CreateContainerConfigError", f'secret "{missing}" not found')
            self._pod_event(workload, pod, "Failed", f"Error: {pod.message}", warning=True)
            self._timer(workload, pod, timing.startFailure, PodTask.START_FAILED)
            return
        self._pod_event(workload, pod, "Pulled", f'Successfully pulled image "{request.image}"')
        self._pod_event(workload, pod, "Created", "Created container")
        self._run(workload, pod)
        self.settle(workload)

    def _waiting(self, workload: Workload, pod: Pod, reason: str, message: str) -> None:
        """The pod's container waits for a reason the kubelet names; the workload's message says it."""
        self._touch(pod)
        pod.reason, pod.message = reason, message
        if workload.kind.events.phases:
            workload.phase_message = f"{reason}: {message}"

    def _run(self, workload: Workload, pod: Pod) -> None:
        self._touch(pod, PodPhase.RUNNING)
        pod.started_at = self.engine.at
        self._pod_event(workload, pod, "Started", "Started container")
        self._timer(workload, pod, workload.attempt.seconds, PodTask.CONTAINER_ENDED)

    def container_ended(self, workload: Workload, pod: Pod, succeeded: bool, why: str) -> None:
        """The pod's container exited: 0 (`succeeded`) or not."""
        engine, job = self.engine, workload.job
        if succeeded:
            self._finish(workload, pod, PodPhase.SUCCEEDED, 0, "Completed")
            engine.scheduler.finish_pod(workload.workload_id, pod.slot)
            engine.request_cycle()
            job.succeeded += 1
            if job.minimum and pod.slot == 0:
                # A gang is done when its master is (Kubeflow's success policy): the workers still
                # running are stopped with it.
                engine.fire(workload, Trigger.SUCCEEDED, f"master pod {pod_name(workload, pod)} succeeded")
            elif job.minimum:
                pass  # a worker done before its master: the gang counts it and waits for the master
            elif job.succeeded >= job.completions:
                engine.fire(workload, Trigger.SUCCEEDED)
            else:
                self.replenish(workload)
            return
        limit = workload.request.backoff_limit
        policy = _policy(workload)
        if policy.restarts_in_place:
            workload.restarts += 1
            job.failed += 1
            pod.restarts += 1
            if workload.restarts > limit:
                self._finish(workload, pod, PodPhase.FAILED, 1, "Error")
                engine.fire(workload, Trigger.FAILED, _backoff_exceeded(workload, why))
                return
            delay = engine.timing.restart_delay(pod.restarts)
            pod.exit_code = 1
            self._waiting(
                workload, pod, "CrashLoopBackOff", f"back-off {delay:g}s restarting failed container"
            )
            self._pod_event(workload, pod, "BackOff", pod.message or "", warning=True)
            self._timer(workload, pod, delay, PodTask.CONTAINER_RESTART)
            return
        self._finish(workload, pod, PodPhase.FAILED, 1, "Error")
        job.failed += 1
        if job.minimum:
            # A gang's pod is not replaced alone: the gang, short of a pod, restarts as a whole after the
            # back-off, counted against backoffLimit (docs/distributed.md, "Pods").
            why = why or f"pod {pod_name(workload, pod)} failed"
            engine.fire(workload, Trigger.CRASHED, why)
            return
        if not job.active_count():
            # Its last pod failed: the workload's table counts the failure and backs off, or fails it.
            engine.fire(workload, Trigger.CRASHED, why)
            return
        workload.restarts += 1
        engine.scheduler.finish_pod(workload.workload_id, pod.slot)
        engine.request_cycle()
        if workload.restarts > limit:
            engine.fire(workload, Trigger.FAILED, _backoff_exceeded(workload, why))
            return
        delay = engine.timing.restart_delay(workload.restarts)
        job.backoff_until = engine.at + delay
        engine.timers.add(engine.at + delay, workload.workload_id, PodTask.REPLACE, job.epoch)
        if workload.actual_phase is Phase.RUNNING:
            engine.fire(
                workload, Trigger.POD_LOST, f"pod {pod_name(workload, pod)} failed; replaced in {delay:g} s"
            )

    def _finish(self, workload: Workload, pod: Pod, phase: PodPhase, code: int | None, reason: str) -> None:
        self._touch(pod, phase)
        pod.finished_at, pod.exit_code = self.engine.at, code
        if reason in ("Completed", "Error"):
            pod.reason, pod.message = reason, None
        workload.job.trim(pod)

    def replenish(self, workload: Workload) -> None:
        """Create the pods the Job needs now (after a success, or once a failure's back-off is over)."""
        engine, job = self.engine, workload.job
        if engine.at < job.backoff_until or workload.actual_phase in (Phase.COMPLETED, Phase.FAILED):
            return
        added = False
        for _ in range(job.wanted()):
            slot = engine.scheduler.add_pod(engine._job(workload))
            job.new_pod(slot, engine.at)
            added = True
        if added:
            engine.request_cycle()

    def settle(self, workload: Workload) -> None:
        """The workload's phase from its pods: scheduled once all are bound, Running once all run."""
        engine, job = self.engine, workload.job
        phase = workload.actual_phase
        if phase is Phase.PENDING and job.all_bound():
            engine.fire(
                workload, Trigger.SCHEDULED, f"scheduled: {engine.placement_text(workload.workload_id)}"
            )
        elif phase is Phase.PENDING:
            reason = engine.scheduler.pending_reason(workload.workload_id)
            if reason is not None:
                workload.pending_reason = reason
        elif phase in (Phase.INITIALIZING, Phase.DEGRADED) and job.all_running():
            engine.fire(workload, Trigger.PODS_RUNNING)

    def _namespace(self, workload: Workload) -> str:
        project = self.engine.topology.project(workload.project_id)
        return f"runai-{project.name if project else workload.project_id}"

    def _pod_event(
        self, workload: Workload, pod: Pod, reason: str, message: str, warning: bool = False
    ) -> None:
        if workload.kind.events.phases:
            self.engine.log.record(
                self.engine.at,
                EventKind.POD,
                workload.workload_id,
                None,
                message,
                detail=f"{'Warning' if warning else 'Normal'}/{reason}/{pod_name(workload, pod)}",
            )


def _policy(workload: Workload) -> RestartPolicy:
    try:
        return RestartPolicy(workload.request.restart_policy or "Never")
    except ValueError:
        return RestartPolicy.NEVER


def _backoff_exceeded(workload: Workload, why: str) -> Reason:
    text = f"BackoffLimitExceeded: Job has reached the specified backoff limit ({workload.request.backoff_limit})"
    return Reason(f"{why}; {text}" if why else text, ReasonCode.CRASHED)
