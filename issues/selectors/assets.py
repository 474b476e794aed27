"""Shared reads about assets as residents see them: the nearest ones to a pin with what is already
reported there, an asset's reports, adopters and visits, an adopter's page, and a layer's ward
figures. The catalogue's own reads (nearest assets, a layer's map) are departments/selectors.py;
these add what reports and adoptions say."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from departments.models import Asset, AssetLayer, Ward
from departments.selectors import asset_in_layer, nearest_assets
from issues.models import Adopter, Adoption, Issue, Visit
from issues.selectors.reports import public_issues

PAST_REPORTS = 20
RECENT_VISITS = 10
ACTIVE_DAYS = 30  # "visited in the last 30 days", on the ward figures


def open_reports_on(assets: list[Asset]) -> dict[int, list[Issue]]:
    """The open public reports against each of these assets, newest first, in one query."""
    found: dict[int, list[Issue]] = {}
    if not assets:
        return found
    reports = (
        public_issues()
        .open()
        .filter(asset__in=[a.pk for a in assets])
        .order_by("-requested_at", "-id")
    )
    for issue in reports:
        found.setdefault(issue.asset_id, []).append(issue)
    return found


@dataclass
class AssetChoice:
    """The assets a report form offers for its type's layer: the nearest to the pin, the one
    picked (wherever it is), and what is already reported against each."""

    layer: AssetLayer | None = None
    options: list[Asset] = field(default_factory=list)
    chosen: Asset | None = None
    unknown: str = ""  # an id that is not in the layer
    has_point: bool = False

    @property
    def already_reported(self) -> list[Issue]:
        return getattr(self.chosen, "open_reports", []) if self.chosen else []


def asset_choice(
    layer: AssetLayer | None, latitude: float | None, longitude: float | None, chosen_id: str
) -> AssetChoice:
    """What a report form shows for a type's asset layer (nothing when it has none)."""
    choice = AssetChoice(layer=layer, has_point=latitude is not None and longitude is not None)
    if layer is None:
        return choice
    options = nearest_assets(layer, latitude, longitude) if choice.has_point else []
    chosen_id = (chosen_id or "").strip()
    if chosen_id:
        choice.chosen = next((a for a in options if a.source_id == chosen_id), None)
        if choice.chosen is None:
            choice.chosen = asset_in_layer(layer, chosen_id)
            if choice.chosen is None:
                choice.unknown = chosen_id[:64]
            else:
                options.insert(0, choice.chosen)
    reports = open_reports_on(options)
    for asset in options:
        asset.layer = layer  # known already: no query per asset for its labels
        asset.open_reports = reports.get(asset.pk, [])
    choice.options = options
    return choice


@dataclass
class AssetPage:
    asset: Asset
    open_reports: list[Issue]
    past_reports: list[Issue]
    adoptions: list[Adoption]
    visits: list[Visit]
    mine: Adoption | None


def asset_page(layer: AssetLayer, source_id: str, user) -> AssetPage | None:
    """Everything an asset's page shows: what it is, its open and recent closed reports, who
    looks after it and their recent visits, and the viewer's own adoption of it."""
    asset = asset_in_layer(layer, source_id)
    if asset is None:
        return None
    reports = public_issues().filter(asset=asset).order_by("-requested_at", "-id")
    adoptions = list(
        Adoption.objects.active()
        .filter(asset=asset)
        .select_related("adopter__user")
        .order_by("started_at", "pk")
    )
    visits = list(
        Visit.objects.filter(adoption__asset=asset)
        .select_related("adoption__adopter__user", "issue")
        .order_by("-visited_at", "-id")[:RECENT_VISITS]
    )
    mine = None
    if user and user.is_authenticated:
        mine = next((a for a in adoptions if a.adopter.user_id == user.pk), None)
    return AssetPage(
        asset=asset,
        open_reports=list(reports.open()),
        past_reports=list(reports.closed()[:PAST_REPORTS]),
        adoptions=adoptions,
        visits=visits,
        mine=mine,
    )


def adopter_page(public_id: str) -> Adopter | None:
    """An adopter with their active adoptions (asset and layer) and each one's recent visits."""
    if not public_id or "\x00" in public_id:
        return None
    visits = Visit.objects.select_related("issue").order_by("-visited_at", "-id")
    adoptions = (
        Adoption.objects.active()
        .select_related("asset__layer", "asset__ward")
        .defer("asset__ward__boundary")
        .prefetch_related(Prefetch("visits", queryset=visits, to_attr="recent_visits"))
        .order_by("started_at", "pk")
    )
    return (
        Adopter.objects.filter(public_id=public_id.strip().upper())
        .select_related("user")
        .prefetch_related(Prefetch("adoptions", queryset=adoptions, to_attr="active_adoptions"))
        .first()
    )


def adoption_of(pk: int, user) -> Adoption | None:
    """One of the signed-in person's own adoptions (active or not), with its asset and layer."""
    if not (user and user.is_authenticated):
        return None
    return (
        Adoption.objects.filter(pk=pk, adopter__user=user)
        .select_related("asset__layer", "adopter")
        .first()
    )


def layer_assets(layer: AssetLayer, *, ward: Ward | None = None) -> QuerySet[Asset]:
    """A layer's assets for its list: by ward when asked, in id order."""
    assets = Asset.objects.filter(layer=layer)
    if ward is not None:
        assets = assets.filter(ward=ward)
    return assets.order_by("source_id", "id")


@dataclass(frozen=True)
class WardAdoption:
    ward: int | None  # its number; None for the assets outside every ward
    assets: int
    adopted: int
    adopters: int
    visits: int

    @property
    def share(self) -> float:
        return self.adopted / self.assets if self.assets else 0.0


def ward_adoption(layer: AssetLayer) -> list[WardAdoption]:
    """Per ward: the layer's assets, how many are adopted, by how many people, and the visits
    logged in the last ACTIVE_DAYS days. Three grouped queries, whatever the layer's size."""
    since = timezone.now() - timedelta(days=ACTIVE_DAYS)
    assets = (
        Asset.objects.filter(layer=layer)
        .order_by()
        .values("ward__number")
        .annotate(n=Count("id"), adopted=Count("id", filter=Q(adopter_count__gt=0)))
    )
    adopters = dict(
        Adoption.objects.active()
        .filter(asset__layer=layer)
        .order_by()
        .values("asset__ward__number")
        .annotate(n=Count("adopter", distinct=True))
        .values_list("asset__ward__number", "n")
    )
    visits = dict(
        Visit.objects.filter(adoption__asset__layer=layer, visited_at__gte=since)
        .order_by()
        .values("adoption__asset__ward__number")
        .annotate(n=Count("id"))
        .values_list("adoption__asset__ward__number", "n")
    )
    rows = [
        WardAdoption(
            ward=row["ward__number"],
            assets=row["n"],
            adopted=row["adopted"],
            adopters=adopters.get(row["ward__number"], 0),
            visits=visits.get(row["ward__number"], 0),
        )
        for row in assets
    ]
    return sorted(rows, key=lambda r: (r.ward is None, r.ward or 0))
