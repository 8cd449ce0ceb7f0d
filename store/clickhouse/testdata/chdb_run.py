#!/usr/bin/env python3
"""Runs SQL statements through the current ClickHouse engine (chdb).

Used by TestQueriesCurrentEngine. Reads JSON from stdin:
  {"statements": [{"name": "...", "sql": "..."}, ...]}
and runs them in order in one in-process session (chdb has no server, so
the DDL and the queries must share the session). Writes JSON to stdout:
  {"version": "...", "results": [{"name": ..., "ok": bool, "error": str, "rows": str}]}
Exit status 0 whenever the run itself worked; per-statement failures are in
the results, so the Go test can name every failing query at once.
"""
import json
import sys

try:
    from chdb import session
except ImportError as e:  # the Go test skips (or fails in CI) on exit 3
    print(f"chdb not importable: {e}", file=sys.stderr)
    sys.exit(3)


def main() -> int:
    req = json.load(sys.stdin)
    sess = session.Session()
    version = str(sess.query("SELECT version()", "TSV")).strip()
    sess.query("CREATE DATABASE IF NOT EXISTS trendwatch")
    sess.query("USE trendwatch")
    results = []
    for st in req["statements"]:
        res = {"name": st["name"], "ok": True, "error": "", "rows": ""}
        try:
            out = sess.query(st["sql"], "TSV")
            res["rows"] = str(out)[:2000]
        except Exception as e:  # chdb raises its own error types
            res["ok"] = False
            res["error"] = str(e)[:2000]
        results.append(res)
    json.dump({"version": version, "results": results}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
