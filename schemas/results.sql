-- schemas/results.sql: the results database that `guestkit run' writes and
-- `guestkit report' / `guestkit status' read (SQLite, WAL mode).
--
-- The runner embeds this file (runner/results-sql-gen.c, generated) and
-- runs it on every database it opens; every statement is idempotent.
--
--   table   one row per                      written
--   runs    invocation of a job file         at start, and when it ends
--   tasks   image (or build instance)        all at start as 'pending'; then
--                                            'running' when a worker takes it;
--                                            then its final state, in ONE
--                                            transaction with its steps/facts
--   steps   call made by a task              with the task's final state
--   facts   value saved by save_as           with the task's final state
--
-- A task's final state is ok, failed, timeout or interrupted.  A task left
-- 'pending' or 'running' (the process was killed) or 'interrupted' is what
-- `guestkit run --resume RUN' runs again; a rerun replaces the task's steps
-- and facts, so every task ends with exactly one result.
--
-- Times are UTC, ISO 8601 text ("2025-11-25T14:31:07.123Z"); durations are
-- milliseconds.  Values are JSON texts: query them with json_extract(), e.g.
--   SELECT image, json_extract(value, '$.mode') & 2 AS world_writable
--     FROM facts_by_image WHERE name = 'shadow_stat';
--
-- user_version (PRAGMA) is the schema version: 2 (1 had no audit or changes tables;
-- opening a version-1 database runs this file again, which adds them).

CREATE TABLE IF NOT EXISTS runs (
  id          INTEGER PRIMARY KEY,    -- the run id (--resume RUN, report --run)
  job_name    TEXT NOT NULL,          -- the job's `name' (default: file name stem)
  job_file    TEXT NOT NULL,          -- absolute path of the job file
  job_text    TEXT NOT NULL,          -- the job file as read; --resume uses this
  options     TEXT NOT NULL DEFAULT '{}', -- command-line settings as JSON:
                                      --   {"vars": {..}, "images": [..]}
  status      TEXT NOT NULL,          -- running | done | failed | interrupted
  ntasks      INTEGER NOT NULL,       -- tasks in the run
  workers     INTEGER,                -- worker threads of the last attempt
  started     TEXT NOT NULL,          -- when the run was created
  finished    TEXT,                   -- when its last invocation ended
  pid         INTEGER,                -- process running it now (or last)
  host        TEXT                    -- host name of that process
);

CREATE TABLE IF NOT EXISTS tasks (
  id          INTEGER PRIMARY KEY,
  run_id      INTEGER NOT NULL REFERENCES runs (id),
  seq         INTEGER NOT NULL,       -- 1..ntasks, stable across --resume
  image       TEXT NOT NULL,          -- absolute image path; a build's output
  instance    TEXT NOT NULL DEFAULT '', -- matrix instance name ('' if none)
  status      TEXT NOT NULL,          -- pending | running | ok | failed |
                                      -- timeout | interrupted
  attempts    INTEGER NOT NULL DEFAULT 0, -- tries, retries included
  step_errors INTEGER NOT NULL DEFAULT 0, -- failed steps that had
                                      --   on_error: continue
  error       TEXT,                   -- why it did not end ok (else NULL)
  started     TEXT,                   -- start of the last attempt
  finished    TEXT,                   -- end of the last attempt
  duration_ms REAL,                   -- wall time of the last attempt
  overhead_ms REAL,                   -- of which the runner's own work
                                      --   (not inside the library)
  worker      INTEGER,                -- worker thread number (1..)
  UNIQUE (run_id, seq)
);

CREATE TABLE IF NOT EXISTS steps (
  task_id     INTEGER NOT NULL REFERENCES tasks (id),
  seq         INTEGER NOT NULL,       -- 0: launch; 1..: the job's steps
  call        TEXT NOT NULL,          -- the call's name (launch for seq 0)
  args        TEXT NOT NULL,          -- JSON object, after templating
  result      TEXT,                   -- JSON (null for calls returning
                                      --   nothing); NULL if it failed
  error       TEXT,                   -- the library's message, or NULL
  duration_ms REAL,
  line        INTEGER,                -- the step's line in the job file
  PRIMARY KEY (task_id, seq)
);

