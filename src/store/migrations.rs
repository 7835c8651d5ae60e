//! The schema and its forward migrations, tracked by `PRAGMA user_version`.
//!
//! Every table is STRICT; numbers are TEXT holding exact decimals (never REAL); every row a
//! person can edit has an integer `version` that each update bumps, so a stale edit is refused.
//! This is SQLite's schema; another engine keeps its own, with the same version numbers.

use crate::store::engine::{DbResult, Tx};

/// Identifies a keel file: "KEEL" in ASCII.
pub const APPLICATION_ID: i64 = 0x4B45_454C;

/// Each entry moves the schema from version `i` to `i + 1`.
pub const MIGRATIONS: &[&str] =
    &[SCHEMA_V1, SCHEMA_V2, SCHEMA_V3, SCHEMA_V4, SCHEMA_V5, SCHEMA_V6, SCHEMA_V7, SCHEMA_V8, SCHEMA_V9, SCHEMA_V10, SCHEMA_V11];

pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Migrations whose work grows with the file (a backfill). On a file of more than
/// [`MIGRATE_ON_OPEN_MAX`] items, opening stops before the first of them and the file is
/// read-only until `keel migrate` runs it (backup first, with a progress bar): a colleague
/// opening the file must not hold its write lock for minutes.
pub const HEAVY: &[i64] = &[super::search::INDEX_VERSION];
/// Files of up to this many items take every migration when they are opened.
pub const MIGRATE_ON_OPEN_MAX: i64 = 10_000;

/// The first heavy migration a file at version `from` has still to take.
pub fn first_heavy(from: i64) -> Option<i64> {
    HEAVY.iter().copied().find(|&v| v > from && v <= SCHEMA_VERSION)
}

/// Bring the schema from version `from` up to [`SCHEMA_VERSION`], with the engine's own
/// migrations (the same version numbers on both), and mark the database as keel's.
pub fn migrate(tx: &Tx, from: i64) -> DbResult<()> {
    migrate_to(tx, from, SCHEMA_VERSION, &mut |_, _| {})
}

/// [`migrate`] up to version `to` only; `progress` hears (done, all) of a migration's backfill.
pub fn migrate_to(tx: &Tx, from: i64, to: i64, progress: &mut dyn FnMut(u64, u64)) -> DbResult<()> {
    let migrations = if tx.is_postgres() { super::migrations_postgres::MIGRATIONS } else { MIGRATIONS };
    if tx.is_postgres() && from > 0 {
        // The reporting views are not versioned: out of the way while the tables change.
        super::reporting::drop_views(tx)?;
    }
    for (i, sql) in migrations.iter().enumerate().take(to as usize).skip(from as usize) {
        tx.batch(sql)?;
        if (i + 1) as i64 == super::kept::SCHEMA {
            // The kept staleness dates are the domain's: filled here in one pass over the items.
            super::kept::stale::fill(tx, 0)?;
        }
        super::search::migrated(tx, (i + 1) as i64, progress)?;
        tx.set_schema_version((i + 1) as i64)?;
    }
    tx.set_application_id(APPLICATION_ID)?;
    if tx.is_postgres() {
        super::reporting::create_views(tx)?;
    }
    Ok(())
}

const SCHEMA_V1: &str = r#"
-- One registry of human keys (O-3, KR-12, M-27 …) shared by every kind of item, so that
-- values, links, escalations and decisions can point at any item with a real foreign key.
CREATE TABLE items (
    id    INTEGER PRIMARY KEY,
    kind  TEXT    NOT NULL,
    num   INTEGER NOT NULL CHECK (num > 0),
    key   TEXT    NOT NULL UNIQUE,
    UNIQUE (kind, num)
) STRICT;

CREATE TABLE settings (
    name    TEXT PRIMARY KEY,
    value   TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
) STRICT;

CREATE TABLE cycles (
    id         INTEGER PRIMARY KEY REFERENCES items(id),
    name       TEXT NOT NULL UNIQUE,
    start_date TEXT NOT NULL,
    end_date   TEXT NOT NULL,
    version    INTEGER NOT NULL DEFAULT 1,
    CHECK (start_date <= end_date)
) STRICT;

CREATE TABLE units (
    id        INTEGER PRIMARY KEY REFERENCES items(id),
    name      TEXT NOT NULL,
    kind      TEXT NOT NULL CHECK (kind IN ('business-unit', 'function')),
    parent_id INTEGER REFERENCES units(id),
    version   INTEGER NOT NULL DEFAULT 1
) STRICT;

