/**
 * The SQLite schema (README.md "Storage"). `user_version` records which
 * migrations ran; a migration is only ever appended, never edited.
 *
 * Envelope rows hold ciphertext plus routing metadata only: recipient device,
 * sender address, server time and expiry.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE accounts (
    name           TEXT PRIMARY KEY,
    created_at     INTEGER NOT NULL,
    next_device_id INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE devices (
    account      TEXT NOT NULL REFERENCES accounts(name) ON DELETE CASCADE,
    device_id    INTEGER NOT NULL,
    name         TEXT NOT NULL,
    identity_key BLOB NOT NULL,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    PRIMARY KEY (account, device_id),
    UNIQUE (account, identity_key)
  ) STRICT;

  -- kind: 'signed' (EC signed prekey) or 'pq_last_resort' (signed Kyber last-resort key).
  CREATE TABLE signed_prekeys (
    account    TEXT NOT NULL,
    device_id  INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    key_id     INTEGER NOT NULL,
    public_key BLOB NOT NULL,
    signature  BLOB NOT NULL,
    PRIMARY KEY (account, device_id, kind),
    FOREIGN KEY (account, device_id) REFERENCES devices(account, device_id) ON DELETE CASCADE
  ) STRICT;

  -- kind: 'ec' (unsigned one-time) or 'pq' (signed one-time Kyber key).
  CREATE TABLE one_time_prekeys (
    account    TEXT NOT NULL,
    device_id  INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    key_id     INTEGER NOT NULL,
    public_key BLOB NOT NULL,
    signature  BLOB,
    PRIMARY KEY (account, device_id, kind, key_id),
    FOREIGN KEY (account, device_id) REFERENCES devices(account, device_id) ON DELETE CASCADE
  ) STRICT;

  -- AUTOINCREMENT: ids are never reused, so a delivery cursor only moves forward.
  CREATE TABLE envelopes (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    account       TEXT NOT NULL,
    device_id     INTEGER NOT NULL,
    sender        TEXT NOT NULL,
    sender_device INTEGER NOT NULL,
    server_time   INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    payload       BLOB NOT NULL,
    FOREIGN KEY (account, device_id) REFERENCES devices(account, device_id) ON DELETE CASCADE
  ) STRICT;
  CREATE INDEX envelopes_by_device ON envelopes (account, device_id, id);
  CREATE INDEX envelopes_by_expiry ON envelopes (expires_at);
  `,
  // 2: queue lengths kept by triggers, so the QUEUE_FULL check is one lookup
  // instead of counting a device's whole queue on every send.
  `
  CREATE TABLE queue_sizes (
    account   TEXT NOT NULL,
    device_id INTEGER NOT NULL,
    n         INTEGER NOT NULL,
    PRIMARY KEY (account, device_id)
  ) STRICT;
  INSERT INTO queue_sizes (account, device_id, n)
    SELECT account, device_id, count(*) FROM envelopes GROUP BY account, device_id;
  CREATE TRIGGER envelopes_counted_in AFTER INSERT ON envelopes BEGIN
    INSERT INTO queue_sizes (account, device_id, n) VALUES (NEW.account, NEW.device_id, 1)
      ON CONFLICT (account, device_id) DO UPDATE SET n = n + 1;
  END;
  CREATE TRIGGER envelopes_counted_out AFTER DELETE ON envelopes BEGIN
    UPDATE queue_sizes SET n = n - 1 WHERE account = OLD.account AND device_id = OLD.device_id;
  END;
  CREATE TRIGGER queue_sizes_dropped AFTER DELETE ON devices BEGIN
    DELETE FROM queue_sizes WHERE account = OLD.account AND device_id = OLD.device_id;
  END;
  `,
];
