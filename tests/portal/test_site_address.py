"""Links follow the address the portal runs at (issue 19).

`make run` (scripts/run.sh) sets ``SITE_URL`` from the host and port it serves unless
``SITE_URL`` is set already, so every absolute link — emails, the ``tdm-policy`` and licence
``Link`` header fields, ``/.well-known/tdmrep.json``, exports — names the port the portal really
answers on; account emails greet from the portal by name, not from the request's host.
"""

import http.cookiejar
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from email import message_from_bytes, policy
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from accounts.models import OutboundEmail, User
from notices.models import DeveloperMember
from portal.management.commands.seed_demo import PASSWORD
from tests import factories
from tests.portal.test_run_shutdown import _env, session_processes
from tests.services import ROOT, free_port, wait_for

SITE_URL_SH = ROOT / "scripts" / "site_url.sh"
RUN_SH = ROOT / "scripts" / "run.sh"


def site_url(host: str, port: str, **env) -> str:
    environ = {k: v for k, v in os.environ.items() if k != "SITE_URL"} | env
    done = subprocess.run(
        ["bash", str(SITE_URL_SH), host, port],
        env=environ,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


# --- The address make run chooses ---------------------------------------------------------------


def test_make_run_names_the_host_and_port_it_serves():
    assert site_url("127.0.0.1", "8103") == "http://127.0.0.1:8103"
    assert site_url("localhost", "9000") == "http://localhost:9000"


def test_every_interface_is_named_by_this_machines_loopback_address():
    # 0.0.0.0 is no address a browser can open; the loopback is, on this machine.
    assert site_url("0.0.0.0", "8103") == "http://127.0.0.1:8103"
    assert site_url("::", "8103") == "http://[::1]:8103"
    assert site_url("::1", "8103") == "http://[::1]:8103"


def test_site_url_from_the_environment_wins_over_host_and_port():
    assert site_url("0.0.0.0", "8103", SITE_URL="https://consent.example/") == (
        "https://consent.example"
    )


# --- In one process: the cached page, allauth's emails, the banner's logins --------------------


def test_a_public_page_cached_under_one_address_is_not_served_under_another(
    client, creator, settings
):
    work = factories.WorkFactory(owner=creator)
    path = reverse("works:public", args=[work.public_id])
    settings.SITE_URL = "http://127.0.0.1:8000"
    assert "http://127.0.0.1:8000/" in client.get(path)["Link"]

    settings.SITE_URL = "http://127.0.0.1:8103"
    response = client.get(path)

    assert "http://127.0.0.1:8103/" in response["Link"]
    assert "8000" not in response["Link"] and "8000" not in response["tdm-policy"]
    assert "http://127.0.0.1:8000" not in response.content.decode()


def test_a_password_reset_email_greets_from_the_portal_and_links_to_its_address(
    client, creator, settings
):
    settings.SITE_URL = "http://127.0.0.1:8103"

    response = client.post(
        reverse("account_reset_password"), {"email": creator.email}, HTTP_HOST="localhost:8103"
    )

    assert response.status_code == 302
    body = OutboundEmail.objects.get(to=creator.email).payload["body"]
    assert "Hello from the Creator Consent Portal!" in body
    assert "localhost" not in body
    link = re.search(r"http\S+/password/reset/key/\S+", body).group(0)
    assert link.startswith("http://127.0.0.1:8103/accounts/")


def test_pages_that_said_contact_us_name_the_support_address(client, settings):
    settings.SUPPORT_EMAIL = "help@consent.example"

    for name in ("account_reset_password", "account_reset_password_done"):
        page = client.get(reverse(name)).content.decode()
        assert "contact us" not in page.lower()
        assert 'href="mailto:help@consent.example"' in page, name


def test_the_forbidden_page_says_how_to_reach_the_administrators(client, settings, db):
    settings.SUPPORT_EMAIL = "help@consent.example"
    client.force_login(factories.DeveloperMemberFactory().user)

    response = client.get(reverse("removals:create"))  # the people of a developer file none

    assert response.status_code == 403
    assert 'href="mailto:help@consent.example"' in response.content.decode()


def test_every_login_the_banner_lists_is_a_demo_account_and_it_lists_the_developer(db):
    banner = RUN_SH.read_text()
    logins = re.findall(r"^    (.+?)\s{2,}(\S+@demo\.example)$", banner, re.MULTILINE)
    call_command("seed_demo", stdout=StringIO())

    assert ("AI developer, Example AI Labs", "dev@demo.example") in logins
    for _, email in logins:
        assert User.objects.get(email=email).check_password(PASSWORD), email
    assert DeveloperMember.objects.get(user__email="dev@demo.example").developer.slug == (
        "example-ai-labs"
    )


# --- A real `make run` on a free port -----------------------------------------------------------


@pytest.fixture(scope="module")
def seeded_database(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("site-address-db")
    env = {k: v for k, v in _env(folder).items() if k != "SITE_URL"}
    for command in (["migrate", "--no-input"], ["seed_demo"]):
        subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            timeout=300,
        )
    return folder / "db.sqlite3"


@pytest.fixture
def running(tmp_path, seeded_database):
    """scripts/run.sh on a free port, as `make run PORT=<port>` starts it, SITE_URL unset."""
    var = tmp_path / "var"
    var.mkdir()
    (var / "db.sqlite3").write_bytes(seeded_database.read_bytes())
    port = free_port()
    log = var / "run.log"
    env = {k: v for k, v in _env(var).items() if k != "SITE_URL"}
    with open(log, "wb") as out:
        process = subprocess.Popen(
            ["bash", "scripts/run.sh", "127.0.0.1", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield port, var, log
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        while session_processes(process.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        for pid in session_processes(process.pid):
            os.kill(pid, signal.SIGKILL)
        process.wait(5)


def _answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=2)
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False
    return True


@pytest.mark.worker
def test_make_run_on_another_port_writes_that_port_into_every_link(running, seeded_database):
    port, var, log = running
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: _answers(f"{base}/healthz"), timeout=60, interval=0.2, what="gunicorn")
    banner = log.read_text()
    assert f"running at {base}/" in banner and "dev@demo.example" in banner

    # /.well-known/tdmrep.json
    with urllib.request.urlopen(f"{base}/.well-known/tdmrep.json", timeout=10) as response:
        rules = json.load(response)
    assert rules and all(rule["tdm-policy"].startswith(f"{base}/") for rule in rules)

    # A public work page's header fields (Ada's novel: its page links a licence and a policy).
    with sqlite3.connect(seeded_database) as db:
        (public_id,) = db.execute(
            "SELECT w.public_id FROM works_work w JOIN accounts_user u ON u.id = w.owner_id"
            " WHERE u.email = 'ada@demo.example' AND w.title = 'Salt and Signal'"
        ).fetchone()
    with urllib.request.urlopen(f"{base}/w/{public_id}/", timeout=10) as response:
        link, policy_url = response.headers["Link"], response.headers["tdm-policy"]
        page = response.read().decode()
    assert link.startswith(f"<{base}/w/{public_id}/license.rsl>"), link
    assert policy_url.startswith(f"{base}/w/{public_id}/"), policy_url
    assert ":8000/" not in page

    # A password reset asked for at another name of this machine: the email the worker writes
    # greets from the portal and links to SITE_URL.
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    reset = f"{base}/accounts/password/reset/"
    other_name = {"Host": f"localhost:{port}"}
    form = opener.open(urllib.request.Request(reset, headers=other_name), timeout=10)
    form = form.read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    data = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "email": "ada@demo.example"})
    request = urllib.request.Request(reset, data=data.encode(), headers=other_name)
    assert opener.open(request, timeout=10).status == 200

    def reset_email():
        for path in sorted((var / "mail").glob("*.log")):
            for raw in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
                message = message_from_bytes(raw.strip(), policy=policy.default)
                if "Password Reset" in str(message["Subject"]):
                    return message
        return None

    message = wait_for(reset_email, timeout=60, interval=0.3, what="the password reset email")
    body = message.get_body(("plain",)).get_content()
    assert "Hello from the Creator Consent Portal!" in body, body
    assert f"{base}/accounts/password/reset/key/" in body, body
    assert "127.0.0.1:8000" not in body
