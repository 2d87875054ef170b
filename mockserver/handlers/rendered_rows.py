"""A list page's rows kept as JSON text, and used again while what they are made of is unchanged.

A row of `GET /workloads` is `views.workloads.row(version, organisation, facts, now)` encoded, and nothing
else: the facts read off the workload, the names it takes from the organisation (`Organisation`), the
version, and `now` only where the version counts seconds spent in phases (`shows_time`). Under load, a
list page is most of the fake's work, and of a row's cost the view and the JSON are two thirds while the
facts are the rest. So the facts are read for every row as before, and a row whose facts, organisation,
version and (where it counts) time equal those it was last rendered from is the text it was then: equal
parts make the same row. Nothing about how a workload changes has to be known here, so no kind of change
can be missed.

The most recently used rows are kept, a bounded number per app: pages that clients poll stay, and a list
walked once through 100,000 workloads costs no more memory than a page.
"""

from __future__ import annotations

from collections import OrderedDict

from mockserver.cluster.topology import Topology
from mockserver.http.jsontext import encode
from mockserver.versions import ApiVersion
from mockserver.views.facts import WorkloadFacts
from mockserver.views.workloads import Organisation, row, shows_time

# Enough for ten pages of a hundred rows: a dashboard's pages and the ones many clients poll.
MAX_ROWS = 1024


class RenderedRows:
    """Workload id -> the parts its row was rendered from, and the row's JSON text."""

    def __init__(self, capacity: int = MAX_ROWS) -> None:
        self.capacity = capacity
        self._rows: OrderedDict[str, tuple[ApiVersion, Organisation, float | None, WorkloadFacts, str]] = (
            OrderedDict()
        )
        self.rendered = 0  # rows rendered rather than used again (tests read it)

    def text(self, version: ApiVersion, topology: Topology, facts: WorkloadFacts, now: float) -> str:
        org = Organisation.of(topology, facts)
        moment = now if shows_time(version) else None
        kept = self._rows.get(facts.id)
        if kept is not None:
            kept_version, kept_org, kept_moment, kept_facts, text = kept
            if kept_version is version and kept_moment == moment and kept_org == org and kept_facts == facts:
                self._rows.move_to_end(facts.id)
                return text
        text = encode(row(version, org, facts, now))
        self.rendered += 1
        self._rows[facts.id] = (version, org, moment, facts, text)
        self._rows.move_to_end(facts.id)
        while len(self._rows) > self.capacity:
            self._rows.popitem(last=False)
        return text

    def __len__(self) -> int:
        return len(self._rows)
