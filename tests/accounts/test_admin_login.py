"""The Django admin signs people in only through allauth's login (its rate limits and its
two-factor stage), refuses signed-in people who are not staff, and shows accounts, email
addresses and authenticators without letting anyone change them: they change only through the
portal's own audited pages."""

from http import HTTPStatus

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.urls import reverse

from accounts.models import User
from tests import factories
from tests.accounts.test_mfa_and_rate_limits import activate_totp, totp

ADMIN_INDEX = "/django-admin/"


@pytest.fixture
def superuser_with_totp(client, superuser, sign_in):
    sign_in(superuser)
    secret = activate_totp(client)
    client.logout()
    return superuser, secret


def _admin_sign_in(client, email, password):
    """What a browser does at /django-admin/login/: post the admin's form, and when sent to
    another sign-in form, fill that one in instead."""
    url = reverse("admin:login") + f"?next={ADMIN_INDEX}"
    response = client.post(url, {"username": email, "password": password})
    location = response.get("Location", "")
    if response.status_code == HTTPStatus.FOUND and location.startswith(reverse("account_login")):
        response = client.post(location, {"login": email, "password": password})
    return response


def test_password_alone_at_the_admin_login_does_not_open_the_admin_when_totp_is_set_up(
    client, superuser_with_totp
):
    user, _secret = superuser_with_totp

    response = client.post(
        reverse("admin:login") + f"?next={ADMIN_INDEX}",
        {"username": user.email, "password": factories.PASSWORD},
    )

    assert response.status_code == HTTPStatus.FOUND
    assert not response["Location"].startswith(ADMIN_INDEX)
    assert "_auth_user_id" not in client.session
    index = client.get(ADMIN_INDEX)
    assert index.status_code == HTTPStatus.FOUND
    assert index["Location"].startswith(reverse("admin:login"))


def test_the_admin_login_sends_the_password_on_to_the_two_factor_stage(client, superuser_with_totp):
    user, _secret = superuser_with_totp

    response = _admin_sign_in(client, user.email, factories.PASSWORD)

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == reverse("mfa_authenticate")
    assert client.get(ADMIN_INDEX).status_code == HTTPStatus.FOUND


def test_forty_wrong_passwords_at_the_admin_login_are_rate_limited(client, superuser):
    texts = []
    for _ in range(40):
        response = _admin_sign_in(client, superuser.email, "not the password")
        texts.append((response.status_code, response.content.decode()))
    limited = [
        status == HTTPStatus.TOO_MANY_REQUESTS or "Too many failed login attempts" in text
        for status, text in texts
    ]
    assert any(limited[:10]), "slowed down within the first ten attempts"
    assert all(limited[10:])

    # Even the right password is refused while the limit holds.
    response = _admin_sign_in(client, superuser.email, factories.PASSWORD)
    assert client.get(ADMIN_INDEX).status_code == HTTPStatus.FOUND


def test_anonymous_visitor_of_the_admin_is_sent_to_the_portal_login_with_next(client, db):
    response = client.get(ADMIN_INDEX, follow=True)

    final_url, _status = response.redirect_chain[-1]
    assert final_url.startswith(reverse("account_login"))
    assert f"next={ADMIN_INDEX}" in final_url.replace("%2F", "/")
    assert response.status_code == HTTPStatus.OK


def test_superuser_signs_in_through_the_portal_with_a_code_and_reaches_the_admin(
    client, superuser_with_totp
):
    user, secret = superuser_with_totp

    response = client.get(ADMIN_INDEX, follow=True)
    login_url, _status = response.redirect_chain[-1]
    response = client.post(login_url, {"login": user.email, "password": factories.PASSWORD})
    assert response["Location"] == reverse("mfa_authenticate")
    response = client.post(reverse("mfa_authenticate"), {"code": totp(secret)})

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == ADMIN_INDEX
    index = client.get(ADMIN_INDEX)
    assert index.status_code == HTTPStatus.OK
    assert "Site administration" in index.content.decode()


