//! Embedded schema migrations for the PostgreSQL store, applied in order at start.
//!
//! Its own ordered list, mirroring the end state of the SQLite schema (`store::schema`), with
//! what a server database does better: the queue is found through a partial index instead of
//! SQLite's horizon and stragglers, and finished rows are purged through indexes on time.
//! `schema_version` records how many have run; the migrations run under an advisory lock, so
//! two nodes starting at once do not both apply them.

/// Each entry is one migration; never edit a released one, append a new one.
pub const MIGRATIONS: &[&str] = &[
    // 1: the whole store as SQLite's schema 8 holds it.
    "CREATE TABLE messages (
        id BIGINT PRIMARY KEY,
        target TEXT NOT NULL,
        state SMALLINT NOT NULL,
        remote_id TEXT,
        status TEXT,
        data BYTEA NOT NULL,
        updated_us BIGINT NOT NULL,
        expires_us BIGINT
    );
    -- The queue: rows queued (0) or being submitted (5), by connector, oldest first.
    CREATE INDEX messages_queued ON messages (target, id) WHERE state IN (0, 5);
    -- What the purge deletes: final rows by the time of their final state.
    CREATE INDEX messages_final ON messages (updated_us) WHERE state IN (2, 3, 4);
    CREATE TABLE dlr_open (
        connector TEXT NOT NULL,
        remote_id TEXT NOT NULL,
        message_id BIGINT NOT NULL,
        created_us BIGINT NOT NULL,
        part_status TEXT,
        part_error BIGINT NOT NULL DEFAULT 0,
        PRIMARY KEY (connector, remote_id)
    );
    CREATE INDEX dlr_open_message ON dlr_open (message_id);
    CREATE TABLE routelog (
        message_id BIGINT PRIMARY KEY,
        received_us BIGINT NOT NULL,
        in_connector TEXT NOT NULL,
        account TEXT,
        msgtype SMALLINT NOT NULL,
        source TEXT NOT NULL,
        dest TEXT NOT NULL,
        route TEXT,
        status TEXT NOT NULL,
        error TEXT,
        updated_us BIGINT NOT NULL,
        price TEXT,
        cost TEXT,
        parts INTEGER NOT NULL DEFAULT 1,
        charged BOOLEAN NOT NULL DEFAULT TRUE,
        route_entry TEXT
    );
    CREATE INDEX routelog_updated ON routelog (updated_us);
    CREATE TABLE connector_flags (
        connector TEXT PRIMARY KEY,
        hold BOOLEAN NOT NULL,
        forceclose BOOLEAN NOT NULL
    );
    CREATE TABLE sat_entries (
        pool TEXT NOT NULL,
        dest TEXT NOT NULL,
        sat_addr TEXT NOT NULL,
        original TEXT NOT NULL,
        original_ton SMALLINT NOT NULL,
        original_npi SMALLINT NOT NULL,
        expires_us BIGINT NOT NULL,
        PRIMARY KEY (pool, dest, sat_addr)
    );
    CREATE INDEX sat_entries_expiry ON sat_entries (expires_us);
    CREATE TABLE balances (
        account TEXT PRIMARY KEY,
        micros BIGINT NOT NULL,
        postpaid_limit BIGINT,
        updated_us BIGINT NOT NULL
    );
    CREATE TABLE balance_history (
        id BIGSERIAL PRIMARY KEY,
        account TEXT NOT NULL,
        amount_before BIGINT NOT NULL,
        amount BIGINT NOT NULL,
        created_us BIGINT NOT NULL,
        created_by TEXT NOT NULL
    );
    CREATE INDEX balance_history_account ON balance_history (account, id);
    CREATE TABLE hourly_summary (
        account TEXT NOT NULL,
        hour BIGINT NOT NULL,
        prefix TEXT NOT NULL,
        connector TEXT NOT NULL,
        status TEXT NOT NULL,
        messages BIGINT NOT NULL,
        parts BIGINT NOT NULL,
        price BIGINT NOT NULL,
        cost BIGINT NOT NULL,
        PRIMARY KEY (account, hour, prefix, connector, status)
    );
    CREATE TABLE msg_events (
        message_id BIGINT NOT NULL,
        at_us BIGINT NOT NULL,
        kind SMALLINT NOT NULL,
        remote_id TEXT NOT NULL DEFAULT '',
        connector TEXT NOT NULL,
        instance BIGINT,
        status TEXT NOT NULL,
        code BIGINT NOT NULL DEFAULT 0,
        PRIMARY KEY (message_id, at_us, kind, remote_id)
    );
    CREATE TABLE concat_parts (
        key TEXT NOT NULL,
        seq SMALLINT NOT NULL,
        id BIGINT NOT NULL,
        target TEXT NOT NULL,
        received_us BIGINT NOT NULL,
        data BYTEA NOT NULL,
        PRIMARY KEY (key, seq)
    );
    -- The nodes sharing this database: which host runs each node id, and the highest message
    -- id each has handed out (ids are `nodeid * 10^15 + n`, so nodes never coordinate per
    -- message; this row keeps `n` from going back when the purge has deleted every row).
    CREATE TABLE nodes (
        nodeid INTEGER PRIMARY KEY,
        hostname TEXT NOT NULL,
        started_us BIGINT NOT NULL,
        max_id BIGINT NOT NULL DEFAULT 0
    );
    -- A group commit's charges, in order: each is one conditional UPDATE, so a charge the
    -- balance does not cover is refused alone (its batch left out) and the ones after it are
    -- still decided on what is left. An account without a balance is not controlled: passes.
    CREATE FUNCTION emg_charge(accounts TEXT[], amounts BIGINT[], now_us BIGINT)
    RETURNS BOOLEAN[] LANGUAGE plpgsql AS $$
    DECLARE
        out BOOLEAN[] := '{}';
        i INTEGER;
    BEGIN
        FOR i IN 1 .. COALESCE(array_length(accounts, 1), 0) LOOP
            UPDATE balances SET micros = micros - amounts[i], updated_us = now_us
             WHERE account = accounts[i] AND micros - amounts[i] >= -COALESCE(postpaid_limit, 0);
            IF FOUND THEN
                out := out || TRUE;
            ELSE
                out := out || NOT EXISTS (SELECT 1 FROM balances WHERE account = accounts[i]);
            END IF;
        END LOOP;
        RETURN out;
    END $$;",
    // 2: leases and claims. Each node renews `lease_until_us` while it runs; a queued row is
    // sent only by its claimant: `claim_node`, or when that is NULL the node whose id range
    // holds the row (the node that accepted it, so accepting costs no extra write). Rows whose
    // claimant's lease ran out are claimed by live nodes, a batch per statement.
    "ALTER TABLE nodes ADD COLUMN lease_until_us BIGINT NOT NULL DEFAULT 0;
    ALTER TABLE nodes ADD COLUMN queued BIGINT NOT NULL DEFAULT 0;
    ALTER TABLE messages ADD COLUMN claim_node INTEGER;
    CREATE INDEX messages_claimant ON messages
        ((COALESCE(claim_node, (id / 1000000000000000)::integer)), id) WHERE state IN (0, 5);",
    // 3: reports and MO released for a user bound on another node. A node holding a queued
    // row for a user with no session of its own sets `claim_node` to -1 (no node) and names
    // the user in `wait_user`; a node where that user is bound claims it back. No lease
    // matches -1, so a released row is never taken over as a dead node's.
    // The sessions bound on each node, as it last published them (for operators: each
    // connector's sessions per node).
    "ALTER TABLE messages ADD COLUMN wait_user TEXT;
    CREATE INDEX messages_released ON messages (target, wait_user, id)
        WHERE claim_node = -1 AND state IN (0, 5);
    CREATE TABLE node_sessions (
        nodeid INTEGER NOT NULL,
        connector TEXT NOT NULL,
        instance INTEGER NOT NULL,
        usr TEXT,
        since_us BIGINT NOT NULL,
        PRIMARY KEY (nodeid, connector, instance)
    );",
];
