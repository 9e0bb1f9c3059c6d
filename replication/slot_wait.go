package replication

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/internal/logfield"
)

// SlotWatch says what creating a replication slot logs. PostgreSQL's
// CREATE_REPLICATION_SLOT waits until every transaction that holds a
// transaction ID when it starts has ended (on the whole server, prepared
// transactions included), since the slot is not consistent before; a
// session left idle in transaction makes it wait indefinitely. The creation
// logs so before it starts, and, once it has waited After, a warning naming
// the oldest open transactions, again every Every while it waits.
type SlotWatch struct {
	Log zerolog.Logger
	// DSN opens the ordinary connection that reads pg_stat_activity and
	// pg_prepared_xacts, once the wait has lasted After; "" leaves the
	// transactions out of the warning.
	DSN   string
	After time.Duration // default 5 s
	Every time.Duration // default 30 s
	// Report, if set, is called once the wait has lasted After, and again
	// every ReportEvery (default 10 s) while it lasts, on the watch's
	// goroutine, with what it waits for: walrelay writes its status file
	// with it, so that `walrelay status` says what the start waits for.
	Report      func(SlotWait)
	ReportEvery time.Duration
}

// SlotWait is a slot creation that waits for open transactions, as
// SlotWatch.Report receives it.
type SlotWait struct {
	Slot  string
	Since time.Time // when the creation began
	// OpenTransactions are the oldest transactions it waits for (as the
	// warning names them); empty with Err set when they could not be
	// listed, or when none is visible to the role.
	OpenTransactions []string
	Err              error
}

// slotWaitShown bounds the open transactions a warning names.
const slotWaitShown = 5

// openXactsSQL lists the oldest transactions that hold a transaction ID
// (oldest ID first), those a slot being created waits for. Another role's
// sessions show their state and xact_start only to a role with
// pg_read_all_stats: for those, the line names what is known (pid,
// database, user, application_name) and says the rest is hidden and how to
// see it, instead of printing empty fields.
const openXactsSQL = `SELECT x FROM (
	SELECT age(backend_xid) AS a, CASE WHEN xact_start IS NULL
		THEN format('pid %s (database %s, user %s, application_name %L; its state and xact_start are hidden from role %s: '
			'GRANT pg_read_all_stats TO %s; to see them)',
			pid, datname, usename, application_name, current_user, quote_ident(current_user))
		ELSE format('pid %s (database %s, user %s, application_name %L, state %s, xact_start %s)',
			pid, datname, usename, application_name, state, xact_start) END AS x
	FROM pg_stat_activity WHERE backend_xid IS NOT NULL AND pid <> pg_backend_pid()
	UNION ALL
	SELECT age(transaction), format('prepared transaction %L (database %s, owner %s, prepared %s)', gid, database, owner, prepared)
	FROM pg_prepared_xacts) o ORDER BY a DESC LIMIT $1`

// OpenTransactions describes the oldest transactions (at most n) that a
// replication slot being created now would wait for: sessions holding a
// transaction ID, with pid, xact_start, state and application_name, and
// prepared transactions.
func OpenTransactions(ctx context.Context, db *pgx.Conn, n int) ([]string, error) {
	rows, err := db.Query(ctx, openXactsSQL, n)
	if err != nil {
		return nil, fmt.Errorf("postgres: listing open transactions: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("postgres: listing open transactions: %w", err)
	}
	return out, nil
}

// start logs that the creation of slot may wait, and watches it until the
// returned stop is called.
func (w SlotWatch) start(ctx context.Context, slot string) (stop func()) {
	w.Log.Info().Str("slot", slot).
		Msg("creating replication slot: PostgreSQL makes this wait until the transactions open on the server now have ended")
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.watch(ctx, slot)
	}()
	return func() {
		cancel()
		<-done
	}
}

// watch warns, after After and then every Every until ctx ends, that the
// creation of slot is still waiting, naming the open transactions, and
// reports the wait (Report) after After and then every ReportEvery.
func (w SlotWatch) watch(ctx context.Context, slot string) {
	after, every, reportEvery := w.After, w.Every, w.ReportEvery
	if after <= 0 {
		after = 5 * time.Second
	}
	if every <= 0 {
		every = 30 * time.Second
	}
	if reportEvery <= 0 {
		reportEvery = 10 * time.Second
	}
	began := time.Now()
	xacts := openXactsLister{dsn: w.DSN}
	defer xacts.close()
	nextWarn, nextReport := began.Add(after), began.Add(after)
	if w.Report == nil {
		nextReport = time.Time{}
	}
	timer := time.NewTimer(after)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		list, err := xacts.list(ctx)
		if ctx.Err() != nil {
			return
		}
		now := time.Now()
		if !now.Before(nextWarn) {
			w.warn(slot, now.Sub(began), list, err)
			nextWarn = now.Add(every)
		}
		next := nextWarn
		if !nextReport.IsZero() {
			if !now.Before(nextReport) {
				w.Report(SlotWait{Slot: slot, Since: began, OpenTransactions: list, Err: err})
				nextReport = now.Add(reportEvery)
			}
			next = minTime(next, nextReport)
		}
		timer.Reset(time.Until(next))
	}
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// openXactsLister lists the open transactions a slot creation waits for,
// over a connection it opens at the first list and keeps; without a DSN it
// lists none.
type openXactsLister struct {
	dsn string
	db  *pgx.Conn
}

func (l *openXactsLister) list(ctx context.Context) ([]string, error) {
	if l.dsn == "" {
		return nil, nil
	}
	if l.db == nil {
		db, err := ConnectSQL(ctx, l.dsn)
		if err != nil {
			return nil, err
		}
		l.db = db
	}
	return OpenTransactions(ctx, l.db, slotWaitShown)
}

func (l *openXactsLister) close() {
	if l.db != nil {
		_ = l.db.Close(context.Background())
	}
}

// warn logs one "still waiting" line.
func (w SlotWatch) warn(slot string, waited time.Duration, xacts []string, err error) {
	e := w.Log.Warn().Str("slot", slot).Float64("waited_seconds", logfield.Seconds(waited.Round(time.Second)))
	switch {
	case err != nil:
		e = e.AnErr("open_transactions_error", err)
	case len(xacts) == 0 && w.DSN != "":
		e = e.Str("open_transactions", "none visible to this role (another role's sessions show with pg_read_all_stats)")
	case len(xacts) > 0:
		e = e.Strs("open_transactions", xacts)
	}
	e.Msg("creating the replication slot is waiting for transactions open on the server to end " +
		"(PostgreSQL needs them finished before the slot is consistent): commit or roll them back; " +
		"end a forgotten session with SELECT pg_terminate_backend(pid), a prepared transaction with COMMIT PREPARED or ROLLBACK PREPARED 'gid'")
}
