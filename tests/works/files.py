"""Helpers that write real files of every accepted format, for upload and fingerprint tests.

Each ``make_*`` writes to ``path`` and returns it as a ``Path``. Images come from
``natural_image(size, seed)``: a smooth colour field, overlapping soft shapes and grain, so
they compress and hash like photographs rather than flat colour; the same seed gives the same
picture. Audio, video and documents are built byte by byte where no library here can write
them:

- ``make_flac`` writes a complete, decodable FLAC stream (STREAMINFO with the MD5 of the
  samples, then frames of verbatim subframes with their CRC-8 and CRC-16) of a sine tone.
- ``make_mp3`` writes an ID3v2.3 tag and MPEG-1 Layer III frames whose headers are valid and
  whose payloads are zero (silence, not real encoded music).
- ``make_mp4`` writes ``ftyp`` + ``moov`` (with an ``mvhd`` giving the duration) + ``mdat``:
  structurally valid boxes, but no tracks, so players show nothing.
- ``make_pdf`` writes a one-page PDF with a correct cross-reference table.
"""

import codecs
import hashlib
import io
import math
import random
import struct
import wave
import zipfile
import zlib
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

__all__ = [
    "natural_image",
    "make_jpeg",
    "make_png",
    "make_webp",
    "make_gif",
    "make_tiff",
    "make_png_bomb",
    "make_txt",
    "make_pdf",
    "make_epub",
    "make_docx",
    "make_zip",
    "make_wav",
    "make_flac",
    "make_mp3",
    "make_mp4",
    "make_html",
    "make_svg",
    "truncate",
    "image_bytes",
]


# --- Images ------------------------------------------------------------------------------------


