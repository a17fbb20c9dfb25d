"""reports/index.html: one self-contained page (images inlined) with the table and plots."""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

from pipeline.utils.io import write_text


def markdown_table_to_html(markdown: str) -> str:
    """Render the pipe tables and paragraphs of results.md (bold kept) without a Markdown library."""
    out, rows = [], []
    for line in markdown.splitlines() + [""]:
        if line.startswith("|"):
            if not set(line.replace("|", "").strip()) <= {"-"}:
                rows.append([c.strip() for c in line.strip("|").split("|")])
            continue
        if rows:
            head, *body = rows
            out.append("<table><thead><tr>" + "".join(f"<th>{_inline(c)}</th>" for c in head) + "</tr></thead><tbody>")
            out += ["<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in r) + "</tr>" for r in body]
            out.append("</tbody></table>")
            rows = []
        if line.startswith("# "):
            out.append(f"<h1>{_inline(line[2:])}</h1>")
        elif line.startswith("## "):
            out.append(f"<h2>{_inline(line[3:])}</h2>")
        elif line.strip():
            out.append(f"<p>{_inline(line)}</p>")
    return "\n".join(out)


def _inline(text: str) -> str:
    return re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", html.escape(text))


def write_page(path: Path, results_md: str, images: list[tuple[str, Path]]) -> None:
    figures = []
    for caption, image in images:
        data = base64.b64encode(image.read_bytes()).decode()
        figures.append(
            f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        )
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Loss-function learning: results</title>
<style>
body {{ font-family: sans-serif; margin: 2em; max-width: 1400px; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
th, td {{ border: 1px solid #bbb; padding: 4px 8px; text-align: right; }}
th {{ background: #eee; }} img {{ max-width: 100%; }}
figure {{ display: inline-block; margin: 1em; max-width: 100%; vertical-align: top; }}
</style></head><body>
{markdown_table_to_html(results_md)}
<h2>Figures</h2>
{"".join(figures)}
</body></html>
"""
    write_text(path, page)