CREATE TABLE IF NOT EXISTS facts (
  task_id     INTEGER NOT NULL REFERENCES tasks (id),
  name        TEXT NOT NULL,          -- the step's save_as
  value       TEXT NOT NULL,          -- JSON, as in steps.result
  PRIMARY KEY (task_id, name)
);

CREATE INDEX IF NOT EXISTS tasks_by_image ON tasks (image);
CREATE INDEX IF NOT EXISTS tasks_by_status ON tasks (run_id, status);

-- Saved values with their image: the usual way to query an audit.
CREATE VIEW IF NOT EXISTS facts_by_image AS
  SELECT t.run_id, t.seq AS task, t.image, t.instance, t.status,
         f.name, f.value
    FROM facts f JOIN tasks t ON t.id = f.task_id;

-- ---- builds (issue 10, runner/build.c) ----
-- One row per build task that wrote an output: the output's format, size
-- (bytes: the file; allocated: its blocks on disk) and sha256, from its
-- `output' step; the boot check's time, accelerator and console tail
-- from its `verify_boot' step (NULL without verify: boot).  A failed
-- boot check leaves its console tail here and no file in place.
CREATE VIEW IF NOT EXISTS builds AS
  SELECT t.run_id, t.seq AS task, t.instance, t.status,
         json_extract(o.result, '$.output') AS output,
         json_extract(o.result, '$.format') AS format,
         json_extract(o.result, '$.bytes') AS bytes,
         json_extract(o.result, '$.allocated') AS allocated,
         json_extract(o.result, '$.sha256') AS sha256,
         json_extract(b.result, '$.seconds') AS boot_seconds,
         json_extract(b.result, '$.accel') AS boot_accel,
         json_extract(b.result, '$.console_tail') AS boot_console
    FROM tasks t
    JOIN steps o ON o.task_id = t.id AND o.call = 'output'
    LEFT JOIN steps b ON b.task_id = t.id AND b.call = 'verify_boot';

