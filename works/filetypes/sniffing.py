"""``sniff(head)``: the format of a file from its first bytes, never from its name; and
``check_name``, which refuses a file whose name pretends to be another format."""

import codecs
import os
import re
import struct

from .formats import (
    _AAC_BRANDS,
    _CONTROL,
    _CONTROL_BYTES,
    _HEIF_BRANDS,
    _MARKUP_TAG,
    _MP4_BRANDS,
    _TIFF_MAGIC,
    DOCX,
    EMPTY,
    EPUB,
    EXTENSION_LABELS,
    FLAC,
    GIF,
    JPEG,
    MARKUP,
    MP3,
    MP4,
    PDF,
    PNG,
    SNIFF_BYTES,
    SVG,
    TIFF,
    TXT,
    UNSUPPORTED,
    WAV,
    WEBP,
    ZIP,
    FileType,
    _error,
)


def sniff(head: bytes) -> FileType:
    """The type of a file from its first ``SNIFF_BYTES`` bytes (all of them if shorter)."""
    head = bytes(head[:SNIFF_BYTES])
    if not head:
        raise _error(EMPTY, "empty")
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return GIF
    if head[:4] in _TIFF_MAGIC:
        return TIFF
    if head[:4] == b"RIFF" and head[8:12] in (b"WEBP", b"WAVE"):
        return WEBP if head[8:12] == b"WEBP" else WAV
    if head.startswith(b"%PDF-"):
        return PDF
    if head[:4] == b"PK\x03\x04":
        return _sniff_zip(head)
    if head[:4] in (b"PK\x05\x06", b"PK\x07\x08"):
        raise _error(ZIP, "zip")
    if head[4:8] == b"ftyp":
        return _sniff_ftyp(head)
    if head.startswith(b"fLaC"):
        return FLAC
    if head.startswith(b"ID3"):
        return _sniff_after_id3(head)
    if _mp3_frame(head, 0) and _mp3_next_frame_ok(head, 0):
        return MP3
    if _is_adts(head, 0):
        raise _error("AAC/M4A audio is not supported yet: export an MP3, WAV or FLAC.", "aac")
    return _sniff_text(head)


def _sniff_text(head: bytes) -> FileType:
    utf16 = head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    try:
        text = codecs.getincrementaldecoder("utf-16" if utf16 else "utf-8-sig")().decode(head)
    except UnicodeDecodeError:
        if not utf16 and not _CONTROL_BYTES.search(head):
            raise _error(
                "This text file is not in UTF-8. Save it as UTF-8 (in most editors: Save As, "
                "then Encoding: UTF-8) and upload it again.",
                "not_utf8",
            ) from None
        raise _error(UNSUPPORTED, "unsupported") from None
    if _CONTROL.search(text):
        raise _error(UNSUPPORTED, "unsupported")
    stripped = text.lstrip(" \t\r\n\f\ufeff")
    if not stripped and len(head) < SNIFF_BYTES:
        raise _error(EMPTY, "empty")
    if stripped.startswith("<"):
        lowered = stripped.lower()
        if "<svg" in lowered or "<!doctype svg" in lowered:
            raise _error(SVG, "svg")
        if _MARKUP_TAG.search(stripped):
            raise _error(MARKUP, "markup")
    return TXT


def _zip_local_names(head: bytes) -> list[tuple[str, int, bytes]]:
    """(name, compression method, first data bytes) of each local file header in ``head``."""
    entries = []
    for match in re.finditer(b"PK\x03\x04", head):
        i = match.start()
        if i + 30 > len(head):
            break
        flags, method = struct.unpack_from("<HH", head, i + 6)
        name_len, extra_len = struct.unpack_from("<HH", head, i + 26)
        raw = head[i + 30 : i + 30 + name_len]
        data = head[i + 30 + name_len + extra_len :][:64]
        entries.append((raw.decode("utf-8" if flags & 0x800 else "cp437", "replace"), method, data))
    return entries


def _sniff_zip(head: bytes) -> FileType:
    entries = _zip_local_names(head)
    if entries and entries[0][0] == "mimetype":
        _, method, data = entries[0]
        if data.startswith(b"application/epub+zip") or method != 0:
            return EPUB  # a compressed mimetype is checked in full by check_structure
        if data.startswith(b"application/vnd.oasis.opendocument"):
            raise _error("OpenDocument files are not supported: save as DOCX or PDF.", "odf")
    names = [name for name, _, _ in entries]
    if any(name.startswith("word/") for name in names):
        return DOCX
    if any(name.startswith(("xl/", "ppt/")) for name in names):
        raise _error("Spreadsheets and slide decks are not supported: save as PDF.", "office")
    if "[Content_Types].xml" in names:
        return DOCX  # check_structure confirms word/document.xml from the central directory
    raise _error(ZIP, "zip")


