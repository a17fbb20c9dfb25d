"""The L2L benchmark's part of the report: each problem's table and loss curves, as the l2l stage wrote them."""

from __future__ import annotations

from pathlib import Path

from pipeline.utils.paths import L2L_ROOT  # stages/l2l.py writes <L2L_ROOT>/<problem>/{table.md, curves.png}


def section(problems: tuple[str, ...], root: Path = L2L_ROOT) -> tuple[str, list[tuple[str, Path]]]:
    """(markdown, figures) of every listed problem the l2l stage has written; empty when none ran."""
    parts, figures = [], []
    for problem in problems:
        table = root / problem / "table.md"
        if not table.is_file():
            continue
        parts.append(table.read_text().strip())
        curves = root / problem / "curves.png"
        if curves.is_file():
            figures.append(
                (
                    f"L2L benchmark {problem}: training loss of the learned LSTM optimiser and the tuned "
                    f"hand-designed ones",
                    curves,
                )
            )
    if not parts:
        return "", []
    heading = "## L2L benchmark (the LSTM optimiser of seed 002 against tuned SGD, Nesterov, RMSprop and Adam)"
    return "\n\n".join([heading, *parts]) + "\n", figures
