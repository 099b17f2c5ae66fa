"""The C2PA ``cawg.training-mining`` assertion a creator signs into their own files: public for
each work at a stable address, offered on the creator's own pages (and nobody else's), from
their defaults on the snippets page, and read back by the real C2PA SDK once signed into an
image."""

import datetime
import io
import json
from datetime import date
from http import HTTPStatus

import c2pa
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.conf import settings
from django.urls import reverse
from PIL import Image

from consent import services
from consent.models import CreditPreference, LicenceGrant, Preference
from tests import factories

from . import signal_parsers as read


@pytest.fixture
def book(creator):
    return factories.WorkFactory(owner=creator, title="The Quiet Shore", kind="book")


def _file_url(work) -> str:
    return reverse("consent:c2pa-training-mining", args=[work.public_id])


def _set(owner, work=None, **choices):
    for use, choice in choices.items():
        Preference.objects.update_or_create(
            owner=owner, work=work, use=use.replace("_", "-"), defaults={"choice": choice}
        )


def _uses(content: bytes) -> dict[str, str]:
    return {label: entry["use"] for label, entry in read.c2pa_training_mining(content).items()}


# --- The public file, per work -------------------------------------------------------------------


def test_anyone_reads_a_works_assertion_at_its_stable_address(client, creator, book):
    _set(creator, train_genai="deny", train_ai="licence", ai_input="allow")
    response = client.get(_file_url(book))  # no sign-in: it says what the public page says
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert "no-cache" in response["Cache-Control"]
    entries = read.c2pa_training_mining(response.content)
    licence = settings.SITE_URL + reverse("consent:licence", args=[book.public_id])
    assert entries == {
        "cawg.ai_generative_training": {"use": "notAllowed"},
        "cawg.ai_training": {"use": "constrained", "constraint_info": licence},
        "cawg.data_mining": {"use": "constrained", "constraint_info": licence},
        "cawg.ai_inference": {"use": "allowed"},
    }


def test_the_address_follows_a_change_at_once(client, creator, book):
    assert _uses(client.get(_file_url(book)).content)["cawg.ai_inference"] == "notAllowed"
    _set(creator, book, ai_input="allow")
    assert _uses(client.get(_file_url(book)).content)["cawg.ai_inference"] == "allowed"


def test_a_licence_to_one_developer_never_shows_in_the_file(client, creator, book):
    LicenceGrant.objects.create(
        owner=creator,
        developer=factories.AIDeveloperFactory(),
        all_works=True,
        uses=["train-ai", "ai-input"],
        licence_ref="LIC-9",
        starts_on=date(2020, 1, 1),
    )
    content = client.get(_file_url(book)).content
    assert set(_uses(content).values()) == {"notAllowed"}
    assert b"LIC-9" not in content


def test_an_unknown_work_has_no_file_and_it_cannot_be_written(client, book):
    missing = reverse("consent:c2pa-training-mining", args=["NoSuchWork000000"])
    assert client.get(missing).status_code == HTTPStatus.NOT_FOUND
    assert client.post(_file_url(book)).status_code == HTTPStatus.METHOD_NOT_ALLOWED


# --- Offered on the creator's own work page ------------------------------------------------------


def test_the_owner_finds_the_download_on_the_works_ai_choices_page(client, creator, book):
    client.force_login(creator)
    page = client.get(reverse("consent:work", args=[book.public_id])).content.decode()
    assert f'href="{_file_url(book)}" download="c2pa-training-mining-{book.public_id}.json"' in page
    assert "Download the C2PA assertion for this work" in page


@pytest.mark.parametrize("persona", ["other_creator", "guild_staff", "charlie", "developer"])
def test_nobody_else_reaches_the_works_ai_choices_page(client, request, persona, book):
    if persona == "developer":
        user = factories.DeveloperMemberFactory().user
    else:
        user = request.getfixturevalue(persona)
    client.force_login(user)
    response = client.get(reverse("consent:work", args=[book.public_id]))
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert _file_url(book).encode() not in response.content


def test_an_anonymous_visitor_is_sent_to_sign_in_from_the_works_page(client, book):
    response = client.get(reverse("consent:work", args=[book.public_id]))
    assert response.status_code == HTTPStatus.FOUND
    assert reverse("account_login") in response["Location"]


def test_guild_staff_acting_for_the_creator_get_no_download(
    client, guild_staff, wggb, creator, book
):
    services.mandate_grant(creator=creator, guild=wggb)
    client.force_login(guild_staff)
    url = reverse("consent:member-work", args=[creator.ref, book.public_id])
    response = client.get(url)
    assert response.status_code == HTTPStatus.OK
    assert _file_url(book).encode() not in response.content


