"""The accepted formats, and the messages a refused file is given."""

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError

SNIFF_BYTES = 8192
CHUNK = 1 << 20


@dataclass(frozen=True)
class FileType:
    family: str  # "image" | "text" | "audio" | "video"
    format: str
    mime: str
    extensions: tuple[str, ...]  # the first one is the one to store the file under
    label: str  # for messages: "a JPEG image"

    @property
    def noun(self) -> str:  # "JPEG image"
        return self.label.split(" ", 1)[1]


JPEG = FileType("image", "jpeg", "image/jpeg", (".jpg", ".jpeg", ".jpe", ".jfif"), "a JPEG image")
PNG = FileType("image", "png", "image/png", (".png",), "a PNG image")
WEBP = FileType("image", "webp", "image/webp", (".webp",), "a WebP image")
GIF = FileType("image", "gif", "image/gif", (".gif",), "a GIF image")
TIFF = FileType("image", "tiff", "image/tiff", (".tif", ".tiff"), "a TIFF image")
TXT = FileType("text", "txt", "text/plain", (".txt", ".text"), "a plain-text file")
PDF = FileType("text", "pdf", "application/pdf", (".pdf",), "a PDF document")
EPUB = FileType("text", "epub", "application/epub+zip", (".epub",), "an EPUB e-book")
DOCX = FileType(
    "text",
    "docx",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    (".docx",),
    "a Word document (DOCX)",
)
MP3 = FileType("audio", "mp3", "audio/mpeg", (".mp3",), "an MP3 audio file")
WAV = FileType("audio", "wav", "audio/wav", (".wav", ".wave"), "a WAV audio file")
FLAC = FileType("audio", "flac", "audio/flac", (".flac",), "a FLAC audio file")
MP4 = FileType("video", "mp4", "video/mp4", (".mp4", ".m4v"), "an MP4 video")

FILE_TYPES = {
    t.format: t for t in (JPEG, PNG, WEBP, GIF, TIFF, TXT, PDF, EPUB, DOCX, MP3, WAV, FLAC, MP4)
}
ACCEPTED = (
    "JPEG, PNG, WebP, GIF or TIFF images; plain text, PDF, EPUB or DOCX documents; "
    "MP3, WAV or FLAC audio; MP4 video"
)
# What a name's extension claims the file is, for catching disguised files.
EXTENSION_LABELS = {ext: t.label for t in FILE_TYPES.values() for ext in t.extensions} | {
    ".svg": "an SVG image",
    ".svgz": "an SVG image",
    ".html": "a web page (HTML)",
    ".htm": "a web page (HTML)",
    ".xhtml": "a web page (HTML)",
    ".exe": "a Windows program",
    ".js": "a JavaScript file",
    ".zip": "a ZIP archive",
}

EMPTY = "This file is empty."
SVG = "SVG images are not accepted: they can carry scripts. Export a PNG or JPEG instead."
MARKUP = (
    "This file is a web page (HTML), not a book, song, picture or video. Upload the work "
    "itself; for writing, a PDF, EPUB, DOCX or plain-text file."
)
UNSUPPORTED = f"This kind of file is not supported. Accepted: {ACCEPTED}."
ZIP = "ZIP archives are not accepted here."

_TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
_MP4_BRANDS = {
    *(b"iso%d" % n for n in range(2, 10)),
    *(b"isom", b"mp41", b"mp42", b"mp71", b"avc1", b"M4V ", b"M4VH", b"M4VP", b"dash", b"mmp4"),
    *(b"MSNV", b"NDAS", b"f4v "),
}
_AAC_BRANDS = {b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B "}
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"avif"}
_CONTROL = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")  # allowed: \t \n \f \r
_CONTROL_BYTES = re.compile(b"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_MARKUP_TAG = re.compile(
    r"<(?:!--|(?:!doctype|\?xml|html|head|body|script|iframe|object|embed|style|title|meta|"
    r"link|base|div|table|font|h1|br|p|a|b)[\s/>])",
    re.IGNORECASE,
)


def _error(message: str, code: str) -> ValidationError:
    return ValidationError(message, code=code)


def _truncated(filetype: FileType, why: str) -> ValidationError:
    return _error(
        f"This {filetype.noun} is truncated or damaged: {why}. Please upload the complete file.",
        "truncated",
    )


def _damaged(filetype: FileType, why: str) -> ValidationError:
    return _error(f"This {filetype.noun} is damaged: {why}.", "damaged")


# --- Sniffing ----------------------------------------------------------------------------------