@pytest.mark.parametrize("persona", ["charlie", "creator", "guild_staff", "registry_manager"])
def test_signed_in_person_who_is_not_staff_is_refused_by_the_admin(client, request, persona):
    user = request.getfixturevalue(persona)
    other = factories.UserFactory(email="someone.else@example.org")
    client.force_login(user)

    for url in [
        ADMIN_INDEX,
        reverse("admin:login"),
        reverse("admin:account_emailaddress_changelist"),
        reverse("admin:accounts_user_change", args=[other.pk]),
    ]:
        response = client.get(url, follow=True)
        assert response.status_code == HTTPStatus.FORBIDDEN, url
        assert other.email not in response.content.decode()


# Read-only accounts, email addresses and authenticators.


@pytest.fixture
def admin_client_(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def records(creator):
    address = EmailAddress.objects.create(
        user=creator, email="alice.second@example.org", verified=False, primary=False
    )
    authenticator = Authenticator.objects.create(
        user=creator,
        type=Authenticator.Type.TOTP,
        data={"secret": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"},
    )
    return {"user": creator, "emailaddress": address, "authenticator": authenticator}


ADMINS = [
    ("accounts", "user", "user"),
    ("account", "emailaddress", "emailaddress"),
    ("mfa", "authenticator", "authenticator"),
]


def _snapshot():
    return (
        list(User.objects.order_by("pk").values()),
        list(EmailAddress.objects.order_by("pk").values()),
        list(Authenticator.objects.order_by("pk").values()),
    )


@pytest.mark.parametrize(("app", "model", "key"), ADMINS)
def test_the_admin_shows_accounts_addresses_and_authenticators_without_a_save_button(
    admin_client_, records, app, model, key
):
    obj = records[key]

    changelist = admin_client_.get(reverse(f"admin:{app}_{model}_changelist"))
    page = admin_client_.get(reverse(f"admin:{app}_{model}_change", args=[obj.pk]))

    assert changelist.status_code == HTTPStatus.OK
    assert page.status_code == HTTPStatus.OK
    html = page.content.decode()
    assert 'name="_save"' not in html
    assert 'name="_continue"' not in html
    assert reverse(f"admin:{app}_{model}_delete", args=[obj.pk]) not in html
    assert reverse(f"admin:{app}_{model}_add") not in changelist.content.decode()


@pytest.mark.parametrize(("app", "model", "key"), ADMINS)
def test_the_admin_refuses_to_add_change_or_delete_accounts_addresses_and_authenticators(
    admin_client_, records, app, model, key
):
    obj = records[key]
    before = _snapshot()
    post = {
        "email": "mallory@example.org",
        "user": str(obj.pk if key == "user" else records["user"].pk),
        "verified": "on",
        "primary": "on",
        "is_active": "on",
        "is_staff": "on",
        "is_superuser": "on",
        "type": "totp",
        "data": "{}",
        "post": "yes",
    }

    add = admin_client_.post(reverse(f"admin:{app}_{model}_add"), post)
    change = admin_client_.post(reverse(f"admin:{app}_{model}_change", args=[obj.pk]), post)
    delete = admin_client_.post(reverse(f"admin:{app}_{model}_delete", args=[obj.pk]), post)
    bulk_delete = admin_client_.post(
        reverse(f"admin:{app}_{model}_changelist"),
        {"action": "delete_selected", "_selected_action": [str(obj.pk)], "post": "yes"},
    )

    assert add.status_code == HTTPStatus.FORBIDDEN
    assert change.status_code == HTTPStatus.FORBIDDEN
    assert delete.status_code == HTTPStatus.FORBIDDEN
    assert bulk_delete.status_code in (HTTPStatus.OK, HTTPStatus.FOUND)
    assert _snapshot() == before


def test_the_admin_cannot_mark_an_address_verified(admin_client_, records):
    address = records["emailaddress"]

    admin_client_.post(
        reverse("admin:account_emailaddress_changelist"),
        {"action": "make_verified", "_selected_action": [str(address.pk)]},
    )

    address.refresh_from_db()
    assert address.verified is False


def test_the_admin_does_not_show_an_authenticators_secret(admin_client_, records):
    authenticator = records["authenticator"]

    page = admin_client_.get(reverse("admin:mfa_authenticator_change", args=[authenticator.pk]))

    assert page.status_code == HTTPStatus.OK
    assert "JBSWY3DPEHPK3PXP" not in page.content.decode()


def test_the_admin_sends_a_password_change_to_the_portals_own_page(admin_client_):
    response = admin_client_.get(reverse("admin:password_change"))

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == reverse("account_change_password")
