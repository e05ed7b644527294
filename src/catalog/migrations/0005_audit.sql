-- Schema 5: the audit trail. Events are facts about the past, not observations of the
-- present: they are only ever added, once each. An event's identity on its host is its stamp
-- (time and serial, plus the node name auditd may write), so reading a log again (a resumed
-- read, a rotated file read twice) adds nothing.
CREATE TABLE audit_events (
    id            INTEGER PRIMARY KEY,
    host_id       INTEGER NOT NULL REFERENCES hosts(id),
    time_ms       INTEGER NOT NULL,        -- Unix milliseconds, the host's clock
    serial        INTEGER NOT NULL,
    node          TEXT NOT NULL DEFAULT '',
    kind          TEXT NOT NULL,           -- login, failed-login, sudo, su, exec, write, ...
    actor         TEXT,                    -- the login user (auid): name, or #uid
    actor_uid     INTEGER,
    acting_as     TEXT,                    -- whom it ran as: name, or #uid
    acting_as_uid INTEGER,
    uid           INTEGER,                 -- the process's user: number
    uid_name      TEXT,                    -- and name
    what          TEXT,                    -- command line, path, account, port
    exe           TEXT,
    addr          TEXT,
    terminal      TEXT,
    session       INTEGER,
    success       INTEGER,                 -- 1, 0, NULL when the records do not say
    key           TEXT,                    -- audit rule key(s), comma-separated
    record_types  TEXT NOT NULL,           -- SYSCALL,EXECVE,...
    scan_id       INTEGER REFERENCES scans(id)
);
CREATE UNIQUE INDEX audit_events_stamp ON audit_events(host_id, time_ms, serial, node);
CREATE INDEX audit_events_time ON audit_events(time_ms);
CREATE INDEX audit_events_kind ON audit_events(kind, time_ms);
CREATE INDEX audit_events_actor ON audit_events(actor, time_ms);

-- The raw records of an event, bounded: apart, so that reports scanning events stay small.
CREATE TABLE audit_raw (
    event_id      INTEGER PRIMARY KEY REFERENCES audit_events(id),
    raw           TEXT NOT NULL
);

-- Where the next read of a host's audit log starts (as ausearch --checkpoint keeps it): the
-- file's identity and the offset after the last complete event read, and how the last read
-- went.
CREATE TABLE audit_checkpoints (
    host_id       INTEGER PRIMARY KEY REFERENCES hosts(id),
    log           TEXT NOT NULL,           -- the log read: /var/log/audit/audit.log
    device        INTEGER,
    inode         INTEGER,
    offset        INTEGER,
    last_time_ms  INTEGER,
    last_serial   INTEGER,
    tail          BLOB,                    -- the bytes before offset, to notice a rewrite
    cursor        TEXT,                    -- the journal's, for hosts read through it
    read_at       INTEGER NOT NULL,
    unread_bytes  INTEGER NOT NULL DEFAULT 0, -- left for the next read by the byte cap
    problem       TEXT                     -- why nothing could be read, NULL when it was
);
