"""What an uploaded file is, decided from its content, and cheap checks of its structure.

``sniff(head)`` names the format from the first bytes (never from the file name or the browser's
claim); ``check_name`` refuses a file whose name pretends to be another format;
``check_structure`` reads the header and the end of the whole file to catch truncation,
corruption, decompression bombs and zip bombs without decoding it (the worker decodes images).
Every refusal is a ``ValidationError`` whose message tells the creator why, with a ``code``.
"""

from .formats import EXTENSION_LABELS, FILE_TYPES, SNIFF_BYTES, FileType
from .sniffing import check_name, sniff
from .structure import check_pixels, check_structure, exif_orientation, open_image

__all__ = [
    "EXTENSION_LABELS",
    "FILE_TYPES",
    "SNIFF_BYTES",
    "FileType",
    "check_name",
    "check_pixels",
    "check_structure",
    "exif_orientation",
    "open_image",
    "sniff",
]