def _sniff_ftyp(head: bytes) -> FileType:
    size = int.from_bytes(head[:4], "big")
    major = head[8:12]
    compatible = {head[i : i + 4] for i in range(16, min(size, len(head)) - 3, 4)}
    if major in _AAC_BRANDS:
        raise _error("AAC/M4A audio is not supported yet: export an MP3, WAV or FLAC.", "aac")
    if major in _HEIF_BRANDS:
        raise _error("HEIC and AVIF images are not supported yet: export a JPEG or PNG.", "heif")
    if major == b"qt  ":
        raise _error("QuickTime (.mov) videos are not supported: export an MP4.", "quicktime")
    if major in _MP4_BRANDS or compatible & _MP4_BRANDS:
        return MP4
    raise _error(UNSUPPORTED, "unsupported")


def _id3_end(head: bytes) -> int | None:
    """Where the audio starts after an ID3v2 tag at offset 0 (its size is syncsafe)."""
    if len(head) < 10 or not head.startswith(b"ID3") or any(b & 0x80 for b in head[6:10]):
        return None
    size = (head[6] << 21) | (head[7] << 14) | (head[8] << 7) | head[9]
    return 10 + size + (10 if head[5] & 0x10 else 0)


def _sniff_after_id3(head: bytes) -> FileType:
    end = _id3_end(head)
    if end is None:
        return _sniff_text(head)
    if head[end : end + 4] == b"fLaC":
        return FLAC
    if _is_adts(head, end):
        raise _error("AAC/M4A audio is not supported yet: export an MP3, WAV or FLAC.", "aac")
    return MP3  # the tag may be longer than the head: check_structure looks for a frame


_MP3_KBPS = {
    1: (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    2: (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_MP3_RATES = {1: (44100, 48000, 32000), 2: (22050, 24000, 16000), 25: (11025, 12000, 8000)}


def _mp3_frame(data: bytes, i: int) -> dict | None:
    """The MPEG audio Layer III frame header at ``data[i:]``, or None if there is none."""
    if i < 0 or i + 4 > len(data):
        return None
    h = int.from_bytes(data[i : i + 4], "big")
    version_bits, layer_bits = (h >> 19) & 3, (h >> 17) & 3
    kbps_index, rate_index = (h >> 12) & 15, (h >> 10) & 3
    if h >> 21 != 0x7FF or version_bits == 1 or layer_bits != 1:
        return None
    if kbps_index in (0, 15) or rate_index == 3 or h & 3 == 2:
        return None
    version = {3: 1, 2: 2, 0: 25}[version_bits]
    kbps = _MP3_KBPS[1 if version == 1 else 2][kbps_index - 1]
    rate = _MP3_RATES[version][rate_index]
    length = (144 if version == 1 else 72) * kbps * 1000 // rate + ((h >> 9) & 1)
    channels = 1 if (h >> 6) & 3 == 3 else 2
    return {"version": version, "length": length, "kbps": kbps, "rate": rate, "channels": channels}


def _mp3_next_frame_ok(data: bytes, i: int) -> bool:
    """A lone sync word can be chance: when the next frame is within reach it must be valid."""
    frame = _mp3_frame(data, i)
    nxt = i + frame["length"]
    return nxt + 4 > len(data) or _mp3_frame(data, nxt) is not None


def _is_adts(data: bytes, i: int) -> bool:
    return len(data) >= i + 2 and data[i] == 0xFF and data[i + 1] & 0xF6 == 0xF0


# --- Names -------------------------------------------------------------------------------------


def check_name(filetype: FileType, filename: str) -> None:
    """Refuse a name whose extension belongs to another known format (a disguised file).
    Unknown and missing extensions pass: the content decides what the file is."""
    base = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip().rstrip(". ")
    ext = os.path.splitext(base)[1].lower()
    if not ext or ext in filetype.extensions or ext not in EXTENSION_LABELS:
        return
    raise _error(
        f"This file is named like {EXTENSION_LABELS[ext]} ({ext}) but its content is "
        f"{filetype.label}.",
        "disguised",
    )


# --- Structure ---------------------------------------------------------------------------------