CREATE TABLE people (
    id        INTEGER PRIMARY KEY REFERENCES items(id),
    name      TEXT NOT NULL,
    login     TEXT UNIQUE,
    email     TEXT,
    unit_id   INTEGER REFERENCES units(id),
    pmo_admin INTEGER NOT NULL DEFAULT 0 CHECK (pmo_admin IN (0, 1)),
    version   INTEGER NOT NULL DEFAULT 1
) STRICT;

CREATE TABLE kras (
    id       INTEGER PRIMARY KEY REFERENCES items(id),
    name     TEXT NOT NULL,
    owner_id INTEGER REFERENCES people(id),
    version  INTEGER NOT NULL DEFAULT 1
) STRICT;

CREATE TABLE objectives (
    id                 INTEGER PRIMARY KEY REFERENCES items(id),
    cycle_id           INTEGER NOT NULL REFERENCES cycles(id),
    title              TEXT NOT NULL,
    description        TEXT,
    owner_id           INTEGER REFERENCES people(id),
    parent_id          INTEGER REFERENCES objectives(id),
    level              TEXT NOT NULL CHECK (level IN ('company', 'department', 'team', 'individual')),
    manual_status      TEXT CHECK (manual_status IN ('green', 'amber', 'red')),
    status_explanation TEXT,
    target             TEXT,
    version            INTEGER NOT NULL DEFAULT 1
) STRICT;
CREATE INDEX objectives_parent ON objectives(parent_id);

CREATE TABLE objective_units (
    objective_id INTEGER NOT NULL REFERENCES objectives(id),
    unit_id      INTEGER NOT NULL REFERENCES units(id),
    PRIMARY KEY (objective_id, unit_id)
) STRICT;

CREATE TABLE key_results (
    id                 INTEGER PRIMARY KEY REFERENCES items(id),
    objective_id       INTEGER NOT NULL REFERENCES objectives(id),
    title              TEXT NOT NULL,
    kind               TEXT NOT NULL CHECK (kind IN ('increase-to', 'decrease-to', 'stay-above', 'stay-below', 'milestone')),
    baseline           TEXT,
    target             TEXT,
    unit               TEXT,
    weight             TEXT NOT NULL DEFAULT '1',
    confidence         TEXT,
    owner_id           INTEGER REFERENCES people(id),
    milestone_done     INTEGER NOT NULL DEFAULT 0 CHECK (milestone_done IN (0, 1)),
    manual_status      TEXT CHECK (manual_status IN ('green', 'amber', 'red')),
    status_explanation TEXT,
    version            INTEGER NOT NULL DEFAULT 1
) STRICT;
CREATE INDEX key_results_objective ON key_results(objective_id);

CREATE TABLE kpis (
    id          INTEGER PRIMARY KEY REFERENCES items(id),
    title       TEXT NOT NULL,
    ipo_class   TEXT NOT NULL CHECK (ipo_class IN ('input', 'process', 'outcome')),
    unit        TEXT,
    direction   TEXT NOT NULL CHECK (direction IN ('higher', 'lower')),
    target      TEXT,
    tolerance   TEXT,
    timeframe   TEXT,
    data_source TEXT,
    frequency   TEXT CHECK (frequency IN ('weekly', 'biweekly', 'monthly', 'quarterly')),
    owner_id    INTEGER REFERENCES people(id),
    kra_id      INTEGER REFERENCES kras(id),
    version     INTEGER NOT NULL DEFAULT 1
) STRICT;

-- Portfolio → programme → project → measure package.
CREATE TABLE nodes (
    id        INTEGER PRIMARY KEY REFERENCES items(id),
    kind      TEXT NOT NULL CHECK (kind IN ('portfolio', 'programme', 'project', 'package')),
    parent_id INTEGER REFERENCES nodes(id),
    title     TEXT NOT NULL,
    owner_id  INTEGER REFERENCES people(id),
    target    TEXT,
    version   INTEGER NOT NULL DEFAULT 1
) STRICT;
CREATE INDEX nodes_parent ON nodes(parent_id);

