"""Remake the CJK font that PDF copies embed: a subset of Noto Sans CJK SC Regular.

Phones' PDF viewers (WeChat's, iOS Files) substitute no Chinese font, so every PDF copy embeds the
glyphs it uses from this file. The file holds ASCII, Latin-1, general and CJK punctuation,
full-width forms, a few signs the documents print, and the whole of GB 2312 (its 6,763 hanzi and
its symbols), so any ordinary Simplified Chinese name, address or product description renders.

Source: Debian's fonts-noto-cjk (apt-get install fonts-noto-cjk), NotoSansCJK-Regular.ttc, face
"Noto Sans CJK SC", licensed under the SIL Open Font License 1.1 (OFL.txt beside the output).

    .venv/bin/python tools/make_cjk_font.py [path/to/NotoSansCJK-Regular.ttc]
"""
import os
import sys

from fontTools import subset
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTCollection, newTable

SOURCE = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
FACE = "Noto Sans CJK SC"
OUT_DIR = os.path.join(os.path.dirname(__file__), "..", "webapp", "documents", "fonts")

RANGES = [
    (0x0020, 0x007E),  # ASCII
    (0x00A0, 0x00FF),  # Latin-1 (¥, ×, ·, é…)
    (0x2000, 0x206F),  # general punctuation (— ‘ ’ “ ” … ‰)
    (0x20A0, 0x20BF),  # currency signs (€)
    (0x2100, 0x214F),  # letterlike (№, ℃)
    (0x2190, 0x21FF),  # arrows
    (0x2460, 0x24FF),  # circled numbers
    (0x2500, 0x25FF),  # box drawing, shapes (□ is the stand-in for a missing character)
    (0x3000, 0x303F),  # CJK symbols and punctuation
    (0xFE30, 0xFE4F),  # CJK compatibility forms
    (0xFF00, 0xFFEF),  # full-width forms
]


def gb2312_characters() -> set[int]:
    """Every character of GB 2312 (rows 1-9 symbols, rows 16-87 the 6,763 hanzi)."""
    chars = set()
    for high in range(0xA1, 0xF8):
        for low in range(0xA1, 0xFF):
            try:
                chars.add(ord(bytes((high, low)).decode("gb2312")))
            except UnicodeDecodeError:
                continue
    return chars


def main(source: str = SOURCE) -> str:
    collection = TTCollection(source)
    font = next(f for f in collection.fonts if f["name"].getDebugName(4) == FACE)
    version = font["head"].fontRevision
    wanted = gb2312_characters() | {c for start, end in RANGES for c in range(start, end + 1)}
    present = wanted & set(font.getBestCmap())
    options = subset.Options()
    options.hinting = False  # phones render at print resolution; hints only add bytes
    options.layout_features = ["kern", "vert", "vrt2", "locl"]
    options.name_IDs = ["*"]  # keep the copyright, licence and trademark notices
    options.name_languages = ["*"]
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=present)
    subsetter.subset(font)
    to_truetype(font)
    font.recalcTimestamp = False  # keep the source's date: the same source makes the same bytes
    out = os.path.abspath(os.path.join(OUT_DIR, f"NotoSansSC-Regular-subset-{version:.3f}.ttf"))
    font.save(out)
    print(f"{out}: {len(present)} characters, {os.path.getsize(out) / 1e6:.2f} MB")
    return out


def to_truetype(font) -> None:
    """Replace the CFF outlines by TrueType ones (cubic curves approximated by quadratic ones within
    1/1000 em). A TrueType font goes into a PDF as CIDFontType2 with Identity-H encoding, the form
    every viewer reads, phones' included; fpdf2 would embed a CID-keyed CFF font with a custom
    encoding CMap that some readers cannot map back to text."""
    order = font.getGlyphOrder()
    glyph_set = font.getGlyphSet()
    glyphs = {}
    for name in order:
        pen = TTGlyphPen(glyph_set)
        # CFF contours run counter-clockwise, TrueType ones clockwise
        glyph_set[name].draw(Cu2QuPen(pen, max_err=1.0, reverse_direction=True))
        glyphs[name] = pen.glyph()
    font["loca"] = newTable("loca")
    glyf = font["glyf"] = newTable("glyf")
    glyf.glyphOrder, glyf.glyphs = order, glyphs
    del font["CFF "]
    if "VORG" in font:  # vertical origins belong to CFF fonts
        del font["VORG"]
    glyf.compile(font)
    for name, glyph in glyphs.items():  # left side bearings follow the new outlines' boxes
        width, _lsb = font["hmtx"].metrics[name]
        font["hmtx"].metrics[name] = (width, getattr(glyph, "xMin", 0))
    maxp = font["maxp"] = newTable("maxp")
    maxp.tableVersion = 0x00010000
    for field in ("maxZones", "maxTwilightPoints", "maxStorage", "maxFunctionDefs",
                  "maxInstructionDefs", "maxStackElements", "maxSizeOfInstructions",
                  "maxComponentElements"):
        setattr(maxp, field, 1 if field == "maxZones" else 0)
    post = font["post"]
    post.formatType = 3.0  # no glyph names: CID fonts have none worth keeping
    post.extraNames, post.mapping = [], {}
    font.sfntVersion = "\x00\x01\x00\x00"


if __name__ == "__main__":
    main(*sys.argv[1:])
