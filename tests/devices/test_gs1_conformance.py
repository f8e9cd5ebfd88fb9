"""The decoder against biip, the GS1 parser it falls back on: every input biip's own test
suite feeds its parsers (tests/devices/biip_test_values.json, extracted once, with its
source and version), and a seeded property test over generated GS1 labels.

Each input must decode without raising, keep its raw bytes, and have text exactly when
it has no problem. Where the regex fast path answers, it must read what biip reads.
The whole decoder reads what biip reads too, except where GS1 is stricter than biip and
the decoder follows GS1 (`_STRICTER`): an element string with no data, digits outside
0-9, one AI twice with different data. `test_agreement_figures` prints the count.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.decode import GS1Fields, Measure, _item_label, bare_gs1, decode

pytestmark = pytest.mark.timeout(120)

FIXTURE = Path(__file__).with_name("biip_test_values.json")
BIIP_VALUES: list[dict[str, str]] = json.loads(FIXTURE.read_text(encoding="utf-8"))["values"]
GS = "\x1d"

# The reasons the decoder refuses what biip reads, each a GS1 rule biip does not hold.
_STRICTER = (
    "with data after every AI",  # biip's HRI parser skips "(30)" with nothing after it
    "digits are 0-9 only",  # biip's \d takes any script's digits
    "has no data after it",  # GS1 data is at least one character; biip takes "30" bare
    "appears twice with different data",  # GS1 forbids it; biip reads the first
)


@dataclass(frozen=True)
class Reading:
    """What one parser made of a label: the floor's fields, or None for no item."""

    fields: GS1Fields | None


def _as_scanned(value: str, entry: str) -> list[bytes]:
    """The lines a scanner (or a person) would send for one of biip's inputs."""
    if entry == "elements":
        return [b"]C1" + value.encode(), (GS + value).encode()]
    if entry == "link":
        return [value.encode(), b"]Q1" + value.encode()]
    return [value.encode()]


# ---------------------------------------------------------------- biip's reading


_MEASURE_UNITS = {"310": "kg", "311": "m", "314": "m2", "315": "l", "316": "m3", "320": "lb"}


def _biip_fields(element_strings: Any) -> GS1Fields | None:
    """The floor's fields from biip's element strings, read independently of the decoder."""
    item = element_strings.get(ai="01") or element_strings.get(ai="02")
    if item is None or item.gtin is None:
        return None
    lot = element_strings.get(ai="10")
    count = element_strings.get(ai="37") or element_strings.get(ai="30")
    measures = []
    for element in element_strings:
        unit = _MEASURE_UNITS.get(element.ai.ai[:3])
        if unit is not None and element.decimal is not None:
            measures.append(Measure(element.decimal, unit, element.ai.ai))
    expiry, produced = element_strings.get(ai="17"), element_strings.get(ai="11")
    return GS1Fields(
        gtin=item.value,
        lot=lot.value if lot else None,
        quantity=Decimal(int(count.value)) if count and count.value else None,
        measures=tuple(measures),
        expiry=expiry.date if expiry else None,
        produced=produced.date if produced else None,
    )


def _biip_reading(raw: bytes) -> Reading | None:
    """biip's answer for a scanned line (None: biip refuses it)."""
    import biip
    from biip.gs1_digital_link_uris import GS1DigitalLinkURI
    from biip.gs1_messages import GS1Message

    text = raw.decode("utf-8").strip()
    try:
        if text.lower().startswith(("http://", "https://")):
            return Reading(_biip_fields(GS1DigitalLinkURI.parse(text).element_strings))
        if text.startswith("]C1"):
            return Reading(_biip_fields(GS1Message.parse(text[3:]).element_strings))
        if text.startswith("]Q1"):
            return Reading(_biip_fields(GS1DigitalLinkURI.parse(text[3:]).element_strings))
        if text.startswith("("):
            return Reading(_biip_fields(GS1Message.parse_hri(text).element_strings))
        result = biip.parse(text)
    except Exception:
        return None
    if result.gs1_message is not None:
        return Reading(_biip_fields(result.gs1_message.element_strings))
    if result.gs1_digital_link_uri is not None:
        return Reading(_biip_fields(result.gs1_digital_link_uri.element_strings))
    return Reading(None)


# ---------------------------------------------------------------- the comparison


