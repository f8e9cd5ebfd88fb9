"""Benchmark: PNG barcode labels rendered per second, against the §7 target of 200/s.

Run with `python -m bench.labels_bench [N]`. The labels cycle through the three stock
sizes and realistic values (work orders, commands, quantities, locations, long skus,
GS1), so the figure covers layout, text fitting, bars and PNG encoding together.
"""

from __future__ import annotations

import sys
import time

from devices.labels import SIZES, GS1Content, Label, render_png

TARGET_PER_S = 200.0


def sample_labels(n: int) -> list[tuple[Label, str]]:
    """`n` distinct labels, each with the size it is rendered at."""
    sizes = list(SIZES)
    out: list[tuple[Label, str]] = []
    for i in range(n):
        kind = i % 6
        if kind == 0:
            label = Label(f"WO-{1000 + i}", "Gearbox housing GX-200", (f"Qty {i % 90 + 1}",))
        elif kind == 1:
            label = Label("CMD:MODE:PROGRESS", "Progress mode", ("Units completed at a stage",))
        elif kind == 2:
            label = Label(f"QTY:{i % 100 + 1}", f"Quantity {i % 100 + 1}")
        elif kind == 3:
            label = Label(f"LOC-{chr(65 + i % 26)}{i % 100:02d}", "Storeroom rack", ("Zone 1",))
        elif kind == 4:
            label = Label(f"RM-{i:06d}-STEEL-BAR", "Steel bar 20 mm, cut to length", ("kg",))
        else:
            content = GS1Content("09506000134352", f"L{i:05d}", i % 50 + 1)
            label = Label("SKU-1", "Bearing 6204", gs1=content)
        out.append((label, sizes[i % len(sizes)]))
    return out


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    n = int(args[0]) if args else 500
    labels = sample_labels(n)
    warm_label, warm_size = labels[0]
    render_png(warm_label, SIZES[warm_size])  # fonts loaded and cached before the clock
    start = time.perf_counter()
    total = 0
    for label, size in labels:
        total += len(render_png(label, SIZES[size]))
    elapsed = time.perf_counter() - start
    rate = n / elapsed
    print(
        f"PNG labels: {rate:.1f}/s  target {TARGET_PER_S:.0f}/s  "
        f"ratio {rate / TARGET_PER_S:.2f}x  ({n} labels, {total / n / 1024:.1f} KiB avg)"
    )
    return 0 if rate >= TARGET_PER_S else 1


if __name__ == "__main__":
    raise SystemExit(main())
