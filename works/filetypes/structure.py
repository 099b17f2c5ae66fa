"""``check_structure``: cheap checks of a whole file's structure — truncation, corruption,
decompression bombs, zip bombs — reading its header and its end, without decoding it (the worker
decodes images in full)."""

import codecs
import os
import re
import struct
import zipfile
from typing import BinaryIO

from PIL import (
    GifImagePlugin,
    Image,
    ImageFile,
    JpegImagePlugin,
    PngImagePlugin,
    TiffImagePlugin,
    WebPImagePlugin,
)

from .formats import (
    _CONTROL,
    CHUNK,
    EMPTY,
    FileType,
    _damaged,
    _error,
    _truncated,
)
from .sniffing import (
    _id3_end,
    _mp3_frame,
    _mp3_next_frame_ok,
)


def check_structure(filetype: FileType, path: str | os.PathLike, *, max_pixels: int) -> dict:
    """Cheap checks of the whole file (its header and its end, not a full decode); returns
    what they learnt (image size, audio duration, …). Raises ``ValidationError`` saying why."""
    size = os.path.getsize(path)
    if size == 0:
        raise _error(EMPTY, "empty")
    checker = _CHECKERS[filetype.format]
    with open(path, "rb") as f:
        return checker(filetype, f, size, max_pixels)


def _read_at(f: BinaryIO, offset: int, n: int) -> bytes:
    f.seek(offset)
    return f.read(n)


def _tail(f: BinaryIO, size: int, n: int) -> bytes:
    return _read_at(f, max(0, size - n), n)


def _megapixels(pixels: int) -> str:
    return f"{pixels / 1e6:,.1f}".removesuffix(".0")


def check_pixels(width: int, height: int, *, max_pixels: int) -> None:
    if width * height > max_pixels:
        raise _error(
            f"This image is {width:,} × {height:,} pixels ({_megapixels(width * height)} "
            f"megapixels); the limit is {_megapixels(max_pixels)} megapixels.",
            "too_many_pixels",
        )


_DECODERS = {
    "jpeg": JpegImagePlugin.JpegImageFile,
    "png": PngImagePlugin.PngImageFile,
    "gif": GifImagePlugin.GifImageFile,
    "webp": WebPImagePlugin.WebPImageFile,
    "tiff": TiffImagePlugin.TiffImageFile,
}
_PILLOW_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError, KeyError)


def open_image(fp: BinaryIO, filetype: FileType, *, max_pixels: int) -> ImageFile.ImageFile:
    """Read an image's header with the decoder of the sniffed format, then check its size.

    Unlike ``Image.open()`` this does not guess the format again and does not apply Pillow's
    process-wide ``Image.MAX_IMAGE_PIXELS`` (no global state is read or changed): the caller's
    ``max_pixels`` is the limit. Nothing is decoded yet.
    """
    try:
        image = _DECODERS[filetype.format](fp)
    except Image.DecompressionBombError:  # GIF frames are checked inside Pillow too
        raise _error(
            f"This image is too large; the limit is {_megapixels(max_pixels)} megapixels.",
            "too_many_pixels",
        ) from None
    except _PILLOW_ERRORS as exc:
        raise _truncated(filetype, f"its header cannot be read ({exc})") from None
    check_pixels(*image.size, max_pixels=max_pixels)
    return image


def exif_orientation(image: Image.Image) -> int:
    """The EXIF orientation (1–8) from the header alone; 1 when absent or unreadable."""
    try:
        if isinstance(image, TiffImagePlugin.TiffImageFile):
            value = image.tag_v2.get(0x0112, 1)
        elif raw := image.info.get("exif"):
            exif = Image.Exif()
            exif.load(raw)
            value = exif.get(0x0112, 1)
        else:
            value = 1
        value = int(value[0] if isinstance(value, tuple) else value)
    except Exception:  # a broken EXIF block is not a broken image
        return 1
    return value if 1 <= value <= 8 else 1