CREATE TABLE measures (
    id                   INTEGER PRIMARY KEY REFERENCES items(id),
    package_id           INTEGER REFERENCES nodes(id),
    title                TEXT NOT NULL,
    description          TEXT,
    owner_id             INTEGER REFERENCES people(id),
    sponsor_id           INTEGER REFERENCES people(id),
    controller_id        INTEGER REFERENCES people(id),
    business_unit_id     INTEGER REFERENCES units(id),
    function_id          INTEGER REFERENCES units(id),
    kra_id               INTEGER REFERENCES kras(id),
    stage                TEXT NOT NULL DEFAULT 'defined'
        CHECK (stage IN ('defined', 'identified', 'detailed', 'decided', 'implemented', 'closed')),
    side_state           TEXT CHECK (side_state IN ('on-hold', 'cancelled')),
    side_reason          TEXT,
    pending_stage        TEXT CHECK (pending_stage IN ('decided', 'implemented', 'closed')),
    requested_by         INTEGER REFERENCES people(id),
    sponsor_approved_by  INTEGER REFERENCES people(id),
    controller_signed_by INTEGER REFERENCES people(id),
    validated_by         INTEGER REFERENCES people(id),
    cadence              TEXT NOT NULL DEFAULT 'weekly' CHECK (cadence IN ('weekly', 'biweekly', 'monthly', 'quarterly')),
    value_type           TEXT NOT NULL DEFAULT 'recurring-benefit'
        CHECK (value_type IN ('recurring-benefit', 'one-time-benefit', 'one-time-cost', 'recurring-cost')),
    potential            TEXT,
    narrative            TEXT,
    decision_needed      TEXT,
    risk                 TEXT,
    next_steps           TEXT,
    version              INTEGER NOT NULL DEFAULT 1
) STRICT;
CREATE INDEX measures_package ON measures(package_id);
CREATE INDEX measures_owner ON measures(owner_id);

CREATE TABLE milestones (
    id         INTEGER PRIMARY KEY,
    measure_id INTEGER NOT NULL REFERENCES measures(id),
    title      TEXT NOT NULL,
    due_date   TEXT NOT NULL,
    done_date  TEXT,
    version    INTEGER NOT NULL DEFAULT 1
) STRICT;
CREATE INDEX milestones_measure ON milestones(measure_id);

CREATE TABLE dependencies (
    measure_id    INTEGER NOT NULL REFERENCES measures(id),
    depends_on_id INTEGER NOT NULL REFERENCES measures(id),
    PRIMARY KEY (measure_id, depends_on_id),
    CHECK (measure_id <> depends_on_id)
) STRICT;
CREATE INDEX dependencies_on ON dependencies(depends_on_id);

-- Many-to-many: measure → key result or KPI it contributes to; KPI → key result or objective it informs.
CREATE TABLE links (
    from_id INTEGER NOT NULL REFERENCES items(id),
    to_id   INTEGER NOT NULL REFERENCES items(id),
    PRIMARY KEY (from_id, to_id)
) STRICT;
CREATE INDEX links_to ON links(to_id);

-- One row per item and period. Numbers are exact decimals as text.
CREATE TABLE item_values (
    item_id      INTEGER NOT NULL REFERENCES items(id),
    period       TEXT NOT NULL,
    period_start TEXT NOT NULL,
    baseline     TEXT,
    planned      TEXT,
    forecast     TEXT,
    actual       TEXT,
    comment      TEXT,
    updated_by   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    version      INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (item_id, period)
) STRICT;
CREATE INDEX item_values_order ON item_values(item_id, period_start);

-- Derived, kept incrementally by the write path: each measure's money totals and what it last
-- contributed to the hierarchy (stage and package), so an edit adds only its delta upwards.
CREATE TABLE measure_money (
    measure_id        INTEGER PRIMARY KEY REFERENCES measures(id),
    planned           TEXT NOT NULL,
    forecast          TEXT NOT NULL,
    actual            TEXT NOT NULL,
    counted_stage     TEXT,
    counted_package   INTEGER REFERENCES nodes(id)
) STRICT;

-- Derived: money per node and DoI stage (the value funnel); a node's total is the sum of its rows.
CREATE TABLE node_funnel (
    node_id  INTEGER NOT NULL REFERENCES nodes(id),
    stage    TEXT NOT NULL,
    planned  TEXT NOT NULL,
    forecast TEXT NOT NULL,
    actual   TEXT NOT NULL,
    PRIMARY KEY (node_id, stage)
) STRICT;

