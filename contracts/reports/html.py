"""Render the report document as one self-contained HTML page (inline style, no scripts, no fetches)."""

from __future__ import annotations

from html import escape

from contracts.reports.document import Code, Document, Table, Text

_STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 72em; padding: 0 1em; color: #222; }
h1.pass { color: #1a7f37; } h1.fail { color: #cf222e; }
table { border-collapse: collapse; margin: .5em 0 1em; }
th, td { border: 1px solid #d0d7de; padding: .25em .6em; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
pre { background: #f6f8fa; padding: .6em; overflow-x: auto; white-space: pre-wrap; word-break: break-all; }
"""


def render(document: Document) -> str:
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(document.title)}</title><style>{_STYLE}</style></head><body>",
        f'<h1 class="{"pass" if document.verdict else "fail"}">{escape(document.title)}</h1>',
    ]
    for section in document.sections:
        parts.append(f"<h{section.level}>{escape(section.heading)}</h{section.level}>")
        for block in section.blocks:
            if isinstance(block, Text):
                parts.append(f"<p>{escape(block.text)}</p>")
            elif isinstance(block, Code):
                parts.append(f"<pre>{escape(block.text)}</pre>")
            elif isinstance(block, Table):
                head = "".join(f"<th>{escape(h)}</th>" for h in block.headers)
                body = "".join(
                    "<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in block.rows
                )
                parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
