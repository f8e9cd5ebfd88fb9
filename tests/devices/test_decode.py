"""What `devices.decode` makes of scanned lines: plain codes, AIM ids, GS1, and garbage."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.decode import GS1Fields, Measure, Scan, decode

GS = b"\x1d"
GTIN = "09506000134352"

pytestmark = pytest.mark.timeout(30)


@pytest.mark.parametrize(
    "code",
    ["WO-1001", "CMD:MODE:ISSUE", "QTY:5", "LOT:A1", "RM-STEEL-01", "CMD:DONE", "BIN-A-01-3"],
)
def test_plain_codes_come_back_unchanged(code: str) -> None:
    assert decode(code.encode()) == Scan(
        raw=code.encode(), text=code, symbology=None, gs1=None, problem=None
    )


@pytest.mark.parametrize("digits", ["95060001", "950600013435", "9506000134352", GTIN])
def test_bare_digits_are_text_not_gs1(digits: str) -> None:
    scan = decode(digits.encode())
    assert (scan.text, scan.gs1, scan.problem) == (digits, None, None)


def test_surrounding_whitespace_is_stripped_from_text_not_from_raw() -> None:
    scan = decode(b"  WO-1001\t\r")
    assert scan.text == "WO-1001"
    assert scan.raw == b"  WO-1001\t\r"


@pytest.mark.parametrize(
    ("raw", "symbology", "text"),
    [
        (b"]A0RM-STEEL-01", "]A0", "RM-STEEL-01"),
        (b"]C0WO-1001", "]C0", "WO-1001"),
        (b"]E09506000134352", "]E0", "9506000134352"),
        (b"]Q1CMD:MODE:ISSUE", "]Q1", "CMD:MODE:ISSUE"),
        (b"]d1LOT:A1", "]d1", "LOT:A1"),
    ],
)
def test_aim_identifier_is_stripped_and_kept(raw: bytes, symbology: str, text: str) -> None:
    scan = decode(raw)
    assert (scan.symbology, scan.text, scan.gs1, scan.problem) == (symbology, text, None, None)


def test_text_that_merely_starts_with_a_bracket_is_left_alone() -> None:
    assert decode(b"]A-17").text == "]A-17"
    assert decode(b"]").text == "]"


def test_gs1_128_with_group_separator() -> None:
    raw = b"]C1" + b"01" + GTIN.encode() + b"10ABC123" + GS + b"3712"
    scan = decode(raw)
    assert scan.problem is None
    assert scan.symbology == "]C1"
    assert scan.text == raw[3:].decode()
    assert scan.gs1 == GS1Fields(gtin=GTIN, lot="ABC123", quantity=Decimal(12))


@pytest.mark.parametrize("symbology", [b"]d2", b"]Q3", b"]e0"])
def test_other_gs1_symbologies(symbology: bytes) -> None:
    scan = decode(symbology + b"01" + GTIN.encode() + b"3005")
    assert scan.gs1 == GS1Fields(gtin=GTIN, lot=None, quantity=Decimal(5))


def test_gs1_without_symbology_identifier_recognised_by_group_separator() -> None:
    # FNC1 in first position sent as a leading GS, as many scanners do.
    scan = decode(GS + b"01" + GTIN.encode() + b"10L-7" + GS + b"3003")
    assert scan.symbology is None
    assert scan.gs1 == GS1Fields(gtin=GTIN, lot="L-7", quantity=Decimal(3))


def test_parenthesised_hri_typed_on_a_keyboard() -> None:
    text = f"(01){GTIN}(10)ABC123(37)12"
    scan = decode(text.encode())
    assert scan.text == text
    assert scan.gs1 == GS1Fields(gtin=GTIN, lot="ABC123", quantity=Decimal(12))


def test_ai_02_counts_as_the_gtin() -> None:
    scan = decode(f"(02){GTIN}(37)40".encode())
    assert scan.gs1 == GS1Fields(gtin=GTIN, lot=None, quantity=Decimal(40))


def test_gs1_without_a_gtin_is_text_without_fields() -> None:
    # An SSCC pallet label: a good barcode, not an item.
    scan = decode(b"]C100106141411234567897")
    assert (scan.text, scan.gs1, scan.problem) == ("00106141411234567897", None, None)


def test_parentheses_that_are_not_ais_are_plain_text() -> None:
    assert decode(b"(spare) bin").text == "(spare) bin"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"]C1" + b"01" + b"09506000134353", "check digit"),  # misread last digit
        (b"]C1garbage", "not a valid GS1 code"),
        (b"(01)123", "not a valid GS1 code"),
    ],
)
def test_broken_gs1_is_a_problem(raw: bytes, reason: str) -> None:
    scan = decode(raw)
    assert scan.text is None and scan.gs1 is None
    assert scan.problem is not None and reason in scan.problem


def test_invalid_utf8_is_a_problem_and_raw_is_kept() -> None:
    raw = b"WO-\xff\xfe1001"
    scan = decode(raw)
    assert scan == Scan(
        raw=raw, text=None, symbology=None, gs1=None, problem="not a barcode: invalid UTF-8 bytes"
    )


@pytest.mark.parametrize("raw", [b"WO\x001001", b"\x07\x07", b"AB\x1bC", b"QTY:\x7f5", b"LOT\tA1"])
def test_control_characters_are_a_problem(raw: bytes) -> None:
    scan = decode(raw)
    assert scan.text is None
    assert scan.problem == "not a barcode: contains control characters"
    assert scan.raw == raw


def test_group_separator_is_not_a_problem_inside_gs1() -> None:
    assert decode(b"01" + GTIN.encode() + b"10A" + GS + b"3001").problem is None


@pytest.mark.parametrize("raw", [b"", b"   ", b"\t \r"])
def test_empty_line(raw: bytes) -> None:
    assert decode(raw).problem == "empty line"


def test_identifier_with_nothing_after_it() -> None:
    scan = decode(b"]C1")
    assert scan.symbology == "]C1"
    assert scan.problem is not None and "empty barcode" in scan.problem


def test_too_long_line_names_both_lengths_and_what_to_check() -> None:
    head = b"A" * 4096
    scan = decode(head, truncated_from=1_048_576)
    assert scan.raw == head
    assert scan.text is None
    assert scan.problem == (
        "line too long (1048576 bytes, limit 4096): check the scanner's terminator setting"
    )


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_give_a_scan_with_raw_unchanged(raw: bytes) -> None:
    scan = decode(raw)
    assert scan.raw == raw
    assert (scan.text is None) == (scan.problem is not None)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [b"]C1", b"]d2", b"(01)", b"(10)", b"(37)", b"01", b"10", b"37", b"02", b"30", GS]
        )
        | st.binary(max_size=16)
        | st.text(alphabet="0123456789()", max_size=16).map(str.encode)
        | st.text(alphabet="0123456789٠١٢٣٤٥٦٧٨٩", max_size=16).map(str.encode),
        max_size=8,
    ).map(b"".join)
)
def test_gs1_shaped_noise_never_raises(raw: bytes) -> None:
    scan = decode(raw)
    assert scan.raw == raw
    if scan.gs1 is not None:
        assert len(scan.gs1.gtin) == 14 and scan.gs1.gtin.isascii() and scan.gs1.gtin.isdigit()


def _with_check_digit(body: str) -> str:
    # int() reads any script's digits: the check digit is right whatever script the body is in.
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


# Any script's decimal digits: a GTIN in Arabic-Indic or Devanagari digits must be refused,
# so the property test draws them too, not only 0-9.
ANY_DIGIT = st.characters(categories=["Nd"])


@settings(max_examples=300, deadline=None)
@given(
    body=st.lists(st.sampled_from("0123456789") | ANY_DIGIT, min_size=13, max_size=13).map("".join),
    lot=st.none() | st.text("0123456789ABCXYZabc./-", min_size=1, max_size=20),
    count=st.none() | st.integers(min_value=0, max_value=99_999_999),
    ai=st.sampled_from(["01", "02"]),
    hri=st.booleans(),
)
def test_fast_item_label_path_agrees_with_biip(
    body: str, lot: str | None, count: int | None, ai: str, hri: bool
) -> None:
    """The regex fast path for item labels must read exactly what biip reads, in ASCII
    digits, and leave anything in other digits to the full check, which refuses it."""
    from biip.gs1_messages import GS1Message

    from devices.decode import _item_label

    gtin = _with_check_digit(body)
    if hri:
        content = (
            f"({ai}){gtin}"
            + (f"(10){lot}" if lot else "")
            + (f"(37){count}" if count is not None else "")
        )
    else:
        content = f"{ai}{gtin}" + (f"10{lot}" if lot else "")
        if count is not None:
            content += ("\x1d" if lot else "") + f"37{count}"
    fast = _item_label(content, hri=hri)
    if not gtin.isascii():
        assert fast is None
        scan = decode(content.encode() if hri else b"]C1" + content.encode())
        assert scan.gs1 is None and scan.problem is not None
        assert "not a valid GS1 code" in scan.problem
        return
    message = GS1Message.parse_hri(content) if hri else GS1Message.parse(content)
    assert fast is not None
    item = message.element_strings.get(ai=ai)
    assert item is not None and fast.gtin == item.value
    lot_string = message.element_strings.get(ai="10")
    assert fast.lot == (lot_string.value if lot_string else None)
    count_string = message.element_strings.get(ai="37")
    assert fast.quantity == (int(count_string.value) if count_string else None)


# ---------------------------------------------------------------- issue 15: what was found


@pytest.mark.parametrize(
    "raw",
    [
        b"]C1" + b"01" + GTIN.encode() + b"30",  # AI 30 with no digits, last
        b"]C1" + b"01" + GTIN.encode() + b"30" + GS + b"10ABC",  # ... then more AIs
        b"]C1" + b"01" + GTIN.encode() + b"10" + GS + b"3005",  # AI 10 with no lot
        f"(01){GTIN}(30)".encode(),  # typed, the count left out
        f"(01){GTIN}(30)(10)ABC".encode(),
    ],
)
def test_an_element_string_without_data_is_not_a_valid_gs1_code(raw: bytes) -> None:
    scan = decode(raw)
    assert scan.text is None and scan.gs1 is None
    assert scan.problem is not None and scan.problem.startswith("not a valid GS1 code")


def test_dotcode_is_read_as_gs1() -> None:
    scan = decode(b"]J1" + b"01" + GTIN.encode() + b"10ABC")
    assert scan.symbology == "]J1"
    assert scan.gs1 == GS1Fields(gtin=GTIN, lot="ABC", quantity=None)


def test_plain_dotcode_is_text() -> None:
    scan = decode(b"]J0WO-1001")
    assert (scan.symbology, scan.text, scan.gs1) == ("]J0", "WO-1001", None)


@pytest.mark.parametrize("symbology", [b"]C1", b"]d2", b"]Q3", b"]e0", b"]J1"])
def test_scanned_gs1_never_carries_the_human_readable_parentheses(symbology: bytes) -> None:
    # Only a person typing the label's text line writes "(01)...": a symbol encodes AIs bare.
    scan = decode(symbology + f"(01){GTIN}(10)ABC".encode())
    assert scan.gs1 is None and scan.text is None
    assert scan.problem is not None and scan.problem.startswith("not a valid GS1 code")


def test_a_plain_symbol_with_parentheses_is_text_not_gs1() -> None:
    scan = decode(f"]Q1(01){GTIN}(10)ABC".encode())
    assert (scan.text, scan.gs1, scan.problem) == (f"(01){GTIN}(10)ABC", None, None)


ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
DEVANAGARI = str.maketrans("0123456789", "०१२३४५६७८९")


@pytest.mark.parametrize("digits", [ARABIC_INDIC, DEVANAGARI])
@pytest.mark.parametrize(
    "label",
    [
        f"]C101{GTIN}",
        f"]C101{GTIN}10ABC",
        f"(01){GTIN}",
        f"(01){GTIN}(37)12",
        f"\x1d01{GTIN}10L-7\x1d3003",
    ],
)
def test_gtins_in_other_scripts_digits_are_refused(label: str, digits: dict[int, str]) -> None:
    """GS1 allows the digits 0-9 only; `\\d` also matches every other script's digits."""
    last = label.rindex(GTIN[-1])  # the GTIN's check digit, written in another script
    foreign = label[:last] + label[last].translate(digits) + label[last + 1 :]
    scan = decode(foreign.encode())
    assert scan.gs1 is None and scan.text is None, scan
    assert scan.problem is not None and "not a valid GS1 code" in scan.problem


