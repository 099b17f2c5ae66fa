"""A creator, in a real browser, registers a photograph by uploading it; the page shows the
work as processing while a real Celery worker fingerprints it, then the thumbnail appears
without their reloading the page (htmx polling)."""

import re

import pytest

from tests.works import files
from works.models import WorkFile

pytestmark = pytest.mark.worker


def test_uploaded_photo_shows_processing_then_its_thumbnail(
    live_server, browser_sign_in, celery_worker, page, audit, creator, tmp_path
):

    photo = files.make_jpeg(tmp_path / "lighthouse.jpg", size=(3000, 2000), seed=4)
    browser_sign_in(page, creator)

    page.goto(live_server.url + "/works/new/")
    audit(page)
    page.get_by_label(re.compile("^title", re.I)).fill("Lighthouse at dusk")
    page.get_by_label(re.compile("^kind", re.I)).select_option("photograph")
    page.get_by_label(re.compile("^file", re.I)).set_input_files(str(photo))
    page.get_by_role("button", name=re.compile("register", re.I)).click()
    # upload.js sends the form and then goes to the work's page: wait for that page, not for
    # the form's own address (/works/new/ would match a bare "/works/<id>/").
    page.wait_for_url(re.compile(r"/works/(?!new/)[^/]+/$"))
    page.wait_for_load_state()
    audit(page)

    thumbnail = page.get_by_role("img", name=re.compile("thumbnail of lighthouse at dusk", re.I))
    thumbnail.wait_for(timeout=30_000)  # no reload: the panel polls until the worker is done
    image = thumbnail.element_handle()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image)
    assert page.evaluate("img => img.naturalWidth", image) == 480  # the real thumbnail loaded
    assert WorkFile.objects.get().status == WorkFile.Status.READY
    audit(page)
    assert not page.console_errors, page.console_errors
