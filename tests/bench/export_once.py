"""One export job, run in a fresh process, measured: `python -m tests.bench.export_once --url URL
--format csv --dir DIR` prints one JSON line (rows, seconds, rows/s, the process's resident
memory before the export and at its peak, and the file's size).

A process of its own, so that the peak resident set size (`resource.getrusage`, which only ever
grows) belongs to this one export and not to the data generation or an earlier, larger run.
The job is asked for as the national admin (every report) through the service, and run by the
same `run_next` the scheduler calls, with the production page size.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

from sqlalchemy import select


def resident_kib() -> int:
    """The current resident set size (VmRSS) in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--format", choices=("csv", "xlsx"), default="csv")
    parser.add_argument("--dir", required=True)
    args = parser.parse_args()

    from api.config import Settings
    from engine import personal_data
    from engine.db import make_engine, make_session_factory
    from engine.models import ExportJob, User
    from engine.services import auth, exports

    personal_data.configure(Settings.from_env().PERSONAL_DATA_KEY)
    engine = make_engine(args.url)
    factory = make_session_factory(engine)
    with factory() as session:
        user_id = session.scalar(select(User.id).where(User.username == "nasional"))
        assert user_id is not None, "the demo users are not loaded"
        principal = auth.principal_of(session, user_id)
    with factory() as session:
        job = exports.create(session, principal=principal, filters={}, fmt=args.format)
    before = resident_kib()
    started = time.perf_counter()
    ran = exports.run_next(factory, directory=args.dir, worker="bench")
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    with factory() as session:
        done = session.get(ExportJob, job.id)
        assert ran == job.id and done is not None and done.state == "done", done and done.state
        rows, size, name = done.rows_done, done.file_size, done.file_name
    (Path(args.dir) / str(name)).unlink()
    engine.dispose()
    print(
        json.dumps(
            {
                "format": args.format,
                "rows": rows,
                "seconds": round(seconds, 2),
                "rows_per_s": round(rows / seconds),
                "rss_before_kib": before,
                "rss_peak_kib": peak,
                "file_bytes": size,
            }
        )
    )


if __name__ == "__main__":
    main()
