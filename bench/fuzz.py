"""Long fuzz run: the suite's fuzzers (tests/helpers/fuzzing.py) with many examples per operation.

    .venv/bin/python bench/fuzz.py --examples 200 [--postgres postgresql://postgres@127.0.0.1:5432/test] [--json out.json]

Starts a live server on loopback (SQLite under a temporary LV_HOME, or a throw-away PostgreSQL database), fuzzes every
operation of its OpenAPI document (schemathesis) and of the botocore service model (hypothesis strategies from the
shapes, sent by boto3), and prints the answers by status class. Any 5xx or dropped connection is listed; the target
is none.
"""

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from service.settings import Settings
from tests.helpers.databases import POSTGRES_URL_ENV, database_url
from tests.helpers.fuzzing import FuzzReport, describe, fuzz_openapi, fuzz_service_model
from tests.helpers.live_server import LiveServer, run_live_server
from tests.reliability.test_fuzz import openapi_document


def run_fuzzers(server: LiveServer, examples: int) -> dict[str, dict[str, Any]]:
    results = {}
    fuzzers = {
        "openapi": lambda report: fuzz_openapi(server, openapi_document(server), examples=examples, report=report),
        "service model": lambda report: fuzz_service_model(server, examples=examples, report=report),
    }
    for name, run in fuzzers.items():
        report = FuzzReport()
        started = time.monotonic()
        run(report)
        seconds = time.monotonic() - started
        operations = len({operation for operation, _ in report.answers})
        results[name] = {
            "operations": operations,
            "requests": sum(report.answers.values()),
            "by_status": dict(report.totals()),
            "findings": report.findings,
            "seconds": round(seconds, 1),
        }
        print(f"{name}: {operations} operations, {seconds:.0f} s")
        for line in describe(report):
            print("  " + line)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=200, help="generated requests per operation and fuzzer")
    parser.add_argument("--postgres", help="PostgreSQL admin URL (default: SQLite)")
    parser.add_argument("--json", type=Path, help="write the counts here")
    args = parser.parse_args()
    if args.postgres:
        os.environ[POSTGRES_URL_ENV] = args.postgres
    backend = "postgres" if args.postgres else "sqlite"
    with (
        tempfile.TemporaryDirectory(prefix="lv-bench-fuzz-") as scratch,
        database_url(backend, Path(scratch)) as url,
        run_live_server(Settings(home=Path(scratch), database_url=url)) as server,
    ):
        results = run_fuzzers(server, args.examples)
    print("| fuzzer | operations | requests | 2xx | 4xx | 5xx or dropped | seconds |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, row in results.items():
        statuses = row["by_status"]
        bad = statuses.get("5xx", 0) + statuses.get("dropped", 0)
        print(
            f"| {name} | {row['operations']} | {row['requests']} | {statuses.get('2xx', 0)} | "
            f"{statuses.get('4xx', 0)} | {bad} | {row['seconds']} |"
        )
    if args.json:
        args.json.write_text(json.dumps({"backend": backend, "examples": args.examples, "results": results}, indent=2))
    return 1 if any(row["findings"] for row in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