def _check_image(filetype, f, size, max_pixels):
    tail = _tail(f, size, 4096)
    if filetype.format == "jpeg" and not (
        tail.rstrip(b"\x00\xff\r\n\t ").endswith(b"\xff\xd9") or _jpeg_ends_after_scan(f)
    ):
        raise _truncated(filetype, "the image data stops before its end marker")
    if filetype.format == "png" and b"IEND\xaeB`\x82" not in tail:
        raise _truncated(filetype, "the final IEND chunk is missing")
    if filetype.format == "gif" and not tail.rstrip(b"\x00").endswith(b";"):
        raise _truncated(filetype, "the GIF trailer is missing")
    if filetype.format == "webp":
        declared = int.from_bytes(_read_at(f, 4, 4), "little") + 8
        if size < declared:
            raise _truncated(filetype, f"its header announces {declared:,} bytes, not {size:,}")
    f.seek(0)
    image = open_image(f, filetype, max_pixels=max_pixels)
    try:
        if filetype.format == "tiff":
            _check_tiff_strips(filetype, image, size)
        width, height = image.size
        orientation = exif_orientation(image)
        mode = image.mode
    finally:
        image.close()
    if orientation >= 5:
        width, height = height, width
    return {"width": width, "height": height, "orientation": orientation, "mode": mode}


def _jpeg_ends_after_scan(f: BinaryIO) -> bool:
    """Whether an end-of-image marker follows the first scan. Phones append data after a
    complete JPEG (motion photos carry a video there); a truncated JPEG has no marker after
    its scan, since FF D9 can only occur in the entropy-coded data as that marker."""
    pos = 2
    while True:
        segment = _read_at(f, pos, 4)
        if len(segment) < 4 or segment[0] != 0xFF:
            return False
        marker = segment[1]
        if marker == 0xFF:
            pos += 1
        elif marker in (0x01, 0xD8) or 0xD0 <= marker <= 0xD7:
            pos += 2
        elif marker == 0xD9:
            return False  # ends before any image data
        else:
            length = int.from_bytes(segment[2:4], "big")
            if length < 2:
                return False
            pos += 2 + length
            if marker == 0xDA:
                break
    f.seek(pos)
    previous = b""
    while chunk := f.read(CHUNK):
        if b"\xff\xd9" in previous[-1:] + chunk:
            return True
        previous = chunk
    return False


def _check_tiff_strips(filetype: FileType, image, size: int) -> None:
    tags = image.tag_v2
    offsets = tags.get(273) or tags.get(324)  # StripOffsets or TileOffsets
    counts = tags.get(279) or tags.get(325)  # StripByteCounts or TileByteCounts
    if offsets is None or counts is None:
        return
    offsets = offsets if isinstance(offsets, tuple) else (offsets,)
    counts = counts if isinstance(counts, tuple) else (counts,)
    end = max((o + c for o, c in zip(offsets, counts, strict=False)), default=0)
    if end > size:
        raise _truncated(filetype, f"its image data needs {end:,} bytes but the file has {size:,}")


def _check_pdf(filetype, f, size, max_pixels):
    match = re.match(rb"%PDF-(1\.[0-7]|2\.0)", _read_at(f, 0, 16))
    if not match:
        raise _damaged(filetype, "its header names no known PDF version")
    if b"%%EOF" not in _tail(f, size, 2048):
        raise _truncated(filetype, "its end-of-file marker (%%EOF) is missing")
    return {"pdf_version": match.group(1).decode()}


MAX_ZIP_ENTRIES = 10_000
MAX_ZIP_UNCOMPRESSED = 1 << 30
MAX_ZIP_RATIO = 100
_REQUIRED_ENTRIES = {
    "epub": ("mimetype", "META-INF/container.xml"),
    "docx": ("[Content_Types].xml", "word/document.xml"),
}


