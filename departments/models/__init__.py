"""The catalogue's models, one module per subject; every model is importable from here, as
Django and the rest of the code expect."""

from departments.models.asset_cells import AssetCell, GridCell
from departments.models.assets import (
    Asset,
    AssetLayer,
    AssetQuerySet,
)
from departments.models.catalogue import (
    AttributeDatatype,
    Department,
    ResponseTemplate,
    ServiceAttribute,
    ServiceType,
    ServiceTypeQuerySet,
    SlugFromName,
)
from departments.models.routing import (
    PRIORITY_RANK,
    Priority,
    RoutingRule,
    Team,
)
from departments.models.upstream import (
    IntegrationKey,
    ServiceTypeUpstream,
    UpstreamEndpoint,
    UpstreamFormat,
)
from departments.models.wards import (
    Ward,
    WardQuerySet,
)
from departments.places.models import Place, PlaceKind

__all__ = [
    "PRIORITY_RANK",
    "Asset",
    "AssetCell",
    "AssetLayer",
    "AssetQuerySet",
    "AttributeDatatype",
    "Department",
    "GridCell",
    "IntegrationKey",
    "Place",
    "PlaceKind",
    "Priority",
    "ResponseTemplate",
    "RoutingRule",
    "ServiceAttribute",
    "ServiceType",
    "ServiceTypeQuerySet",
    "ServiceTypeUpstream",
    "SlugFromName",
    "Team",
    "UpstreamEndpoint",
    "UpstreamFormat",
    "Ward",
    "WardQuerySet",
]
