"""The public issue filters, read from a query string: status, service type, ward, date range.

One parser for the map, the list beside it, the open-data downloads, the embed and the dashboards'
links, so a filtered view means the same thing everywhere and can be shared as a URL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time

from django.db.models import QuerySet
from django.http import QueryDict
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from issues.models import CLOSED_STATUSES, OPEN_STATUSES, Status

# The dates a filter may name. A day is turned into the city's midnight and then UTC, and
# SQLite compares the text: year 9999 overflowed to year 10000 (a 500), year 1 would underflow
# east of Greenwich. No issue, imported or new, lies outside these years.
FIRST_DATE = date(1900, 1, 1)
LAST_DATE = date(2999, 12, 31)

# "open" is every status that is not closed, on every page, link and download; the one status
# whose stored value is also "open" (labelled "New") is asked for as "new", so a figure and its
# link always name the same rows.
STATUS_GROUPS = {
    "open": [s.value for s in OPEN_STATUSES],
    "closed": [s.value for s in CLOSED_STATUSES],
    "new": [Status.OPEN.value],
}


def status_param(status: str) -> str:
    """The filter value that names exactly one stored status."""
    return "new" if status == Status.OPEN else status


def status_choices() -> list[tuple[str, str]]:
    """One option per status for a filter's menu, each naming that status alone."""
    return [(status_param(value), label) for value, label in Status.choices]


def _split(value: str | None) -> list[str]:
    # NUL can never match a code, and PostgreSQL refuses it in a query (a 500, not "no match").
    value = (value or "").replace("\x00", "")
    return [part.strip() for part in value.split(",") if part.strip()]


