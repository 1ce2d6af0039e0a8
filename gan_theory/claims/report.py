"""Reports of a proof-check run: a terminal table, ``claims.md`` and ``claims.json``."""

from __future__ import annotations

import datetime as _dt
import json
import os
from pathlib import Path
from typing import Any

from .base import ClaimResult, Route

__all__ = ["table", "markdown", "payload", "write"]


def _num(v: float) -> str:
    if isinstance(v, str):
        return v
    if v == 0:
        return "0"
    if abs(v) >= 1e4 or abs(v) < 1e-3:
        return f"{v:.2e}"
    return f"{v:.4g}"


def _route_line(r: Route, indent: str = "  ") -> str:
    mark = "ok " if r.passed else "BAD"
    return f"{indent}[{mark}] {r.name}: {r.measured} = {_num(r.value)} (tolerance {_num(r.tolerance)}; {r.tolerance_source})"


def table(results: list[ClaimResult]) -> str:
    """A plain-text table: one block per claim, one line per route and erratum."""
    lines = []
    for res in results:
        lines.append(f"{res.id:<4} {res.verdict:<5} {res.title}  ({res.seconds:.1f} s)")
        if res.error:
            lines.append(f"  error: {res.error}")
        for r in res.routes:
            lines.append(_route_line(r))
        for e in res.errata:
            lines.append(f"  erratum {'ok ' if e.passed else 'BAD'}: stated \"{e.stated}\"")
            lines.append(_route_line(e.stated_route, "      stated    ") + ("  -> fails, as it should" if not e.stated_route.passed else "  -> HOLDS"))
            lines.append(_route_line(e.corrected_route, "      corrected ") + ("  -> holds" if e.corrected_route.passed else "  -> FAILS"))
    passed = sum(r.passed for r in results)
    lines.append(f"\n{passed} of {len(results)} claims pass")
    return "\n".join(lines)


def payload(results: list[ClaimResult], meta: dict[str, Any]) -> dict[str, Any]:
    return {"generated": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"), **meta,
            "passed": all(r.passed for r in results), "claims": [r.to_dict() for r in results]}


def markdown(results: list[ClaimResult], meta: dict[str, Any]) -> str:
    out = ["# gan-theory proof check", "",
           f"- generated: {_dt.datetime.now(_dt.timezone.utc).isoformat(timespec='seconds')}",
           f"- mode: {'full' if meta.get('full') else 'default'}; seed {meta.get('seed')}; device {meta.get('device')}",
           f"- versions: {', '.join(f'{k} {v}' for k, v in meta.get('versions', {}).items())}",
           f"- time: {meta.get('seconds', 0):.1f} s", "",
           "| claim | verdict | title | time (s) |", "|---|---|---|---|"]
    for r in results:
        out.append(f"| {r.id} | {r.verdict} | {r.title} | {r.seconds:.1f} |")
    for r in results:
        out += ["", f"## {r.id}: {r.title} — {r.verdict}", "", r.statement, "", f"Source: {r.source}.", ""]
        if r.error:
            out += [f"**Error:** {r.error}", ""]
        out += ["| route | measured | value | condition | tolerance | tolerance from | verdict |",
                "|---|---|---|---|---|---|---|"]
        for route in r.routes:
            out.append(f"| {route.name} | {route.measured} | {_num(route.value)} | {route.condition} | "
                       f"{_num(route.tolerance)} | {route.tolerance_source} | {'pass' if route.passed else 'FAIL'} |")
        for e in r.errata:
            out += ["", f"**Erratum.** Stated: \"{e.stated}\". Corrected: \"{e.corrected}\".", "",
                    "| form | measured | value | condition | verdict |", "|---|---|---|---|---|",
                    f"| stated | {e.stated_route.measured} | {_num(e.stated_route.value)} | {e.stated_route.condition} | "
                    f"{'holds (wrong!)' if e.stated_route.passed else 'fails, as it should'} |",
                    f"| corrected | {e.corrected_route.measured} | {_num(e.corrected_route.value)} | "
                    f"{e.corrected_route.condition} | {'holds' if e.corrected_route.passed else 'FAILS'} |"]
    return "\n".join(out) + "\n"


def write(results: list[ClaimResult], meta: dict[str, Any], out: str | Path) -> tuple[Path, Path]:
    """Write ``claims.md`` and ``claims.json`` into ``out`` (atomically)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in (("claims.md", markdown(results, meta)),
                       ("claims.json", json.dumps(payload(results, meta), indent=2, default=str) + "\n")):
        tmp = out / (name + ".tmp")
        tmp.write_text(text)
        os.replace(tmp, out / name)
        paths.append(out / name)
    return paths[0], paths[1]
