r"""Repairs for text that publishing platforms provably damaged, and nothing else.

Two kinds of damage are undone because each has exactly one reading:

- HTML entities in plain-text fields (Contracts Finder escapes "&" as "&amp;", sometimes
  twice): an entity is a complete ``&name;`` / ``&#n;`` token, so unescaping it is safe.
- Mojibake: UTF-8 bytes decoded as Windows-1252 ("â€¢" for "•"). A run is repaired only
  when its Windows-1252 bytes form valid UTF-8 multi-byte sequences, so the repair
  round-trips exactly; a lone "£" or "é" is never touched.

Left alone on purpose: the literal "rn" / "n" / "t" that some feeds leave where "\r\n",
"\n" and "\t" lost their backslash ("SoftwarernrnContract", "Road,nLONDON"). "rn" is also
the middle of "Government" and "modern", so no rule can tell artefact from word.
"""

from __future__ import annotations

import html
import re

_ENTITY = re.compile(r"&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
# Characters Windows-1252 decodes the bytes 0x80-0xFF to: the alphabet of mojibake.
_CP1252_HIGH = "".join(bytes([b]).decode("cp1252", errors="ignore") or chr(b) for b in range(0x80, 0x100))
_MOJIBAKE_RUN = re.compile(f"[{re.escape(_CP1252_HIGH)}]{{2,}}")
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
_UK_POSTCODE = re.compile(r"\b([A-Z]{1,2}\d[A-Z\d]?) ?(\d[A-Z]{2})\b")


def clean_text(raw: str) -> str:
    """``raw`` with entities unescaped, mojibake repaired and whitespace runs made single spaces."""
    text = unescape_entities(raw)
    text = repair_mojibake(text)
    return " ".join(text.split())


def unescape_entities(raw: str) -> str:
    """Unescape complete HTML entities, repeatedly, so "&amp;amp;" becomes "&"."""
    text = raw
    for _ in range(3):
        unescaped = _ENTITY.sub(lambda m: html.unescape(m.group(0)), text)
        if unescaped == text:
            break
        text = unescaped
    return text


def repair_mojibake(raw: str) -> str:
    """Undo UTF-8-read-as-Windows-1252 wherever the bytes prove it."""
    return _MOJIBAKE_RUN.sub(lambda m: _repair_run(m.group(0)), raw)


def _repair_run(run: str) -> str:
    data = bytes(_cp1252_byte(ch) for ch in run)
    out: list[str] = []
    pos = 0
    for seq in _UTF8_SEQUENCE.finditer(data):
        out.append(run[pos : seq.start()])  # one char per byte, so byte offsets are char offsets
        out.append(seq.group(0).decode("utf-8"))
        pos = seq.end()
    out.append(run[pos:])
    return "".join(out)


def _cp1252_byte(ch: str) -> int:
    try:
        return ch.encode("cp1252")[0]
    except UnicodeEncodeError:
        return ord(ch)  # 0x81, 0x8D, 0x8F, 0x90, 0x9D: undefined in cp1252, passed through as themselves


def uk_postcode(raw: str) -> str | None:
    """The last complete UK postcode in ``raw``, as "AA9A 9AA", or None."""
    matches = _UK_POSTCODE.findall(raw)
    if not matches:
        return None
    outward, inward = matches[-1]
    return f"{outward} {inward}"
