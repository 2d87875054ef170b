"""Render the report document as Markdown (GitHub flavour: pipe tables, fenced code)."""

from __future__ import annotations

from contracts.reports.document import Code, Document, Table, Text


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(document: Document) -> str:
    lines = [f"# {document.title}", ""]
    for section in document.sections:
        lines += [f"{'#' * section.level} {section.heading}", ""]
        for block in section.blocks:
            if isinstance(block, Text):
                lines += [block.text, ""]
            elif isinstance(block, Code):
                fence = "````" if "```" in block.text else "```"
                lines += [fence, block.text, fence, ""]
            elif isinstance(block, Table):
                lines.append("| " + " | ".join(_cell(h) for h in block.headers) + " |")
                lines.append("|" + "---|" * len(block.headers))
                lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in block.rows]
                lines.append("")
    return "\n".join(lines)