@dataclass
class IssueFilters:
    statuses: list[str] = field(default_factory=list)  # expanded: "open" -> its three statuses
    status_param: str = ""
    service_codes: list[str] = field(default_factory=list)
    wards: list[int] = field(default_factory=list)
    start: date | None = None
    end: date | None = None
    # Dashboards link every figure to the list that produces it: closed-in-a-period, overdue
    # and one grid cell (bbox w,s,e,n) are figures too.
    closed_start: date | None = None
    closed_end: date | None = None
    overdue: bool = False
    bbox: tuple[float, float, float, float] | None = None
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_params(cls, params: QueryDict | dict) -> IssueFilters:
        """Parse; unusable values are dropped and explained in `errors` (never a 500)."""
        get = params.get
        f = cls()
        f.status_param = (get("status") or "").strip()
        for part in _split(f.status_param):
            if part in STATUS_GROUPS:
                f.statuses.extend(STATUS_GROUPS[part])
            elif part in Status.values:
                f.statuses.append(part)
            else:
                f.errors["status"] = _("Unknown status “%(s)s”.") % {"s": part}
        f.statuses = sorted(set(f.statuses))
        # "type" on our pages, "service_code" in Open311 words: both mean the same thing.
        f.service_codes = _split(get("type") or get("service_code"))
        for part in _split(get("ward")):
            try:
                number = int(part)
            except ValueError:
                number = -1
            # Ward.number is a small integer: a huge number would overflow the query (a 500).
            if 0 <= number <= 32767:
                f.wards.append(number)
            else:
                f.errors["ward"] = _("Ward must be a ward number, not “%(w)s”.") % {"w": part}
        for name in ("start", "end", "closed_start", "closed_end"):
            raw = (get(name) or "").strip()
            if not raw:
                continue
            try:
                value = parse_date(raw[:10])
            except ValueError:
                value = None
            if value is None:
                f.errors[name] = _("“%(d)s” is not a date like 2026-05-31.") % {"d": raw}
            elif not FIRST_DATE <= value <= LAST_DATE:
                f.errors[name] = _("“%(d)s” is outside the years %(a)d to %(b)d.") % {
                    "d": raw,
                    "a": FIRST_DATE.year,
                    "b": LAST_DATE.year,
                }
            else:
                setattr(f, name, value)
        if f.start and f.end and f.start > f.end:
            f.errors["end"] = _("The end date is before the start date.")
            f.end = None
        if f.closed_start and f.closed_end and f.closed_start > f.closed_end:
            f.errors["closed_end"] = _("The end date is before the start date.")
            f.closed_end = None
        f.overdue = (get("overdue") or "").strip().lower() in ("1", "true", "yes", "on")
        raw_bbox = (get("bbox") or "").strip()
        if raw_bbox:
            try:
                west, south, east, north = (float(p) for p in raw_bbox.split(","))
            except ValueError:
                f.errors["bbox"] = _("bbox must be four numbers: west,south,east,north.")
            else:
                if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
                    f.errors["bbox"] = _("bbox must be west,south,east,north within the globe.")
                else:
                    f.bbox = (west, south, east, north)
        return f

    @property
    def active(self) -> bool:
        return bool(
            self.statuses
            or self.service_codes
            or self.wards
            or self.start
            or self.end
            or self.closed_start
            or self.closed_end
            or self.overdue
            or self.bbox
        )

    def apply(self, queryset: QuerySet) -> QuerySet:
        if self.statuses:
            queryset = queryset.filter(status__in=self.statuses)
        if self.service_codes:
            queryset = queryset.filter(service_type__service_code__in=self.service_codes)
        if self.wards:
            queryset = queryset.filter(ward__number__in=self.wards)
        tz = timezone.get_current_timezone()
        if self.start:
            queryset = queryset.filter(
                requested_at__gte=timezone.make_aware(datetime.combine(self.start, time.min), tz)
            )
        if self.end:
            queryset = queryset.filter(
                requested_at__lte=timezone.make_aware(datetime.combine(self.end, time.max), tz)
            )
        if self.closed_start:
            queryset = queryset.filter(
                closed_at__gte=timezone.make_aware(
                    datetime.combine(self.closed_start, time.min), tz
                )
            )
        if self.closed_end:
            queryset = queryset.filter(
                closed_at__lte=timezone.make_aware(datetime.combine(self.closed_end, time.max), tz)
            )
        if self.overdue:
            queryset = queryset.overdue()
        if self.bbox:
            west, south, east, north = self.bbox
            queryset = queryset.in_bbox(south, west, north, east)
        return queryset

    def as_params(self) -> dict[str, str]:
        params = {}
        if self.status_param and "status" not in self.errors:
            params["status"] = self.status_param
        if self.service_codes:
            params["type"] = ",".join(self.service_codes)
        if self.wards:
            params["ward"] = ",".join(str(w) for w in self.wards)
        if self.start:
            params["start"] = self.start.isoformat()
        if self.end:
            params["end"] = self.end.isoformat()
        if self.closed_start:
            params["closed_start"] = self.closed_start.isoformat()
        if self.closed_end:
            params["closed_end"] = self.closed_end.isoformat()
        if self.overdue:
            params["overdue"] = "1"
        if self.bbox:
            params["bbox"] = ",".join(f"{v:.6f}" for v in self.bbox)
        return params

    def querystring(self, **overrides) -> str:
        params = {**self.as_params(), **{k: v for k, v in overrides.items() if v is not None}}
        return _encode({k: v for k, v in params.items() if v != ""})


# What urlencode leaves as it is (quote_plus's always-safe ASCII).
_PLAIN = re.compile(r"[A-Za-z0-9_.~-]*")


def _encode(params: dict) -> str:
    """urlencode(params), without its quoting where there is nothing to quote (dates, numbers,
    most codes): a ward page writes ~130 query strings, and quoting was most of each."""
    plain = _PLAIN.fullmatch
    if all(isinstance(v, str) and plain(v) and plain(k) for k, v in params.items()):
        return "&".join(f"{k}={v}" for k, v in params.items())
    return urlencode(params)