CREATE TABLE escalations (
    id              INTEGER PRIMARY KEY,
    item_id         INTEGER NOT NULL REFERENCES items(id),
    tier            INTEGER NOT NULL CHECK (tier BETWEEN 1 AND 3),
    state           TEXT NOT NULL CHECK (state IN ('open', 'closed')),
    reason          TEXT NOT NULL,
    period          TEXT NOT NULL,
    relative        TEXT,
    gap             TEXT NOT NULL,
    periods_out     INTEGER NOT NULL,
    assignee_role   TEXT NOT NULL,
    assignee_id     INTEGER REFERENCES people(id),
    opened_at       TEXT NOT NULL,
    tier_changed_at TEXT NOT NULL,
    due_at          TEXT NOT NULL,
    acknowledged_by TEXT,
    acknowledged_at TEXT,
    snoozed_until   TEXT,
    decision        TEXT,
    closed_at       TEXT,
    closed_by       TEXT,
    version         INTEGER NOT NULL DEFAULT 1
) STRICT;
CREATE UNIQUE INDEX escalations_one_open ON escalations(item_id) WHERE state = 'open';
CREATE INDEX escalations_state ON escalations(state, tier);

CREATE TABLE escalation_events (
    id            INTEGER PRIMARY KEY,
    escalation_id INTEGER NOT NULL REFERENCES escalations(id),
    at            TEXT NOT NULL,
    actor         TEXT NOT NULL,
    event         TEXT NOT NULL,
    detail        TEXT NOT NULL
) STRICT;
CREATE INDEX escalation_events_esc ON escalation_events(escalation_id);

CREATE TABLE decisions (
    id         INTEGER PRIMARY KEY,
    item_id    INTEGER NOT NULL REFERENCES items(id),
    text       TEXT NOT NULL,
    decided_by TEXT NOT NULL,
    owner_id   INTEGER REFERENCES people(id),
    at         TEXT NOT NULL,
    version    INTEGER NOT NULL DEFAULT 1
) STRICT;
CREATE INDEX decisions_item ON decisions(item_id);

CREATE TABLE gate_events (
    id         INTEGER PRIMARY KEY,
    measure_id INTEGER NOT NULL REFERENCES measures(id),
    at         TEXT NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    outcome    TEXT NOT NULL,
    from_stage TEXT NOT NULL,
    to_stage   TEXT,
    detail     TEXT NOT NULL
) STRICT;
CREATE INDEX gate_events_measure ON gate_events(measure_id);

-- Append-only and hash-chained: each row's hash covers its fields and the previous row's hash.
CREATE TABLE audit (
    seq       INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    actor     TEXT NOT NULL,
    item_key  TEXT NOT NULL,
    field     TEXT NOT NULL,
    old_value TEXT,
    new_value TEXT,
    reason    TEXT,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
) STRICT;
CREATE INDEX audit_item ON audit(item_key, seq);
CREATE INDEX audit_at ON audit(at);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: rows cannot be changed'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: rows cannot be deleted'); END;
"#;

/// Check-in meetings, so "what changed since the last check-in" has a date to start from and
/// decisions can be listed per meeting.
const SCHEMA_V2: &str = r#"
CREATE TABLE meetings (
    id          INTEGER PRIMARY KEY,
    started_at  TEXT NOT NULL,
    ended_at    TEXT,
    facilitator TEXT NOT NULL,
    agenda      TEXT NOT NULL,
    version     INTEGER NOT NULL DEFAULT 1
) STRICT;
ALTER TABLE decisions ADD COLUMN meeting_id INTEGER REFERENCES meetings(id);
"#;

/// The owner's confidence in the forecast, per period (0–1), entered with the weekly update.
const SCHEMA_V3: &str = r#"
ALTER TABLE item_values ADD COLUMN confidence TEXT;
"#;

/// Indexes for large files (issue 7), each one used by a query plan (`EXPLAIN QUERY PLAN`):
/// - one item's escalations (the detail pane, on every cursor move), which otherwise scans every
///   escalation ever raised;
/// - open milestones by due date (`keel check`'s late milestones), which otherwise scans every
///   milestone and sorts them.
const SCHEMA_V4: &str = r#"
CREATE INDEX escalations_item ON escalations(item_id);
CREATE INDEX milestones_open_due ON milestones(due_date) WHERE done_date IS NULL;
"#;