@pytest.mark.parametrize("digits", [ARABIC_INDIC, DEVANAGARI])
def test_counts_in_other_scripts_digits_are_refused(digits: dict[int, str]) -> None:
    scan = decode(f"]C101{GTIN}30{'12'.translate(digits)}".encode())
    assert scan.gs1 is None and scan.problem is not None
    assert "not a valid GS1 code" in scan.problem


# ---------------------------------------------------------------- GS1 Digital Link


@pytest.mark.parametrize("symbology", [b"]Q1", b"]Q3", b"]d2", b""])
@pytest.mark.parametrize("domain", ["id.gs1.org", "qr.supplier.example", "example.com/dl/v2"])
def test_a_digital_link_reads_like_its_element_string(symbology: bytes, domain: str) -> None:
    link = f"https://{domain}/01/{GTIN}/10/ABC123?17=261231&30=5&11=260601"
    scan = decode(symbology + link.encode())
    assert (scan.text, scan.problem) == (link, None)
    assert scan.gs1 == GS1Fields(
        gtin=GTIN,
        lot="ABC123",
        quantity=Decimal(5),
        expiry=date(2026, 12, 31),
        produced=date(2026, 6, 1),
    )
    elements = decode(f"]C101{GTIN}10ABC123\x1d17261231301\x1d".encode())
    assert elements.gs1 is not None and scan.gs1.gtin == elements.gs1.gtin


