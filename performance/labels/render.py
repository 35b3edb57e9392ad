"""Labels as PDF (vector, for office printers), PNG (300 dpi) and ZPL (Zebra printers).

One layout, 100 × 62 mm: a small title (LOT, SERIAL NUMBER, WORK ORDER), a heading, up to four
lines, and a Code 128 barcode of the code with the code printed under it. The PDF and the PNG
draw the same bar pattern (python-barcode's Code 128 encoder, one module = one narrow bar); the
ZPL leaves the encoding to the printer (``^BC`` in automatic mode).
"""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

import reportlab
from barcode.codex import Code128
from barcode.errors import BarcodeError
from PIL import Image, ImageDraw, ImageFont
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from mes.errors import ApplicationError
from performance.labels.content import Label

WIDTH_MM, HEIGHT_MM = 100, 62
MARGIN_MM = 4
QUIET_ZONE_MODULES = 10
FONT_DIR = Path(reportlab.__file__).parent / "fonts"
REGULAR, BOLD = FONT_DIR / "Vera.ttf", FONT_DIR / "VeraBd.ttf"
MAX_LINES = 4

CONTENT_TYPES = {"pdf": "application/pdf", "png": "image/png", "zpl": "text/plain; charset=utf-8"}


def modules(code: str) -> str:
    """The Code 128 bar pattern of ``code``: '1' a dark module, '0' a light one (quiet zones
    not included)."""
    try:
        return Code128(code).build()[0]
    except (BarcodeError, ValueError, KeyError, IndexError) as exc:
        raise ApplicationError(
            f"{code!r} cannot be written as a Code 128 barcode (printable ASCII only).", code="barcode_not_encodable"
        ) from exc


def _runs(pattern: str) -> list[tuple[int, int]]:
    """(first module, width in modules) of every bar."""
    out, start = [], None
    for index, bit in enumerate(pattern + "0"):
        if bit == "1" and start is None:
            start = index
        elif bit == "0" and start is not None:
            out.append((start, index - start))
            start = None
    return out


# --- PDF ----------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _pdf_fonts() -> tuple[str, str]:
    pdfmetrics.registerFont(TTFont("LabelSans", str(REGULAR)))
    pdfmetrics.registerFont(TTFont("LabelSans-Bold", str(BOLD)))
    return "LabelSans", "LabelSans-Bold"


def _fit(text: str, font: str, size: float, width: float) -> float:
    while size > 6 and pdfmetrics.stringWidth(text, font, size) > width:
        size -= 0.5
    return size


def render_pdf(label: Label) -> bytes:
    regular, bold = _pdf_fonts()
    pattern = modules(label.code)
    buffer = io.BytesIO()
    page_w, page_h = WIDTH_MM * mm, HEIGHT_MM * mm
    pdf = canvas.Canvas(buffer, pagesize=(page_w, page_h), invariant=1)
    pdf.setTitle(f"{label.title} {label.code}")
    pdf.setAuthor("Open MES")
    inner = page_w - 2 * MARGIN_MM * mm
    x, y = MARGIN_MM * mm, page_h - MARGIN_MM * mm

    pdf.setFont(bold, 8)
    pdf.drawString(x, y - 8, label.title)
    y -= 11
    size = _fit(label.heading, bold, 13, inner)
    pdf.setFont(bold, size)
    pdf.drawString(x, y - size, label.heading)
    y -= size + 4
    for line in label.lines[:MAX_LINES]:
        size = _fit(line, regular, 9.5, inner)
        pdf.setFont(regular, size)
        pdf.drawString(x, y - size, line)
        y -= size + 2.5

    text_size = 9
    bar_bottom = MARGIN_MM * mm + text_size + 2
    bar_height = max(min(y - 4 - bar_bottom, 16 * mm), 8 * mm)
    module = min(inner / (len(pattern) + 2 * QUIET_ZONE_MODULES), 0.5 * mm)
    left = (page_w - module * len(pattern)) / 2
    for first, width in _runs(pattern):
        pdf.rect(left + first * module, bar_bottom, width * module, bar_height, stroke=0, fill=1)
    pdf.setFont(regular, text_size)
    pdf.drawCentredString(page_w / 2, MARGIN_MM * mm, label.code)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


# --- PNG ----------------------------------------------------------------------------------------

