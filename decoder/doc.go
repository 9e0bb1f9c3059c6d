// Package decoder turns pgoutput (protocol version 1) messages into
// event.Change values.
//
// The replication reader owns one Decoder and calls Decode with every
// XLogData payload and its WAL start, in stream order, from one goroutine.
// Decode returns what the message meant (Result.Kind):
//
//	Begin     KindBegin      Tx{Xid, CommitLSN: Begin.FinalLSN, CommitTime}
//	Commit    KindCommit     the same Tx; EndLSN = Commit.TransactionEndLSN
//	Insert    KindChanges    1 change, op c, After
//	Update    KindChanges    1 change, op u, After, Before if an old tuple came
//	Delete    KindChanges    1 change, op d, Before
//	Truncate  KindChanges    1 change (op t) per truncated relation
//	Message   KindChanges    transactional pg_logical_emit_message: op m
//	          KindStandalone non-transactional: op m, Tx{Xid: 0, CommitLSN:
//	                         the message LSN}, Ordinal 1, EndLSN = its LSN
//	Relation, Type, Origin   KindNone (the relation and type caches change)
//
// Change.LSN is the WAL start of the change's own message. Ordinal counts a
// transaction's changes from 1; CollectionOrder counts them per relation (per
// prefix for logical messages). Stream messages of protocol v2 and binary
// tuple data are rejected with an error: start replication with
// proto_version '1' and without the binary option.
//
// # Relations
//
// Relations are cached by OID. A Relation message identical to the cached one
// (names, replica identity, column names, type OIDs, typmods and key flags)
// changes nothing; any difference replaces the cached *event.Relation with a
// new one whose Version is one more (the first is 1). Column.Key is the
// column's pgoutput flag 1 (part of the replica identity), except under
// REPLICA IDENTITY FULL, where it marks the primary key's columns
// (Options.Keys). Relation.KeyOrder orders a composite key as its index
// does (pg_index.indkey), which is Debezium's key field order; pgoutput
// gives no order, so it comes from Options.Keys, and a key whose columns or
// order change in the catalog makes a new version too. The walsender decodes
// a transaction before its commit is visible, so the catalog may not show
// yet a primary key the transaction itself replaced: while its key names
// other columns than the flagged ones, the decoder reads it again (2 ms,
// doubling, 2 s in all), then takes the flagged columns in column order and
// logs a warning (see KeyLookup). Types are resolved
// once per Relation message: built-ins from pgx's type map (plus money,
// timetz, macaddr8[] and their arrays), anything else through
// Options.Types (a Catalog reads pg_type). A type that cannot be found is
// decoded as text (KindOther); a column is never dropped. A domain column is
// described and decoded as its base type, with the domain's typmod.
//
// # Old tuples and TOAST
//
//	unchanged TOAST ('u') in the new tuple  the old tuple's value if Postgres
//	                                       sent it (REPLICA IDENTITY FULL),
//	                                       else event.Unavailable{}
//	'K' old tuple (DEFAULT/INDEX identity)  key columns decoded, the others
//	                                       event.Absent{} (not nil)
//	'O' old tuple (FULL)                    every column decoded
//	no old tuple                            Before is nil
//
// # Type mapping
//
// Values are decoded from the text format the walsender produces; the
// replication connection should set TimeZone=UTC, DateStyle=ISO,
// IntervalStyle=postgres, extra_float_digits=3 and lc_monetary=C (offsets are
// honoured whatever the time zone).
//
//	Postgres type            Go value                 example text -> value
//	-----------------------  -----------------------  -----------------------------------------------
//	NULL                     nil
//	bool                     bool                     t -> true
//	int2 / int4 / int8       int16 / int32 / int64    -32768 -> int16(-32768)
//	oid                      int64                    4294967295 -> int64(4294967295)
//	float4 / float8          float32 / float64        1.5 -> float32(1.5); NaN, Infinity as floats
//	numeric(p,s)             event.Decimal, Scale s   1234.50 -> {123450, 2}; a negative s counts as 0
//	numeric                  event.Decimal, Scale as  3.14000 -> {314000, 5} (Debezium's
//	                         sent                     VariableScaleDecimal strips trailing zeros; the
//	                                                  encoders do)
//	numeric NaN/±Infinity    event.Decimal{Special}   NaN -> {Special: "NaN"}
//	money                    event.Decimal, Scale 2   $1,234.56 -> {123456, 2}; -$1.00, ($1.00) negative
//	text, varchar, bpchar,   string                   char(3) 'ab' -> "ab " (padding kept)
//	name, "char"
//	bytea                    []byte                   \x00ff -> {0x00, 0xff} (escape format too)
//	date                     event.Date               2024-02-29 -> 19782 (days since 1970-01-01)
//	time                     event.MicroTime          03:04:05.123456 -> 11045123456 (µs of day)
//	timetz                   string, UTC              15:04:05.5+02 -> "13:04:05.5Z", 24:00:00+00 -> "00:00:00Z"
//	timestamp                event.MicroTimestamp     2024-01-02 03:04:05.123456 -> 1704164645123456
//	  past int64 µs          event.FarTimestamp (ms)  294276-12-31 23:59:59.999999 -> 9224318015999999
//	timestamptz              string, UTC ISO-8601     2024-01-02 03:04:05.5+01 -> "2024-01-02T02:04:05.500000Z"
//	interval                 event.Interval           1 year 2 mons -3 days +04:05:06.78 ->
//	                                                  {Months: 14, Days: -3, Micros: 14706780000}
//	date/timestamp(tz)       string                   infinity -> "infinity", -infinity -> "-infinity"
//	±infinity
//	uuid                     string                   as sent (lower-case, hyphenated)
//	json, jsonb              event.JSON               the document text as sent
//	enum                     event.Enum               happy -> "happy"
//	bit(1), varbit(1)        bool                     1 -> true
//	bit(n), varbit           event.Bits               10110 -> {Len: 5, Bytes: {0x16}}
//	arrays                   []any of element values  {1,NULL,3} -> []any{int32(1), nil, int32(3)};
//	                                                  nested arrays -> nested []any; {} -> []any{}
//	inet, cidr, macaddr,     string                   as sent
//	macaddr8
//	ranges, multiranges      string                   [1,10) -> "[1,10)"
//	point                    event.Point              (1.5,-2) -> {X: 1.5, Y: -2}
//	box, circle, line,       string                   box -> "(2,2),(0,0)"
//	lseg, path, polygon
//	hstore (extension)       event.HStore             "a"=>"1", "b"=>NULL -> pairs in stored order
//	PostGIS geometry,        event.Geometry           hex EWKB -> its bytes and SRID (0 if none)
//	geography (extension)
//	xml, tsvector, others    string                   as sent
//	unknown / not found      string (KindOther)       as sent
//
// Choices where Debezium is ambiguous or version-dependent:
//
//   - timestamptz: the fraction has exactly the column's precision in
//     digits (6 when unqualified: "…T03:04:05.500000Z"), as Debezium 2.2 and
//     later format a ZonedDateTime at the column's scale; timestamptz(0) has
//     none. timetz: trailing zeros trimmed, left out when zero
//     ("13:04:05Z"), as java.time's ISO_OFFSET_TIME prints. Years are at
//     least four digits, '+' before years past 9999 and astronomical negative
//     years for BC ("0044-03-15 … BC" -> "-0043-03-15T…Z"). Debezium before
//     2.2 trimmed the timestamptz fraction too.
//   - Bits: bit i of the value is the i-th character from the right, stored
//     in byte i/8 at position i%8 (little-endian), with high zero bytes
//     dropped as java.util.BitSet.toByteArray does, so an all-zero value has
//     no bytes. Len is the number of bits in the value.
//   - interval: PostgreSQL's three fields (months, days, µs), exactly; the
//     encoders derive Debezium's MicroDuration or Interval string from them
//     (schema.IntervalMode). Only IntervalStyle=postgres output is accepted.
//   - money: scale 2; more fraction digits (exotic lc_monetary) round half up.
//
// # Errors
//
// Decode never panics on malformed input: pgoutput frames are bounds-checked
// before pglogrepl.Parse sees them, and Insert/Update/Delete are read in
// place by a bounds-checked reader. Errors name the LSN, and the relation and
// column where there is one. A change for an unknown relation OID, a change
// outside a transaction, a value that does not parse as its type and a
// failed type look-up are errors; the caller should stop and restart from its
// checkpoint rather than skip.
package decoder
