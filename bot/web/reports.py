"""The console's reports: the outcomes the city reports on (per month: consultations, hand-offs,
danger signs, kinds of carer, time to the first action), as a page with charts and as CSV.

Each account counts the cases it may see; the monthly consultations (every conversation, also one
without a hand-off) are shown only to accounts that see every case (admins, the coordinating section).
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from typing import Any, Dict, List

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.handoff.store import Staff
from bot.web.auth import Visit, logged_in
from bot.web.console import CARER_LABELS, Console, csv_response, destination_name, jst

CSV_HEADER = ["月", "相談件数", "つなぎ件数", "危険のサイン", *CARER_LABELS.values(), "初動までの時間(中央値・時間)"]


def _month() -> Dict[str, Any]:
    return {"handoffs": 0, "crisis": 0, "kinds": Counter(), "hours": []}


def outcomes(console: Console, staff: Staff) -> Dict[str, Any]:
    """The outcomes of the cases this account sees: a row per month, the sections, the statuses, the charts' data."""
    months: Dict[str, Dict[str, Any]] = defaultdict(_month)
    sections: Counter = Counter()
    statuses: Counter = Counter()
    for r in console.store.list_handoffs(staff):
        m = months[jst(r["created_at"], "%Y-%m")]  # the month in Japan, as the plan counts
        m["handoffs"] += 1
        m["crisis"] += r["crisis"]
        m["kinds"].update(r["carer_types"])
        if r["first_action_at"]:
            m["hours"].append((r["first_action_at"] - r["created_at"]).total_seconds() / 3600)
        sections.update(r["destinations"][:1])
        statuses[r["status"]] += 1
    consultations = console.transcripts.conversations_by_month() if staff.sees_all else {}
    table = [_row(month, months[month], consultations) for month in sorted(set(months) | set(consultations))]
    chart = {
        "months": [t["month"] for t in table],
        "handoffs": [t["handoffs"] for t in table],
        "crisis": [t["crisis"] for t in table],
        "section_names": [destination_name(s) for s in sections],
        "section_counts": list(sections.values()),
    }
    return {"table": table, "sections": sections, "statuses": statuses, "chart": chart}


def _row(month: str, m: Dict[str, Any], consultations: Dict[str, int]) -> Dict[str, Any]:
    return {
        "month": month, "consultations": consultations.get(month, ""), "handoffs": m["handoffs"],
        "crisis": m["crisis"], **{k: m["kinds"][k] for k in CARER_LABELS},
        "median_hours": round(statistics.median(m["hours"]), 1) if m["hours"] else "",
    }


@logged_in
async def outcomes_page(request: Request, visit: Visit) -> HTTPResponse:
    """The outcomes as tables and charts (Chart.js, served by the console itself)."""
    return visit.render("staff/outcomes.html", o=outcomes(visit.console, visit.staff))


@logged_in
async def outcomes_csv(request: Request, visit: Visit) -> HTTPResponse:
    """The monthly outcomes as CSV."""
    table: List[Dict[str, Any]] = outcomes(visit.console, visit.staff)["table"]
    return csv_response("outcomes.csv", CSV_HEADER, [
        [t["month"], t["consultations"], t["handoffs"], t["crisis"], *[t[k] for k in CARER_LABELS], t["median_hours"]]
        for t in table
    ])


def blueprint() -> Blueprint:
    """The reports under /staff."""
    bp = Blueprint("reports", url_prefix="/staff")
    bp.add_route(outcomes_page, "/outcomes", methods=["GET"])
    bp.add_route(outcomes_csv, "/outcomes.csv", methods=["GET"])
    return bp
