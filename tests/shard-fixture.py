#!/usr/bin/env python3
# tests/shard-fixture.py: synthetic shard databases, as `guestkit run
# --shard I/N --out DIR' leaves them, for tests/runner-merge.sh and
# tests/bench-shard.sh (no appliance needed).
#
#   shard-fixture.py DIR --shards N --tasks T [--group G] [--extra]
#
# writes DIR/G.shard-I.db for I in 0..N-1: the schema of
# schemas/results.sql, one run of job "audit" whose options say
# {"shard": {"group": G, "index": I, "count": N, "total": N*T}}, and T
# tasks numbered I+1, N+I+1, 2N+I+1, ... each with 17 steps and 15 facts
# (the size of jobs/audit.yaml's).  --extra adds tables that the
# results schema does not have, to show that the merge follows foreign
# keys: xt_findings (under a task, with an INTEGER PRIMARY KEY), xt_finding_refs
# (under xt_findings) and run_notes (under the run).
import argparse
import json
import os
import sqlite3
import sys

JOB_TEXT = "name: audit\nimages: [/srv/images/*.img]\nsteps:\n  - inspect_os:\n    save_as: roots\n"

EXTRA = """
CREATE TABLE IF NOT EXISTS xt_findings (
  id INTEGER PRIMARY KEY, task_id INTEGER NOT NULL REFERENCES tasks (id),
  rule TEXT NOT NULL, severity TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS xt_finding_refs (
  finding_id INTEGER NOT NULL REFERENCES xt_findings (id), ref TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS run_notes (
  run_id INTEGER NOT NULL REFERENCES runs (id), note TEXT NOT NULL);
"""


def options(group, index, count, total):
    shard = {"group": group, "index": index, "count": count, "total": total}
    o = {"vars": {}, "images": [], "format": None, "timeout": -1, "retries": -1,
         "shard": shard}
    return json.dumps(o, separators=(",", ":"))


def make(path, schema, a, index):
    if os.path.exists(path):
        os.unlink(path)
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous = OFF")
    db.executescript(schema)
    if a.extra:
        db.executescript(EXTRA)
    db.execute("PRAGMA user_version = 1")
    total = a.shards * a.tasks
    db.execute("INSERT INTO runs (job_name, job_file, job_text, options, status, ntasks,"
               " workers, started, finished, pid, host) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
               ("audit", "/srv/jobs/audit.yaml", JOB_TEXT,
                options(a.group, index, a.shards, total), "done", a.tasks, 2,
                "2026-12-01T01:00:%02d.000Z" % (index % 60),
                "2026-12-01T02:00:%02d.000Z" % (index % 60), 1000 + index, "node%d" % index))
    run = db.execute("SELECT max(id) FROM runs").fetchone()[0]
    for k in range(a.tasks):
        seq = k * a.shards + index + 1
        image = "/srv/images/vm%05d.img" % seq
        cur = db.execute(
            "INSERT INTO tasks (run_id, seq, image, instance, status, attempts, step_errors,"
            " error, started, finished, duration_ms, overhead_ms, worker)"
            " VALUES (?,?,?,'','ok',1,0,NULL,'2026-12-01T01:00:00.000Z',"
            "'2026-12-01T01:00:04.000Z',4000.0,2.0,1)", (run, seq, image))
        tid = cur.lastrowid
        db.executemany(
            "INSERT INTO steps (task_id, seq, call, args, result, error, duration_ms, line)"
            " VALUES (?,?,?,?,?,NULL,?,?)",
            [(tid, s, "launch" if s == 0 else "call%d" % s, "{}",
              json.dumps("result %d of %s" % (s, image)), 10.0 + s, 10 + s)
             for s in range(17)])
        db.executemany("INSERT INTO facts (task_id, name, value) VALUES (?,?,?)",
                       [(tid, "fact%d" % f, json.dumps("%s value %d" % (image, f)))
                        for f in range(15)])
        if a.extra:
            for f in range(2):
                cur = db.execute("INSERT INTO xt_findings (task_id, rule, severity)"
                                 " VALUES (?,?,?)", (tid, "rule%d" % f, "high"))
                db.execute("INSERT INTO xt_finding_refs (finding_id, ref) VALUES (?,?)",
                           (cur.lastrowid, "%s#rule%d" % (image, f)))
    if a.extra:
        db.execute("INSERT INTO run_notes (run_id, note) VALUES (?, 'nightly')", (run,))
    db.commit()
    db.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("dir")
    p.add_argument("--shards", type=int, required=True)
    p.add_argument("--tasks", type=int, required=True)
    p.add_argument("--group", default="audit-test")
    p.add_argument("--extra", action="store_true")
    a = p.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "..", "schemas", "results.sql")) as f:
        schema = f.read()
    os.makedirs(a.dir, exist_ok=True)
    for i in range(a.shards):
        make(os.path.join(a.dir, "%s.shard-%d.db" % (a.group, i)), schema, a, i)
    return 0


if __name__ == "__main__":
    sys.exit(main())