/// The variance list's order as columns SQLite computes (virtual: nothing stored, nothing for the
/// write path to keep), and an index of the open escalations in that order, so the app reads the
/// list a page at a time by keyset (`store/escalation_list.rs`). Most severe first: tier, then
/// the size of the relative gap (none last), then of the absolute gap, then id.
const SCHEMA_V5: &str = r#"
ALTER TABLE escalations ADD COLUMN rank_tier INTEGER GENERATED ALWAYS AS (-tier) VIRTUAL;
ALTER TABLE escalations ADD COLUMN rank_relative REAL GENERATED ALWAYS AS (COALESCE(-abs(CAST(relative AS REAL)), 1e308)) VIRTUAL;
ALTER TABLE escalations ADD COLUMN rank_gap REAL GENERATED ALWAYS AS (COALESCE(-abs(CAST(gap AS REAL)), 0)) VIRTUAL;
CREATE INDEX escalations_open_order ON escalations(rank_tier, rank_relative, rank_gap, id) WHERE state = 'open';
"#;

/// Who reported a value and when, as a plan (or another system) says, kept apart from who entered
/// it into keel (`updated_by`/`updated_at`: the importer, or the person who typed it). NULL for a
/// value typed into keel, and cleared when someone edits the value: it is then theirs. A value's
/// time for freshness is `COALESCE(reported_at, updated_at)`; the plan export writes the reported
/// pair where there is one, so a plan round-trips byte for byte.
const SCHEMA_V6: &str = r#"
ALTER TABLE item_values ADD COLUMN reported_by TEXT;
ALTER TABLE item_values ADD COLUMN reported_at TEXT;
"#;

/// Key results and KPIs carry a narrative of their own (why a number is off, what happens next),
/// kept apart from a key result's status explanation, which excuses a manual status.
const SCHEMA_V7: &str = r#"
ALTER TABLE key_results ADD COLUMN narrative TEXT;
ALTER TABLE kpis ADD COLUMN narrative TEXT;
"#;

/// Keeping the organisation current (issue 19): an item can be retired (kept with its history,
/// out of lists, roll-ups and checks) and brought back; every import is recorded as one change
/// set — the audit rows it wrote — so that it can be listed and reverted as one edit.
const SCHEMA_V8: &str = r#"
ALTER TABLE items ADD COLUMN retired_at TEXT;
ALTER TABLE items ADD COLUMN retired_reason TEXT;
CREATE TABLE change_sets (
    id          INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('plan', 'values')),
    file        TEXT NOT NULL,
    first_seq   INTEGER NOT NULL,
    last_seq    INTEGER NOT NULL,
    items       INTEGER NOT NULL,
    value_count INTEGER NOT NULL,
    reverted_at TEXT,
    reverted_by TEXT,
    version     INTEGER NOT NULL DEFAULT 1
) STRICT;
"#;

/// Signals (issue 20), version 9. For each value: when its
/// actual was first given (the update-discipline ledger: a later correction does not make an
/// update late), the value source whose sync wrote it, and the reason a person gave when typing
/// over a source-fed value (an override). Which items are source-fed, by the source's name only:
/// a source's command lives in the syncing user's own configuration, never in this shared file,
/// so no colleague can make another user run code. The last failure of an item's source opens a
/// "source failed" row for its owner until a sync succeeds.
const SCHEMA_V9: &str = r#"
ALTER TABLE item_values ADD COLUMN actual_at TEXT;
ALTER TABLE item_values ADD COLUMN source TEXT;
ALTER TABLE item_values ADD COLUMN override_reason TEXT;
CREATE TABLE item_sources (
    item_id     INTEGER PRIMARY KEY REFERENCES items(id),
    name        TEXT NOT NULL,
    synced_at   TEXT,
    failed_at   TEXT,
    failure     TEXT,
    version     INTEGER NOT NULL DEFAULT 1
) STRICT;
"#;

