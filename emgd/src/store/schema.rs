//! Embedded schema migrations for the SQLite store, applied in order at start.
//!
//! `PRAGMA user_version` records how many have run, so a newer emgd upgrades an older data
//! directory in place and an older emgd refuses a newer one.

/// Each entry is one migration; never edit a released one, append a new one.
pub const MIGRATIONS: &[&str] = &[
    // 1: messages, open DLR entries, routelog, persisted connector flags.
    "CREATE TABLE messages (
        id INTEGER PRIMARY KEY,
        target TEXT NOT NULL,
        state INTEGER NOT NULL,
        remote_id TEXT,
        status TEXT,
        data BLOB NOT NULL,
        updated_us INTEGER NOT NULL
    );
    CREATE INDEX messages_queued ON messages(target) WHERE state = 0;
    CREATE TABLE dlr_open (
        connector TEXT NOT NULL,
        remote_id TEXT NOT NULL,
        message_id INTEGER NOT NULL,
        created_us INTEGER NOT NULL,
        PRIMARY KEY (connector, remote_id)
    );
    CREATE TABLE routelog (
        message_id INTEGER PRIMARY KEY,
        received_us INTEGER NOT NULL,
        in_connector TEXT NOT NULL,
        account TEXT,
        msgtype INTEGER NOT NULL,
        source TEXT NOT NULL,
        dest TEXT NOT NULL,
        route TEXT,
        status TEXT NOT NULL,
        error TEXT,
        updated_us INTEGER NOT NULL
    );
    CREATE TABLE connector_flags (
        connector TEXT PRIMARY KEY,
        hold INTEGER NOT NULL,
        forceclose INTEGER NOT NULL
    );",
    // 2: long messages. Each part sent has its own open DLR entry; a part whose final receipt
    // came before the others keeps its row with that state until the whole message is done.
    "ALTER TABLE dlr_open ADD COLUMN part_status TEXT;
    ALTER TABLE dlr_open ADD COLUMN part_error INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX dlr_open_message ON dlr_open(message_id);",
    // 3: SAT pool entries: in `pool`, messages to `dest` carried `sat_addr` instead of the
    // original sender until `expires_us`.
    "CREATE TABLE sat_entries (
        pool TEXT NOT NULL,
        dest TEXT NOT NULL,
        sat_addr TEXT NOT NULL,
        original TEXT NOT NULL,
        original_ton INTEGER NOT NULL,
        original_npi INTEGER NOT NULL,
        expires_us INTEGER NOT NULL,
        PRIMARY KEY (pool, dest, sat_addr)
    );
    CREATE INDEX sat_entries_expiry ON sat_entries(expires_us);",
    // 4: a queued message's validity outside its blob, so a restart can queue a long queue by
    // id (the queue loads the messages later) and still expire them on time.
    "ALTER TABLE messages ADD COLUMN expires_us INTEGER;",
];
