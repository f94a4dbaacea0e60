# tests/audit-fixture.sh: sourced by the tests/audit-*.sh tests.  Makes a
# results database with the schema of schemas/results.sql and two audit
# runs of known content, written with sqlite3 as `guestkit run' would:
#   run 1  a.img debian 12.4 web1, openssh-server 1:9.2p1-2+deb12u3, bash;
#            finding root-login failed (high), shadow-mode passed
#          b.img debian 12.5 with a hostile host name and product (HTML,
#            terminal escapes), openssh-server 1:9.2p1-2+deb12u5
#          c.img an rpm OS: openssh 9.0p1-13.el9
#          broken.img failed, no OS
#   run 2  a.img openssh-server upgraded to 1:9.2p1-2+deb12u5, bash gone,
#            curl new, root-login now passes, hostname fact changed
#          b.img unchanged; c.img not audited; d.img new
# audit_fixture DB
audit_fixture() {
  local db=$1 esc
  esc=$(printf '\033[31mEVIL\033]0;pwned\007\302\233x')
  rm -f "$db"
  sqlite3 -batch "$db" < schemas/results.sql || return 1
  sqlite3 -batch "$db" <<SQL || return 1
PRAGMA user_version = 2;
INSERT INTO runs (id, job_name, job_file, job_text, status, ntasks, started)
  VALUES (1, 'audit', '/j/audit.yaml', '', 'done', 4, '2026-12-01T00:00:00Z'),
         (2, 'audit', '/j/audit.yaml', '', 'done', 3, '2026-12-02T00:00:00Z');
INSERT INTO tasks (id, run_id, seq, image, status) VALUES
  (1, 1, 1, '/f/a.img', 'ok'), (2, 1, 2, '/f/b.img', 'ok'), (3, 1, 3, '/f/c.img', 'ok'),
  (4, 1, 4, '/f/broken.img', 'failed'),
  (5, 2, 1, '/f/a.img', 'ok'), (6, 2, 2, '/f/b.img', 'ok'), (7, 2, 3, '/f/d.img', 'ok');
UPDATE tasks SET error = 'launch: not a disk' WHERE id = 4;
INSERT INTO os (task_id, root, type, distro, major_version, minor_version, product,
                hostname, arch, package_format, package_management) VALUES
  (1, '/dev/sda1', 'linux', 'debian', 12, 4, 'Debian 12.4', 'web1', 'x86_64', 'deb', 'apt'),
  (2, '/dev/sda1', 'linux', 'debian', 12, 5, '$esc', '<script>alert(1)</script>', 'x86_64', 'deb', 'apt'),
  (3, '/dev/sda2', 'linux', 'rhel', 9, 3, 'RHEL 9.3', 'db1', 'x86_64', 'rpm', 'dnf'),
  (5, '/dev/sda1', 'linux', 'debian', 12, 4, 'Debian 12.4', 'web1', 'x86_64', 'deb', 'apt'),
  (6, '/dev/sda1', 'linux', 'debian', 12, 5, '$esc', '<script>alert(1)</script>', 'x86_64', 'deb', 'apt'),
  (7, '/dev/sda1', 'linux', 'debian', 12, 5, 'Debian 12.5', 'web4', 'x86_64', 'deb', 'apt');
INSERT INTO applications (task_id, root, name, epoch, version, release, arch) VALUES
  (1, '/dev/sda1', 'openssh-server', 1, '9.2p1', '2+deb12u3', 'amd64'),
  (1, '/dev/sda1', 'bash', 0, '5.2.15', '2+b2', 'amd64'),
  (2, '/dev/sda1', 'openssh-server', 1, '9.2p1', '2+deb12u5', 'amd64'),
  (3, '/dev/sda2', 'openssh', 0, '9.0p1', '13.el9', 'x86_64'),
  (5, '/dev/sda1', 'openssh-server', 1, '9.2p1', '2+deb12u5', 'amd64'),
  (5, '/dev/sda1', 'curl', 0, '7.88.1', '10+deb12u5', 'amd64'),
  (6, '/dev/sda1', 'openssh-server', 1, '9.2p1', '2+deb12u5', 'amd64'),
  (7, '/dev/sda1', 'openssh-server', 1, '9.2p1', '2+deb12u5', 'amd64');
INSERT INTO filesystems (task_id, device, type, label, uuid, size, used) VALUES
  (1, '/dev/sda1', 'ext4', 'root', 'u-1', 1000000, 400000),
  (2, '/dev/sda1', 'ext4', '<b>lbl</b>', 'u-2', 1000000, 500000);
INSERT INTO findings (task_id, check_id, severity, description, passed, evidence_path, evidence_value) VALUES
  (1, 'root-login', 'high', 'sshd refuses root logins', 0, '/etc/ssh/sshd_config', 'PermitRootLogin yes'),
  (1, 'shadow-mode', 'medium', '/etc/shadow is not world-readable', 1, '/etc/shadow', '0640'),
  (2, 'root-login', 'high', 'sshd refuses root logins', 0, '/etc/ssh/sshd_config', '<img src=x onerror=alert(2)>$esc'),
  (2, 'shadow-mode', 'medium', '/etc/shadow is not world-readable', 0, '/etc/shadow', '0644'),
  (3, 'root-login', 'high', 'sshd refuses root logins', 1, '/etc/ssh/sshd_config', 'no'),
  (5, 'root-login', 'high', 'sshd refuses root logins', 1, '/etc/ssh/sshd_config', 'PermitRootLogin no'),
  (5, 'shadow-mode', 'medium', '/etc/shadow is not world-readable', 1, '/etc/shadow', '0640'),
  (6, 'root-login', 'high', 'sshd refuses root logins', 0, '/etc/ssh/sshd_config', 'yes'),
  (7, 'root-login', 'low', 'sshd refuses root logins', 1, '/etc/ssh/sshd_config', 'no');
INSERT INTO facts (task_id, name, value) VALUES
  (1, 'motd', '"hello"'), (5, 'motd', '"hello again"');
SQL
}
