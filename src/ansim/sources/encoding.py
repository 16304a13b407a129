"""Open a text file whatever Korean public data throws at us: plain or gzip, UTF-8 (BOM or not), CP949."""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

from ansim.errors import InputError

_GZIP_MAGIC = b"\x1f\x8b"
_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True, slots=True)
class DecodedText:
    """A file's text and how it was spelled on disk."""

    text: str
    encoding: str  # "utf-8", "utf-8-sig" or "cp949"
    compressed: bool


def read_bytes(path: Path | str) -> tuple[bytes, bool]:
    """The file's content, gunzipped when it starts with the gzip magic (whatever its name)."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror or exc}", source=p.name) from None
    if raw[:2] == _GZIP_MAGIC:
        try:
            return gzip.decompress(raw), True
        except (OSError, EOFError) as exc:
            raise InputError(f"broken gzip file: {exc}", source=p.name) from None
    return raw, False


def decode(raw: bytes, *, source: str = "") -> tuple[str, str]:
    """Decode bytes, trying strict UTF-8 first, then CP949 (a superset of EUC-KR).

    Strict UTF-8 almost never accepts CP949 Hangul by accident (its lead bytes 0xB0-0xC8 are
    followed by bytes >= 0xA1, which are not UTF-8 continuation patterns), so the cascade is
    reliable for Korean text; charset-normalizer is the last resort for anything else.

    Returns
    -------
    text, encoding
    """
    if raw.startswith(_BOM):
        try:
            return raw[len(_BOM) :].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            raise InputError(
                f"UTF-8 BOM but invalid UTF-8 at byte {exc.start}", source=source
            ) from None
    for encoding in ("utf-8", "cp949"):
        try:
            return raw.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    from charset_normalizer import from_bytes

    best = from_bytes(raw).best()
    if best is None:
        raise InputError("unknown text encoding (not UTF-8, CP949 or EUC-KR)", source=source)
    return str(best), best.encoding


def read_text(path: Path | str) -> DecodedText:
    """Read a plain or gzip text file and decode it (see :func:`decode`)."""
    raw, compressed = read_bytes(path)
    text, encoding = decode(raw, source=Path(path).name)
    return DecodedText(text=text, encoding=encoding, compressed=compressed)