-- ---- Audits: inventory and findings (the `inventory' step, `checks:') ----
--
--   table         one row per                    written
--   os            OS found by inspection         by `inventory', with the
--   applications  installed package of an OS       task's final state (the
--   filesystems   filesystem of the image          same transaction)
--   findings      check of the job's `checks:'   after the steps, likewise
--
-- Every string here comes from the guest: treat it as hostile when you
-- print it (guestkit report escapes it for HTML, cleans it for a
-- terminal).  Strings are capped in length when recorded.  A rerun of a
-- task replaces its rows, as for steps and facts.

CREATE TABLE IF NOT EXISTS os (
  task_id     INTEGER NOT NULL REFERENCES tasks (id),
  root        TEXT NOT NULL,          -- the root filesystem's device
  type        TEXT,                   -- linux, windows, ... (inspect_get_type)
  distro      TEXT,                   -- debian, fedora, ... ('unknown')
  major_version INTEGER,              -- inspect_get_major_version
  minor_version INTEGER,
  product     TEXT,                   -- inspect_get_product_name
  hostname    TEXT,
  arch        TEXT,                   -- x86_64, ...
  package_format TEXT,                -- deb, rpm, ... ('unknown')
  package_management TEXT,            -- apt, dnf, ...
  mountpoints TEXT NOT NULL DEFAULT '{}', -- JSON {"/": "/dev/sda1", ...}
  PRIMARY KEY (task_id, root)
);

CREATE TABLE IF NOT EXISTS applications (
  task_id     INTEGER NOT NULL REFERENCES tasks (id),
  root        TEXT NOT NULL,          -- the OS it belongs to (os.root)
  name        TEXT NOT NULL,          -- package name
  epoch       INTEGER NOT NULL DEFAULT 0,
  version     TEXT NOT NULL,          -- upstream version
  release     TEXT NOT NULL DEFAULT '', -- deb revision / rpm release
  arch        TEXT NOT NULL DEFAULT ''
);

CREATE TABLE IF NOT EXISTS filesystems (
  task_id     INTEGER NOT NULL REFERENCES tasks (id),
  device      TEXT NOT NULL,          -- /dev/sda1, /dev/vg/lv, ...
  type        TEXT,                   -- vfs_type: ext4, swap, ... (NULL unknown)
  label       TEXT,                   -- vfs_label ('' none)
  uuid        TEXT,                   -- vfs_uuid ('' none)
  size        INTEGER,                -- bytes (statvfs), NULL if not mounted
  used        INTEGER,                -- bytes in use, NULL if not mounted
  PRIMARY KEY (task_id, device)
);

CREATE TABLE IF NOT EXISTS findings (
  task_id     INTEGER NOT NULL REFERENCES tasks (id),
  check_id    TEXT NOT NULL,          -- the check's `id'
  severity    TEXT NOT NULL,          -- low | medium | high
  description TEXT NOT NULL,
  passed      INTEGER NOT NULL,       -- 1 the image complies, 0 it does not
  evidence_path TEXT,                 -- what was looked at (file, Augeas
                                      --   path, package, fact), or NULL
  evidence_value TEXT,                -- what was found there (capped, never
                                      --   a whole file), or NULL
  PRIMARY KEY (task_id, check_id)
);

-- Fleet queries: which images hold package NAME (report --packages),
-- which fail check ID (report --findings), an image's latest inventory.
CREATE INDEX IF NOT EXISTS applications_by_name ON applications (name, version);
CREATE INDEX IF NOT EXISTS applications_by_task ON applications (task_id);
CREATE INDEX IF NOT EXISTS findings_by_check ON findings (check_id, passed);

-- Inventory and findings with their image.
CREATE VIEW IF NOT EXISTS os_by_image AS
  SELECT t.run_id, t.seq AS task, t.image, o.*
    FROM os o JOIN tasks t ON t.id = o.task_id;
CREATE VIEW IF NOT EXISTS findings_by_image AS
  SELECT t.run_id, t.seq AS task, t.image, f.*
    FROM findings f JOIN tasks t ON t.id = f.task_id;

-- ---- writing tasks (runner/db-changes.c, issue 11) ----
-- A task of a writing job records what its high-level steps changed:
-- one row per path added, changed or removed, written in the task's own
-- transaction (a rerun replaces them).  A task that changed nothing has
-- no rows.  Writing tasks also pass through the state 'committing' (in
-- tasks.status): their steps succeeded and their overlay is being
-- committed into the image; --resume finishes that commit, recorded as
-- the task's last step, call 'commit'.
--   SELECT t.image, c.kind, c.path FROM changes c JOIN tasks t ON t.id = c.task_id
--    WHERE t.run_id = 7 ORDER BY t.image, c.path;
CREATE TABLE IF NOT EXISTS changes (
  task_id       INTEGER NOT NULL REFERENCES tasks (id),
  path          TEXT NOT NULL,        -- absolute guest path
  kind          TEXT NOT NULL,        -- added | changed | removed
  type          TEXT NOT NULL,        -- file | directory | symlink | other
                                      --   (after; before for removed)
  size_before   INTEGER,              -- bytes (NULL: did not exist;
                                      --   0 for directories)
  mode_before   INTEGER,              -- permission bits (07777)
  uid_before    INTEGER,              -- owner, numeric (the guest's ids)
  gid_before    INTEGER,
  sha256_before TEXT,                 -- regular files only
  size_after    INTEGER,              -- the same, after (NULL: removed)
  mode_after    INTEGER,
  uid_after     INTEGER,
  gid_after     INTEGER,
  sha256_after  TEXT,
  PRIMARY KEY (task_id, path)
);
CREATE INDEX IF NOT EXISTS changes_by_path ON changes (path);
