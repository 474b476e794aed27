"""The dashboard's figures recomputed in plain Python from Issue rows: the independent oracle."""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from issues.models import CLOSED_STATUSES, OPEN_STATUSES

TZ = ZoneInfo(settings.TIME_ZONE)


def local_day(dt) -> date:
    return timezone.localtime(dt, TZ).date()


def today(now) -> date:
    return local_day(now)


def is_open(i) -> bool:
    return i.status in OPEN_STATUSES


def closed_since(i, first_day: date) -> bool:
    return (
        i.status in CLOSED_STATUSES
        and i.closed_at is not None
        and local_day(i.closed_at) >= first_day
    )


def days_to_close(i) -> float:
    return (i.closed_at - i.requested_at).total_seconds() / 86400


def median(values):
    values = list(values)
    return statistics.median(values) if values else None


def ward_figures(issues, ward, now) -> dict:
    t = today(now)
    mine = [i for i in issues if i.ward_id == ward.pk and not i.is_hidden]
    week_start = t - timedelta(days=t.weekday())
    recent_closed = [i for i in mine if closed_since(i, t - timedelta(days=89))]
    with_sla = [i for i in recent_closed if i.expected_at is not None]
    first_week = week_start - timedelta(weeks=25)
    weeks = {first_week + timedelta(weeks=k): [0, 0] for k in range(26)}
    for i in mine:
        d = local_day(i.requested_at)
        ws = d - timedelta(days=d.weekday())
        if ws in weeks:
            weeks[ws][0] += 1
        if i.status in CLOSED_STATUSES and i.closed_at:
            d = local_day(i.closed_at)
            ws = d - timedelta(days=d.weekday())
            if ws in weeks:
                weeks[ws][1] += 1
    aging = Counter()
    for i in mine:
        if not is_open(i):
            continue
        age = (t - local_day(i.requested_at)).days
        aging["0-7" if age <= 7 else "8-30" if age <= 30 else "31-90" if age <= 90 else "90+"] += 1
    by_type = defaultdict(lambda: {"total": 0, "open": 0, "closed_recent": 0, "durations": []})
    for i in mine:
        row = by_type[i.service_type.service_code]
        row["total"] += 1
        row["open"] += is_open(i)
        if i in recent_closed:
            row["closed_recent"] += 1
            row["durations"].append(days_to_close(i))
    return {
        "open": sum(is_open(i) for i in mine),
        "overdue": sum(
            is_open(i) and i.expected_at is not None and i.expected_at < now for i in mine
        ),
        "opened_recent": sum(local_day(i.requested_at) >= t - timedelta(days=29) for i in mine),
        "opened_this_week": sum(local_day(i.requested_at) >= week_start for i in mine),
        "closed_this_week": sum(closed_since(i, week_start) for i in mine),
        "closed_recent": len(recent_closed),
        "median_days": median(days_to_close(i) for i in recent_closed),
        "sla_share": (
            sum(i.closed_at <= i.expected_at for i in with_sla) / len(with_sla)
            if with_sla
            else None
        ),
        "by_status": Counter("closed" if i.status in CLOSED_STATUSES else i.status for i in mine),
        "weeks": {k: tuple(v) for k, v in weeks.items()},
        "aging": aging,
        "by_type": {
            code: {**row, "median": median(row["durations"])} for code, row in by_type.items()
        },
    }


def heat_cells(issues, ward, now, lat_step, lon_step) -> dict:
    first = today(now) - timedelta(days=89)
    cells = defaultdict(Counter)
    for i in issues:
        if i.ward_id != ward.pk or i.is_hidden or i.latitude is None:
            continue
        if local_day(i.requested_at) < first:
            continue
        key = (math.floor(i.latitude / lat_step), math.floor(i.longitude / lon_step))
        cells[key][i.service_type.service_code] += 1
    return cells
