package replication

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5/pgconn"
)

// PublicationDroppedError is a replication stream the walsender ended
// because the publication did not exist in the catalog as of the WAL it was
// decoding: it was dropped (DROP PUBLICATION) while the slot was behind.
// PostgreSQL decodes each change with the catalog of its time, so the
// changes written between the drop and a re-creation cannot be decoded for
// this publication, from this slot, ever: each restart fails the same way
// from the same checkpoint. It is a gap, and its way past is a gap's.
type PublicationDroppedError struct {
	Publication string
	Slot        string
	Err         error // the server's error
}

func (e *PublicationDroppedError) Error() string {
	return fmt.Sprintf("publication %q was dropped while walrelay streamed from slot %q (the server says: %v): "+
		"PostgreSQL decodes the WAL after the drop with the catalog of its time, which has no such publication, "+
		"so the changes written between the drop and the publication's re-creation cannot be decoded for it and "+
		"are lost to walrelay (every restart fails the same way from the same checkpoint); drop the slot with "+
		"SELECT pg_drop_replication_slot('%s'), then %s",
		e.Publication, e.Slot, e.Err, e.Slot, GapFix)
}

func (e *PublicationDroppedError) Unwrap() error { return e.Err }

// publicationDropped returns a *PublicationDroppedError for err when it is
// the server's "publication does not exist" (SQLSTATE 42704, undefined
// object, naming the publication) during streaming, and err otherwise.
func publicationDropped(err error, publication, slot string) error {
	var pe *pgconn.PgError
	if publication == "" || !errors.As(err, &pe) || pe.Code != "42704" || !strings.Contains(pe.Message, publication) {
		return err
	}
	return &PublicationDroppedError{Publication: publication, Slot: slot, Err: err}
}

// seenPublications are the publications, by server address, database and
// name, that EnsurePublication found or created in this process: one
// missing at a later session start was dropped while walrelay ran.
var seenPublications sync.Map

func publicationKey(host, database, name string) string {
	return host + "\x00" + database + "\x00" + name
}

// PublicationDroppedMessage is the warning of a publication that
// EnsurePublication creates again because it was dropped while walrelay ran.
const PublicationDroppedMessage = "publication was dropped while walrelay ran: creating it again; the changes " +
	"written while it was missing cannot be decoded for it: if there were any, streaming stops at the first with " +
	"an error that says how to go on"
