"""Labels out: every barcode rendered is read back by a real decoder (zbar) to its value.

PDFs are rasterised with poppler's pdftoppm, as a printer driver would, before zbar
reads them. ZPL is compared with golden files and decoded back by a small ^BC
interpreter here. Printing is tested against sockets and a fake `lp` this test owns.
"""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import threading
import xml.etree.ElementTree as ET
from io import BytesIO
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from db.documents import command_sheet
from devices.decode import decode
from devices.labels import (
    PAPER,
    SIZES,
    GS1Content,
    Label,
    LabelSize,
    Traveler,
    TravelerPick,
    TravelerStage,
    command_sheet_pdf,
    paper_size,
    render_image,
    render_png,
    render_svg,
    sheet_pdf,
    symbol_for,
    traveler_pages,
    traveler_pdf,
    traveler_png,
)
from devices.labels.layout import layout
from devices.printing import PrinterAddressError, PrinterError, parse_printer, send_lp, send_raw
from devices.zpl import barcode_data, label_zpl, labels_zpl
from tests.label_reading import tool, zbar

GOLDEN = Path(__file__).parent.parent / "golden"
# Set to rewrite tests/golden/*.zpl after a deliberate layout change; review the diff.
UPDATE_GOLDEN = os.environ.get("SHOPFLOOR_UPDATE_GOLDEN") == "1"

VALUES = [
    "WO-1001",
    "CMD:MODE:PROGRESS",
    "CMD:DONE",
    "QTY:12",
    "LOT:A23-0042",
    "LOC-A01",
    "7",
    "12345678901234567890",  # all digits: subset C
    "ABCDEFGHIJ-KLMNOPQRS",  # a long sku, 20 characters
    "sku-lower.case/01",
    "A~^_>x 12",  # ZPL's own prefixes and escape characters
]


def zbar_png(png: bytes, tmp_path: Path, name: str = "label.png") -> list[str]:
    path = tmp_path / name
    path.write_bytes(png)
    return zbar(path)


def read_label(label: Label, size: LabelSize, tmp_path: Path, dpi: int = 203) -> list[str]:
    """Render the label's PNG and read it the way a scanner would.

    zbar's edge filter needs two image pixels per module; it misses about one in ten
    symbols drawn with one-pixel modules. Those (the longest values on the smallest
    labels: one 0.125 mm dot at 203 dpi) are read at two camera pixels per dot, which
    is how an imager that reads 5 mil codes sees them; the geometry is unchanged.
    Every other label is read from the PNG exactly as written.
    """
    png = render_png(label, size, dpi)
    if layout(label, size, dpi).bars.module >= 2:
        return zbar_png(png, tmp_path)
    image = Image.open(BytesIO(png))
    image.resize((image.width * 2, image.height * 2), Image.Resampling.NEAREST).save(
        tmp_path / "label2x.png"
    )
    return zbar(tmp_path / "label2x.png")


def pdf_pages(pdf: bytes, tmp_path: Path, dpi: int = 200) -> list[Path]:
    pdftoppm = tool("pdftoppm", "poppler-utils")
    src = tmp_path / "doc.pdf"
    src.write_bytes(pdf)
    args = [pdftoppm, "-r", str(dpi), "-png", str(src), str(tmp_path / "page")]
    subprocess.run(args, check=True, capture_output=True, timeout=120)
    return sorted(tmp_path.glob("page*.png"))


# --- single labels -------------------------------------------------------------------


def test_sizes_and_paper() -> None:
    assert {"100x150", "57x32", "50x25"} <= set(SIZES)
    assert {"A4", "Letter"} <= set(PAPER)
    assert paper_size("letter") is PAPER["Letter"]
    with pytest.raises(ValueError, match="A4, Letter"):
        paper_size("A5")


@pytest.mark.parametrize("size", list(SIZES))
def test_png_decodes_to_the_value_at_every_size(size: str, tmp_path: Path) -> None:
    for value in VALUES:
        label = Label(value, f"Title for {value}", ("a small line", "another"))
        assert read_label(label, SIZES[size], tmp_path) == [value], (value, size)


def test_png_is_the_label_size_at_its_dpi() -> None:
    for dpi, expect in ((203, (400, 200)), (300, (591, 295))):
        image = Image.open(BytesIO(render_png(Label("WO-1", "x"), SIZES["50x25"], dpi)))
        assert image.size == expect
        assert round(image.info["dpi"][0]) == dpi


