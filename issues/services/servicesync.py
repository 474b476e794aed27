"""Service list sync (FixMyStreet's populate-service-list): our service types and their questions
made from a city system's GET services and service definitions, with each type mapped to the
city's code so its reports go back there.

A type is found by its mapping to the endpoint's code, else by our own code, else created (for
the department given, or the endpoint's one department). What a type's mapping lists in
`sync_keeps` (name, description, group, keywords, questions) is left as edited here. Questions are
replaced only when the city's definition could be read; a definition that cannot be read is a
warning, never a reason to drop questions. Each type is written in its own transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q
from django.utils.text import slugify

from departments.models import (
    AttributeDatatype,
    Department,
    ServiceAttribute,
    ServiceType,
    ServiceTypeUpstream,
    UpstreamEndpoint,
)
from issues.upstream.client import Client, UpstreamError

TEXT_FIELDS = {"name": 120, "description": None, "group": 80, "keywords": 255}
TRUE_WORDS = {"true", "1", "yes"}


@dataclass
class SyncReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _true(value) -> bool:
    return value is True or str(value).strip().lower() in TRUE_WORDS


def _text(value, limit: int | None) -> str:
    text = " ".join(str(value or "").split()) if limit else str(value or "").strip()
    return text[:limit] if limit else text


def sync_services(
    *, endpoint: UpstreamEndpoint, department: Department | None = None, dry_run: bool = False
) -> SyncReport:
    """Read the endpoint's services (and their definitions) and bring our types in line.
    Raises UpstreamError when the service list itself cannot be read."""
    report = SyncReport()
    client = Client(endpoint)
    for service in client.services():
        code = _text(service.get("service_code") if isinstance(service, dict) else "", 64)
        if not code:
            report.warnings.append(
                f"A service without a service_code was skipped: {service!r}"[:300]
            )
            continue
        questions = None
        if _true(service.get("metadata")):
            try:
                questions = _questions(client.service_definition(code), report, code)
            except UpstreamError as exc:
                report.warnings.append(f"{code}: its definition could not be read ({exc}).")
        with transaction.atomic():
            outcome = _sync_one(endpoint, department, service, code, questions, report)
            if dry_run:
                transaction.set_rollback(True)
        if outcome:
            getattr(report, outcome).append(code)
    return report


def _sync_one(endpoint, department, service: dict, code: str, questions, report) -> str | None:
    # Mapped to this endpoint by name, or through its department's endpoint.
    mapping = (
        ServiceTypeUpstream.objects.select_related("service_type")
        .filter(
            Q(endpoint=endpoint)
            | Q(endpoint__isnull=True, service_type__department__upstream=endpoint),
            service_code=code,
        )
        .first()
    )
    service_type = mapping.service_type if mapping else None
    if service_type is None:
        service_type = ServiceType.objects.filter(service_code=code).first()
    created = service_type is None
    if created:
        home = department or _only_department(endpoint)
        if home is None:
            report.warnings.append(
                f"{code}: new, but no department to put it in (give --department)."
            )
            return None
        service_type = ServiceType(service_code=_free_code(endpoint, code), department=home)
    if mapping is None and service_type.pk:
        mapping = ServiceTypeUpstream.objects.filter(service_type=service_type).first()
    keeps = set((mapping.sync_keeps if mapping else None) or [])
    wanted = {
        name: _text(service.get("service_name" if name == "name" else name), limit)
        for name, limit in TEXT_FIELDS.items()
        if name not in keeps
    }
    if not wanted.get("name", service_type.name):
        wanted["name"] = code
    changed = created or any(getattr(service_type, k) != v for k, v in wanted.items())
    for name, value in wanted.items():
        setattr(service_type, name, value)
    if changed:
        service_type.save()
    if questions is not None and "questions" not in keeps:
        changed = _set_questions(service_type, questions) or changed
    if mapping is None or mapping.service_code != code:
        # A new mapping names the endpoint; one that reaches it through the department keeps
        # doing so.
        ServiceTypeUpstream.objects.update_or_create(
            service_type=service_type,
            defaults={"endpoint": mapping.endpoint if mapping else endpoint, "service_code": code},
        )
        changed = True
    if created:
        return "created"
    return "updated" if changed else "unchanged"


def _only_department(endpoint: UpstreamEndpoint) -> Department | None:
    departments = list(Department.objects.filter(upstream=endpoint)[:2])
    return departments[0] if len(departments) == 1 else None


def _free_code(endpoint: UpstreamEndpoint, code: str) -> str:
    if not ServiceType.objects.filter(service_code=code).exists():
        return code
    return f"{slugify(endpoint.name)[:20]}-{code}"[:64]


def _questions(definition: dict, report: SyncReport, code: str) -> list[ServiceAttribute]:
    """The definition's attributes as unsaved rows, in order, with orders made unique."""
    found, orders = [], set()
    attributes = definition.get("attributes") or []
    for n, raw in enumerate(a for a in attributes if isinstance(a, dict)):
        datatype = str(raw.get("datatype") or "string").lower()
        if datatype not in AttributeDatatype.values:
            report.warnings.append(
                f"{code}: {raw.get('code')} has datatype {datatype}; read as text."
            )
            datatype = AttributeDatatype.STRING
        try:
            order = int(raw.get("order") or n + 1)
        except (TypeError, ValueError):
            order = n + 1
        while order in orders or order < 1:
            order = max(orders | {0}) + 1
        orders.add(order)
        values = [
            {"key": str(v.get("key")), "name": _text(v.get("name"), 255)}
            for v in raw.get("values") or []
            if isinstance(v, dict) and v.get("key") is not None
        ]
        found.append(
            ServiceAttribute(
                code=_text(raw.get("code"), 64) or f"Q{order}",
                order=order,
                description=_text(raw.get("description") or raw.get("code"), 255),
                datatype=datatype,
                datatype_description=_text(raw.get("datatype_description"), 255),
                required=_true(raw.get("required")),
                variable=raw.get("variable") is None or _true(raw.get("variable")),
                values=values if datatype in ("singlevaluelist", "multivaluelist") else [],
            )
        )
    return found


def _shape(attribute: ServiceAttribute) -> tuple:
    return (
        attribute.code,
        attribute.order,
        attribute.description,
        attribute.datatype,
        attribute.datatype_description,
        attribute.required,
        attribute.variable,
        attribute.values,
    )


def _set_questions(service_type: ServiceType, questions: list[ServiceAttribute]) -> bool:
    """Replace the type's questions when they differ; True if they did. Answers already given
    live on the issues, so they outlive a question the city dropped."""
    current = list(service_type.attributes.order_by("order"))
    if [_shape(a) for a in current] == [_shape(q) for q in questions]:
        return False
    service_type.attributes.all().delete()
    for question in questions:
        question.service_type = service_type
    ServiceAttribute.objects.bulk_create(questions)
    return True
