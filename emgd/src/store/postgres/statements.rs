//! The writer's statements, prepared once per connection. Each takes whole columns as arrays.

use super::group::Kind;
use std::collections::HashMap;
use tokio_postgres::{Client, Statement};

const SQL: &[(Kind, &str)] = &[
    (
        Kind::Insert,
        "INSERT INTO messages (id, target, state, data, updated_us, expires_us)
         SELECT u.id, u.target, 0, u.data, $5, u.expires
         FROM UNNEST($1::bigint[], $2::text[], $3::bytea[], $4::bigint[]) AS u(id, target, data, expires)",
    ),
    (
        Kind::Rewrite,
        "UPDATE messages m SET target = u.target, state = 0, data = u.data, updated_us = $5, expires_us = u.expires
         FROM UNNEST($1::bigint[], $2::text[], $3::bytea[], $4::bigint[]) AS u(id, target, data, expires)
         WHERE m.id = u.id",
    ),
    (
        Kind::Submitting,
        "UPDATE messages SET state = 5, updated_us = $2 WHERE id = ANY($1::bigint[])",
    ),
    (
        Kind::Sent,
        "UPDATE messages m SET state = 1, remote_id = u.rid, status = 'SENT', updated_us = $3
         FROM UNNEST($1::bigint[], $2::text[]) AS u(id, rid) WHERE m.id = u.id",
    ),
    (
        Kind::OpenDlr,
        "INSERT INTO dlr_open (connector, remote_id, message_id, created_us)
         SELECT u.c, u.r, u.id, $4 FROM UNNEST($1::text[], $2::text[], $3::bigint[]) AS u(c, r, id)
         ON CONFLICT (connector, remote_id) DO UPDATE SET message_id = EXCLUDED.message_id,
            created_us = EXCLUDED.created_us, part_status = NULL, part_error = 0",
    ),
    (
        Kind::Final,
        "UPDATE messages m SET state = u.state, status = u.status, remote_id = COALESCE(u.rid, m.remote_id), updated_us = $5
         FROM UNNEST($1::bigint[], $2::smallint[], $3::text[], $4::text[]) AS u(id, state, status, rid)
         WHERE m.id = u.id",
    ),
    (
        Kind::Routelog,
        "INSERT INTO routelog (message_id, received_us, in_connector, account, msgtype, source, dest, route,
                               status, error, updated_us, price, cost, parts, charged, route_entry)
         SELECT u.id, u.received, u.inc, u.account, u.msgtype, u.source, u.dest, u.route, u.status, u.error,
                $16, u.price, u.cost, u.parts, u.charged, u.entry
         FROM UNNEST($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::smallint[], $6::text[], $7::text[],
                     $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::int[], $14::bool[], $15::text[])
              AS u(id, received, inc, account, msgtype, source, dest, route, status, error, price, cost, parts, charged, entry)
         ON CONFLICT (message_id) DO UPDATE SET received_us = EXCLUDED.received_us,
            in_connector = EXCLUDED.in_connector, account = EXCLUDED.account, msgtype = EXCLUDED.msgtype,
            source = EXCLUDED.source, dest = EXCLUDED.dest, route = EXCLUDED.route, status = EXCLUDED.status,
            error = EXCLUDED.error, updated_us = EXCLUDED.updated_us, price = EXCLUDED.price,
            cost = EXCLUDED.cost, parts = EXCLUDED.parts, charged = EXCLUDED.charged,
            route_entry = EXCLUDED.route_entry",
    ),
    (
        Kind::Summary,
        "INSERT INTO hourly_summary (account, hour, prefix, connector, status, messages, parts, price, cost)
         SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::bigint[],
                              $7::bigint[], $8::bigint[], $9::bigint[])
         ON CONFLICT (account, hour, prefix, connector, status) DO UPDATE SET
            messages = hourly_summary.messages + EXCLUDED.messages, parts = hourly_summary.parts + EXCLUDED.parts,
            price = hourly_summary.price + EXCLUDED.price, cost = hourly_summary.cost + EXCLUDED.cost",
    ),
    (
        Kind::Refund,
        "UPDATE balances b SET micros = b.micros + u.m, updated_us = $3
         FROM UNNEST($1::text[], $2::bigint[]) AS u(account, m) WHERE b.account = u.account",
    ),
    (
        Kind::CloseDlr,
        "DELETE FROM dlr_open d USING UNNEST($1::text[], $2::text[]) AS u(c, r)
         WHERE d.connector = u.c AND d.remote_id = u.r",
    ),
    (
        Kind::PartDone,
        "UPDATE dlr_open d SET part_status = u.s, part_error = u.e
         FROM UNNEST($1::text[], $2::text[], $3::text[], $4::bigint[]) AS u(c, r, s, e)
         WHERE d.connector = u.c AND d.remote_id = u.r",
    ),
    (
        Kind::Events,
        "INSERT INTO msg_events (message_id, at_us, kind, remote_id, connector, instance, status, code)
         SELECT * FROM UNNEST($1::bigint[], $2::bigint[], $3::smallint[], $4::text[], $5::text[], $6::bigint[],
                              $7::text[], $8::bigint[])
         ON CONFLICT DO NOTHING",
    ),
    (
        Kind::HoldPart,
        "INSERT INTO concat_parts (key, seq, id, target, received_us, data)
         SELECT * FROM UNNEST($1::text[], $2::smallint[], $3::bigint[], $4::text[], $5::bigint[], $6::bytea[])
         ON CONFLICT (key, seq) DO UPDATE SET id = EXCLUDED.id, target = EXCLUDED.target,
            received_us = EXCLUDED.received_us, data = EXCLUDED.data",
    ),
    (
        Kind::DropParts,
        "DELETE FROM concat_parts WHERE key = ANY($1::text[])",
    ),
    (
        Kind::Sat,
        "INSERT INTO sat_entries (pool, dest, sat_addr, original, original_ton, original_npi, expires_us)
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::smallint[], $6::smallint[], $7::bigint[])
         ON CONFLICT (pool, dest, sat_addr) DO UPDATE SET original = EXCLUDED.original,
            original_ton = EXCLUDED.original_ton, original_npi = EXCLUDED.original_npi,
            expires_us = EXCLUDED.expires_us",
    ),
    (
        Kind::SatPurge,
        "DELETE FROM sat_entries WHERE expires_us <= $1",
    ),
    (
        Kind::Flags,
        "INSERT INTO connector_flags (connector, hold, forceclose) VALUES ($1, $2, $3)
         ON CONFLICT (connector) DO UPDATE SET hold = EXCLUDED.hold, forceclose = EXCLUDED.forceclose",
    ),
    (
        Kind::FlagsClear,
        "DELETE FROM connector_flags WHERE connector = $1",
    ),
    (
        // $2: add (true) or set; $3 the amount; $4 the postpaid limit a set gives.
        Kind::Balance,
        "WITH old AS (SELECT micros, postpaid_limit FROM balances WHERE account = $1),
              new AS (SELECT CASE WHEN $2::bool THEN COALESCE((SELECT micros FROM old), 0) + $3::bigint ELSE $3::bigint END AS micros,
                             CASE WHEN $2::bool THEN (SELECT postpaid_limit FROM old) ELSE $4::bigint END AS lim),
              up AS (INSERT INTO balances (account, micros, postpaid_limit, updated_us)
                     SELECT $1, micros, lim, $5 FROM new
                     ON CONFLICT (account) DO UPDATE SET micros = EXCLUDED.micros,
                        postpaid_limit = EXCLUDED.postpaid_limit, updated_us = EXCLUDED.updated_us)
         INSERT INTO balance_history (account, amount_before, amount, created_us, created_by)
         SELECT $1, COALESCE((SELECT micros FROM old), 0),
                (SELECT micros FROM new) - COALESCE((SELECT micros FROM old), 0), $5, $6",
    ),
    (
        // The charges and refunds of a group summed (see `group::history`); an account
        // without a balance is not balance-controlled and has no history.
        Kind::History,
        "INSERT INTO balance_history (account, amount_before, amount, created_us, created_by)
         SELECT u.account, b.micros - u.change, u.change, $4, u.by
         FROM UNNEST($1::text[], $2::bigint[], $3::text[]) WITH ORDINALITY AS u(account, change, by, n)
         JOIN balances b ON b.account = u.account ORDER BY u.n",
    ),
    (
        Kind::NodeMax,
        "UPDATE nodes SET max_id = GREATEST(max_id, $2) WHERE nodeid = $1",
    ),
];

/// The charges of a group, decided in order (`emg_charge`, see the schema).
pub const CHARGE: &str = "SELECT emg_charge($1::text[], $2::bigint[], $3::bigint)";
/// Which of the given messages are in state sent.
pub const SENT_STATES: &str = "SELECT id FROM messages WHERE id = ANY($1::bigint[]) AND state = 1";

pub struct Statements {
    by_kind: HashMap<Kind, Statement>,
    pub charge: Statement,
    pub sent_states: Statement,
}

impl Statements {
    pub async fn prepare(client: &Client) -> Result<Statements, tokio_postgres::Error> {
        let mut by_kind = HashMap::new();
        for (kind, sql) in SQL {
            by_kind.insert(*kind, client.prepare(sql).await?);
        }
        Ok(Statements {
            by_kind,
            charge: client.prepare(CHARGE).await?,
            sent_states: client.prepare(SENT_STATES).await?,
        })
    }

    pub fn get(&self, kind: Kind) -> &Statement {
        &self.by_kind[&kind]
    }
}