def test_png_at_300_dpi_decodes(tmp_path: Path) -> None:
    label = Label("CMD:MODE:RECEIVE", "Receive mode")
    for size in SIZES.values():
        assert read_label(label, size, tmp_path, dpi=300) == [label.value]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=st.text(st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=16))
def test_any_printable_value_round_trips(value: str, tmp_path: Path) -> None:
    assert read_label(Label(value, "x"), SIZES["57x32"], tmp_path) == [value]


def test_a_value_too_long_for_the_label_is_refused() -> None:
    long_value = "ITEM-" + "X" * 40
    with pytest.raises(ValueError) as err:
        render_png(Label(long_value, "too long"), SIZES["50x25"])
    assert long_value in str(err.value) and "50x25" in str(err.value)
    # The same value fits the 4x6 label.
    render_png(Label(long_value, "fits"), SIZES["100x150"])


@pytest.mark.parametrize("value", ["", "WO\r1", "WO\t1", "Größe"])
def test_a_value_a_scanner_cannot_return_is_refused(value: str) -> None:
    with pytest.raises(ValueError):
        render_png(Label(value, "bad"), SIZES["57x32"])


def test_too_many_lines_for_a_small_label_is_refused() -> None:
    label = Label("WO-1", "t", tuple(f"line {i}" for i in range(8)))
    with pytest.raises(ValueError, match="no room"):
        render_png(label, SIZES["50x25"])


def test_a_long_title_is_kept_on_the_label(tmp_path: Path) -> None:
    # Titles shrink and are cut with an ellipsis; they never push the bars off.
    title = "A very long item description that cannot fit on a small label at all"
    png = tmp_path / "long-title.png"
    png.write_bytes(
        render_png(
            Label("ITEM-1", title, ("more text that is also much too long to fit",)),
            SIZES["50x25"],
        )
    )
    # The bars still read back whole, and the label keeps its size.
    assert zbar(png) == ["ITEM-1"]
    with Image.open(png) as image:
        assert image.size == render_image(Label("ITEM-1", "t"), SIZES["50x25"]).size


# --- GS1-128 -------------------------------------------------------------------------