DPI = 300


def _px(millimetres: float) -> int:
    return round(millimetres / 25.4 * DPI)


@lru_cache(maxsize=16)
def _font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), size)


def _fit_px(draw: ImageDraw.ImageDraw, text: str, path: Path, size: int, width: int) -> ImageFont.FreeTypeFont:
    while size > 12 and draw.textlength(text, font=_font(path, size)) > width:
        size -= 2
    return _font(path, size)


def render_png(label: Label) -> bytes:
    """A 1-bit-clean greyscale PNG at 300 dpi; every bar is a whole number of pixels."""
    pattern = modules(label.code)
    width, height, margin = _px(WIDTH_MM), _px(HEIGHT_MM), _px(MARGIN_MM)
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    inner = width - 2 * margin
    y = margin
    title = _font(BOLD, 34)
    draw.text((margin, y), label.title, font=title, fill=0)
    y += 46
    heading = _fit_px(draw, label.heading, BOLD, 56, inner)
    draw.text((margin, y), label.heading, font=heading, fill=0)
    y += heading.size + 18
    for line in label.lines[:MAX_LINES]:
        font = _fit_px(draw, line, REGULAR, 40, inner)
        draw.text((margin, y), line, font=font, fill=0)
        y += font.size + 10

    text_font = _font(REGULAR, 38)
    text_top = height - margin - 40
    module = max(1, min(inner // (len(pattern) + 2 * QUIET_ZONE_MODULES), 6))
    bar_bottom = text_top - 8
    bar_top = max(y + 12, bar_bottom - _px(16))
    left = (width - module * len(pattern)) // 2
    for first, run in _runs(pattern):
        draw.rectangle([left + first * module, bar_top, left + (first + run) * module - 1, bar_bottom], fill=0)
    code_width = draw.textlength(label.code, font=text_font)
    draw.text(((width - code_width) / 2, text_top), label.code, font=text_font, fill=0)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", dpi=(DPI, DPI), optimize=True)
    return buffer.getvalue()


# --- ZPL ----------------------------------------------------------------------------------------

ZPL_DPI = 203
ZPL_WIDTH, ZPL_HEIGHT = int(WIDTH_MM / 25.4 * ZPL_DPI), int(HEIGHT_MM / 25.4 * ZPL_DPI)


def zpl_text(value: str) -> str:
    """Field data for ``^FH\\``: the characters ZPL would read as commands, hex-escaped."""
    out = []
    for ch in value:
        if ch in "^~\\" or ord(ch) < 32:
            out.extend(f"\\{byte:02X}" for byte in ch.encode())
        else:
            out.append(ch)
    return "".join(out)


def _field(x: int, y: int, size: int, text: str) -> str:
    return f"^FO{x},{y}^A0N,{size},{size}^FB{ZPL_WIDTH - 2 * x},1,0,L,0^FH\\^FD{zpl_text(text)}^FS"


def render_zpl(label: Label) -> str:
    pattern = modules(label.code)
    margin = 24
    lines = [
        "^XA",
        "^CI28",
        f"^PW{ZPL_WIDTH}",
        f"^LL{ZPL_HEIGHT}",
        "^LH0,0",
        _field(margin, 20, 24, label.title),
        _field(margin, 50, 38, label.heading),
    ]
    y = 98
    for line in label.lines[:MAX_LINES]:
        lines.append(_field(margin, y, 28, line))
        y += 34
    narrow = max(1, min(3, (ZPL_WIDTH - 2 * margin) // (len(pattern) + 2 * QUIET_ZONE_MODULES)))
    left = max(margin, (ZPL_WIDTH - narrow * len(pattern)) // 2)
    bar_height = max(60, ZPL_HEIGHT - y - 70)
    lines.append(f"^FO{left},{y + 8}^BY{narrow}^BCN,{bar_height},Y,N,N,A^FH\\^FD{zpl_text(label.code)}^FS")
    lines.append("^PQ1")
    lines.append("^XZ")
    return "\n".join(lines) + "\n"


def render(label: Label, fmt: str) -> bytes:
    if fmt == "pdf":
        return render_pdf(label)
    if fmt == "png":
        return render_png(label)
    if fmt == "zpl":
        return render_zpl(label).encode()
    raise ValueError(fmt)
