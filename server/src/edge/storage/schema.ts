/**
 * The SQLite schema (README.md "Storage"). `user_version` records which
 * migrations ran; a migration is only ever appended, never edited.
 *
 * Envelope rows hold ciphertext plus routing metadata only: recipient device,
 * sender address (NULL for a sealed envelope: migration 7), server time and expiry.
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
  // 3: the account identity key and its signed device list (PROTOCOL.md "Devices"), as the
  // account's devices signed it: `devices` is JSON [{deviceId, identityKey (hex), name, addedAt}].
  `
  CREATE TABLE device_lists (
    account     TEXT PRIMARY KEY REFERENCES accounts(name) ON DELETE CASCADE,
    account_key BLOB NOT NULL,
    version     INTEGER NOT NULL,
    devices     TEXT NOT NULL,
    signature   BLOB NOT NULL
  ) STRICT;
  `,
  // 4: payload bytes of undelivered envelopes per account, as sender and as recipient, kept by
  // triggers: the byte quotas (limits sender_queued_bytes, account_queued_bytes) are one lookup.
  `
  CREATE TABLE queued_bytes (
    account TEXT NOT NULL,
    role    TEXT NOT NULL CHECK (role IN ('sent', 'received')),
    n       INTEGER NOT NULL,
    PRIMARY KEY (account, role)
  ) STRICT;
  INSERT INTO queued_bytes (account, role, n)
    SELECT sender, 'sent', sum(length(payload)) FROM envelopes GROUP BY sender;
  INSERT INTO queued_bytes (account, role, n)
    SELECT account, 'received', sum(length(payload)) FROM envelopes GROUP BY account;
  CREATE TRIGGER envelopes_bytes_in AFTER INSERT ON envelopes BEGIN
    INSERT INTO queued_bytes (account, role, n) VALUES (NEW.sender, 'sent', length(NEW.payload))
      ON CONFLICT (account, role) DO UPDATE SET n = n + excluded.n;
    INSERT INTO queued_bytes (account, role, n) VALUES (NEW.account, 'received', length(NEW.payload))
      ON CONFLICT (account, role) DO UPDATE SET n = n + excluded.n;
  END;
  CREATE TRIGGER envelopes_bytes_out AFTER DELETE ON envelopes BEGIN
    UPDATE queued_bytes SET n = n - length(OLD.payload) WHERE account = OLD.sender AND role = 'sent';
    UPDATE queued_bytes SET n = n - length(OLD.payload) WHERE account = OLD.account AND role = 'received';
  END;
  `,
  // 5: envelope ids per recipient device (issue 11: one global counter revealed the server's total
  // traffic to anyone who received two envelopes). \`seq\` is the id a device sees: it increases in
  // commit order for that device and is never reused; existing envelopes keep their old id as seq.
  `
  ALTER TABLE envelopes ADD COLUMN seq INTEGER;
  UPDATE envelopes SET seq = id;
  CREATE UNIQUE INDEX envelopes_by_device_seq ON envelopes (account, device_id, seq);
  CREATE TABLE envelope_seqs (
    account   TEXT NOT NULL,
    device_id INTEGER NOT NULL,
    next      INTEGER NOT NULL,
    PRIMARY KEY (account, device_id)
  ) STRICT;
  INSERT INTO envelope_seqs (account, device_id, next)
    SELECT account, device_id, max(id) + 1 FROM envelopes GROUP BY account, device_id;
  `,
  // 6: channel history (issue 14 "Durable channel history", README "Channel rules"): each channel's
  // epoch and latest offset, and its publications as the client sent them (ciphertext on encrypted
  // channels). `id` is append order over all channels (the byte budget trims the oldest first); the
  // byte counts are kept by triggers, so the budgets cost one lookup. Written by SqliteChannelLog.
  `
  CREATE TABLE channel_heads (
    channel     TEXT PRIMARY KEY,
    epoch       TEXT NOT NULL,
    last_offset INTEGER NOT NULL
  ) STRICT;
  CREATE TABLE channel_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    channel     TEXT NOT NULL REFERENCES channel_heads(channel) ON DELETE CASCADE,
    ch_offset   INTEGER NOT NULL,
    account     TEXT NOT NULL,
    device_id   INTEGER NOT NULL,
    server_time INTEGER NOT NULL,
    payload     BLOB NOT NULL,
    UNIQUE (channel, ch_offset)
  ) STRICT;
  CREATE INDEX channel_log_by_account ON channel_log (account, channel, id);
  CREATE INDEX channel_log_by_time ON channel_log (channel, server_time);
  CREATE TABLE channel_log_bytes (
    account TEXT PRIMARY KEY,
    n       INTEGER NOT NULL
  ) STRICT;
  CREATE TABLE channel_log_total (
    id INTEGER PRIMARY KEY CHECK (id = 0),
    n  INTEGER NOT NULL
  ) STRICT;
  INSERT INTO channel_log_total (id, n) VALUES (0, 0);
  -- Whether the log was closed cleanly, and under which boot: see SqliteChannelLog (power cut).
  CREATE TABLE channel_log_meta (
    id      INTEGER PRIMARY KEY CHECK (id = 0),
    boot_id TEXT NOT NULL,
    clean   INTEGER NOT NULL
  ) STRICT;
  INSERT INTO channel_log_meta (id, boot_id, clean) VALUES (0, '', 1);
  CREATE TRIGGER channel_log_bytes_in AFTER INSERT ON channel_log BEGIN
    INSERT INTO channel_log_bytes (account, n) VALUES (NEW.account, length(NEW.payload))
      ON CONFLICT (account) DO UPDATE SET n = n + excluded.n;
    UPDATE channel_log_total SET n = n + length(NEW.payload);
  END;
  CREATE TRIGGER channel_log_bytes_out AFTER DELETE ON channel_log BEGIN
    UPDATE channel_log_bytes SET n = n - length(OLD.payload) WHERE account = OLD.account;
    DELETE FROM channel_log_bytes WHERE account = OLD.account AND n <= 0;
    UPDATE channel_log_total SET n = n - length(OLD.payload);
  END;
  `,
  // 7: sealed sender (issue 14, PROTOCOL.md "Sealed sender"). A sealed envelope is stored with no
  // sender: \`sender\` and \`sender_device\` become nullable, which SQLite allows only by rebuilding
  // the table (its indexes and triggers with it; DROP TABLE fires no trigger, so the queue and byte
  // counters stay as they are). The AUTOINCREMENT high-water mark is carried over: ids are never
  // reused. The 'sent' byte counter skips NULL senders: a sealed envelope counts against its
  // recipient's quota only. Each account's delivery token verifier (SHA-256 of the token).
  `
  CREATE TABLE envelopes_v7 (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    account       TEXT NOT NULL,
    device_id     INTEGER NOT NULL,
    sender        TEXT,
    sender_device INTEGER,
    server_time   INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    payload       BLOB NOT NULL,
    seq           INTEGER,
    CHECK ((sender IS NULL) = (sender_device IS NULL)),
    FOREIGN KEY (account, device_id) REFERENCES devices(account, device_id) ON DELETE CASCADE
  ) STRICT;
  INSERT INTO envelopes_v7 (id, account, device_id, sender, sender_device, server_time, expires_at, payload, seq)
    SELECT id, account, device_id, sender, sender_device, server_time, expires_at, payload, seq FROM envelopes;
  DELETE FROM sqlite_sequence WHERE name = 'envelopes_v7';
  INSERT INTO sqlite_sequence (name, seq) SELECT 'envelopes_v7', seq FROM sqlite_sequence WHERE name = 'envelopes';
  DROP TABLE envelopes;
  ALTER TABLE envelopes_v7 RENAME TO envelopes;
  CREATE INDEX envelopes_by_device ON envelopes (account, device_id, id);
  CREATE INDEX envelopes_by_expiry ON envelopes (expires_at);
  CREATE UNIQUE INDEX envelopes_by_device_seq ON envelopes (account, device_id, seq);
  CREATE TRIGGER envelopes_counted_in AFTER INSERT ON envelopes BEGIN
    INSERT INTO queue_sizes (account, device_id, n) VALUES (NEW.account, NEW.device_id, 1)
      ON CONFLICT (account, device_id) DO UPDATE SET n = n + 1;
  END;
  CREATE TRIGGER envelopes_counted_out AFTER DELETE ON envelopes BEGIN
    UPDATE queue_sizes SET n = n - 1 WHERE account = OLD.account AND device_id = OLD.device_id;
  END;
  CREATE TRIGGER envelopes_bytes_in AFTER INSERT ON envelopes BEGIN
    INSERT INTO queued_bytes (account, role, n)
      SELECT NEW.sender, 'sent', length(NEW.payload) WHERE NEW.sender IS NOT NULL
      ON CONFLICT (account, role) DO UPDATE SET n = n + excluded.n;
    INSERT INTO queued_bytes (account, role, n) VALUES (NEW.account, 'received', length(NEW.payload))
      ON CONFLICT (account, role) DO UPDATE SET n = n + excluded.n;
  END;
  CREATE TRIGGER envelopes_bytes_out AFTER DELETE ON envelopes BEGIN
    UPDATE queued_bytes SET n = n - length(OLD.payload)
      WHERE OLD.sender IS NOT NULL AND account = OLD.sender AND role = 'sent';
    UPDATE queued_bytes SET n = n - length(OLD.payload) WHERE account = OLD.account AND role = 'received';
  END;
  CREATE TABLE delivery_tokens (
    account  TEXT PRIMARY KEY REFERENCES accounts(name) ON DELETE CASCADE,
    verifier BLOB NOT NULL
  ) STRICT;
  `,
];
