"""Ingest: a 1,000,000-row ticket-sales CSV validated against its contract, encrypted and written
as a Parquet version by `culturemesh run`, against plain pyarrow `read_csv` + `write_table` of the
same file in the same run (no checks, no encryption), each as a fresh process. Also the peak
memory of `culturemesh run` (its own process) on the same file.

Goal (issue 5): ratio plain/culturemesh >= 0.5.
"""

from __future__ import annotations

import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from _mesh import REPO

ROWS = int(os.environ.get("BENCH_ROWS", "1000000"))
GOAL = 0.5
HEADER = "ticket_id,event_id,venue,sold_at,event_date,price,quantity,channel,buyer_postal_code\n"
VENUES = ["deSingel", '"AB Ancienne Belgique"', "Vooruit", '"Concertgebouw Brugge"', "STUK", '"Het Depot"']


PLAIN = """
import sys
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
pq.write_table(pacsv.read_csv(sys.argv[1]), sys.argv[2], compression="zstd")
"""


def make_csv(path: Path, rows: int) -> None:
    rng = random.Random(7)
    with path.open("w") as out:
        out.write(HEADER)
        for i in range(rows):
            out.write(
                f"T-{i:08d},e-{rng.randint(1, 400):04d},{rng.choice(VENUES)},2026-11-{rng.randint(1, 28):02d} "
                f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00,2026-12-{rng.randint(1, 31):02d},"
                f"{rng.choice(['12.50', '18.00', '25.00', '7.50'])},{rng.randint(1, 6)},"
                f"{rng.choice(['online', 'box-office', 'uitpas'])},{rng.choice(['2000', '9000', '1000', ''])}\n"
            )


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="culturemesh-bench-"))
    source = folder / "sales.csv"
    make_csv(source, ROWS)
    size_mb = source.stat().st_size / 1e6

    # culturemesh first: a child forked from a parent that has just read the file with pyarrow
    # would inherit (and report) the parent's resident memory.
    env = {k: v for k, v in os.environ.items() if not k.startswith("CULTUREMESH_")}
    env.update(CULTUREMESH_HOME=str(folder / "home"), CULTUREMESH_PROJECT=str(REPO), CULTUREMESH_LOG_LEVEL="warning")
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "culturemesh", "run", "ticket-sales", "--input", str(source)],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    culturemesh = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    if result.returncode != 0:
        raise SystemExit(f"culturemesh run failed: {result.stderr[-2000:]}")

    # The fixed cost of a run (process start, imports, descriptor, keys, one version's commit),
    # measured on the first 1,000 rows: what is left of the difference is per-row work.
    small = folder / "small.csv"
    with source.open() as full, small.open("w") as out:
        out.writelines(line for _, line in zip(range(1001), full, strict=False))
    start = time.perf_counter()
    fixed_run = subprocess.run(
        [sys.executable, "-m", "culturemesh", "run", "ticket-sales", "--input", str(small)],
        env={**env, "CULTUREMESH_HOME": str(folder / "home-small")},
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    fixed = time.perf_counter() - start
    if fixed_run.returncode != 0:
        raise SystemExit(f"culturemesh run failed: {fixed_run.stderr[-2000:]}")

    # The baseline as a command too: a fresh Python process that imports pyarrow, reads and
    # writes, so both sides pay for a process start and neither for the other's state.
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", PLAIN, str(source), str(folder / "plain.parquet")], check=True)
    plain = time.perf_counter() - start
    start = time.perf_counter()
    pq.write_table(pacsv.read_csv(source), folder / "plain-in-process.parquet", compression="zstd")
    in_process = time.perf_counter() - start

    print(f"rows {ROWS}, file {size_mb:.0f} MB")
    print(f"plain pyarrow read_csv + write_table   {plain:6.2f} s (a process; in this one {in_process:.2f} s)")
    print(f"culturemesh run (checked, encrypted)   {culturemesh:6.2f} s (a process)")
    print(f"  of which fixed (a 1,000-row run)     {fixed:6.2f} s")
    print(f"culturemesh run peak resident memory   {peak_mb:6.0f} MB")
    print(f"ratio ingest_vs_plain_pyarrow = {plain / culturemesh:.2f} (goal >= {GOAL})")


if __name__ == "__main__":
    main()