def _check_zip(filetype, f, size, max_pixels):
    try:
        archive = zipfile.ZipFile(f)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, struct.error):
        raise _truncated(filetype, "its table of contents cannot be read") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_ZIP_ENTRIES:
            raise _damaged(filetype, f"it holds more than {MAX_ZIP_ENTRIES:,} files")
        total = 0
        for info in infos:
            parts = re.split(r"[/\\]", info.filename)
            if info.filename.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", info.filename):
                raise _error(f"This file contains an unsafe name: {info.filename!r}.", "unsafe")
            if ".." in parts:
                raise _error(f"This file contains an unsafe name: {info.filename!r}.", "unsafe")
            if info.flag_bits & 1:
                raise _error(
                    "This document is password-protected: upload a copy without a password.",
                    "encrypted",
                )
            if info.header_offset + 30 + info.compress_size > size:
                raise _truncated(filetype, f"{info.filename} stops early")
            total += info.file_size
            big = info.file_size > 1 << 20
            if total > MAX_ZIP_UNCOMPRESSED or (
                big and info.file_size > MAX_ZIP_RATIO * max(info.compress_size, 1)
            ):
                raise _error(
                    "This file unpacks to far more data than its size (a “zip bomb”), so it "
                    "is not accepted.",
                    "zip_bomb",
                )
        names = set(archive.namelist())
        missing = [name for name in _REQUIRED_ENTRIES[filetype.format] if name not in names]
        if missing:
            raise _damaged(filetype, f"it has no {missing[0]}")
        if filetype.format == "epub":
            mimetype = archive.getinfo("mimetype")
            if mimetype.file_size > 100 or archive.read(mimetype).strip() != (
                b"application/epub+zip"
            ):
                raise _damaged(filetype, "its mimetype entry is not application/epub+zip")
        if filetype.format == "docx" and "word/vbaProject.bin" in names:
            raise _error(
                "This Word document contains macros: save it as a plain .docx and try again.",
                "macros",
            )
    return {"entries": len(infos), "uncompressed_bytes": total}


def _check_wav(filetype, f, size, max_pixels):
    declared = int.from_bytes(_read_at(f, 4, 4), "little") + 8
    if size < declared:
        raise _truncated(filetype, f"its header announces {declared:,} bytes, not {size:,}")
    if size > declared + 1:
        raise _damaged(filetype, f"its header announces {declared:,} bytes, not {size:,}")
    pos, fmt, data_length = 12, None, None
    while pos + 8 <= declared and (fmt is None or data_length is None):
        chunk_id, length = struct.unpack("<4sI", _read_at(f, pos, 8))
        if pos + 8 + length > size:
            raise _truncated(filetype, f"its {chunk_id.decode('latin-1')!r} chunk stops early")
        if chunk_id == b"fmt " and length >= 16:
            fmt = struct.unpack("<HHIIHH", _read_at(f, pos + 8, 16))
        elif chunk_id == b"data":
            data_length = length
        pos += 8 + length + (length & 1)
    if fmt is None or data_length is None:
        raise _damaged(filetype, "it has no format or no data chunk")
    _, channels, rate, _, block_align, bits = fmt
    if not (channels and rate and block_align):
        raise _damaged(filetype, "its format chunk is invalid")
    return {
        "channels": channels,
        "sample_rate": rate,
        "bits": bits,
        "duration_seconds": round(data_length / block_align / rate, 3),
    }


def _check_flac(filetype, f, size, max_pixels):
    pos = _id3_end(_read_at(f, 0, 10)) or 0
    if _read_at(f, pos, 4) != b"fLaC":
        raise _truncated(filetype, "its stream marker is missing")
    pos += 4
    info = None
    while True:
        header = _read_at(f, pos, 4)
        if len(header) < 4:
            raise _truncated(filetype, "its metadata stops early")
        last, kind, length = header[0] & 0x80, header[0] & 0x7F, int.from_bytes(header[1:], "big")
        if pos + 4 + length > size:
            raise _truncated(filetype, "a metadata block stops early")
        if info is None:
            if kind != 0 or length != 34:
                raise _damaged(filetype, "its STREAMINFO block is missing")
            bits = int.from_bytes(_read_at(f, pos + 14, 8), "big")
            info = {
                "sample_rate": bits >> 44,
                "channels": ((bits >> 41) & 7) + 1,
                "bits": ((bits >> 36) & 31) + 1,
            }
            samples = bits & ((1 << 36) - 1)
            if not info["sample_rate"]:
                raise _damaged(filetype, "its sample rate is zero")
            if samples:
                info["duration_seconds"] = round(samples / info["sample_rate"], 3)
        pos += 4 + length
        if last:
            break
    sync = _read_at(f, pos, 2)
    if len(sync) < 2 or sync[0] != 0xFF or sync[1] & 0xFE != 0xF8:
        raise _truncated(filetype, "no audio frame follows its header")
    return info


