// Package filter loads walrelay's rules file and decides, change by change,
// what is published: which tables, operations, rows and columns, on which
// topic, and how transactional-outbox rows and logical decoding messages are
// routed.
//
// # The rules file
//
//	default: drop                    # or capture: tables no rule names
//	rules:
//	  - tables: [public.orders, "sales.*", "re:archive\\.orders_\\d{4}"]
//	    operations: [insert, update, delete]   # default; truncate only when named
//	    columns: {exclude: [notes], mask: [card_number]}
//	    key: [tenant_id, id]             # the record key; default: the primary key
//	    where: "row.amount > 100"
//	    topic: shop.orders               # may use ${schema} and ${table}
//	  - tables: [public.audit]
//	    drop: true                       # all operations unless operations: says otherwise
//	  - tables: [public.outbox]
//	    outbox: {id: id, key: aggregate_id, topic: "outbox.${aggregate_type}", payload: payload, type: event_type}
//	messages:
//	  - prefix: events                   # exact, glob or re:
//	    topic: app.events                # may use ${prefix}
//
// Tables are "schema.table" names, globs (*, ?, [a-z], [!a-z], \ escapes;
// '.' is literal) or "re:" RE2 regular expressions; globs and expressions
// match the whole qualified name.
//
// # Deciding a change
//
// A change of a table that no rule names follows default. For a named table,
// the rules naming it are tried in file order; the first whose operations
// include the change's and whose where expression holds decides (a
// snapshot read counts as an insert). If none does, the change is dropped:
// default applies to unnamed tables only. So several rules for one table
// route by operation or by content; a rule after an unconditional one that
// covers all its tables and operations can never decide and is a load error,
// as is a duplicate rule.
//
// # Where expressions
//
// Expressions use expr (github.com/expr-lang/expr), compiled once at load
// with the variables row (the new row, the old one for deletes), before,
// after and op ("insert", "update", "delete", "read"); any other name is a
// load error, and now() is disabled so that a replay decides as the first
// run did. Columns are row.name or row["name"]. Values: integers are int,
// numeric/float are float64 (rounded beyond ~15 digits), text, json, enum,
// uuid and bytea are strings, date/timestamp/timestamptz are time.Time (UTC),
// time and interval are time.Duration, arrays are lists. NULL is nil, and a
// comparison (<, <=, >, >=) with nil is false, as in SQL and PostgreSQL's
// publication row filters; == nil tests for NULL, and ?? supplies a default.
// An old row under REPLICA IDENTITY DEFAULT holds only the key columns; the
// others are nil in before (and in row for deletes), and a delete has no
// after (nil whatever the identity), so a delete such an expression rejects
// is dropped, and consumers keep the row. DescribeTables (walrelay check,
// the start-up log, SIGHUP) flags a where that, for deletes, reads after or
// a column outside the replica identity (parts that op settles left out:
// op == "delete" || ... reads nothing) and, evaluated as a delete (op
// "delete", those columns and after nil, the identity's columns, whose
// values are unknown, given a few values of their types), comes out false,
// or fails on every value tried. So row.amount == nil || row.amount > 100
// is not flagged, nor an expression that reads identity columns only
// (row.id > 5 decides deletes as it decides inserts); row.amount > 100,
// after.amount > 100 and row.id > 5 || row.amount > 100 are. For
// key-changing updates it flags a read of before outside the identity,
// unless op settles it. Use REPLICA IDENTITY FULL (no help for after),
// leave delete out of operations, or let deletes pass: op == "delete" ||
// (...). Truncates carry no row: where does not apply to them.
//
// An expression is also checked against the columns of every table its
// rule can decide (CheckWhere, with the types TablesWithTypes reads): each
// column it names must exist (a typo would otherwise read NULL and drop every
// row), and it must compile to a boolean with the columns' types above, so
// "row.status > 5" on a text column, or "row.qty + 1", is refused by
// walrelay check, at start and on SIGHUP. get(row, "col") reads a column
// that some tables of a glob lack as nil, by choice. A table that appears
// later, or a relation whose columns change under a rule, is checked when
// its first change reaches the rule: a misfit is then a *RuleError, as is an
// expression that fails on a value (NULL + 1, an "infinity" date): the
// pipeline halts with the rule, table, event ID and column; nothing is
// skipped.
//
// # Columns
//
// exclude removes columns from the event and from the relation every later
// stage sees, so the Avro schema loses them too. mask replaces a value with
// the lower-case hex SHA-256 of mask_salt followed by the value's text
// (NULL stays NULL) and announces the column as text; for a text column this
// equals PostgreSQL's encode(sha256(convert_to(salt || col, 'UTF8')), 'hex').
//
// A masked or excluded column that is renamed (ALTER TABLE ... RENAME
// COLUMN email TO email_address) would go out in plain text under its new
// name: the filter remembers each table's columns (by OID) and pairs a
// column gone from a new relation version with one of the same type that
// appeared between the same remaining columns (a rename keeps the column's
// place). When a rule that masks or excludes the old name only (the new
// name in neither list) decides a change of such a version, Apply returns a
// *RuleError naming the rule, table and both names, and the pipeline halts
// until columns.mask (or columns.exclude) names the new column (SIGHUP). A
// masked or excluded column simply dropped is no error. The memory lasts
// for the process (Succeed, Inherit) and across processes: LineageChanged
// returns, when a table's columns change, the state of the tables a mask or
// exclude rule names, which the pipeline saves in its data directory, and
// SeedLineage starts the next process from it, whose first relation of a
// table renamed while it was stopped then halts the same way. Only a table
// whose columns no process saw before the rename goes unchecked. The rule
// must keep the old name too: changes from before the rename may be
// replayed from the checkpoint, and a version older than the one seen
// before it (by LSN) halts a rule that names only the new name, saying so.
// CheckWhere accepts such an old name, which the catalog no longer has, when
// the lineage knows it for a column the rule also names by its name now.
//
// Every relation the filter passes on carries a Version unique per OID for
// its column list, so an encoder that derives schemas per (OID, Version)
// never sees two column lists under one version (see Rules.Succeed).
//
// # Keys
//
// key names the columns of the record key (Debezium's message.key.columns),
// in place of the primary key or replica identity index; the key record
// has them in the order key lists them, as Debezium's. The partition
// follows the key, so key: [tenant_id] keeps each tenant's events in
// order, and an update that changes a key column is published as a key
// change (a delete of the old key, then a create). A delete's or key change's old row carries only
// the replica identity's columns: key columns outside it are null in a
// delete's key, and an update of them is not seen as a key change, so
// walrelay check and the start-up log flag them (use REPLICA IDENTITY
// FULL). Excluded columns cannot be key
// columns; masked ones can (the key then holds the hash). With Avro, a new
// key is a new key schema: the registry's compatibility level decides
// whether the subject takes it.
//
// # Outbox and messages
//
// An outbox rule turns each inserted row into one raw record: topic from the
// template (${column} of the row; characters Kafka does not allow become
// '_'), key = the key column's text, value = the payload column as is,
// ce_id = the id column, ce_type = the type column (io.walrelay.outbox when
// unset), content-type from content_type or the payload's type (json/jsonb:
// application/json, bytea: application/octet-stream, else text/plain).
// A NULL payload is a null value. Updates (the pipeline warns once per
// table), deletes (an application keeping the table empty), truncates and
// snapshot reads of an outbox table publish nothing: the rows an outbox
// table held when a snapshot read it, or received before it joined the
// publication (OutboxTable), are never published, and a blocking catch-up
// never leaves out an outbox insert, since its snapshot cannot stand for
// it. An inserted row that cannot become an event (a NULL or empty id, a
// NULL topic-template column, a topic Kafka refuses) is a *RuleError whose
// fix tells how to prevent or skip such rows. Transactional logical
// decoding messages (pg_logical_emit_message(true, prefix, content)) whose
// prefix matches a messages: entry become raw records keyed by the prefix,
// valued by the content as is (an empty message is an empty value, never a
// null one), with the change's event ID as ce_id; messages nothing routes
// follow default (dropped, or captured as op m events). Non-transactional
// messages are never routed: they would be published even when the writing
// transaction rolls back.
//
// # Errors
//
// Load reports every mistake as file:line:column with a one-line fix;
// CheckWhere and Describe add what only the catalog shows (where
// expressions that do not fit a table, missing columns, rules that name no
// table). Apply's errors that a rule causes are *RuleError. The package
// never panics on any input (FuzzParse).
package filter
