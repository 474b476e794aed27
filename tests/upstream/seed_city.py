"""Run inside the city's own CivicFix (`manage.py shell -c`): its department, the two types the
tests send to (POT with a required question, LIGHT without), a crew member who closes reports in
the workbench, and the integration key our CivicFix uses. Prints what the tests need as JSON."""

import json

from accounts.models import User
from accounts.services import issue_api_key
from departments.models import Department, IntegrationKey, ServiceAttribute, ServiceType

ops = Department.objects.create(
    name="Streets Operations", slug="streets-ops", contact_email="ops@city.example"
)
pot = ServiceType.objects.create(
    service_code="POT", name="Pothole", department=ops, group="Streets", sla_hours=48
)
ServiceAttribute.objects.create(
    service_type=pot,
    code="HOLE_SIZE",
    order=1,
    description="How big is the hole?",
    datatype="singlevaluelist",
    required=True,
    values=[{"key": "small", "name": "Small"}, {"key": "large", "name": "Large"}],
)
ServiceAttribute.objects.create(
    service_type=pot, code="LANE", order=2, description="Which lane?", datatype="string"
)
ServiceType.objects.create(service_code="LIGHT", name="Street light out", department=ops)
crew = User.objects.create_user(
    email="crew@city.example", password="crew-password-for-tests", is_staff=True
)
ops.staff.add(crew)
key, raw = issue_api_key(
    owner=User.objects.create_user(email="frontend@city.example"), name="CivicFix front end"
)
IntegrationKey.objects.create(api_key=key, department=ops)
print(
    json.dumps(
        {"api_key": raw, "crew": "crew@city.example", "crew_password": "crew-password-for-tests"}
    )
)