/// Kept by the write path (issue 17), version 10: what the whole-organisation answers need, so
/// they are an index range rather than a recompute (see `store::kept`). Derived: rebuilt, not
/// copied, by `keel copy`.
///
/// `kept_stale`: for each item that owes updates and is not retired, the day from which it is
/// stale, and the day from which that date is exact (the start of its newest actual's period);
/// filled by `migrate` after this script (the date is the domain's rule). Never "is stale".
///
/// `kept_escalation_counts`: open escalations by tier, unit (a measure's business unit) and
/// owner (the item's), 0 for none; kept by the triggers below on every write to an escalation
/// and every change of an escalated item's owner or unit, and backfilled here in one pass.
const SCHEMA_V10: &str = r#"
CREATE TABLE kept_stale (
    item_id     INTEGER PRIMARY KEY REFERENCES items(id),
    list_rank   INTEGER NOT NULL,
    cadence     TEXT NOT NULL,
    last_update TEXT,
    exact_from  TEXT,
    stale_from  TEXT NOT NULL
) STRICT;
CREATE INDEX kept_stale_from ON kept_stale(stale_from);
CREATE INDEX kept_stale_exact ON kept_stale(exact_from);

CREATE TABLE kept_escalation_counts (
    tier       INTEGER NOT NULL,
    unit_id    INTEGER NOT NULL,
    owner_id   INTEGER NOT NULL,
    open_count INTEGER NOT NULL,
    PRIMARY KEY (tier, unit_id, owner_id)
) STRICT;

INSERT INTO kept_escalation_counts (tier, unit_id, owner_id, open_count)
SELECT e.tier, COALESCE(m.business_unit_id, 0), COALESCE(m.owner_id, k.owner_id, p.owner_id, 0), COUNT(*)
FROM escalations e LEFT JOIN measures m ON m.id = e.item_id LEFT JOIN key_results k ON k.id = e.item_id
LEFT JOIN kpis p ON p.id = e.item_id
WHERE e.state = 'open' GROUP BY 1, 2, 3;

CREATE TRIGGER kept_escalation_opened AFTER INSERT ON escalations WHEN NEW.state = 'open'
BEGIN
    INSERT INTO kept_escalation_counts (tier, unit_id, owner_id, open_count)
    VALUES (NEW.tier, COALESCE((SELECT business_unit_id FROM measures WHERE id = NEW.item_id), 0),
            COALESCE((SELECT owner_id FROM measures WHERE id = NEW.item_id), (SELECT owner_id FROM key_results WHERE id = NEW.item_id),
                     (SELECT owner_id FROM kpis WHERE id = NEW.item_id), 0), 1)
    ON CONFLICT (tier, unit_id, owner_id) DO UPDATE SET open_count = open_count + 1;
END;

CREATE TRIGGER kept_escalation_moved AFTER UPDATE OF tier, state ON escalations WHEN OLD.state = 'open' OR NEW.state = 'open'
BEGIN
    UPDATE kept_escalation_counts SET open_count = open_count - 1
    WHERE OLD.state = 'open' AND tier = OLD.tier
      AND unit_id = COALESCE((SELECT business_unit_id FROM measures WHERE id = OLD.item_id), 0)
      AND owner_id = COALESCE((SELECT owner_id FROM measures WHERE id = OLD.item_id), (SELECT owner_id FROM key_results WHERE id = OLD.item_id),
                              (SELECT owner_id FROM kpis WHERE id = OLD.item_id), 0);
    INSERT INTO kept_escalation_counts (tier, unit_id, owner_id, open_count)
    SELECT NEW.tier, COALESCE((SELECT business_unit_id FROM measures WHERE id = NEW.item_id), 0),
           COALESCE((SELECT owner_id FROM measures WHERE id = NEW.item_id), (SELECT owner_id FROM key_results WHERE id = NEW.item_id),
                    (SELECT owner_id FROM kpis WHERE id = NEW.item_id), 0), 1
    WHERE NEW.state = 'open'
    ON CONFLICT (tier, unit_id, owner_id) DO UPDATE SET open_count = open_count + 1;
END;

CREATE TRIGGER kept_escalation_removed AFTER DELETE ON escalations WHEN OLD.state = 'open'
BEGIN
    UPDATE kept_escalation_counts SET open_count = open_count - 1
    WHERE tier = OLD.tier
      AND unit_id = COALESCE((SELECT business_unit_id FROM measures WHERE id = OLD.item_id), 0)
      AND owner_id = COALESCE((SELECT owner_id FROM measures WHERE id = OLD.item_id), (SELECT owner_id FROM key_results WHERE id = OLD.item_id),
                              (SELECT owner_id FROM kpis WHERE id = OLD.item_id), 0);
END;

