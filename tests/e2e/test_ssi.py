"""SSI scanners through `shopfloor listen` killed with kill -9 (issue 14): every scan is
posted exactly once or the scanner sounded its transmit error; a rejected scan sounds
the host's error beep at the scanner. The scene is the benchmark's (`python -m bench
ssi` runs it with 5,000 scans); here a few hundred and two kills keep CI quick."""

from __future__ import annotations

from pathlib import Path

from bench.ssi_bench import run_kill_scene


def test_kill_9_loses_no_ssi_scan_in_silence_and_doubles_none(tmp_path: Path) -> None:
    scene = run_kill_scene(tmp_path, scans=300, scanners=4, kill_after=(70, 170))
    assert scene.kills == 2
    # Both kills hit the narrow moment: a scan committed, its ACK not sent. The scanner
    # resends it to the next run, which must answer it without posting it again.
    assert scene.caught_unanswered == 2
    assert len(scene.sent) == 300
    assert scene.silently_lost == 0, "acknowledged scans missing from the ledger"
    assert scene.doubled == 0, "scans posted twice"
    # Every acknowledged receipt is in the ledger once; a failed one only if the
    # scanner's error sounded (the operator was told).
    assert len(scene.acked) + len(scene.failed) == 300
    assert scene.rejections, "the scene sends unknown labels"
    assert scene.rejections_beeped == len(scene.rejections)
    assert "Traceback" not in scene.listen_output
