"""``/portability``: who could move where. The registry × registry matrix under one regime
and resource type (switchable), the "registry X stops functioning" scenario with a table per
country and a world map of who is stuck, and ``POST /portability/compare``: a regime file the
reader uploads compared with a shipped regime, cell by cell."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from rirport.domain.enums import REGISTRIES, Registry, ResourceType
from rirport.errors import InputError
from rirport.http.responses import HttpError
from rirport.policy.compare import compare
from rirport.policy.loader import load_builtin, parse_regime
from rirport.query.countries import country_name, numeric
from rirport.web.context import Page, PageContext
from rirport.web.csrf import check_token
from rirport.web.links import country_path, registry_path
from rirport.web.pages.shared import portability, regime_asked, regimes
from rirport.web.tables import Table, table

router = APIRouter()
UPLOAD_MAX = 256 * 1024
"""A regime file larger than this is refused (the shipped ones are a few kilobytes)."""
UNITS = {ResourceType.IPV4: "addresses", ResourceType.IPV6: "/48s", ResourceType.ASN: "AS numbers"}


def _type(text: str | None) -> ResourceType:
    given = text or "ipv4"
    try:
        return ResourceType(given.lower())
    except ValueError:
        raise InputError(f"type: {given[:20]!r} is not one of asn, ipv4, ipv6") from None


def _registry(text: str | None) -> Registry:
    try:
        return Registry.parse(text or "afrinic")
    except ValueError as exc:
        raise InputError(f"failing: {exc}") from None


@router.get("/portability")
async def portability_page(
    page: Page,
    regime: str | None = Query(None, max_length=60),
    type: str | None = Query(None, max_length=10),
    failing: str | None = Query(None, max_length=20),
) -> Response:
    name = regime_asked(regime)
    rtype = _type(type)
    down = _registry(failing)
    report = await portability(page, name)
    return _render(page, name, rtype, down, report)


def _render(
    page: PageContext,
    name: str,
    rtype: ResourceType,
    down: Registry,
    report: Any,
    comparison: Table | None = None,
    against: str | None = None,
    uploaded: str | None = None,
    status: int = 200,
) -> Response:
    cells = [c for c in report.cells if c.type is rtype]
    by_pair: dict[tuple[str, str], dict[str, Any]] = defaultdict(
        lambda: {
            "allowed": 0,
            "conditional": 0,
            "refused": 0,
            "rpki": 0,
            "grades": set(),
            "rules": set(),
        }
    )
    for c in cells:
        cell = by_pair[(c.from_registry.value, c.to_registry.value)]
        cell[c.outcome.value] += c.amount
        cell["rpki"] += c.rpki_rejected
        if c.confidence:
            cell["grades"].add(c.confidence.value)
        cell["rules"].update(c.rules)
    rows = []
    for (a, b), v in sorted(by_pair.items()):
        total = v["allowed"] + v["conditional"] + v["refused"]
        rows.append(
            (
                a,
                b,
                v["allowed"],
                v["conditional"],
                v["refused"],
                round(v["allowed"] / total, 4) if total else None,
                v["rpki"],
                "".join(sorted(v["grades"], key="VPU".index)) or None,
                " ".join(sorted(v["rules"])),
            )
        )
    t_matrix = table(
        "matrix",
        f"Who could move where: {rtype.value} under {name} ({UNITS[rtype]})",
        (
            "from",
            "to",
            "allowed",
            "conditional",
            "refused",
            "allowed share",
            "rpki rejected",
            "grades",
            "rules",
        ),
        rows,
        numeric=("allowed", "conditional", "refused", "allowed share", "rpki rejected"),
        links={"from": registry_path, "to": registry_path},
    )
    grid = {
        (r[0], r[1]): (r[2] + r[3]) / (r[2] + r[3] + r[4]) if r[2] + r[3] + r[4] else None
        for r in rows
    }
    scen = [s for s in report.scenarios if s.failing_registry is down and s.type is rtype]
    srows = []
    for s in sorted(scen, key=lambda s: -s.stuck_amount):
        total = s.allowed_amount + s.conditional_amount + s.stuck_amount
        srows.append(
            (
                s.cc,
                country_name(s.cc),
                numeric(s.cc),
                total,
                s.allowed_amount,
                s.conditional_amount,
                s.stuck_amount,
                round(s.stuck_amount / total, 4) if total else None,
                s.holders_free,
                s.holders_stuck,
            )
        )
    t_scenario = table(
        "scenario",
        f"If {down.label} stopped functioning: {rtype.value} by country ({name})",
        (
            "cc",
            "country",
            "iso",
            "amount",
            "allowed",
            "conditional",
            "stuck",
            "stuck share",
            "holders free",
            "holders stuck",
        ),
        srows,
        numeric=(
            "amount",
            "allowed",
            "conditional",
            "stuck",
            "stuck share",
            "holders free",
            "holders stuck",
        ),
        links={"cc": country_path},
    )
    tables = [t_matrix, t_scenario] + ([comparison] if comparison else [])
    return page.render(
        "portability.html",
        title="Portability: who could move where",
        status=status,
        regime=name,
        regimes=regimes(),
        rtype=rtype,
        types=list(ResourceType),
        down=down,
        registries=REGISTRIES,
        grid=grid,
        against=against,
        uploaded=uploaded,
        data={
            "regime": name,
            "type": rtype.value,
            "failing": down.value,
            "as_of": report.as_of.isoformat(),
            "rows": report.rows,
            "matrix": [c.to_json() for c in cells],
            "scenario": [s.to_json() for s in scen],
            "comparison": comparison.to_json() if comparison else None,
        },
        tables=tables,
    )


@router.post("/portability/compare")
async def compare_page(request: Request, page: Page) -> Response:
    """A regime file (TOML, as ``rirport policy compare`` takes) compared with a shipped one."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > UPLOAD_MAX + 4096:
        raise HttpError(413, f"the upload is {declared} bytes; the limit is {UPLOAD_MAX}")
    async with request.form(max_files=1, max_fields=5, max_part_size=UPLOAD_MAX) as form:
        check_token(request, str(form.get("csrf_token") or ""))
        against = regime_asked(str(form.get("against") or ""))
        upload = form.get("regime")
        if upload is None or isinstance(upload, str):
            raise InputError("regime: choose a regime file (TOML) to upload")
        raw = await upload.read(UPLOAD_MAX + 1)
        filename = (upload.filename or "uploaded.toml")[:100]
    if len(raw) > UPLOAD_MAX:
        raise HttpError(413, f"the regime file is over the limit of {UPLOAD_MAX} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{filename}: the regime file is not UTF-8 text") from None
    theirs = parse_regime(text, filename)  # InputError naming file:line on a bad file
    ours = load_builtin(against)
    cells = compare(ours, theirs, page.today)
    rows = [
        (
            c.source.value,
            c.recipient.value,
            c.type.value,
            c.kind.value,
            c.outcome_a,
            c.outcome_b,
            "; ".join(c.restrictions_a),
            "; ".join(c.restrictions_b),
        )
        for c in cells
        if c.differs
    ]
    t = table(
        "comparison",
        f"Where {filename} differs from {against}",
        (
            "from",
            "to",
            "type",
            "kind",
            against,
            filename,
            f"restrictions ({against})",
            f"restrictions ({filename})",
        ),
        rows,
    )
    report = await portability(page, against)
    return _render(page, against, ResourceType.IPV4, Registry.AFRINIC, report, t, against, filename)
