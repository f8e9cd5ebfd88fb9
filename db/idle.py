"""Signing a station out when nobody scanned there for a while (SPEC §4: "also automatic
after the station's idle time").

A station is idle once no scan reached it for `signout_idle_min` minutes (a setting,
default 30). Its newest journal row says when it was last used, or its session's last
change when that is later (a badge signed in through an older path has no journal row).

Three places sign an idle station out, all through here:
- the pipeline (db/pipeline.py), when the next scan arrives there, before that scan is
  interpreted: the scan's outcome says who was signed out (`IdleClock`);
- the pipeline again, once per commit, for every other idle station (`sign_out_idle`);
- the station screen, when the sign-out time it read passes with no scan
  (`sign_out_idle` for its station), so nobody stays signed in on screen or in the row.
A sign-out made without a scan leaves its words in the session's prompt (what the
station shows), and the next scan there says them in its outcome: the journal is where
every sign-out is kept. Until any of that happened, `idle_view` reads the session as it
will be, so a station never shows somebody signed in past the idle time.

Apart from db/sessions.py, which db/refusals.py reads: the setting lives in db/roles.py.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from db.connection import transaction
from db.roles import minutes_setting
from db.sessions import Session, load_session, save_session

SIGNOUT_IDLE_MIN = "signout_idle_min"
SIGNOUT_IDLE_DEFAULT_MIN = 30.0
# How a sign-out made without a scan ends the station's prompt (and is found again).
_STILL_TO_SAY = ": scan your badge to sign in"


def idle_minutes(conn: sqlite3.Connection) -> float:
    """How long a station may go without a scan before its operator is signed out."""
    return minutes_setting(conn, SIGNOUT_IDLE_MIN, SIGNOUT_IDLE_DEFAULT_MIN)


def last_used_ms(
    conn: sqlite3.Connection, station: str, *, before_scan: int | None = None
) -> int | None:
    """When the station last saw a scan (journal rows before `before_scan`), or its
    session last changed, whichever is later; None if neither ever happened."""
    journal = conn.execute(
        "SELECT time_ms FROM scan_journal WHERE station = ? AND id < ? ORDER BY id DESC LIMIT 1",
        (station, before_scan if before_scan is not None else 2**62),
    ).fetchone()
    session = conn.execute(
        "SELECT updated_ms FROM station_sessions WHERE station = ?", (station,)
    ).fetchone()
    times = [int(row[0]) for row in (journal, session) if row is not None and row[0] is not None]
    return max(times) if times else None


def signed_out_words(name: str, minutes: float) -> str:
    """What a person reads when the idle time signed someone out."""
    return f"{name} signed out after {minutes:g} min idle"


def operator_name(conn: sqlite3.Connection, badge: str) -> str:
    row = conn.execute("SELECT name FROM operators WHERE badge = ?", (badge,)).fetchone()
    return str(row[0]) if row is not None else badge


def _still_to_say(conn: sqlite3.Connection, station: str) -> str | None:
    """The words of a sign-out made without a scan, if no scan at the station said them yet."""
    row = conn.execute(
        "SELECT prompt FROM station_sessions WHERE station = ? AND operator IS NULL", (station,)
    ).fetchone()
    prompt = str(row[0]) if row is not None and row[0] is not None else ""
    if prompt.endswith(_STILL_TO_SAY) and " min idle" in prompt:
        return prompt[: -len(_STILL_TO_SAY)]
    return None


@dataclass
class IdleClock:
    """What the pipeline keeps per batch: each station's last use and the setting, read
    once, so a burst of scans at one station costs one look at the journal."""

    minutes: float | None = None
    last_used: dict[str, int] = field(default_factory=dict)

    def sign_out_if_idle(
        self, conn: sqlite3.Connection, session: Session, scan_id: int, at_ms: int
    ) -> str | None:
        """Sign the session's operator out (in place, context cleared) if the station was
        idle before this scan: the words saying who, or None. Also the words of a
        sign-out made since the station's last scan, which this scan is the first to see."""
        station = session.station
        last = self.last_used.get(station)
        self.last_used[station] = max(at_ms, last or at_ms)
        if session.operator is None:
            return None if last is not None else _still_to_say(conn, station)
        if last is None:
            last = last_used_ms(conn, station, before_scan=scan_id)
        if self.minutes is None:
            self.minutes = idle_minutes(conn)
        if last is None or at_ms - last < self.minutes * 60_000:
            return None
        words = signed_out_words(operator_name(conn, session.operator), self.minutes)
        session.operator = None
        session.clear_context()
        return words

    def forget(self, station: str) -> None:
        """A line was rolled back: the station's last use is read again from the file."""
        self.last_used.pop(station, None)


def sign_out_idle(
    conn: sqlite3.Connection, now_ms: int, *, station: str | None = None
) -> list[str]:
    """Sign out every station (or just `station`) idle at `now_ms`; the words of each.

    Joins the caller's transaction (the pipeline's commit) or takes a short one. The
    prompt keeps who was signed out until the next scan there says it."""
    with transaction(conn):
        # Each signed-in station's last use, by the journal's (station, id) index: one
        # cheap query per commit while nobody is idle.
        query = (
            "SELECT s.station, s.operator, MAX(s.updated_ms, COALESCE((SELECT j.time_ms "
            "FROM scan_journal j WHERE j.station = s.station ORDER BY j.id DESC LIMIT 1), 0)) "
            "AS last_used FROM station_sessions s WHERE s.operator IS NOT NULL"
        )
        args: tuple[str, ...] = ()
        if station is not None:
            query, args = query + " AND s.station = ?", (station,)
        signed_in = conn.execute(query, args).fetchall()
        if not signed_in:
            return []
        minutes = idle_minutes(conn)
        said = []
        for code, badge, last in signed_in:
            if now_ms - int(last) < minutes * 60_000:
                continue
            session = load_session(conn, code)
            if session is None:
                continue
            words = signed_out_words(operator_name(conn, badge), minutes)
            session.operator = None
            session.clear_context()
            save_session(conn, session, words + _STILL_TO_SAY)
            said.append(words)
        return said


@dataclass(frozen=True)
class IdleState:
    """A station's sign-in as the idle time leaves it, at some moment."""

    signed_out: str | None  # who the idle time signed out (the words), else None
    signs_out_at_ms: int | None  # when the operator still signed in will be signed out


def idle_view(
    conn: sqlite3.Connection, station: str, operator: str | None, now_ms: int
) -> IdleState:
    """Whether `operator`, signed in at `station` per its session, is still signed in at
    `now_ms` or signed out by the idle time (whether or not that was written yet)."""
    if operator is None:
        return IdleState(_still_to_say(conn, station), None)
    last = last_used_ms(conn, station)
    if last is None:
        return IdleState(None, None)
    minutes = idle_minutes(conn)
    deadline = last + int(minutes * 60_000)
    if now_ms >= deadline:
        return IdleState(signed_out_words(operator_name(conn, operator), minutes), None)
    return IdleState(None, deadline)