def test_a_digital_link_with_a_short_gtin_and_an_sscc_primary_key() -> None:
    # A GTIN-13 in the path is padded to 14 digits; an SSCC link names its contents by AI 02.
    assert decode(b"https://id.gs1.org/01/9506000134352").gs1 == GS1Fields(GTIN, None, None)
    pallet = decode(f"]Q1https://id.gs1.org/00/106141412345678908?02={GTIN}&37=25".encode())
    assert pallet.gs1 == GS1Fields(gtin=GTIN, lot=None, quantity=Decimal(25))


@pytest.mark.parametrize(
    "url",
    [
        "https://www.example.com/products/powder-coat",
        "https://example.com/01/intro",
        "http://intranet/bin/A-01",
        "https://example.com/?01=09506000134352",
    ],
)
def test_a_url_that_is_not_a_digital_link_is_plain_text(url: str) -> None:
    scan = decode(b"]Q1" + url.encode())
    assert (scan.text, scan.gs1, scan.problem) == (url, None, None)


def test_a_digital_link_with_a_bad_check_digit_is_not_a_valid_gs1_code() -> None:
    scan = decode(b"]Q1https://id.gs1.org/01/09506000134353/10/A")
    assert scan.gs1 is None and scan.problem is not None
    assert "not a valid GS1 code" in scan.problem


