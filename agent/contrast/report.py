"""The supervisor report: which edits move the weak supervisor, how often, where.

A truth-keeping edit that changes the supervisor's label, or a truth-flipping edit
that does not, is evidence of a mistake: on one of the two texts the supervisor is
wrong. Per edit (and per edit and region) the report gives that share with a
Wilson score interval, and a few examples.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from math import sqrt

from w2s.store import Store, queries


@dataclass(frozen=True)
class Reaction:
    """The supervisor's labels of a parent and of one valid edit of it."""
    edit: str
    flips: bool
    region: str
    parent_label: int
    edit_label: int
    parent_text: str = ""
    edit_text: str = ""

    @property
    def reveals(self) -> bool:
        """A mistake shows: the label moved where the truth did not, or stayed where it
        moved."""
        return (self.parent_label != self.edit_label) != self.flips


@dataclass
class Row:
    edit: str
    flips: bool
    region: str  # "all" for the edit over every region
    n: int
    revealed: int
    low: float
    high: float
    examples: list[Reaction] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.revealed / self.n if self.n else float("nan")


def interval(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval of a share k of n (95 % for z = 1.96)."""
    if n == 0:
        return 0.0, 1.0
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass
class SupervisorReport:
    rows: list[Row]  # per edit over all regions, then per edit and region

    @classmethod
    def of(cls, reactions: Iterable[Reaction], examples: int = 3) -> "SupervisorReport":
        groups: dict[tuple[str, bool, str], list[Reaction]] = defaultdict(list)
        for r in reactions:
            groups[(r.edit, r.flips, "all")].append(r)
            groups[(r.edit, r.flips, r.region)].append(r)
        rows = []
        for (edit, flips, region), rs in groups.items():
            k = sum(r.reveals for r in rs)
            rows.append(Row(edit, flips, region, len(rs), k, *interval(k, len(rs)),
                            [r for r in rs if r.reveals][:examples]))
        rows.sort(key=lambda r: (r.region != "all", -r.low, r.edit, r.region))
        return cls(rows)

    def overall(self) -> list[Row]:
        """One row per edit, most revealing first (by the interval's lower end)."""
        return [r for r in self.rows if r.region == "all"]

    def by_region(self, edit: str) -> list[Row]:
        return [r for r in self.rows if r.edit == edit and r.region != "all"]

    def top_sensitivity(self) -> Row | None:
        """The truth-keeping edit that moves the supervisor most surely: its surest
        mistake. None if no such edit moved it at all."""
        keeping = [r for r in self.overall() if not r.flips and r.revealed]
        return max(keeping, key=lambda r: (r.low, r.rate), default=None)

    def region_rate(self, region: str) -> tuple[int, int]:
        """(revealing reactions, reactions) to truth-keeping edits in one region."""
        rows = [r for r in self.rows if r.region == region and not r.flips]
        return sum(r.revealed for r in rows), sum(r.n for r in rows)


def reactions(store: Store, campaign_id: str) -> list[Reaction]:
    """The supervisor's logged reactions to a campaign's valid contrast items."""
    return [Reaction(edit, bool(flips), region, int(lp), int(le), parent, text)
            for _, _, _, edit, flips, region, lp, le, parent, text
            in queries.contrast_reactions(store, campaign_id)]


def describe(row: Row) -> str:
    """One line for a person: which edit, how often it showed a mistake, how sure."""
    what = "did not move it" if row.flips else "moved it"
    return (f"{row.edit}: {what} on {row.revealed} of {row.n} "
            f"({row.rate:.0%}, 95% CI {row.low:.0%}-{row.high:.0%})")