def natural_image(size: tuple[int, int] = (1200, 800), seed: int = 0) -> Image.Image:
    """A photograph-like RGB picture: different seeds give clearly different pictures."""
    rng = random.Random(seed)
    width, height = size
    # A smooth background: a few random colours, blown up with bicubic interpolation.
    field = Image.new("RGB", (4, 3))
    field.putdata([tuple(rng.randrange(256) for _ in range(3)) for _ in range(12)])
    picture = field.resize(size, Image.Resampling.BICUBIC)
    # Large shapes in random places and colours, softened like an out-of-focus photograph.
    shapes = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(shapes)
    scale = min(width, height)
    for _ in range(rng.randint(6, 10)):
        x, y = rng.randrange(width), rng.randrange(height)
        r = rng.randint(scale // 12, scale // 3)
        colour = (*(rng.randrange(256) for _ in range(3)), rng.randint(150, 255))
        kind = rng.choice(("ellipse", "rectangle", "polygon"))
        if kind == "ellipse":
            draw.ellipse((x - r, y - r // 2, x + r, y + r // 2), fill=colour)
        elif kind == "rectangle":
            draw.rectangle((x - r, y - r, x + r // 2, y + r // 3), fill=colour)
        else:
            points = [
                (x + r * math.cos(a), y + r * math.sin(a))
                for a in sorted(rng.uniform(0, 2 * math.pi) for _ in range(5))
            ]
            draw.polygon(points, fill=colour)
    picture = Image.alpha_composite(picture.convert("RGBA"), shapes).convert("RGB")
    picture = picture.filter(ImageFilter.GaussianBlur(max(1, scale // 400)))
    # Grain: a tile of seeded random noise repeated over the picture, blended in lightly.
    tile = Image.frombytes("L", (256, 256), rng.randbytes(256 * 256))
    noise = Image.new("L", size)
    for top in range(0, height, 256):
        for left in range(0, width, 256):
            noise.paste(tile, (left, top))
    return Image.blend(picture, Image.merge("RGB", (noise, noise, noise)), 0.06)


def _image(size, seed, image):
    return image if image is not None else natural_image(size, seed)


def make_jpeg(
    path,
    size=(1200, 800),
    seed=0,
    *,
    quality=90,
    mode="RGB",
    exif: Image.Exif | None = None,
    image: Image.Image | None = None,
) -> Path:
    """A JPEG; ``mode="CMYK"`` or ``"L"`` converts first; ``exif`` is written as given."""
    picture = _image(size, seed, image).convert(mode)
    extra = {"exif": exif} if exif is not None else {}
    picture.save(path, "JPEG", quality=quality, **extra)
    return Path(path)


def make_png(path, size=(800, 600), seed=0, *, mode="RGB", image=None) -> Path:
    """A PNG; ``mode="RGBA"`` adds an alpha gradient (opaque left, transparent right)."""
    picture = _image(size, seed, image)
    if mode == "RGBA":
        picture = picture.convert("RGBA")
        alpha = Image.linear_gradient("L").rotate(-90).resize(picture.size)
        picture.putalpha(alpha)
    else:
        picture = picture.convert(mode)
    picture.save(path, "PNG")
    return Path(path)


def make_webp(path, size=(800, 600), seed=0, *, frames=1, image=None) -> Path:
    """A WebP; ``frames > 1`` makes it animated (each frame a different seed)."""
    first = _image(size, seed, image)
    pictures = [first] + [natural_image(first.size, seed + i) for i in range(1, frames)]
    extra = {"save_all": True, "append_images": pictures[1:], "duration": 100} if frames > 1 else {}
    pictures[0].save(path, "WEBP", quality=85, **extra)
    return Path(path)


def make_gif(path, size=(600, 400), seed=0, *, frames=1, image=None) -> Path:
    """A palette GIF; ``frames > 1`` makes it animated."""
    first = _image(size, seed, image)
    pictures = [first] + [natural_image(first.size, seed + i) for i in range(1, frames)]
    pictures = [picture.quantize(256) for picture in pictures]
    extra = {"save_all": True, "append_images": pictures[1:], "duration": 100} if frames > 1 else {}
    pictures[0].save(path, "GIF", **extra)
    return Path(path)


def make_tiff(path, size=(800, 600), seed=0, *, bits=8, image=None) -> Path:
    """An RGB TIFF, or with ``bits=16`` a 16-bit greyscale one (mode ``I;16``)."""
    picture = _image(size, seed, image)
    if bits == 16:
        picture = picture.convert("L").convert("I").point(lambda v: v * 257).convert("I;16")
    picture.save(path, "TIFF", compression="tiff_deflate")
    return Path(path)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def make_png_bomb(path, size=(20000, 20000)) -> Path:
    """A valid 1-bit black PNG that is tiny on disk but ``size`` when decoded (a decompression
    bomb: 20000 × 20000 is about 50 KB, 10000 × 10000 about 12 KB). Written row by row, so
    making it needs no memory."""
    width, height = size
    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte + packed bits
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header)
    png += _png_chunk(b"IDAT", data) + _png_chunk(b"IEND", b"")
    Path(path).write_bytes(png)
    return Path(path)


# --- Text --------------------------------------------------------------------------------------

POEM = (
    "The harbour lights come on one by one,\n"
    "and the boats lean in to listen.\n"
    "Nobody asked the tide for permission.\n"
)


def make_txt(path, text=POEM, *, encoding="utf-8", bom=False) -> Path:
    """Plain text; ``encoding="utf-16"`` always writes a BOM (as Python does)."""
    data = text.encode(encoding)
    if bom and encoding == "utf-8":
        data = codecs.BOM_UTF8 + data
    Path(path).write_bytes(data)
    return Path(path)


def _pdf_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def make_pdf(path, text="The Quiet Harbour") -> Path:
    """A one-page PDF 1.4 with Helvetica text, written by hand with a correct xref table."""
    stream = f"BT /F1 24 Tf 72 720 Td ({_pdf_escape(text)}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    Path(path).write_bytes(bytes(out))
    return Path(path)


_EPUB_CONTAINER = """<?xml version="1.0" encoding="UTF-8"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
  <rootfiles>
    <rootfile full-path="EPUB/package.opf" media-type="application/oebps-package+xml"/>
  </rootfiles>
</container>
"""
_EPUB_PACKAGE = """<?xml version="1.0" encoding="UTF-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="id">
  <metadata xmlns:dc="http://purl.org/dc/elements/1.1/">
    <dc:identifier id="id">urn:uuid:6c4a3f0e-8d1b-4b8e-9a57-0f6f3f1d2a11</dc:identifier>
    <dc:title>{title}</dc:title>
    <dc:language>en</dc:language>
    <meta property="dcterms:modified">2026-01-01T00:00:00Z</meta>
  </metadata>
  <manifest>
    <item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>
    <item id="c1" href="chapter1.xhtml" media-type="application/xhtml+xml"/>
  </manifest>
  <spine><itemref idref="c1"/></spine>
</package>
"""
_XHTML = """<?xml version="1.0" encoding="UTF-8"?>
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops" lang="en">
<head><title>{title}</title></head>
<body>{body}</body>
</html>
"""


def make_epub(path, title="The Quiet Harbour", *, extra: dict[str, bytes] | None = None) -> Path:
    """A minimal valid EPUB 3 (mimetype stored first). ``extra`` adds entries as given, e.g.
    ``{"../evil.txt": b"x"}`` or a large run of zeros for a zip bomb."""
    nav = '<nav epub:type="toc"><ol><li><a href="chapter1.xhtml">One</a></li></ol></nav>'
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        archive.writestr("META-INF/container.xml", _EPUB_CONTAINER)
        archive.writestr("EPUB/package.opf", _EPUB_PACKAGE.format(title=title))
        archive.writestr("EPUB/nav.xhtml", _XHTML.format(title=title, body=nav))
        chapter = "".join(f"<p>{line}</p>" for line in POEM.splitlines())
        archive.writestr("EPUB/chapter1.xhtml", _XHTML.format(title=title, body=chapter))
        for name, data in (extra or {}).items():
            archive.writestr(zipfile.ZipInfo(name), data, compress_type=zipfile.ZIP_DEFLATED)
    return Path(path)


_DOCX_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
  <Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
  <Default Extension="xml" ContentType="application/xml"/>
  <Override PartName="/word/document.xml"
    ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>
</Types>
"""
_DOCX_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
  <Relationship Id="rId1" Target="word/document.xml"
    Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"/>
</Relationships>
"""
_DOCX_DOCUMENT = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">
  <w:body>{paragraphs}</w:body>
</w:document>
"""


def make_docx(path, text=POEM) -> Path:
    """A minimal Word document: content types, package relationships and word/document.xml."""
    paragraphs = "".join(f"<w:p><w:r><w:t>{line}</w:t></w:r></w:p>" for line in text.splitlines())
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _DOCX_TYPES)
        archive.writestr("_rels/.rels", _DOCX_RELS)
        archive.writestr("word/document.xml", _DOCX_DOCUMENT.format(paragraphs=paragraphs))
    return Path(path)


def make_zip(path) -> Path:
    """A plain ZIP archive of two text files."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("poem.txt", POEM)
        archive.writestr("notes/readme.txt", "Nothing to see.\n")
    return Path(path)


def make_html(path) -> Path:
    Path(path).write_text(
        "<!DOCTYPE html>\n<html><head><title>Hi</title></head>"
        "<body><script>alert(document.cookie)</script></body></html>\n"
    )
    return Path(path)


def make_svg(path) -> Path:
    """An SVG carrying a script (what makes SVG dangerous to serve)."""
    Path(path).write_text(
        '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
        "<script>alert(1)</script><rect width='10' height='10'/></svg>\n"
    )
    return Path(path)


def truncate(path, keep: float = 0.7) -> Path:
    """Cut a file in place, keeping the first ``keep`` fraction of its bytes."""
    data = Path(path).read_bytes()
    Path(path).write_bytes(data[: int(len(data) * keep)])
    return Path(path)


# --- Audio and video ---------------------------------------------------------------------------


def _tone(seconds: float, rate: int, channels: int, bits: int) -> list[int]:
    """Interleaved samples of a 440 Hz sine at half of full scale."""
    amplitude = (1 << (bits - 1)) // 2
    step = 2 * math.pi * 440 / rate
    samples = []
    for n in range(int(seconds * rate)):
        value = int(amplitude * math.sin(step * n))
        samples.extend([value] * channels)
    return samples


def _pcm_le(samples: list[int], bits: int) -> bytes:
    width = bits // 8
    if width == 2:
        return struct.pack(f"<{len(samples)}h", *samples)
    return b"".join(s.to_bytes(width, "little", signed=True) for s in samples)


def make_wav(path, seconds=1.0, rate=44100, bits=16, channels=1) -> Path:
    """PCM WAV (16 or 24 bits) via the ``wave`` module; 24-bit frames are raw 3-byte samples."""
    if bits not in (16, 24):
        raise ValueError("make_wav writes 16- or 24-bit audio")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(bits // 8)
        out.setframerate(rate)
        out.writeframes(_pcm_le(_tone(seconds, rate, channels, bits), bits))
    return Path(path)


def _crc8(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def _crc16(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x8005) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc


def _flac_utf8(n: int) -> bytes:
    """FLAC's frame number: UTF-8's variable-length coding applied to any integer."""
    if n < 0x80:
        return bytes([n])
    tail = []
    while True:
        tail.insert(0, 0x80 | (n & 0x3F))
        n >>= 6
        lead_bits = 6 - len(tail)  # payload bits left in the first byte
        if n < 1 << lead_bits:
            lead = (0xFF << (7 - len(tail))) & 0xFF
            return bytes([lead | n, *tail])


_FLAC_RATE_CODES = {
    88200: 1,
    176400: 2,
    192000: 3,
    8000: 4,
    16000: 5,
    22050: 6,
    24000: 7,
    32000: 8,
    44100: 9,
    48000: 10,
    96000: 11,
}
_FLAC_BITS_CODES = {8: 1, 12: 2, 16: 4, 20: 5, 24: 6}


def make_flac(path, seconds=0.5, rate=44100, bits=16, channels=1, blocksize=4096) -> Path:
    """A real, decodable FLAC file of a sine tone, written without an encoder: every frame
    holds VERBATIM subframes (uncompressed samples), which the format allows."""
    if rate not in _FLAC_RATE_CODES or bits not in (8, 16, 24):
        raise ValueError(f"make_flac cannot write {bits}-bit audio at {rate} Hz")
    samples = _tone(seconds, rate, channels, bits)
    total = len(samples) // channels
    md5 = hashlib.md5(_pcm_le(samples, bits)).digest()
    info = struct.pack(">HH", blocksize, blocksize) + b"\x00" * 6  # frame sizes unknown
    info += ((rate << 44) | ((channels - 1) << 41) | ((bits - 1) << 36) | total).to_bytes(8, "big")
    out = bytearray(b"fLaC" + bytes([0x80]) + len(info + md5).to_bytes(3, "big") + info + md5)
    width = bits // 8
    for number, start in enumerate(range(0, total, blocksize)):
        count = min(blocksize, total - start)
        header = bytearray(b"\xff\xf8")
        header.append((0b0111 << 4) | _FLAC_RATE_CODES[rate])  # block size: 16 bits at end
        header.append(((channels - 1) << 4) | (_FLAC_BITS_CODES[bits] << 1))
        header += _flac_utf8(number) + (count - 1).to_bytes(2, "big")
        header.append(_crc8(header))
        frame = bytearray(header)
        block = samples[start * channels : (start + count) * channels]
        for channel in range(channels):
            frame.append(0b00000010)  # VERBATIM subframe, no wasted bits
            frame += b"".join(
                s.to_bytes(width, "big", signed=True) for s in block[channel::channels]
            )
        frame += _crc16(bytes(frame)).to_bytes(2, "big")
        out += frame
    Path(path).write_bytes(bytes(out))
    return Path(path)


def make_mp3(path, frames=40, *, id3=True, title="Harbour Song") -> Path:
    """An ID3v2.3 tag (title frame) and ``frames`` MPEG-1 Layer III frames at 128 kbit/s,
    44.1 kHz, joint stereo: valid headers, zero payloads (silence)."""
    out = bytearray()
    if id3:
        text = b"\x00" + title.encode("latin-1")
        frame = b"TIT2" + struct.pack(">I", len(text)) + b"\x00\x00" + text
        body = frame + b"\x00" * 64  # padding, as taggers leave
        size = len(body)
        syncsafe = bytes(
            [(size >> 21) & 0x7F, (size >> 14) & 0x7F, (size >> 7) & 0x7F, size & 0x7F]
        )
        out += b"ID3\x03\x00\x00" + syncsafe + body
    header = (0x7FF << 21) | (3 << 19) | (1 << 17) | (1 << 16) | (9 << 12) | (0 << 10) | (1 << 6)
    length = 144 * 128_000 // 44_100  # 417 bytes, no padding bit
    for _ in range(frames):
        out += header.to_bytes(4, "big") + b"\x00" * (length - 4)
    Path(path).write_bytes(bytes(out))
    return Path(path)


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def make_mp4(path, seconds=2.0, *, mdat_bytes=4096, large_mdat=False) -> Path:
    """``ftyp`` (isom) + ``moov`` with an ``mvhd`` + ``mdat``; ``large_mdat`` writes the mdat
    with a 64-bit size (size field 1), as files over 4 GB have."""
    ftyp = _box(b"ftyp", b"isom" + struct.pack(">I", 0x200) + b"isomiso2avc1mp41")
    mvhd = struct.pack(">B3xIIII", 0, 0, 0, 1000, int(seconds * 1000))
    mvhd += struct.pack(">IH10x", 0x00010000, 0x0100)  # rate 1.0, volume 1.0
    mvhd += struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)  # identity matrix
    mvhd += b"\x00" * 24 + struct.pack(">I", 2)  # pre_defined, next_track_ID
    moov = _box(b"moov", _box(b"mvhd", mvhd))
    payload = b"\x00" * mdat_bytes
    if large_mdat:
        mdat = struct.pack(">I4sQ", 1, b"mdat", 16 + len(payload)) + payload
    else:
        mdat = _box(b"mdat", payload)
    Path(path).write_bytes(ftyp + moov + mdat)
    return Path(path)


def image_bytes(picture: Image.Image, fmt: str = "PNG", **options) -> bytes:
    """Encode ``picture`` in memory (for tests that need bytes rather than a file)."""
    out = io.BytesIO()
    picture.save(out, fmt, **options)
    return out.getvalue()
