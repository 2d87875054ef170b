"""A scenario's timeline as one self-contained HTML page: GPUs by time with each workload's pods, a lane of
phases per workload, and the events (hover for the words). Inline SVG and CSS: no script, no network.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass

from mockserver.scenario.timeline import Mark, PodSpan, Timeline

PLOT = 960  # px of time
LABEL = 200  # px of row labels
ROW = 14
GAP = 22
PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f")
PHASE_COLOURS = {
    "Creating": "#d9d9d9",
    "Pending": "#bdbdbd",
    "Initializing": "#9ecae1",
    "Running": "#41ab5d",
    "Resuming": "#a1d99b",
    "Stopping": "#969696",
    "Stopped": "#737373",
    "Terminating": "#fd8d3c",
    "Deleting": "#525252",
    "Completed": "#3182bd",
    "Failed": "#de2d26",
}


@dataclass(frozen=True)
class _Row:
    node: str
    device: int | None  # None: the node's pods that hold no whole device index (MIG, CPU only)
    label: str


def _rows(timeline: Timeline) -> list[_Row]:
    """The GPUs of every node pool where something happened (a pod placed, a node or GPU lost)."""
    busy = {s.node for s in timeline.pods} | {o.node for o in timeline.outages}
    pools = {n.pool for n in timeline.topology.nodes if n.name in busy} or set(
        timeline.topology.node_pools[:1]
    )
    rows: list[_Row] = []
    for node in (n for n in timeline.topology.nodes if n.pool in pools):
        if node.gpus and not node.is_mig:
            rows += [_Row(node.name, i, f"{node.name} GPU {i}") for i in range(node.gpus)]
        if node.is_mig or not node.gpus or any(s.node == node.name and not s.devices for s in timeline.pods):
            rows.append(_Row(node.name, None, f"{node.name} ({'MIG' if node.is_mig else 'other'})"))
    return rows


class _Canvas:
    def __init__(self, end: float) -> None:
        self.scale = PLOT / max(end, 1e-9)
        self.parts: list[str] = []

    def x(self, t: float) -> float:
        return LABEL + t * self.scale

    def rect(self, t0: float, t1: float, y: float, h: float, fill: str, title: str, extra: str = "") -> None:
        width = max(1.0, (t1 - t0) * self.scale)
        self.parts.append(
            f'<rect x="{self.x(t0):.1f}" y="{y:.1f}" width="{width:.1f}" height="{h:.1f}" fill="{fill}"{extra}>'
            f"<title>{html.escape(title)}</title></rect>"
        )

    def text(self, x: float, y: float, words: str, extra: str = "") -> None:
        self.parts.append(f'<text x="{x:.1f}" y="{y:.1f}"{extra}>{html.escape(words)}</text>')


def render_html(timeline: Timeline, failures: Iterable[str] = ()) -> str:
    colours = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(timeline.names.values())}
    canvas = _Canvas(timeline.end)
    rows = _rows(timeline)
    y = _axis(canvas, timeline.end, 20)
    y = _gpus(canvas, timeline, rows, colours, y)
    y = _phases(canvas, timeline, colours, y + GAP)
    y = _marks(canvas, timeline.marks, y + GAP)
    legend = "".join(
        f'<span class="key"><i style="background:{c}"></i>{html.escape(n)}</span>' for n, c in colours.items()
    )
    problems = "".join(f"<li>{html.escape(f)}</li>" for f in failures)
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(timeline.title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{html.escape(timeline.title)}</h1>"
        f"<p>{timeline.end:g} virtual seconds. {legend}</p>"
        + (
            f"<ul class='failed'>{problems}</ul>"
            if problems
            else "<p class='passed'>Every expectation held.</p>"
        )
        + f'<svg xmlns="http://www.w3.org/2000/svg" width="{LABEL + PLOT + 20}" height="{y + 10:.0f}">'
        + "".join(canvas.parts)
        + "</svg></body></html>\n"
    )


def _axis(canvas: _Canvas, end: float, y: float) -> float:
    step = _tick(end)
    t = 0.0
    while t <= end + 1e-9:
        canvas.parts.append(
            f'<line x1="{canvas.x(t):.1f}" y1="{y}" x2="{canvas.x(t):.1f}" y2="{y + 4}" stroke="#333"/>'
        )
        canvas.text(canvas.x(t) + 2, y - 4, f"{t:g}s", ' class="tick"')
        t += step
    return y + 8


def _tick(end: float) -> float:
    for step in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400):
        if end / step <= 12:
            return float(step)
    return max(86400.0, end / 12)


def _gpus(canvas: _Canvas, timeline: Timeline, rows: list[_Row], colours: dict[str, str], y: float) -> float:
    where = {(row.node, row.device): y + i * ROW for i, row in enumerate(rows)}
    for i, row in enumerate(rows):
        top = y + i * ROW
        shade = "#f7f7f7" if i % 2 else "#ffffff"
        canvas.rect(0, timeline.end, top, ROW, shade, row.label)
        canvas.text(4, top + ROW - 3, row.label, ' class="label"')
    for outage in timeline.outages:
        for (node, device), top in where.items():
            if node == outage.node and (outage.device is None or outage.device == device):
                canvas.rect(outage.start, outage.end, top, ROW, "url(#down)", outage.text, ' class="down"')
    for span in timeline.pods:
        held: tuple[tuple[int | None, float], ...] = span.devices or ((None, 1.0),)
        for device, share in held:
            row_top = where.get((span.node, device))
            if row_top is None:
                continue
            title = _pod_title(span, device, share)
            height = (ROW - 2) * (share if share < 1 else 1.0)
            canvas.rect(
                span.start, span.end, row_top + 1 + (ROW - 2 - height), height, colours[span.workload], title
            )
    canvas.parts.insert(
        0,
        '<defs><pattern id="down" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="3" height="6" fill="#e34a33" opacity="0.5"/></pattern></defs>',
    )
    return y + len(rows) * ROW


def _pod_title(span: PodSpan, device: int | None, share: float) -> str:
    held = (
        f"GPU {device}" + ("" if share >= 1 else f" x{share:g}")
        if device is not None
        else (span.mig_profile or "no GPU")
    )
    return f"{span.workload} {span.label or f'pod {span.pod}'} on {span.node} ({held}), {span.start:g}s to {span.end:g}s"


def _phases(canvas: _Canvas, timeline: Timeline, colours: dict[str, str], y: float) -> float:
    for i, name in enumerate(timeline.names.values()):
        top = y + i * ROW
        canvas.parts.append(f'<rect x="4" y="{top + 3:.1f}" width="8" height="8" fill="{colours[name]}"/>')
        canvas.text(16, top + ROW - 3, name, ' class="label"')
        for span in (s for s in timeline.phases if s.workload == name):
            colour = PHASE_COLOURS.get(span.phase, "#cccccc")
            title = f"{name}: {span.phase} {span.start:g}s to {span.end:g}s — {span.reason}"
            canvas.rect(span.start, span.end, top + 1, ROW - 2, colour, title)
            if (span.end - span.start) * canvas.scale > 60:
                canvas.text(canvas.x(span.start) + 3, top + ROW - 3, span.phase, ' class="phase"')
    return y + len(timeline.names) * ROW


def _marks(canvas: _Canvas, marks: list[Mark], y: float) -> float:
    canvas.text(4, y + ROW - 3, "events (hover)", ' class="label"')
    for mark in marks:
        colour = "#de2d26" if mark.failed else "#333333"
        who = f"{mark.workload}: " if mark.workload else ""
        canvas.rect(
            mark.at,
            mark.at,
            y + (0 if mark.failed else 2),
            ROW if mark.failed else ROW - 4,
            colour,
            f"{mark.at:g}s {who}{mark.text}",
        )
    return y + ROW


_STYLE = (
    "body{font:13px sans-serif;margin:16px}h1{font-size:16px}.label{font-size:11px}.tick{font-size:10px}"
    ".phase{font-size:9px;fill:#fff}.key{margin-left:12px}.key i{display:inline-block;width:10px;height:10px;"
    "margin-right:4px}.failed{color:#de2d26}.passed{color:#41ab5d}"
)
