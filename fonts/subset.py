#!/usr/bin/env python3
"""Remake the embedded fonts in this folder from Debian's font packages.

    apt-get install fonts-noto-cjk fonts-noto-cjk-extra fonts-lxgw-wenkai
    pip install fonttools
    python3 fonts/subset.py

The body font (Song) keeps every GBK character so that rare characters in names and titles
still have a glyph; the heading, title and Kai faces keep GB2312 (the fonts fall back to the
body font for anything else). All keep ASCII, Latin-1, general punctuation, letterlike
symbols, arrows, maths operators, enclosed numbers, CJK symbols and full-width forms.
LXGW WenKai is OFL with a Reserved Font Name, so its subset is renamed (see README.md).
"""
import pathlib
import subprocess

HERE = pathlib.Path(__file__).resolve().parent
NOTO = pathlib.Path("/usr/share/fonts/opentype/noto")
LXGW = pathlib.Path("/usr/share/fonts/truetype/lxgw-wenkai")

# Ranges every face keeps besides its Han characters.
COMMON = [
    (0x20, 0x7F), (0xA0, 0x180), (0x2000, 0x2070), (0x2100, 0x2200), (0x2190, 0x2300),
    (0x2460, 0x2500), (0x2500, 0x2580), (0x25A0, 0x2600), (0x3000, 0x3040), (0xFF00, 0xFFF0),
]


def charset(encoding):
    cps = set()
    for cp in range(0x80, 0x10000):
        if 0xD800 <= cp < 0xE000:
            continue
        try:
            chr(cp).encode(encoding)
        except UnicodeEncodeError:
            continue
        cps.add(cp)
    for lo, hi in COMMON:
        cps.update(range(lo, hi))
    return sorted(cps)


def subset(src, number, encoding, out, rename=None):
    unicodes = HERE / f".{encoding}.txt"
    unicodes.write_text(",".join(f"U+{cp:04X}" for cp in charset(encoding)))
    args = [
        "pyftsubset", str(src), f"--unicodes-file={unicodes}",
        # Horizontal Simplified Chinese needs only these features. Keeping all of them (aalt,
        # locl forms for ja/ko/zh-Hant, vert) pushes the glyph count past 32 767, and glyphs
        # with higher ids then render blank in Typst (measured: 量, 化, “ were missing).
        "--layout-features=ccmp,kern,liga,calt,palt,halt",
        "--name-IDs=*", "--name-languages=*", "--no-hinting", f"--output-file={HERE / out}",
    ]
    if number is not None:
        args.append(f"--font-number={number}")
    subprocess.run(args, check=True)
    unicodes.unlink()
    from fontTools.ttLib import TTFont
    glyphs = TTFont(HERE / out)["maxp"].numGlyphs
    assert glyphs < 32768, f"{out}: {glyphs} glyphs; Typst renders ids above 32767 blank"
    if rename:
        from fontTools.ttLib import TTFont
        font = TTFont(HERE / out)
        family, full, postscript = rename
        for record in font["name"].names:
            if record.nameID in (1, 16):
                record.string = family
            elif record.nameID == 4:
                record.string = full
            elif record.nameID == 6:
                record.string = postscript
            elif record.nameID == 3:
                record.string = f"{postscript};subset-of-LXGWWenKai-1.250"
        font.save(HERE / out)


# Noto CJK collections: face 2 is Simplified Chinese (SC).
subset(NOTO / "NotoSerifCJK-Regular.ttc", 2, "gbk", "NotoSerifCJKsc-Regular-GBK.otf")
subset(NOTO / "NotoSerifCJK-Bold.ttc", 2, "gb2312", "NotoSerifCJKsc-Bold-GB2312.otf")
subset(NOTO / "NotoSansCJK-Regular.ttc", 2, "gb2312", "NotoSansCJKsc-Regular-GB2312.otf")
subset(NOTO / "NotoSansCJK-Bold.ttc", 2, "gb2312", "NotoSansCJKsc-Bold-GB2312.otf")
subset(
    LXGW / "LXGWWenKai-Regular.ttf", None, "gb2312", "DossierKai-Regular.ttf",
    rename=("Dossier Kai", "Dossier Kai Regular", "DossierKai-Regular"),
)
