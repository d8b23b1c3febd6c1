"""The report's produce section: what the routes collect and what they leave behind."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rural_logistics.report.kpis import fmt, number
from rural_logistics.report.runs import RunResult
from rural_logistics.report.sections import esc

#: Stations listed per run (the heaviest left behind first).
LEFT_ROWS = 10

_REASONS = {
    "not_planned": "not planned (routing.pickup_produce off)",
    "station_unserved": "station not served",
    "not_visited": "produce-only station not visited",
    "capacity": "vehicle full (capacity_kg)",
    "cost": "dearer to collect than its value",
}


def produce_html(runs: Sequence[RunResult], labels: Sequence[str]) -> str:
    """One table row per run (offered, collected, left behind by reason, heaviest load)
    and the stations whose produce is left behind; empty when no run offers produce."""
    sections: list[dict[str, Any]] = [
        dict(s) if isinstance(s := r.summary.get("produce"), dict) else {} for r in runs
    ]
    if not any((number(p.get("offered_kg_per_day")) or 0) > 0 for p in sections):
        return ""
    head = "".join(f"<th>{esc(h)}</th>" for h in (
        "Run", "Offered, kg/day", "Collected, kg/day", "Collected", "Left behind, kg/day",
        "Why left behind", "Heaviest load, kg", "Fullest trip, share of capacity_kg"))
    rows, lists = [], []
    for label, p in zip(labels, sections, strict=True):
        if not p:
            rows.append(f"<tr><td>{esc(label)}</td>" + '<td class="n">n/a</td>' * 7 + "</tr>")
            continue
        by_reason = p.get("left_behind_by_reason_kg_per_day", {})
        why = "; ".join(f"{_REASONS.get(k, k)} {fmt(v, 1)}" for k, v in by_reason.items()
                        if (number(v) or 0) > 0) or "none"
        share = number(p.get("max_load_share_of_capacity_kg"))
        cells = [fmt(p.get("offered_kg_per_day"), 1), fmt(p.get("collected_kg_per_day"), 1),
                 f"{100 * (number(p.get('collected_share')) or 0):.1f} %",
                 fmt(p.get("left_behind_kg_per_day"), 1)]
        rows.append(
            f"<tr><td>{esc(label)}</td>"
            + "".join(f'<td class="n">{esc(c)}</td>' for c in cells)
            + f"<td>{esc(why)}</td><td class=\"n\">{esc(fmt(p.get('max_load_kg'), 1))}</td>"
            f'<td class="n">{"n/a" if share is None else f"{100 * share:.0f} %"}</td></tr>'
        )
        left = sorted(p.get("stations_left_behind", []),
                      key=lambda r: -(number(r.get("left_kg_per_day")) or 0))
        if left:
            items = "".join(
                f"<tr><td>{esc(r.get('station_id'))}</td>"
                f"<td class=\"n\">{esc(fmt(r.get('offered_kg_per_day'), 1))}</td>"
                f"<td class=\"n\">{esc(fmt(r.get('left_kg_per_day'), 1))}</td>"
                f"<td>{esc(_REASONS.get(str(r.get('reason')), r.get('reason')))}: "
                f"{esc(r.get('detail'))}</td></tr>"
                for r in left[:LEFT_ROWS]
            )
            more = f" (the {LEFT_ROWS} largest of {len(left)})" if len(left) > LEFT_ROWS else ""
            lists.append(
                f"<h3>{esc(label)}: stations whose produce is left behind{esc(more)}</h3>"
                '<div class="table-wrap"><table class="small"><thead><tr><th>Station</th>'
                "<th>Offered, kg/day</th><th>Left, kg/day</th><th>Why</th></tr></thead>"
                f"<tbody>{items}</tbody></table></div>"
            )
    note = ("Farm produce is picked up on the delivery visit; the vehicle's load drops at "
            "each delivery and rises at each pickup and never exceeds capacity_kg. "
            "Collected plus left behind is the produce offered.")
    return (
        '<div class="table-wrap"><table class="small" id="produce-table"><thead><tr>'
        f"{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
        f'<p class="note">{esc(note)}</p>' + "".join(lists)
    )