def zbar_xml(path: Path) -> ET.Element:
    zbarimg = tool("zbarimg", "zbar-tools")
    result = subprocess.run(
        [zbarimg, "--nodbus", "--xml", "-q", str(path)], capture_output=True, timeout=60
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    return ET.fromstring(result.stdout)


GS1_CASES = [
    GS1Content("09506000134352", "ABC123", 12),
    GS1Content("09506000134352"),
    GS1Content("9506000134352", lot="L-7/2024"),  # a GTIN-13, padded to 14
    GS1Content("09506000134352", quantity=1500),
    GS1Content("09506000134352", lot="123", quantity=7),  # odd digits before an FNC1
]


@pytest.mark.parametrize("size", list(SIZES))
def test_gs1_128_reads_back_through_the_decoder(size: str, tmp_path: Path) -> None:
    for content in GS1_CASES:
        path = tmp_path / "gs1.png"
        path.write_bytes(render_png(Label("SKU-1", "Item", gs1=content), SIZES[size]))
        [symbol] = zbar_xml(path).iter("{http://zbar.sourceforge.net/2008/barcode}symbol")
        # zbar flags FNC1-in-first-position as GS1 (what a scanner reports as "]C1") and
        # returns FNC1 separators as GS.
        assert symbol.get("type") == "CODE-128" and symbol.get("modifiers") == "GS1"
        [data] = zbar(path)
        assert data == symbol_for(Label("SKU-1", "Item", gs1=content)).data
        scan = decode(b"]C1" + data.encode())
        assert scan.problem is None and scan.gs1 is not None, scan
        assert scan.gs1.gtin == content.gtin.zfill(14)
        assert scan.gs1.lot == content.lot
        expected_qty = content.quantity
        assert (scan.gs1.quantity if expected_qty is None else int(scan.gs1.quantity or 0)) == (
            expected_qty
        )


_CSET82 = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    lot=st.none() | st.text(st.sampled_from(_CSET82), min_size=1, max_size=15),
    quantity=st.none() | st.integers(1, 99_999_999),
)
def test_any_gs1_content_round_trips(lot: str | None, quantity: int | None, tmp_path: Path) -> None:
    content = GS1Content("09506000134352", lot, quantity)
    [data] = read_label(Label("x", "x", gs1=content), SIZES["100x150"], tmp_path)
    gs1 = decode(b"]C1" + data.encode()).gs1
    assert gs1 is not None
    assert (gs1.gtin, gs1.lot) == ("09506000134352", lot)
    assert gs1.quantity == (None if quantity is None else quantity)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (GS1Content("09506000134353"), "check digit"),
        (GS1Content("12345"), "8, 12, 13 or 14 digits"),
        (GS1Content("09506000134352", lot="bad lot"), "GS1 set"),
        (GS1Content("09506000134352", quantity=0), "AI 37"),
    ],
)
def test_bad_gs1_content_is_refused(content: GS1Content, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        render_png(Label("x", "x", gs1=content), SIZES["100x150"])


# --- SVG -----------------------------------------------------------------------------

SVG = "{http://www.w3.org/2000/svg}"


@pytest.mark.parametrize("size", list(SIZES))
def test_svg_is_well_formed_and_its_bars_decode(size: str, tmp_path: Path) -> None:
    label = Label("LOC-A01", "Rack A <01> & co", ("Storeroom",))
    root = ET.fromstring(render_svg(label, SIZES[size]))
    assert root.tag == f"{SVG}svg"
    assert root.get("width") == f"{SIZES[size].width_mm:g}mm"
    _, _, width, height = (int(v) for v in (root.get("viewBox") or "").split())
    [bars] = [g for g in root.iter(f"{SVG}g") if g.get("id") == "bars"]
    rects = list(bars.iter(f"{SVG}rect"))
    assert len(rects) == symbol_for(label).modules.count("10") + 1  # one rect per bar
    texts: dict[str, list[str]] = {}
    for t in root.iter(f"{SVG}text"):
        texts.setdefault(t.get("class", ""), []).append("".join(t.itertext()))
    assert texts == {"title": ["Rack A <01> & co"], "hri": ["LOC-A01"], "line": ["Storeroom"]}
    # Paint the rects as a raster and let zbar read them: the SVG's bars are the code.
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    for r in rects:
        x, y = int(r.get("x", "0")), int(r.get("y", "0"))
        w, h = int(r.get("width", "0")), int(r.get("height", "0"))
        draw.rectangle((x, y, x + w - 1, y + h - 1), fill=0)
    image.save(tmp_path / "svg.png")
    assert zbar(tmp_path / "svg.png") == ["LOC-A01"]


# --- sheets, command sheet, traveler -------------------------------------------------


@pytest.mark.parametrize(("paper", "size"), [("A4", "57x32"), ("Letter", "50x25")])
def test_sheet_pdf_has_every_label_once(paper: str, size: str, tmp_path: Path) -> None:
    values = [f"LOC-{row}{n:02d}" for row in "ABC" for n in range(1, 15)]  # 42 labels
    pdf = sheet_pdf([Label(v, f"Bin {v}") for v in values], SIZES[size], paper)
    assert pdf.startswith(b"%PDF")
    pages = pdf_pages(pdf, tmp_path)
    assert len(pages) >= 2
    found = [v for page in pages for v in zbar(page)]
    assert sorted(found) == sorted(values)


def test_sheet_pdf_refuses_a_value_that_does_not_fit() -> None:
    with pytest.raises(ValueError, match="50x25"):
        sheet_pdf([Label("OK-1", "ok"), Label("X" * 60, "too long")], SIZES["50x25"])


COMMANDS = {label.value for _, labels in command_sheet() for label in labels}


@pytest.mark.parametrize("paper", ["A4", "Letter"])
def test_command_sheet_pdf_decodes_to_the_commands(paper: str, tmp_path: Path) -> None:
    pages = pdf_pages(command_sheet_pdf(command_sheet(), paper), tmp_path)
    # One page: the sheet laminated at a station.
    assert len(pages) == 1
    found = zbar(pages[0])
    assert len(found) == len(COMMANDS) and set(found) == COMMANDS
    # Every key of the number pad reads back once, whatever any other key reads as.
    pad = sorted(v for v in found if v.startswith("NUM:"))
    assert pad == sorted(f"NUM:{key}" for key in (*"0123456789.", "CLR"))


def _traveler(picks: int) -> Traveler:
    stages = [("CUT", "Saw cutting"), ("MILL", "CNC milling"), ("PAINT", "Paint booth")]
    return Traveler(
        number="WO-1001",
        barcode="WO-1001",
        product="GX-200",
        description="Gearbox housing, machined and painted",
        quantity="40",
        due="2025-03-14",
        priority=2,
        stages=tuple(TravelerStage(i + 1, c, n) for i, (c, n) in enumerate(stages)),
        # What is still to issue differs per line (the third is fully issued), so each
        # QTY barcode read names its line.
        picks=tuple(
            TravelerPick(
                f"RM-{i:04d}",
                f"Component {i}",
                f"{i * 1.5:g}",
                "kg",
                f"RM-{i:04d}",
                "MILL",
                None if i == 3 else f"QTY:{i * 1.5 - 0.25:g}",
            )  # fmt: skip
            for i in range(1, picks + 1)
        ),
    )


@pytest.mark.parametrize("paper", ["A4", "Letter"])
def test_traveler_pdf_barcodes_are_the_order_and_its_picks(paper: str, tmp_path: Path) -> None:
    t = _traveler(picks=14)
    pages = pdf_pages(traveler_pdf(t, paper), tmp_path)
    assert len(pages) >= 2  # fourteen picks do not fit one page
    picks: list[str] = []
    for page in pages:
        found = zbar(page)
        # Every page carries the order's barcode: any page scanned sets the order.
        assert found.count("WO-1001") == 1, (page, found)
        picks += [v for v in found if v != "WO-1001"]
    quantities = sorted(v for v in picks if v.startswith("QTY:"))
    assert sorted(v for v in picks if not v.startswith("QTY:")) == [p.barcode for p in t.picks]
    # Every pick's QTY barcode reads back to its quantity still to issue; none for a
    # line fully issued.
    assert quantities == sorted(p.issue_barcode for p in t.picks if p.issue_barcode)
    assert "QTY:4.25" not in quantities and len(quantities) == len(t.picks) - 1


def test_traveler_png_is_its_first_page(tmp_path: Path) -> None:
    t = _traveler(picks=2)
    assert len(traveler_pages(t)) == 1
    png = traveler_png(t)
    image = Image.open(BytesIO(png))
    assert image.format == "PNG" and image.size == (1654, 2339)  # A4 at 200 dpi
    assert sorted(zbar_png(png, tmp_path)) == [
        "QTY:1.25", "QTY:2.75", "RM-0001", "RM-0002", "WO-1001",
    ]  # fmt: skip


# --- ZPL -----------------------------------------------------------------------------

ZPL_CASES = {
    "workorder_50x25": (Label("WO-1001", "Gearbox housing GX-200", ("Qty 40",)), "50x25"),
    "command_57x32": (
        Label("CMD:MODE:ISSUE", "Issue mode", ("Material to a work order",)),
        "57x32",
    ),
    "quantity_50x25": (Label("QTY:12", "Quantity 12"), "50x25"),
    "location_100x150": (Label("LOC-A01", "Rack A, bin 01", ("Storeroom", "Zone 1")), "100x150"),
    "escapes_57x32": (Label("A^B~C_D>E", "Caret ^ tilde ~ under_score \\"), "57x32"),
    "gs1_100x150": (
        Label("SKU-1", "Bearing 6204", gs1=GS1Content("09506000134352", "ABC123", 12)),
        "100x150",
    ),
}


@pytest.mark.parametrize("name", list(ZPL_CASES))
def test_zpl_matches_golden(name: str) -> None:
    label, size = ZPL_CASES[name]
    zpl = label_zpl(label, SIZES[size])
    golden = GOLDEN / f"{name}.zpl"
    if UPDATE_GOLDEN:
        golden.write_text(zpl, encoding="utf-8")
    assert zpl == golden.read_text(encoding="utf-8")


def test_zpl_structure() -> None:
    labels = [case[0] for case in ZPL_CASES.values()]
    zpl = labels_zpl(labels, SIZES["100x150"])
    formats = zpl.split("^XZ\n")
    assert formats[-1] == "" and len(formats) == len(labels) + 1
    for fmt in formats[:-1]:
        assert fmt.startswith("^XA\n") and fmt.count("^XA") == 1
        assert fmt.count("^BC") == 1 and "^PW799" in fmt and "^LL1199" in fmt
        assert fmt.count("^FD") == fmt.count("^FS")
    gs1 = label_zpl(labels[-1], SIZES["100x150"])
    # FNC1 first, then FNC1 between the lot (variable length) and the count.
    assert "^FD>;>80109506000134352" in gs1 and "ABC123>8" in gs1
    escaped = label_zpl(Label("A^B~C", "t"), SIZES["57x32"])
    assert "^FH_^FD>:A_5EB_7EC^FS" in escaped


def interpret_bc(data: str) -> str:
    """What a scanner returns for ^BC mode N field data (after ^FH): a tiny interpreter."""
    out = ""
    subset = {">9": "A", ">:": "B", ">;": "C"}[data[:2]]
    i = 2
    while i < len(data):
        if data[i] == ">":
            code = data[i + 1]
            i += 2
            if code == "<":
                out += ">"
            elif code == "8":
                out += "\x1d" if out else ""  # a leading FNC1 only marks GS1
            else:
                subset = {"5": "C", "6": "B", "7": "A"}[code]
        elif subset == "C":
            out += data[i : i + 2]
            i += 2
        else:
            out += data[i]
            i += 1
    return out


@settings(max_examples=200, deadline=None)
@given(st.text(st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=30))
def test_zpl_barcode_data_says_the_value(value: str) -> None:
    assert interpret_bc(barcode_data(symbol_for(Label(value, "")))) == value


def test_zpl_gs1_data_says_the_element_strings() -> None:
    for content in GS1_CASES:
        symbol = symbol_for(Label("x", "x", gs1=content))
        assert interpret_bc(barcode_data(symbol)) == symbol.data


def test_zpl_refuses_an_odd_dpi() -> None:
    with pytest.raises(ValueError, match="dpi"):
        label_zpl(Label("WO-1", "x"), SIZES["50x25"], dpi=250)


# --- printing ------------------------------------------------------------------------


def test_send_raw_delivers_every_byte(listener: tuple[int, list[bytes]]) -> None:
    port, received = listener
    payload = labels_zpl([Label(f"LOC-{i}", "bin") for i in range(200)], SIZES["57x32"]).encode()
    send_raw("127.0.0.1", port, payload)
    for _ in range(100):  # the sink finishes reading just after the close
        if received:
            break
        threading.Event().wait(0.05)
    assert received == [payload]


def test_send_raw_refused_says_what_to_check() -> None:
    # Bound but not listening: the kernel refuses, and no one else can take the port.
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        port = holder.getsockname()[1]
        with pytest.raises(PrinterError) as err:
            send_raw("127.0.0.1", port, b"^XA^XZ", timeout=2)
    assert str(err.value) == (
        f"printer 127.0.0.1:{port} refused the connection: is it on and is the port right?"
    )


def test_send_raw_times_out_when_the_printer_stops_reading() -> None:
    with socket.socket() as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]
        # Accepted by the kernel, never read: send buffers fill and sendall blocks.
        with pytest.raises(PrinterError, match="within 0.3 s"):
            send_raw("127.0.0.1", port, b"x" * 64_000_000, timeout=0.3)


