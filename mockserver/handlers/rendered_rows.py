"""A list page's rows kept as JSON text, and used again while what they are made of is unchanged.

A row of `GET /workloads` is `views.workloads.row(version, organisation, facts, now)` encoded, and the
facts are `of_workload(workload, placement)`: so a row is made of the workload's own state, its pods'
placement, the names it takes from the organisation (`Organisation`), the version, and `now` only where
the version counts seconds spent in phases (`shows_time`). Under load a list page is most of the fake's
work, and reading the facts, rendering the view and encoding the JSON are each about a third of a row.
A row whose workload state (`Workload.state_key`: its fields, history, Job and pods as values),
placement, organisation, version and (where it counts) time equal those it was last made of is the text
it was then: equal parts make the same row. Nothing about how a workload changes has to be known here,
so no kind of change can be missed.

The most recently used rows are kept, a bounded number per app: pages that clients poll stay, and a list
walked once through 100,000 workloads costs no more memory than a page.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, NamedTuple

from mockserver.cluster.scheduler import PlacedPod
from mockserver.cluster.topology import Topology
from mockserver.cluster.workload import Workload
from mockserver.http.jsontext import encode
from mockserver.versions import ApiVersion
from mockserver.views.facts import of_workload
from mockserver.views.workloads import Organisation, row, shows_time

# Enough for ten pages of a hundred rows: a dashboard's pages and the ones many clients poll.
MAX_ROWS = 1024


class _Kept(NamedTuple):
    version: ApiVersion
    moment: float | None
    org: Organisation
    state: tuple[Any, ...]
    text: str


class RenderedRows:
    """Workload id -> the parts its row was made of, and the row's JSON text."""

    def __init__(self, capacity: int = MAX_ROWS) -> None:
        self.capacity = capacity
        self._rows: OrderedDict[str, _Kept] = OrderedDict()
        self.rendered = 0  # rows rendered rather than used again (tests read it)

    def text(
        self,
        version: ApiVersion,
        topology: Topology,
        workload: Workload,
        placement: Sequence[PlacedPod],
        now: float,
    ) -> str:
        """The row's JSON text; read under the cluster's lock (the workload is the cluster's own record)."""
        placed = tuple(placement)
        state = (workload.state_key(), placed)
        org = Organisation.of(topology, workload.project_id, workload.department_id)
        moment = now if shows_time(version) else None
        wid = workload.workload_id
        kept = self._rows.get(wid)
        if (
            kept is not None
            and kept.version is version
            and kept.moment == moment
            and kept.org == org
            and kept.state == state
        ):
            self._rows.move_to_end(wid)
            return kept.text
        text = encode(row(version, org, of_workload(workload, placed), now))
        self.rendered += 1
        self._rows[wid] = _Kept(version, moment, org, state, text)
        self._rows.move_to_end(wid)
        while len(self._rows) > self.capacity:
            self._rows.popitem(last=False)
        return text

    def __len__(self) -> int:
        return len(self._rows)
