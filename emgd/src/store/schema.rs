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
    // 5: store v2. Records are compact binary (JSON ones stay readable); the routelog row is
    // written once, at the final state; no index is kept up to date per message:
    // - `dlr_open` becomes a WITHOUT ROWID table, one b-tree instead of a table and its key
    //   index, and loses its index by message (long messages name their parts' entries);
    // - `messages_queued` goes: a restart finds the queued rows by scanning the ids at or
    //   above `store_meta.horizon` (the last few seconds of traffic) plus `stragglers`, the
    //   ids below it that were still queued when the horizon passed them;
    // - `id_epochs` maps minutes to the first id stored in them, so the purge knows how far to
    //   look without an index on time;
    // - the routelog carries the price and cost a message was tagged with (decimal text).
    "CREATE TABLE dlr_open_v5 (
        connector TEXT NOT NULL,
        remote_id TEXT NOT NULL,
        message_id INTEGER NOT NULL,
        created_us INTEGER NOT NULL,
        part_status TEXT,
        part_error INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (connector, remote_id)
    ) WITHOUT ROWID;
    INSERT INTO dlr_open_v5 SELECT connector, remote_id, message_id, created_us, part_status, part_error FROM dlr_open;
    DROP TABLE dlr_open;
    ALTER TABLE dlr_open_v5 RENAME TO dlr_open;
    DROP INDEX messages_queued;
    CREATE TABLE store_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
    ALTER TABLE routelog ADD COLUMN price TEXT;
    ALTER TABLE routelog ADD COLUMN cost TEXT;
    INSERT INTO store_meta VALUES ('horizon', 0);
    CREATE TABLE stragglers (id INTEGER PRIMARY KEY);
    CREATE TABLE id_epochs (minute INTEGER PRIMARY KEY, first_id INTEGER NOT NULL);
    INSERT INTO id_epochs (minute, first_id)
        SELECT minute, MIN(id) FROM (
            SELECT updated_us / 60000000 AS minute, id FROM messages
            UNION ALL SELECT updated_us / 60000000, message_id FROM routelog)
        GROUP BY minute;",
    // 6: accounting. Amounts are integers of millionths. `balances` holds the accounts that
    // are balance-controlled (a NULL postpaid_limit is prepaid); `balance_history` the
    // operators' changes (EMG's balance_history); `hourly_summary` the routelog summed per
    // account, hour of reception, destination prefix, sending connector and final status,
    // kept current in the transaction that writes each routelog row. The routelog gains the
    // number of parts a message was priced for, and whether its price counts (0: refused
    // before acceptance, or refunded).
    "ALTER TABLE routelog ADD COLUMN parts INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE routelog ADD COLUMN charged INTEGER NOT NULL DEFAULT 1;
    CREATE TABLE balances (
        account TEXT PRIMARY KEY,
        micros INTEGER NOT NULL,
        postpaid_limit INTEGER,
        updated_us INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE balance_history (
        id INTEGER PRIMARY KEY,
        account TEXT NOT NULL,
        amount_before INTEGER NOT NULL,
        amount INTEGER NOT NULL,
        created_us INTEGER NOT NULL,
        created_by TEXT NOT NULL
    );
    CREATE INDEX balance_history_account ON balance_history(account, id);
    CREATE TABLE hourly_summary (
        account TEXT NOT NULL,
        hour INTEGER NOT NULL,
        prefix TEXT NOT NULL,
        connector TEXT NOT NULL,
        status TEXT NOT NULL,
        messages INTEGER NOT NULL,
        parts INTEGER NOT NULL,
        price INTEGER NOT NULL,
        cost INTEGER NOT NULL,
        PRIMARY KEY (account, hour, prefix, connector, status)
    ) WITHOUT ROWID;",
    // 7: a message's history: each submit attempt with its answer, each receipt, each report
    // called back, one row per step, appended in the transaction that records the step. Keyed
    // by message so `msg_history` reads one range; purged with the routelog.
    "CREATE TABLE msg_events (
        message_id INTEGER NOT NULL,
        at_us INTEGER NOT NULL,
        kind INTEGER NOT NULL,
        remote_id TEXT NOT NULL DEFAULT '',
        connector TEXT NOT NULL,
        instance INTEGER,
        status TEXT NOT NULL,
        code INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (message_id, at_us, kind, remote_id)
    ) WITHOUT ROWID;",
    // 8: parts of long messages received and held until the last one arrives
    // (`reassemble`): one row per part, keyed by the long message (receiving connector,
    // addresses, reference, total) and the part's number; the record is the part as
    // accepted, target included. Joining the last part deletes them in the same commit as the
    // whole message's enqueue.
    "CREATE TABLE concat_parts (
        key TEXT NOT NULL,
        seq INTEGER NOT NULL,
        id INTEGER NOT NULL,
        target TEXT NOT NULL,
        received_us INTEGER NOT NULL,
        data BLOB NOT NULL,
        PRIMARY KEY (key, seq)
    ) WITHOUT ROWID;",
    // 9: the routing-table entry that chose a message's connector (its `name`, else
    // `FILE:LINE`), beside the connector in `route`. Rows written before it have none.
    "ALTER TABLE routelog ADD COLUMN route_entry TEXT;",
];