def _fake_lp(bindir: Path, script: str) -> None:
    lp = bindir / "lp"
    lp.write_text("#!/bin/sh\n" + script)
    lp.chmod(lp.stat().st_mode | stat.S_IEXEC)


def test_send_lp_passes_the_queue_and_raw(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_lp(tmp_path, f'echo "$@" > {tmp_path}/args\ncat > {tmp_path}/job\n')
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    send_lp("zebra1", b"^XA^XZ")
    assert (tmp_path / "args").read_text().split() == ["-d", "zebra1", "-o", "raw"]
    assert (tmp_path / "job").read_bytes() == b"^XA^XZ"
    send_lp("office", b"%PDF", raw=False)
    assert (tmp_path / "args").read_text().split() == ["-d", "office"]


def test_send_lp_errors_are_clear(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no lp anywhere
    with pytest.raises(PrinterError, match="lp is not installed"):
        send_lp("zebra1", b"x")
    _fake_lp(tmp_path, 'echo "lp: The printer or class does not exist." >&2\nexit 1\n')
    with pytest.raises(PrinterError, match="lp -d nope failed: lp: The printer or class"):
        send_lp("nope", b"x")
    with pytest.raises(PrinterError, match="not a printer queue"):
        send_lp("-h", b"x")


def test_label_size_is_a_plain_value() -> None:
    custom = LabelSize("62x29", 62.0, 29.0)
    assert render_png(Label("WO-1", "custom stock"), custom).startswith(b"\x89PNG")


def test_printer_address() -> None:
    assert parse_printer("10.0.4.50") == ("10.0.4.50", 9100)
    assert parse_printer("zebra-3:6101") == ("zebra-3", 6101)
    assert parse_printer("[fe80::1]:9100") == ("fe80::1", 9100)
    assert parse_printer("fe80::1") == ("fe80::1", 9100)
    with pytest.raises(PrinterAddressError, match="HOST:PORT"):
        parse_printer("h:99999")