CREATE TRIGGER kept_escalation_measure_holder AFTER UPDATE OF owner_id, business_unit_id ON measures
WHEN EXISTS (SELECT 1 FROM escalations WHERE item_id = NEW.id AND state = 'open')
BEGIN
    UPDATE kept_escalation_counts SET open_count = open_count - 1
    WHERE tier = (SELECT tier FROM escalations WHERE item_id = OLD.id AND state = 'open')
      AND unit_id = COALESCE(OLD.business_unit_id, 0) AND owner_id = COALESCE(OLD.owner_id, 0);
    INSERT INTO kept_escalation_counts (tier, unit_id, owner_id, open_count)
    SELECT tier, COALESCE(NEW.business_unit_id, 0), COALESCE(NEW.owner_id, 0), 1 FROM escalations WHERE item_id = NEW.id AND state = 'open'
    ON CONFLICT (tier, unit_id, owner_id) DO UPDATE SET open_count = open_count + 1;
END;

CREATE TRIGGER kept_escalation_key_result_owner AFTER UPDATE OF owner_id ON key_results
WHEN EXISTS (SELECT 1 FROM escalations WHERE item_id = NEW.id AND state = 'open')
BEGIN
    UPDATE kept_escalation_counts SET open_count = open_count - 1
    WHERE tier = (SELECT tier FROM escalations WHERE item_id = OLD.id AND state = 'open') AND unit_id = 0 AND owner_id = COALESCE(OLD.owner_id, 0);
    INSERT INTO kept_escalation_counts (tier, unit_id, owner_id, open_count)
    SELECT tier, 0, COALESCE(NEW.owner_id, 0), 1 FROM escalations WHERE item_id = NEW.id AND state = 'open'
    ON CONFLICT (tier, unit_id, owner_id) DO UPDATE SET open_count = open_count + 1;
END;

CREATE TRIGGER kept_escalation_kpi_owner AFTER UPDATE OF owner_id ON kpis
WHEN EXISTS (SELECT 1 FROM escalations WHERE item_id = NEW.id AND state = 'open')
BEGIN
    UPDATE kept_escalation_counts SET open_count = open_count - 1
    WHERE tier = (SELECT tier FROM escalations WHERE item_id = OLD.id AND state = 'open') AND unit_id = 0 AND owner_id = COALESCE(OLD.owner_id, 0);
    INSERT INTO kept_escalation_counts (tier, unit_id, owner_id, open_count)
    SELECT tier, 0, COALESCE(NEW.owner_id, 0), 1 FROM escalations WHERE item_id = NEW.id AND state = 'open'
    ON CONFLICT (tier, unit_id, owner_id) DO UPDATE SET open_count = open_count + 1;
END;
"#;

/// Search (issue 17), version 11: a trigram FTS5 index over the key, title and owner's name of
/// every live (not retired) objective, key result, KPI, node and measure — what the app's `/`
/// searches. Derived data: kept by the triggers below on every write, filled set-based at the
/// end of a bulk load (which pauses the insert triggers with a row in `search_pause` inside its
/// own transaction), rebuilt by `keel copy`, never copied. Its backfill over a large file is run
/// by `keel migrate` (see `store::search`), not on opening.
const SCHEMA_V11: &str = r#"
CREATE VIRTUAL TABLE item_search USING fts5(key, title, owner, tokenize = 'trigram');
CREATE TABLE search_pause (one INTEGER PRIMARY KEY CHECK (one = 1)) STRICT;
CREATE VIEW search_source (id, key, title, owner, owner_id) AS
    SELECT i.id, i.key, x.title, p.name, x.owner_id FROM (
        SELECT id, title, owner_id FROM objectives UNION ALL SELECT id, title, owner_id FROM key_results
        UNION ALL SELECT id, title, owner_id FROM kpis UNION ALL SELECT id, title, owner_id FROM nodes
        UNION ALL SELECT id, title, owner_id FROM measures
    ) x JOIN items i ON i.id = x.id AND i.retired_at IS NULL LEFT JOIN people p ON p.id = x.owner_id;
-- Inserts wait while a bulk load pauses them (it fills the index itself at its end); updates
-- and deletes never wait.
CREATE TRIGGER objectives_search_insert AFTER INSERT ON objectives WHEN NOT EXISTS (SELECT 1 FROM search_pause) BEGIN
    INSERT INTO item_search (rowid, key, title, owner) SELECT id, key, title, owner FROM search_source WHERE id = NEW.id;