@dataclass(frozen=True)
class Verdict:
    raw: bytes
    outcome: str  # agree, stricter, disagree
    detail: str = ""

    @property
    def rule(self) -> str:
        """Which GS1 rule a stricter verdict follows."""
        return next((rule for rule in _STRICTER if rule in self.detail), "")


def _judge(raw: bytes) -> Verdict:
    scan = decode(raw)  # must not raise
    assert scan.raw == raw
    assert (scan.text is None) == (scan.problem is not None)
    theirs = _biip_reading(raw)
    # What the record acts on: a bare "01<gtin>..." with no identifier is read as GS1
    # when no registry value matched it (db.resolve).
    bare = bare_gs1(scan)
    ours = scan.gs1 if bare is None else bare.gs1
    if theirs is None or theirs.fields is None:
        # biip reads no item: the decoder must not invent one.
        if ours is None:
            return Verdict(raw, "agree")
        return Verdict(raw, "disagree", f"decoder read {ours}, biip no item")
    if ours == theirs.fields:
        return Verdict(raw, "agree")
    if scan.problem is not None and any(rule in scan.problem for rule in _STRICTER):
        return Verdict(raw, "stricter", scan.problem)
    return Verdict(raw, "disagree", f"decoder {ours or scan.problem}, biip {theirs.fields}")


def _fast_path_agrees(raw: bytes) -> bool | None:
    """None when the fast path does not answer; else whether it reads what biip reads."""
    text = raw.decode("utf-8").strip()
    if text.startswith("]C1"):
        content, hri = text[3:], False
    elif text.startswith("("):
        content, hri = text, True
    else:
        content, hri = text, False
    fast = _item_label(content, hri=hri)
    if fast is None:
        return None
    theirs = _biip_reading(raw)
    return theirs is not None and theirs.fields == fast


ALL_LINES = [raw for case in BIIP_VALUES for raw in _as_scanned(case["value"], case["entry"])]


def test_the_fixture_names_its_source_and_biip_version() -> None:
    about = json.loads(FIXTURE.read_text(encoding="utf-8"))
    assert about["source"]["repo"] == "https://github.com/jodal/biip"
    assert len(about["source"]["commit"]) == 40
    assert about["biip_version"].startswith("5.")
    assert len(BIIP_VALUES) > 150


@pytest.mark.parametrize("raw", ALL_LINES, ids=[repr(r)[2:40] for r in ALL_LINES])
def test_biip_test_value_decodes_as_biip_reads_it(raw: bytes) -> None:
    verdict = _judge(raw)
    assert verdict.outcome != "disagree", verdict.detail
    assert _fast_path_agrees(raw) is not False


def test_agreement_figures(capsys: pytest.CaptureFixture[str]) -> None:
    verdicts = Counter(_judge(raw).outcome for raw in ALL_LINES)
    fast = Counter(_fast_path_agrees(raw) for raw in ALL_LINES)
    with capsys.disabled():
        print(
            f"\nbiip's test values: {len(BIIP_VALUES)} inputs, {len(ALL_LINES)} scanned lines; "
            f"decoder == biip {verdicts['agree']}, stricter than biip (GS1's rules) "
            f"{verdicts['stricter']}, disagree {verdicts['disagree']}; fast path answered "
            f"{fast[True] + fast[False]}, agreed {fast[True]}"
        )
    assert verdicts["disagree"] == 0
    assert fast[False] == 0


# ---------------------------------------------------------------- generated labels

# GS1's character set 82, the characters of a lot number.
_CSET82 = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
# Digits of other scripts (Arabic-Indic, Extended Arabic-Indic, Devanagari, fullwidth).
_FOREIGN_DIGITS = "٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹०१२३४५६७८९０１２３４５６７８９"


def _check_digit(body: str) -> str:
    # int() reads any script's digits, so a foreign-digit GTIN gets a right check digit.
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def _digits(rng: random.Random, n: int, *, foreign: float = 0.0) -> str:
    return "".join(
        rng.choice(_FOREIGN_DIGITS) if rng.random() < foreign else rng.choice("0123456789")
        for _ in range(n)
    )


