"""Match a source's service types and agencies to ours by name, creating what is missing.

Names are matched case-insensitively after squeezing spaces ("Street Light  Outages" is "street
light outages"). A new service type goes to the department named by the source's agency column
(matched or created), or to a default department ("Imported") when the source names none.
New types are created inactive unless asked otherwise: importing history must not change what
residents can report today.
"""

from __future__ import annotations

from django.utils.text import slugify

from departments.models import Department, ServiceType


def _key(text: str) -> str:
    return " ".join(text.lower().split())


class Catalogue:
    def __init__(self, *, default_department: str = "Imported", activate_new_types: bool = False):
        self.default_department_name = default_department
        self.activate_new_types = activate_new_types
        self.created_departments: list[str] = []
        self.created_service_types: list[str] = []
        self._departments: dict[str, Department] = {}
        for d in Department.objects.all():
            self._departments.setdefault(_key(d.name), d)
            self._departments.setdefault(_key(d.slug), d)
        self._types_by_code: dict[str, ServiceType] = {}
        self._types_by_name: dict[str, list[ServiceType]] = {}
        for t in ServiceType.objects.all():
            self._types_by_code[t.service_code] = t
            self._types_by_name.setdefault(_key(t.name), []).append(t)
        self._resolved: dict[tuple[str, str, str, str], ServiceType] = {}

    def department(self, agency: str) -> Department:
        name = agency.strip() or self.default_department_name
        found = self._departments.get(_key(name))
        if found is None:
            found = Department.objects.create(
                name=name[:120], slug=self._free_department_slug(name)
            )
            self._departments[_key(name)] = found
            self._departments[_key(found.slug)] = found
            self.created_departments.append(found.name)
        return found

    def _free_department_slug(self, name: str) -> str:
        base = slugify(name)[:110] or "department"
        slug, n = base, 1
        while Department.objects.filter(slug=slug).exists():
            n += 1
            slug = f"{base}-{n}"
        return slug

    def service_type(
        self, *, name: str, code: str = "", agency: str = "", group: str = ""
    ) -> ServiceType:
        cache_key = (name, code, agency, group)
        found = self._resolved.get(cache_key)
        if found is None:
            found = self._match(name, code, agency) or self._create(name, code, agency, group)
            self._resolved[cache_key] = found
        return found

    def _match(self, name: str, code: str, agency: str) -> ServiceType | None:
        by_code = self._types_by_code.get(code) if code else None
        if by_code is not None and (not name or _key(by_code.name) == _key(name)):
            return by_code
        candidates = self._types_by_name.get(_key(name), [])
        if not candidates:
            return None
        if agency:
            department = self._departments.get(_key(agency))
            for candidate in candidates:
                if department is not None and candidate.department_id == department.pk:
                    return candidate
        return candidates[0]

    def _create(self, name: str, code: str, agency: str, group: str) -> ServiceType:
        department = self.department(agency)
        service_code = self._free_code(code or slugify(name)[:56] or "imported")
        created = ServiceType.objects.create(
            service_code=service_code,
            name=name[:120],
            group=(group or "Imported")[:80],
            department=department,
            active=self.activate_new_types,
        )
        self._types_by_code[created.service_code] = created
        self._types_by_name.setdefault(_key(created.name), []).append(created)
        self.created_service_types.append(created.name)
        return created

    def _free_code(self, base: str) -> str:
        base = base[:56]
        code, n = base, 1
        while code in self._types_by_code:
            n += 1
            code = f"{base}-{n}"
        return code