END;
CREATE TRIGGER objectives_search_update AFTER UPDATE OF title, owner_id ON objectives BEGIN
    DELETE FROM item_search WHERE rowid = OLD.id;
    INSERT INTO item_search (rowid, key, title, owner) SELECT id, key, title, owner FROM search_source WHERE id = NEW.id;
END;
CREATE TRIGGER objectives_search_delete AFTER DELETE ON objectives BEGIN
    DELETE FROM item_search WHERE rowid = OLD.id;
END;
CREATE TRIGGER key_results_search_insert AFTER INSERT ON key_results WHEN NOT EXISTS (SELECT 1 FROM search_pause) BEGIN
    INSERT INTO item_search (rowid, key, title, owner) SELECT id, key, title, owner FROM search_source WHERE id = NEW.id;
END;
CREATE TRIGGER key_results_search_update AFTER UPDATE OF title, owner_id ON key_results BEGIN
    DELETE FROM item_search WHERE rowid = OLD.id;
    INSERT INTO item_search (rowid, key, title, owner) SELECT id, key, title, owner FROM search_source WHERE id = NEW.id;
END;
CREATE TRIGGER key_results_search_delete AFTER DELETE ON key_results BEGIN
    DELETE FROM item_search WHERE rowid = OLD.id;
END;
CREATE TRIGGER kpis_search_insert AFTER INSERT ON kpis WHEN NOT EXISTS (SELECT 1 FROM search_pause) BEGIN
    INSERT INTO item_search (rowid, key, title, owner) SELECT id, key, title, owner FROM search_source WHERE id = NEW.id;
END;
CREATE TRIGGER kpis_search_update AFTER UPDATE OF title, owner_id ON kpis BEGIN
    DELETE FROM item_search WHERE rowid = OLD.id;
    INSERT INTO item_search (rowid, key, title, owner) SELECT id, key, title, owner FROM search_source WHERE id = NEW.id;
END;
CREATE TRIGGER kpis_search_delete AFTER DELETE ON kpis BEGIN
    DELETE FROM item_search WHERE rowid = OLD.id;
END;
CREATE TRIGGER nodes_search_insert AFTER INSERT ON nodes WHEN NOT EXISTS (SELECT 1 FROM search_pause) BEGIN
    INSERT INTO item_search (rowid, key, title, owner) SELECT id, key, title, owner FROM search_source WHERE id = NEW.id;
END;
CREATE TRIGGER nodes_search_update AFTER UPDATE OF title, owner_id ON nodes BEGIN
    DELETE FROM item_search WHERE rowid = OLD.id;
    INSERT INTO item_search (rowid, key, title, owner) SELECT id, key, title, owner FROM search_source WHERE id = NEW.id;
END;
CREATE TRIGGER nodes_search_delete AFTER DELETE ON nodes BEGIN
    DELETE FROM item_search WHERE rowid = OLD.id;
END;
CREATE TRIGGER measures_search_insert AFTER INSERT ON measures WHEN NOT EXISTS (SELECT 1 FROM search_pause) BEGIN
    INSERT INTO item_search (rowid, key, title, owner) SELECT id, key, title, owner FROM search_source WHERE id = NEW.id;
END;
CREATE TRIGGER measures_search_update AFTER UPDATE OF title, owner_id ON measures BEGIN
    DELETE FROM item_search WHERE rowid = OLD.id;
    INSERT INTO item_search (rowid, key, title, owner) SELECT id, key, title, owner FROM search_source WHERE id = NEW.id;
END;
CREATE TRIGGER measures_search_delete AFTER DELETE ON measures BEGIN
    DELETE FROM item_search WHERE rowid = OLD.id;
END;
CREATE TRIGGER items_search AFTER UPDATE OF key, retired_at ON items BEGIN
    DELETE FROM item_search WHERE rowid = OLD.id;
    INSERT INTO item_search (rowid, key, title, owner) SELECT id, key, title, owner FROM search_source WHERE id = NEW.id;
END;
CREATE TRIGGER people_search AFTER UPDATE OF name ON people BEGIN
    DELETE FROM item_search WHERE rowid IN (SELECT id FROM search_source WHERE owner_id = NEW.id);
    INSERT INTO item_search (rowid, key, title, owner) SELECT id, key, title, owner FROM search_source WHERE owner_id = NEW.id;
END;
"#;
