"""Markdown tables for docs/portability.md from ``rirport portability --format json`` output.

Usage: python scripts/portability_tables.py MATRIX.json [SCENARIO.json] > tables.md
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from typing import Any

ORDER = ["afrinic", "apnic", "arin", "lacnic", "ripencc"]
LABEL = {"afrinic": "AFRINIC", "apnic": "APNIC", "arin": "ARIN", "lacnic": "LACNIC",
         "ripencc": "RIPE NCC"}
UNIT = {"ipv4": "/24s", "ipv6": "prefixes", "asn": "ASNs"}


def amount(row: dict[str, Any]) -> float:
    return row["amount"] / 256 if row["type"] == "ipv4" else row["amount"]


def cell(rows: list[dict[str, Any]]) -> str:
    """Movable amount (allowed + conditional) with holders, outcome and confidence."""
    by = {r["outcome"]: r for r in rows}
    moving = [by[o] for o in ("allowed", "conditional") if by[o]["amount"]]
    refused = by["refused"]
    parts = []
    for r in moving:
        parts.append(f"{amount(r):,.0f} ({r['holders']:,}) {r['outcome'][0].upper()}"
                     f"·{r['confidence']}")
    if refused["amount"]:
        text = f"refused·{refused['confidence']}"
        parts.append(text if not moving else f"{amount(refused):,.0f} {text}")
    return "; ".join(parts)


def matrices(cells: list[dict[str, Any]]) -> str:
    grouped: dict[tuple[str, str], dict[tuple[str, str], list[dict[str, Any]]]] = defaultdict(
        lambda: defaultdict(list))
    for c in cells:
        grouped[c["regime"], c["type"]][c["from_registry"], c["to_registry"]].append(c)
    out = []
    for (regime, rtype), pairs in sorted(grouped.items(), key=lambda k: (k[0][0], k[0][1])):
        out.append(f"\n**{regime}, {rtype}** ({UNIT[rtype]} that could move, with holders; "
                   "A allowed, C conditional; ·V/P/U the confidence)\n")
        out.append("| from \\ to | " + " | ".join(LABEL[r] for r in ORDER) + " |")
        out.append("|---" * (len(ORDER) + 1) + "|")
        for src in ORDER:
            row = [cell(pairs[src, dst]) if (src, dst) in pairs else "·" for dst in ORDER]
            out.append(f"| {LABEL[src]} | " + " | ".join(row) + " |")
    return "\n".join(out)


def scenario(rows: list[dict[str, Any]]) -> str:
    table: dict[str, dict[str, Any]] = defaultdict(dict)
    for r in rows:
        key = r["cc"]
        side = "cur" if r["regime"] == "current" else "mp"
        table[key][(side, r["type"], "stuck")] = r["stuck_amount"]
        table[key][(side, r["type"], "free")] = r["allowed_amount"] + r["conditional_amount"]
        table[key][(side, r["type"], "hs")] = r["holders_stuck"]
    lines = ["| cc | IPv4 /24s stuck (current) | IPv4 holders stuck | IPv6 prefixes stuck | "
             "ASNs stuck | could leave under mandatory portability |",
             "|---|---:|---:|---:|---:|---|"]
    totals = defaultdict(float)
    ordered = sorted(table.items(), key=lambda kv: -kv[1].get(("cur", "ipv4", "stuck"), 0))
    for cc, v in ordered:
        v4 = v.get(("cur", "ipv4", "stuck"), 0) / 256
        h4 = v.get(("cur", "ipv4", "hs"), 0)
        v6 = v.get(("cur", "ipv6", "stuck"), 0)
        asn = v.get(("cur", "asn", "stuck"), 0)
        free = all(v.get(("mp", t, "stuck"), 0) == 0 for t in UNIT)
        for k, x in (("v4", v4), ("h4", h4), ("v6", v6), ("asn", asn)):
            totals[k] += x
        lines.append(f"| {cc} | {v4:,.0f} | {h4:,} | {v6:,} | {asn:,} | "
                     f"{'all' if free else 'not all'} |")
    lines.append(f"| **total** | **{totals['v4']:,.0f}** | **{totals['h4']:,.0f}** | "
                 f"**{totals['v6']:,.0f}** | **{totals['asn']:,.0f}** | |")
    return "\n".join(lines)


def read(path: str) -> Any:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def main() -> None:
    print(matrices(read(sys.argv[1])))
    if len(sys.argv) > 2:
        print("\n" + scenario(read(sys.argv[2])))


if __name__ == "__main__":
    main()