def _element(rng: random.Random) -> tuple[str, str, bool]:
    """One element string: (AI, data, variable length), sometimes broken on purpose."""
    kind = rng.randrange(6)
    if kind == 0:  # a lot, now and then empty or one character too long
        return (
            "10",
            "".join(rng.choice(_CSET82.replace("(", "")) for _ in range(rng.randint(0, 21))),
            True,
        )
    if kind == 1:
        return "21", _digits(rng, rng.randint(1, 20)), True
    if kind == 2:  # a count, now and then with no digits or in another script's digits
        return rng.choice(["30", "37"]), _digits(rng, rng.randint(0, 9), foreign=0.05), True
    if kind == 3:  # a date, now and then impossible (month 13, day 32)
        day = f"{rng.randint(0, 99):02d}{rng.randint(1, 13):02d}{rng.randint(0, 32):02d}"
        return rng.choice(["11", "13", "15", "17"]), day, False
    if kind == 4:
        ai = rng.choice(["3100", "3102", "3103", "3105", "3111", "3150", "3202", "3300", "3122"])
        return ai, _digits(rng, 6), False
    return "37", _digits(rng, rng.randint(1, 8)), True


_FORMS = ("]C1", "]d2", "]J1", "gs", "hri", "link", "]Q1link", "]C1hri")


def gs1_label(rng: random.Random) -> bytes:
    """A GS1 label as a scanner or a person sends it: mostly well-formed, sometimes not."""
    body = _digits(rng, 13, foreign=0.01)
    gtin = _check_digit(body) if rng.random() < 0.9 else body + rng.choice("0123456789")
    ai = rng.choice(["01", "02"])
    elements = [_element(rng) for _ in range(rng.randint(0, 4))]
    if rng.random() < 0.9:  # mostly each AI once, as GS1 wants; now and then twice
        elements = list({ai: (ai, data, variable) for ai, data, variable in elements}.values())
    form = rng.choice(_FORMS)
    if form.endswith("hri"):
        text = f"({ai}){gtin}" + "".join(f"({a}){d}" for a, d, _ in elements)
        return (("]C1" if form == "]C1hri" else "") + text).encode()
    if form.endswith("link"):
        host = rng.choice(["id.gs1.org", "qr.supplier.example", "example.com/dl"])
        query = "&".join(f"{a}={d}" for a, d, _ in elements if "&" not in d and "#" not in d)
        link = f"https://{host}/{ai}/{gtin}" + (f"?{query}" if query else "")
        return (form[:3] if form.startswith("]") else "").encode() + link.encode()
    text = f"{ai}{gtin}"
    for a, d, variable in elements:
        text += a + d + (GS if variable and rng.random() < 0.8 else "")
    return ({"gs": GS}.get(form, form) + text).encode()


def _judge_generated(raw: bytes) -> Verdict:
    if raw.startswith(b"]J1"):
        # biip does not know DotCode's identifier: it reads the same data as GS1-128.
        assert decode(raw).gs1 == decode(b"]C1" + raw[3:]).gs1
        raw = b"]C1" + raw[3:]
    assert _fast_path_agrees(raw) is not False
    return _judge(raw)


@settings(max_examples=1500, deadline=None, derandomize=True)
@given(st.randoms(use_true_random=False))
def test_generated_gs1_labels_never_crash_and_read_as_biip_reads_them(
    rng: random.Random,
) -> None:
    raw = gs1_label(rng)
    verdict = _judge_generated(raw)
    assert verdict.outcome != "disagree", verdict.detail


def test_generated_label_figures() -> None:
    """The seeded fuzz as figures: 20,000 labels, none crash, none disagree with biip."""
    rng = random.Random(15)
    verdicts: Counter[str] = Counter()
    rules: Counter[str] = Counter()
    fast: Counter[bool | None] = Counter()
    disagreements = []
    for _ in range(20_000):
        raw = gs1_label(rng)
        verdict = _judge_generated(raw)
        verdicts[verdict.outcome] += 1
        rules[verdict.rule] += verdict.outcome == "stricter"
        fast[_fast_path_agrees(raw)] += 1
        if verdict.outcome == "disagree":
            disagreements.append(verdict)
    print(
        f"\ngenerated labels: 20000; decoder == biip {verdicts['agree']}, stricter than "
        f"biip {verdicts['stricter']} ({dict(+rules)}), disagree {verdicts['disagree']}; "
        f"fast path answered {fast[True] + fast[False]}, agreed {fast[True]}"
    )
    assert disagreements == [] and fast[False] == 0
