"""What each dashboard figure means, said once: the ward page's footnotes, the league table's
column hovers, the comparison page and the open-data page all read these words, so a figure is
defined the same way wherever it appears.

"Open" always means not closed: open, acknowledged or in progress. Closed and archived are both
closed. Hidden reports are never counted.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from issues.dashboards.clock import CLOSED_WINDOW_DAYS, OPENED_WINDOW_DAYS
from issues.dashboards.per_language import per_language


@dataclass(frozen=True)
class Term:
    key: str
    label: str
    definition: str
    # Which way is better, in words a reader can act on ("fewer is better").
    better: str
    higher_is_worse: bool
    # The period the change is measured against, in words ("the 30 days before").
    previous: str

    @property
    def explained(self) -> str:
        """The definition, then which way is better: one sentence each language can punctuate
        its own way (Chinese ends with 。)."""
        return _("%(definition)s %(better)s.") % {
            "definition": self.definition,
            "better": capfirst(self.better),
        }


@per_language
def terms() -> dict[str, Term]:
    """The league's measures, in the order the pages show them: built once per language (a
    league page asks for them for every row, and each is a dozen translated sentences)."""
    return {t.key: t for t in (*_count_terms(), *_time_terms())}


def _days_before(n: int) -> str:
    return ngettext("the %(n)d day before", "the %(n)d days before", n) % {"n": n}


def _count_terms() -> tuple[Term, ...]:
    return (
        Term(
            key="open",
            label=_("Open issues"),
            definition=_(
                "Reports not closed yet: open, acknowledged or in progress, whenever they "
                "were made. Closed and archived reports are not open. Hidden reports are "
                "never counted."
            ),
            better=_("fewer is better"),
            higher_is_worse=True,
            previous=ngettext(
                "%(n)d day ago (estimated from the reports opened and closed since)",
                "%(n)d days ago (estimated from the reports opened and closed since)",
                OPENED_WINDOW_DAYS,
            )
            % {"n": OPENED_WINDOW_DAYS},
        ),
        Term(
            key="opened_recent",
            label=ngettext(
                "Opened in the last %(n)d day",
                "Opened in the last %(n)d days",
                OPENED_WINDOW_DAYS,
            )
            % {"n": OPENED_WINDOW_DAYS},
            definition=ngettext(
                "Reports made in the last %(n)d day (today included), whatever their status now.",
                "Reports made in the last %(n)d days (today included), whatever their status now.",
                OPENED_WINDOW_DAYS,
            )
            % {"n": OPENED_WINDOW_DAYS},
            better=_("fewer is better"),
            higher_is_worse=True,
            previous=_days_before(OPENED_WINDOW_DAYS),
        ),
    )


def _time_terms() -> tuple[Term, ...]:
    return (
        Term(
            key="median_days",
            label=ngettext(
                "Median days to fix (last %(n)d day)",
                "Median days to fix (last %(n)d days)",
                CLOSED_WINDOW_DAYS,
            )
            % {"n": CLOSED_WINDOW_DAYS},
            definition=ngettext(
                "Of the reports fixed in the last %(n)d day, half took less than this "
                "many days from being reported to being closed, and half took more. Reports "
                "closed as duplicates, referred elsewhere, needing no action or withdrawn "
                "are not counted.",
                "Of the reports fixed in the last %(n)d days, half took less than this "
                "many days from being reported to being closed, and half took more. Reports "
                "closed as duplicates, referred elsewhere, needing no action or withdrawn "
                "are not counted.",
                CLOSED_WINDOW_DAYS,
            )
            % {"n": CLOSED_WINDOW_DAYS},
            better=_("lower is better"),
            higher_is_worse=True,
            previous=_days_before(CLOSED_WINDOW_DAYS),
        ),
        Term(
            key="sla_share",
            label=_("Fixed within the expected time"),
            definition=ngettext(
                "Of the reports fixed in the last %(n)d day whose type has an expected "
                "time to fix, the share fixed by their due time (only fixes count, as for "
                "the median).",
                "Of the reports fixed in the last %(n)d days whose type has an expected "
                "time to fix, the share fixed by their due time (only fixes count, as for "
                "the median).",
                CLOSED_WINDOW_DAYS,
            )
            % {"n": CLOSED_WINDOW_DAYS},
            better=_("higher is better"),
            higher_is_worse=False,
            previous=_days_before(CLOSED_WINDOW_DAYS),
        ),
        Term(
            key="overdue",
            label=_("Overdue"),
            definition=_(
                "Open reports past their due time (the type's expected time to fix, counted "
                "from when the report was made)."
            ),
            better=_("fewer is better"),
            higher_is_worse=True,
            previous="",
        ),
    )


def hotspot_definition() -> str:
    return _(
        "A hotspot is a cluster of reports of one type close together in a short time, more "
        "than the ward's own usual rate for that type could explain: at least the type's minimum "
        "number of reports within its radius over the last 7 days, where the ward's reports of "
        "the 90 days before would lead us to expect far fewer (the chance of so many by "
        "coincidence is under 1 in 1,000, a Poisson test). A square with a single report is "
        "never a hotspot."
    )
