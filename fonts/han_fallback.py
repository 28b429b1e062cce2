#!/usr/bin/env python3
"""Remake the Han fallback fonts (Dossier Han A and B) from Debian's Hanazono fonts.

    apt-get install fonts-hanazono
    pip install fonttools brotli
    python3 fonts/han_fallback.py

The body font (NotoSerifCJKsc-Regular-GBK.otf) covers GBK. Personal and place names also use
characters outside it: the CJK Unified Ideographs added after GBK (U+9FA6 onwards), Extension A
(U+3400–4DBF) and Extensions B–F (U+20000–2EBEF), compatibility ideographs, radicals and
strokes. Hanazono (GlyphWiki) covers them; this script keeps exactly the characters the body
font lacks:

- DossierHanA.ttf.br: Extension A, the newer unified ideographs, compatibility ideographs,
  radicals, strokes, ideographic description characters (from HanaMinA);
- DossierHanB.ttf.br: Extensions B–F (from HanaMinB).

Each is renamed (family "Dossier Han A"/"Dossier Han B": a modified font should not carry the
original's name), compressed with Brotli (the binary decompresses a face only when a page uses
one of its characters) and described by a `.cmap` file of code point ranges, from which the
binary builds the font's coverage at start-up without decompressing it. Hanazono is dual
licensed (Hanazono Font License or SIL OFL 1.1); we use it under the Hanazono Font License,
see HANAZONO-LICENSE.txt.
"""
import pathlib
import subprocess

import brotli
from fontTools.ttLib import TTFont

HERE = pathlib.Path(__file__).resolve().parent
HANAZONO = pathlib.Path("/usr/share/fonts/truetype/hanazono")

A_RANGES = [
    (0x2E80, 0x2FDF),  # CJK radicals supplement, Kangxi radicals
    (0x2FF0, 0x2FFF),  # ideographic description characters
    (0x31C0, 0x31EF),  # CJK strokes
    (0x3400, 0x4DBF),  # Extension A
    (0x4E00, 0x9FFF),  # unified ideographs (only those the body font lacks are kept)
    (0xF900, 0xFAFF),  # compatibility ideographs
    (0x2F800, 0x2FA1F),  # compatibility ideographs supplement
]
B_RANGES = [(0x20000, 0x2A6DF), (0x2A700, 0x2EBEF)]  # Extensions B, C, D, E, F


def build(source, ranges, family, stem, body):
    cmap = TTFont(source).getBestCmap()
    keep = sorted(
        cp for lo, hi in ranges for cp in range(lo, hi + 1) if cp in cmap and cp not in body
    )
    unicodes = HERE / f".{stem}.txt"
    unicodes.write_text(",".join(f"U+{cp:04X}" for cp in keep))
    out = HERE / f"{stem}.ttf"
    subprocess.run(
        [
            "pyftsubset", str(source), f"--unicodes-file={unicodes}", "--layout-features=",
            "--no-hinting", "--name-IDs=*", f"--output-file={out}",
        ],
        check=True,
    )
    unicodes.unlink()
    font = TTFont(out)
    postscript = family.replace(" ", "")
    for record in font["name"].names:
        if record.nameID in (1, 16):
            record.string = family
        elif record.nameID in (2, 17):
            record.string = "Regular"
        elif record.nameID == 4:
            record.string = f"{family} Regular"
        elif record.nameID == 6:
            record.string = f"{postscript}-Regular"
        elif record.nameID == 3:
            record.string = f"{postscript}-Regular;subset-of-{source.stem}"
    # HanaMin says weight 500; it is the one and only (regular) face, so say 400 like the
    # binary's metadata of it does.
    font["OS/2"].usWeightClass = 400
    font.save(out)
    glyphs = TTFont(out)["maxp"].numGlyphs
    assert glyphs < 65536, f"{out}: {glyphs} glyphs"
    data = out.read_bytes()
    (HERE / f"{stem}.ttf.br").write_bytes(brotli.compress(data, quality=11, lgwin=24))
    out.unlink()
    # Coverage as ranges, one per line: "3400-4DB5" or "9FA6".
    runs = []
    for cp in keep:
        if runs and runs[-1][1] == cp - 1:
            runs[-1][1] = cp
        else:
            runs.append([cp, cp])
    lines = [f"{a:X}" if a == b else f"{a:X}-{b:X}" for a, b in runs]
    (HERE / f"{stem}.cmap").write_text("\n".join(lines) + "\n")
    print(f"{stem}: {len(keep)} characters, {glyphs} glyphs, {len(data) / 1e6:.1f} MB, "
          f"{(HERE / f'{stem}.ttf.br').stat().st_size / 1e6:.1f} MB compressed")


body = set(TTFont(HERE / "NotoSerifCJKsc-Regular-GBK.otf").getBestCmap())
build(HANAZONO / "HanaMinA.ttf", A_RANGES, "Dossier Han A", "DossierHanA", body)
build(HANAZONO / "HanaMinB.ttf", B_RANGES, "Dossier Han B", "DossierHanB", body)
