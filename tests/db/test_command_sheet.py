"""The command sheet's content (db.documents): every mode and command the grammar reads."""

from __future__ import annotations

from db.context_labels import NUMBER_PAD
from db.documents import command_sheet
from db.grammar import COMMAND_WORDS
from db.schema import MODES

COMMANDS = (
    {f"CMD:MODE:{m}" for m in "RECEIVE ISSUE RETURN MOVE PROGRESS SCRAP COUNT SHIP".split()}
    | {"CMD:DONE", "CMD:UNDO", "CMD:CANCEL", "CMD:SIGNOUT"}
    | {f"QTY:{n}" for n in (*range(1, 11), 12, 20, 24, 25, 50, 100)}
    | {f"NUM:{key}" for key in "0123456789."}
    | {"NUM:CLR"}
)


def test_command_sheet_groups() -> None:
    groups = command_sheet()
    assert [title for title, _ in groups] == ["Modes", "Actions", "Quantities", "Number pad"]
    values = [label.value for _, labels in groups for label in labels]
    assert len(values) == len(set(values)) and set(values) == COMMANDS
    assert [label.value for label in groups[0][1]][:2] == ["CMD:MODE:RECEIVE", "CMD:MODE:ISSUE"]
    assert all(label.title for _, labels in groups for label in labels)


def test_command_sheet_prints_every_mode_and_command_the_grammar_reads() -> None:
    printed = {label.value for _, labels in command_sheet() for label in labels}
    assert {f"CMD:MODE:{mode}" for mode in MODES} <= printed
    assert {f"CMD:{word}" for word in COMMAND_WORDS} <= printed
    assert {f"NUM:{key}" for key in NUMBER_PAD} <= printed


def test_the_number_pad_is_laid_out_as_a_calculators_keys() -> None:
    # Four to a row on the sheet: 7 8 9 Clear / 4 5 6 point / 1 2 3 0.
    [pad] = [labels for title, labels in command_sheet() if title == "Number pad"]
    assert [label.value[4:] for label in pad] == [
        "7", "8", "9", "CLR", "4", "5", "6", ".", "1", "2", "3", "0",
    ]  # fmt: skip
    assert [label.title for label in pad][3::4] == ["Clear: start again", "Decimal point", "0"]
