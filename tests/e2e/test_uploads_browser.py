"""Uploads in Chromium (issue 20): a large file shows its progress (percentage and time left)
while it goes up, then the work's page; a mistake in another field brings the page back with
the file kept; files dropped on "Register several works" become one work each, a corrupt one
refused with its reason; the import page uploads with progress too."""

import base64
import re
import time
import wave

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from tests.works import files
from works.models import ImportJob, Work

MB = 1024 * 1024

# What the upload's progress shows now (None once the page has gone on).
PROGRESS_NOW = """() => {
  const bar = document.querySelector('.upload-progress progress');
  const text = document.querySelector('.upload-progress-text');
  return bar ? [bar.value, text.textContent] : null;
}"""


def watch_upload(page, *, audit=None, fits=None, seconds=60):
    """Poll the page every 100 ms while the upload runs; ``audit`` and ``fits`` run once, when
    the bar is part-way. Returns every (value, status line) seen."""
    seen, checked, start = [], False, time.monotonic()
    while time.monotonic() - start < seconds:
        try:
            now = page.evaluate(PROGRESS_NOW)
        except PlaywrightError:  # the page is navigating away
            now = None
        if now is None and seen:
            return seen
        if now is not None:
            seen.append((now[0], now[1]))
            if not checked and 0 < now[0] < 50:
                checked = True
                if audit:
                    audit(page)
                if fits:
                    fits(page, 390, 844)
        page.wait_for_timeout(100)
    raise AssertionError(f"the upload did not finish in {seconds} s: {seen[-3:]}")


