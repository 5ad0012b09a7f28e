"""The benchmark's table: medians over runs, each figure next to its ratio to the raw client limit."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    label: str
    unit: str
    value: Callable[[dict], float | None]
    # "rate": value ÷ raw single-session rate; "time": value ÷ one raw POST (1 / that rate); "": none.
    ratio: str = ""
    scale: float = 1.0  # how many seconds one unit is, for "time" ratios (µs: 1e-6)


def median(values: list[float]) -> float | None:
    clean = [value for value in values if value is not None and not math.isnan(value)]
    return statistics.median(clean) if clean else None


def ratio_of(row: Row, run: dict) -> float | None:
    value, raw = row.value(run), run.get("raw", {}).get("raw_session")
    if value is None or not raw or not row.ratio:
        return None
    if row.ratio == "rate":
        return value / raw
    return value * row.scale * raw  # the time in units of one raw POST


def _fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "—"
    if unit in ("ratio", "×"):
        return f"{value:.2f}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def table(rows: list[Row | str], runs: list[dict]) -> str:
    """A Markdown table: figure, unit, median of the runs, median ratio, and each run's value."""
    lines = ["| figure | unit | median | ratio to raw | runs |", "|---|---|---:|---:|---|"]
    heading = None
    for row in rows:
        if isinstance(row, str):
            heading = row  # printed with its first measured row: scenarios left out (--only) leave no trace
            continue
        values = [_safe(row.value, run) for run in runs]
        if all(value is None for value in values):
            continue
        if heading:
            lines.append(f"| **{heading}** | | | | |")
            heading = None
        ratios = [ratio_of(row, run) if _safe(row.value, run) is not None else None for run in runs]
        each = ", ".join(_fmt(value) for value in values)
        ratio = median([value for value in ratios if value is not None]) if row.ratio else None
        lines.append(f"| {row.label} | {row.unit} | {_fmt(median(values))} | {_fmt(ratio, 'ratio')} | {each} |")
    return "\n".join(lines)


def _safe(getter: Callable[[dict], float | None], run: dict) -> float | None:
    try:
        value = getter(run)
    except (KeyError, TypeError, ZeroDivisionError):
        return None
    return None if value is None else float(value)
