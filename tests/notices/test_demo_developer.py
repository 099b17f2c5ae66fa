"""The README's demo developer: Dana at Example AI Labs signs in with the demo password, lands
on their developer dashboard, and the README's API key answers the API."""

from http import HTTPStatus
from io import StringIO

from django.conf import settings
from django.core.management import call_command
from django.urls import reverse

from notices.models import AIDeveloper
from notices.services import api_key_authenticate
from portal.management.commands.seed_demo import DEMO_API_KEY, PASSWORD


def test_the_demo_developer_signs_in_to_their_dashboard_and_the_readme_key_works(client, db):
    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())  # idempotent
    labs = AIDeveloper.objects.get(slug="example-ai-labs")
    assert labs.digest_frequency == AIDeveloper.DigestFrequency.DAILY
    assert labs.api_keys.count() == 1
    assert DEMO_API_KEY not in repr(list(labs.api_keys.values()))  # only its hash is stored

    assert client.login(username="dev@demo.example", password=PASSWORD)
    response = client.get(reverse("portal:dashboard"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("developer:home")
    assert "Example AI Labs" in response.text

    key = api_key_authenticate(DEMO_API_KEY)
    assert key is not None and key.developer == labs
    response = client.get("/api/v1/notices", headers={"authorization": f"Bearer {DEMO_API_KEY}"})
    assert response.status_code == HTTPStatus.OK
    assert DEMO_API_KEY in (settings.BASE_DIR / "README.md").read_text(encoding="utf-8")