def test_gs1_128_cannot_carry_a_url() -> None:
    scan = decode(f"]C1https://id.gs1.org/01/{GTIN}".encode())
    assert scan.problem is not None and "not a valid GS1 code" in scan.problem


# ---------------------------------------------------------------- measures and dates


@pytest.mark.parametrize(
    ("label", "measure"),
    [
        (f"]C101{GTIN}3103012500", Measure(Decimal("12.500"), "kg", "3103")),
        (f"(01){GTIN}(3102)001250", Measure(Decimal("12.50"), "kg", "3102")),
        (f"]d201{GTIN}3111000150", Measure(Decimal("15.0"), "m", "3111")),
        (f"]C101{GTIN}3150000750", Measure(Decimal("750"), "l", "3150")),
        (f"]C101{GTIN}3202000125", Measure(Decimal("1.25"), "lb", "3202")),
        (f"https://id.gs1.org/01/{GTIN}?3103=012500", Measure(Decimal("12.5"), "kg", "3103")),
    ],
)
def test_net_measures_are_read_with_their_unit(label: str, measure: Measure) -> None:
    scan = decode(label.encode())
    assert scan.gs1 is not None and scan.gs1.measures == (measure,)


def test_widths_and_gross_weights_are_not_the_quantity() -> None:
    scan = decode(f"]C101{GTIN}31220012003300025000".encode())  # width 1.2 m, gross 25 kg
    assert scan.gs1 is not None and scan.gs1.measures == ()


def test_expiry_and_production_dates() -> None:
    scan = decode(f"]C101{GTIN}17270300112603011042\x1d".encode())
    assert scan.gs1 is not None
    # DD 00 is the month's last day, in GS1 and in biip.
    assert (scan.gs1.expiry, scan.gs1.produced, scan.gs1.lot) == (
        date(2027, 3, 31),
        date(2026, 3, 1),
        "42",
    )


def test_an_impossible_date_is_not_a_valid_gs1_code() -> None:
    scan = decode(f"]C101{GTIN}17261331".encode())
    assert scan.problem is not None and "not a valid GS1 code" in scan.problem


def test_one_ai_twice_with_different_data_is_not_a_valid_gs1_code() -> None:
    scan = decode(f"]C101{GTIN}31030125003103000500".encode())
    assert scan.problem == "not a valid GS1 code: AI (3103) appears twice with different data"
    # The same data twice is only redundant.
    again = decode(f"]C101{GTIN}31030125003103012500".encode())
    assert again.gs1 is not None and again.gs1.measures[0].amount == Decimal("12.5")