def big_wav(path, megabytes: int):
    """A valid WAV of silence, ``megabytes`` long (audio may be up to 1 GB)."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(44100)
        chunk = b"\0" * MB
        for _ in range(megabytes):
            out.writeframes(chunk)
    return path


def throttle(page, bytes_per_second: int):
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": 0,
            "downloadThroughput": -1,
            "uploadThroughput": bytes_per_second,
        },
    )
    return cdp


def test_a_large_file_shows_progress_and_time_left_then_the_work(
    live_server, browser_sign_in, page, audit, fits, creator, tmp_path
):
    recording = big_wav(tmp_path / "harbour session.wav", 40)
    browser_sign_in(page, creator)
    page.goto(live_server.url + "/works/new/")
    audit(page)
    fits(page, 1280)
    fits(page, 390, 844)
    page.get_by_label(re.compile("^title", re.I)).fill("Harbour session")
    page.get_by_label(re.compile("^kind", re.I)).select_option("recording")
    page.get_by_label(re.compile("^file", re.I)).set_input_files(str(recording))
    expect(page.get_by_text("Chosen: harbour session.wav")).to_be_visible()

    throttle(page, 8 * MB)  # about five seconds for 40 MB
    page.get_by_role("button", name="Register the work").click()
    expect(page.get_by_role("progressbar", name="Uploading")).to_be_visible()
    seen = watch_upload(page, audit=audit, fits=fits)  # axe-core and the phone's width mid-way
    page.wait_for_url(re.compile(r"/works/(?!new/)[^/]+/$"), timeout=60_000)

    values = [value for value, _ in seen]
    texts = [text for _, text in seen]
    assert any(5 <= v <= 95 for v in values), values  # it moved through the middle
    assert values == sorted(values), values
    assert any(re.search(r"\d+% uploaded, about \d+ (second|minute)s? left", t) for t in texts), (
        texts
    )
    expect(page.get_by_text("“Harbour session” is registered.")).to_be_visible()
    audit(page)
    work = Work.objects.get(owner=creator)
    assert work.file.size == recording.stat().st_size
    assert not page.console_errors, page.console_errors


def test_a_mistake_elsewhere_brings_the_page_back_with_the_file_kept(
    live_server, browser_sign_in, page, audit, creator, tmp_path
):
    pdf = files.make_pdf(tmp_path / "harbour.pdf")
    browser_sign_in(page, creator)
    page.goto(live_server.url + "/works/new/")
    page.get_by_label(re.compile("^kind", re.I)).select_option("book")
    page.get_by_label(re.compile("^file", re.I)).set_input_files(str(pdf))
    page.get_by_role("button", name="Register the work").click()  # no title

    summary = page.get_by_role("alert").filter(has_text="There is a problem")
    expect(summary).to_be_focused()
    expect(page.get_by_text("Kept: harbour.pdf")).to_be_visible()
    assert page.url.endswith("/works/new/")
    audit(page)
    page.get_by_label(re.compile("^title", re.I)).fill("The Quiet Harbour")
    page.get_by_role("button", name="Register the work").click()  # no new file: a plain post
    page.wait_for_url(re.compile(r"/works/(?!new/)[^/]+/$"))
    assert Work.objects.get().file.original_name == "harbour.pdf"
    assert not page.console_errors, page.console_errors


DROP = """([items]) => {
  const list = new DataTransfer();
  for (const [name, type, data] of items) {
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    list.items.add(new File([bytes], name, {type}));
  }
  return list;
}"""


def test_files_dropped_on_several_works_become_one_work_each(
    live_server, browser_sign_in, page, audit, fits, creator, tmp_path
):
    broken = files.truncate(files.make_png(tmp_path / "broken.png", seed=2), keep=0.5)
    items = [
        (path.name, mime, base64.b64encode(path.read_bytes()).decode())
        for path, mime in [
            (files.make_pdf(tmp_path / "The Quiet Harbour.pdf"), "application/pdf"),
            (files.make_jpeg(tmp_path / "Dusk.jpg", size=(400, 300), seed=1), "image/jpeg"),
            (broken, "image/png"),
        ]
    ]
    browser_sign_in(page, creator)
    page.goto(live_server.url + "/works/new/")
    page.get_by_role("link", name="Register several works at once").click()
    page.wait_for_url(re.compile("/works/new/several/$"))
    audit(page)
    fits(page, 1280)
    fits(page, 390, 844)

    zone = page.get_by_role("group", name="Drop zone for Files")
    expect(zone).to_be_visible()
    transfer = page.evaluate_handle(DROP, [items])
    zone.dispatch_event("dragenter", {"dataTransfer": transfer})
    zone.dispatch_event("drop", {"dataTransfer": transfer})
    expect(page.get_by_text("Chosen: The Quiet Harbour.pdf, Dusk.jpg, broken.png")).to_be_visible()
    page.get_by_role("button", name="Register the works").click()

    results = page.get_by_role("heading", name="2 registered, 1 not registered")
    expect(results).to_be_visible()
    expect(page.locator("#results")).to_be_focused()
    refused = page.locator(".refused-files li")
    expect(refused).to_have_count(1)
    expect(refused).to_contain_text(
        re.compile(r"broken\.png: .*(truncated|damaged|incomplete)", re.I)
    )
    assert sorted(Work.objects.values_list("title", "kind")) == [
        ("Dusk", "photograph"),
        ("The Quiet Harbour", "other"),
    ]
    audit(page)
    fits(page, 1280)
    fits(page, 390, 844)
    page.get_by_role("link", name="edit “Dusk”").click()  # the title is theirs to change
    page.wait_for_url(re.compile("/edit/$"))
    expect(page.get_by_label(re.compile("^title", re.I))).to_have_value("Dusk")
    assert not page.console_errors, page.console_errors


def test_the_import_page_uploads_with_progress_and_opens_the_job(
    live_server, browser_sign_in, page, audit, creator, tmp_path
):
    catalogue = tmp_path / "catalogue.csv"
    catalogue.write_text("title,kind\n" + "".join(f"Study {n},photograph\n" for n in range(5)))
    browser_sign_in(page, creator)
    page.goto(live_server.url + "/works/imports/new/")
    audit(page)
    page.get_by_label("File", exact=True).set_input_files(str(catalogue))
    with page.expect_request(lambda r: r.method == "POST") as sent:
        page.get_by_role("button", name="Start the import").click()
    assert sent.value.headers.get("x-upload-progress") == "1"  # sent by upload.js
    page.wait_for_url(re.compile(r"/works/imports/\d+/$"))
    assert ImportJob.objects.get(owner=creator).kind == "csv"
    audit(page)
    assert not page.console_errors, page.console_errors
