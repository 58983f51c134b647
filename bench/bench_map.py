"""Map: the OSLO Deelname mapping (functions/cultuurparticipatie/mappings/deelnames.yarrrml.yaml)
over 200,000 generated participations. Quads per second of `culturemesh map` (the in-process
engine plus N-Quads writing) against morph-kgc writing N-Quads for the same mapping and data, in
the same run (morph-kgc from its own venv, .venv/tools/morph-kgc; its process start and mapping
parse included, as ours: both timed as a whole command).

Goal (issue 6): ratio culturemesh/morph-kgc >= 10.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _mesh import REPO

ROWS = int(os.environ.get("BENCH_ROWS", "200000"))
GOAL = 10
MAPPING = REPO / "functions" / "cultuurparticipatie" / "mappings" / "deelnames.yarrrml.yaml"
MORPH_KGC = REPO / ".venv" / "tools" / "morph-kgc" / "bin" / "python"
AGES = ["0-11", "12-17", "18-25", "26-35", "36-50", "51-65", "66+", ""]


def make_csv(path: Path, rows: int) -> None:
    rng = random.Random(6)
    with path.open("w") as out:
        out.write("deelname_id,activiteit_id,participant_id,leeftijdsgroep,binnen,buiten\n")
        for i in range(rows):
            day, hour = rng.randint(1, 28), rng.randint(10, 21)
            leave = f"2026-11-{day:02d}T{hour + 2:02d}:{rng.randint(0, 59):02d}:00+01:00" if rng.random() < 0.7 else ""
            out.write(
                f"D-{i:08d},A-2026-{rng.randint(1, 2000):04d},p-{rng.randint(1, 80000):08x},{rng.choice(AGES)},"
                f"2026-11-{day:02d} {hour:02d}:{rng.randint(0, 59):02d}:00,{leave}\n"
            )


def count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))


def main() -> None:
    if not MORPH_KGC.exists():
        raise SystemExit(f"{MORPH_KGC} missing: `make .venv/tools/morph-kgc/bin/python` installs morph-kgc")
    folder = Path(tempfile.mkdtemp(prefix="culturemesh-bench-map-"))
    make_csv(folder / "deelnames.csv", ROWS)
    shutil.copy(MAPPING, folder / MAPPING.name)

    env = {k: v for k, v in os.environ.items() if not k.startswith("CULTUREMESH_")}
    env.update(CULTUREMESH_HOME=str(folder / "home"), CULTUREMESH_LOG_LEVEL="warning")
    ours_file = folder / "culturemesh.nq"
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "culturemesh", "map", MAPPING.name, "-o", str(ours_file)],
        cwd=folder, env=env, capture_output=True, text=True,
    )  # fmt: skip
    ours = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"culturemesh map failed: {result.stderr[-2000:]}")

    (folder / "morph.ini").write_text(
        f"[CONFIGURATION]\noutput_format=N-QUADS\noutput_file=morph.nq\n[Deelnames]\nmappings={MAPPING.name}\n"
    )
    start = time.perf_counter()
    result = subprocess.run(
        [str(MORPH_KGC), "-m", "morph_kgc", "morph.ini"], cwd=folder, capture_output=True, text=True
    )
    theirs = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"morph-kgc failed: {result.stderr[-2000:]}")

    our_quads, their_quads = count_lines(ours_file), count_lines(folder / "morph.nq")
    ours_rate, their_rate = our_quads / ours, their_quads / theirs
    print(f"rows {ROWS}; quads culturemesh {our_quads}, morph-kgc {their_quads}")
    print(f"culturemesh map (N-Quads)   {ours:6.2f} s  {ours_rate:12,.0f} quads/s (includes process start)")
    print(f"morph-kgc (N-Quads)         {theirs:6.2f} s  {their_rate:12,.0f} quads/s (includes process start)")
    shutil.rmtree(folder, ignore_errors=True)
    print(f"ratio map_vs_morph_kgc = {ours_rate / their_rate:.1f} (goal >= {GOAL})")


if __name__ == "__main__":
    main()