def _check_mp3(filetype, f, size, max_pixels):
    start = _id3_end(_read_at(f, 0, 10)) or 0
    if start > size:
        raise _truncated(filetype, "its ID3 tag stops early")
    window = _read_at(f, start, 64 * 1024)
    i = window.find(b"\xff")
    while i >= 0:
        frame = _mp3_frame(window, i)
        if frame and _mp3_next_frame_ok(window, i) and (start + i + frame["length"] <= size):
            break
        i = window.find(b"\xff", i + 1)
    else:
        raise _truncated(filetype, "no MPEG audio frame was found")
    meta = {"bitrate_kbps": frame["kbps"], "sample_rate": frame["rate"]}
    meta["channels"] = frame["channels"]
    samples_per_frame = 1152 if frame["version"] == 1 else 576
    side_info = {(1, 1): 17, (1, 2): 32}.get((frame["version"], frame["channels"]))
    side_info = side_info or (9 if frame["channels"] == 1 else 17)
    xing = window[i + 4 + side_info : i + 4 + side_info + 12]
    if xing[:4] in (b"Xing", b"Info") and xing[7] & 1:  # VBR header with a frame count
        frames = int.from_bytes(xing[8:12], "big")
        meta["duration_seconds"] = round(frames * samples_per_frame / frame["rate"], 3)
    else:  # constant bitrate: the duration follows from the size
        audio_bytes = size - start - i
        meta["duration_seconds"] = round(audio_bytes * 8 / (frame["kbps"] * 1000), 3)
    return meta


def _check_mp4(filetype, f, size, max_pixels):
    pos, boxes, meta = 0, 0, {}
    while pos < size:
        header = _read_at(f, pos, 16)
        if len(header) < 8:
            raise _truncated(filetype, "a box header stops early")
        box_size, box_type = struct.unpack(">I4s", header[:8])
        header_size = 8
        if box_size == 1:
            if len(header) < 16:
                raise _truncated(filetype, "a box header stops early")
            box_size, header_size = int.from_bytes(header[8:16], "big"), 16
        elif box_size == 0:
            box_size = size - pos
        if box_size < header_size:
            raise _damaged(filetype, "a box has an impossible size")
        if pos + box_size > size:
            name = box_type.decode("latin-1")
            raise _truncated(
                filetype, f"its {name!r} box needs {pos + box_size - size:,} more bytes"
            )
        if box_type == b"moov":
            meta["has_moov"] = True
            meta.update(_mvhd(f, pos + header_size, pos + box_size))
        pos += box_size
        boxes += 1
        if boxes > MAX_ZIP_ENTRIES:
            raise _damaged(filetype, "it has too many boxes")
    if not meta.pop("has_moov", False):
        raise _truncated(filetype, "its index (the moov box) is missing")
    return meta


def _mvhd(f: BinaryIO, pos: int, end: int) -> dict:
    """The duration from the movie header inside ``moov``, if it is readable."""
    while pos + 8 <= end:
        box_size, box_type = struct.unpack(">I4s", _read_at(f, pos, 8))
        if box_type == b"mvhd":
            body = _read_at(f, pos + 8, 32)
            if body[:1] == b"\x01":
                timescale, duration = struct.unpack_from(">IQ", body, 20)
            else:
                timescale, duration = struct.unpack_from(">II", body, 12)
            return {"duration_seconds": round(duration / timescale, 3)} if timescale else {}
        if box_size < 8:
            break
        pos += box_size
    return {}


def _check_txt(filetype, f, size, max_pixels):
    utf16 = _read_at(f, 0, 2) in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
    encoding = "UTF-16" if utf16 else "UTF-8"
    decoder = codecs.getincrementaldecoder("utf-16" if utf16 else "utf-8-sig")()
    f.seek(0)
    characters = lines = offset = 0
    while True:
        chunk = f.read(CHUNK)
        try:
            text = decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as exc:
            raise _error(
                f"This text file is not valid {encoding} near byte {offset + exc.start:,}. "
                "Save it as UTF-8 and upload it again.",
                "not_utf8",
            ) from None
        if control := _CONTROL.search(text):
            raise _error(
                f"This text file contains a control character (U+{ord(control.group()):04X}) "
                "that plain text does not have.",
                "control_character",
            )
        characters += len(text)
        lines += text.count("\n")
        offset += len(chunk)
        if not chunk:
            break
    return {"encoding": encoding.lower(), "characters": characters, "lines": lines}


_CHECKERS = {
    "jpeg": _check_image,
    "png": _check_image,
    "webp": _check_image,
    "gif": _check_image,
    "tiff": _check_image,
    "txt": _check_txt,
    "pdf": _check_pdf,
    "epub": _check_zip,
    "docx": _check_zip,
    "wav": _check_wav,
    "flac": _check_flac,
    "mp3": _check_mp3,
    "mp4": _check_mp4,
}
