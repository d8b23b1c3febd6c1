"""The carriers' sections of a designs report: the designs side by side, the cost game
and its fair split (plain rows in, HTML out)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rural_logistics.report.sections import esc

#: Columns of the designs table: key, heading, decimals (``None``: as it is).
DESIGN_COLUMNS: tuple[tuple[str, str, int | None], ...] = (
    ("design", "Design", None),
    ("stations", "Stations", 0),
    ("sites", "Sites", 0),
    ("vehicles", "Vehicles", 0),
    ("route_km_per_day", "km/day", 0),
    ("cost_per_day", "Cost/day (all costs)", 0),
    ("cost_per_parcel", "Cost/parcel", 3),
    ("delivered_share", "Delivered", -1),
    ("parcels_within_radius_share", "Parcels within radius", -1),
    ("mean_access_km", "Mean access km", 2),
)
SHAPLEY_COLUMNS: tuple[tuple[str, str, int | None], ...] = (
    ("carrier", "Carrier", None),
    ("parcels_per_day", "Parcels/day", 0),
    ("stand_alone_cost_per_day", "Alone, cost/day", 0),
    ("shapley_cost_per_day", "Shapley, cost/day", 0),
    ("shapley_saving_per_day", "Shapley saving/day", 0),
    ("shapley_cost_per_parcel", "Shapley cost/parcel", 3),
    ("proportional_cost_per_day", "Proportional, cost/day", 0),
    ("proportional_saving_per_day", "Proportional saving/day", 0),
)
COALITION_COLUMNS: tuple[tuple[str, str, int | None], ...] = (
    ("coalition", "Coalition", None),
    ("parcels_per_day", "Parcels/day", 0),
    ("stations", "Stations", 0),
    ("vehicles", "Vehicles", 0),
    ("cost_per_day", "Cost/day", 0),
    ("delivered_share", "Delivered", -1),
    ("source", "What was solved", None),
    ("budget_s", "Budget s", 1),
)


def cell_text(value: object, decimals: int | None) -> str:
    """A table cell as text: ``–`` for none, a share (``decimals`` -1) as a percentage,
    a number with thousands separators, anything else as it is."""
    if value is None:
        return "–"
    if decimals is None or isinstance(value, str):
        return str(value)
    x = float(value)  # type: ignore[arg-type]
    if decimals == -1:
        return f"{x:.1%}"
    return f"{x:,.{decimals}f}"


def rows_table(rows: Sequence[Mapping[str, object]],
               columns: Sequence[tuple[str, str, int | None]]) -> str:
    """An HTML table of ``rows`` (dicts) with the given columns."""
    head = "".join(f"<th>{esc(h)}</th>" for _, h, _ in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{esc(cell_text(r.get(k), d))}</td>" for k, _, d in columns) + "</tr>"
        for r in rows
    )
    return f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead>' \
           f"<tbody>{body}</tbody></table></div>"


def designs_section(
    design_rows: Sequence[Mapping[str, object]],
    *,
    design_text: Mapping[str, str],
    notes: Sequence[str],
) -> str:
    """The designs side by side, what each is, and the order checks."""
    what = "".join(f"<li><b>{esc(d)}</b>: {esc(t)}</li>" for d, t in design_text.items()
                   if any(r["design"] == d for r in design_rows))
    listed = "".join(f"<li>{esc(n)}</li>" for n in notes)
    return (
        '<section id="designs"><h2>Designs</h2>'
        f"<ul>{what}</ul>{rows_table(design_rows, DESIGN_COLUMNS)}"
        '<p class="note">Cost per day counts station opening, vehicles\' fixed cost and '
        "kilometres; cost per parcel divides it by the parcels delivered. Stations: station "
        "openings (a site used by two carriers' own networks counts twice); sites: distinct "
        "sites. Access weighs each carrier's parcels at that carrier's station; the cards and "
        "maps below show each village of <b>separate</b> at the station of its largest "
        "carrier.</p>"
        + (f"<h3>Checks</h3><ul>{listed}</ul>" if notes else
           "<p>Checks: the designs keep the expected cost order.</p>")
        + "</section>"
    )


def split_section(
    shapley_rows: Sequence[Mapping[str, object]],
    coalition_rows: Sequence[Mapping[str, object]],
    *,
    core_lines: Sequence[str],
) -> str:
    """The fair split of the joint design's cost and the coalitions it rests on."""
    core = "".join(f"<li>{esc(line)}</li>" for line in core_lines)
    return (
        '<section id="fair-split"><h2>Fair split of the joint cost</h2>'
        f"{rows_table(shapley_rows, SHAPLEY_COLUMNS)}<ul>{core}</ul>"
        '<p class="note">Shapley: each carrier pays its average extra cost over every order '
        "in which the coalition could form (exact, over every coalition). Proportional: the "
        "joint cost in proportion to parcels. The core check compares what every group of "
        "carriers pays with what it would pay on its own.</p>"
        f"<h3>Coalitions</h3>{rows_table(coalition_rows, COALITION_COLUMNS)}</section>"
    )