# --- From the creator's defaults, on the snippets page ------------------------------------------


def test_the_snippets_offer_the_assertion_from_their_defaults(client, creator, other_creator):
    CreditPreference.objects.create(owner=creator, terms_url="https://alice.example/terms")
    _set(creator, train_genai="licence", train_ai="licence")
    _set(other_creator, ai_input="allow")
    client.force_login(creator)
    page = client.get(reverse("consent:snippets")).content.decode()
    assert "cawg.training-mining" in page
    assert f'href="{reverse("consent:snippets-c2pa")}" download' in page

    response = client.get(reverse("consent:snippets-c2pa"))
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Disposition"] == 'attachment; filename="c2pa-training-mining.json"'
    entries = read.c2pa_training_mining(response.content)
    assert entries["cawg.ai_generative_training"] == {
        "use": "constrained",
        "constraint_info": "https://alice.example/terms",
    }
    assert entries["cawg.ai_inference"] == {"use": "notAllowed"}

    client.force_login(other_creator)  # each gets their own, never anyone else's
    entries = read.c2pa_training_mining(client.get(reverse("consent:snippets-c2pa")).content)
    assert entries["cawg.ai_inference"] == {"use": "allowed"}
    assert entries["cawg.ai_generative_training"] == {"use": "notAllowed"}


def test_the_snippets_download_needs_sign_in(client, db):
    response = client.get(reverse("consent:snippets-c2pa"))
    assert response.status_code == HTTPStatus.FOUND
    assert reverse("account_login") in response["Location"]


# --- Signed into a file by the C2PA SDK, and read back -------------------------------------------


def _test_signer() -> c2pa.Signer:
    """An ES256 signer with a throwaway certificate chain (a CA and its leaf, as the C2PA
    certificate profile asks): the SDK signs with it and reports it as untrusted."""
    now = datetime.datetime.now(datetime.UTC)

    def name(common_name):
        return x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Portal tests"),
            ]
        )

    def usage(**flags):
        names = ["digital_signature", "content_commitment", "key_encipherment"]
        names += ["data_encipherment", "key_agreement", "key_cert_sign", "crl_sign"]
        return x509.KeyUsage(
            **{n: flags.get(n, False) for n in names}, encipher_only=False, decipher_only=False
        )

    def certificate(subject, issuer, key, issuer_key, *, ca):
        builder = (
            x509.CertificateBuilder()
            .subject_name(name(subject))
            .issuer_name(name(issuer))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=7))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .add_extension(
                usage(key_cert_sign=True, crl_sign=True) if ca else usage(digital_signature=True),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
        )
        if not ca:
            builder = builder.add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
            ).add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
                critical=False,
            )
        return builder.sign(issuer_key, hashes.SHA256())

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = certificate("Test CA", "Test CA", ca_key, ca_key, ca=True)
    leaf = certificate("Test signer", "Test CA", key, ca_key, ca=False)
    chain = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (leaf, ca))
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return c2pa.Signer.from_info(c2pa.C2paSignerInfo(b"es256", chain, private, None))


def test_the_c2pa_sdk_signs_the_file_into_an_image_and_reads_the_choices_back(
    client, creator, book
):
    _set(creator, train_genai="deny", train_ai="licence", ai_input="allow")
    definition = client.get(_file_url(book)).content.decode()

    source, signed = io.BytesIO(), io.BytesIO()
    Image.new("RGB", (16, 16), "white").save(source, "PNG")
    source.seek(0)
    # The creator's tool adds its own "created" action; the file carries only the assertion.
    context = c2pa.Context.from_dict({"builder": {"intent": {"create": "digitalCreation"}}})
    with c2pa.Builder(definition, context=context) as builder:
        builder.sign(_test_signer(), "image/png", source, signed)
    signed.seek(0)
    with c2pa.Reader("image/png", signed) as reader:
        store = json.loads(reader.json())

    manifest = store["manifests"][store["active_manifest"]]
    (assertion,) = [a for a in manifest["assertions"] if a["label"] == "cawg.training-mining"]
    entries = read.cawg_training_mining(assertion["data"])
    assert {label: entry["use"] for label, entry in entries.items()} == {
        "cawg.ai_generative_training": "notAllowed",
        "cawg.ai_training": "constrained",
        "cawg.data_mining": "constrained",
        "cawg.ai_inference": "allowed",
    }
    assert json.loads(definition)["assertions"][0]["data"] == assertion["data"]
    # Signed with a throwaway certificate: untrusted, and nothing else wrong.
    codes = {status["code"] for status in store.get("validation_status", [])}
    assert codes <= {"signingCredential.untrusted"}, codes
