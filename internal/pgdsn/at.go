package pgdsn

import (
	"errors"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// ErrAtInURL is returned for a URL whose user name or password holds an
// unencoded '@': pgx would take the text after the first '@' (a piece of
// the password) for the host name and print it in connection errors.
var ErrAtInURL = errors.New("the URL has more than one '@' before the host: " +
	"percent-encode an '@' in the user name or password as %40 " +
	"(postgres://user:p%40ss@host:5432/db) or use the key=value form (password='p@ss')")

// CheckURL returns ErrAtInURL when dsn is a URL whose authority (the text
// between "://" and the first '/' or '?') holds more than one '@'.
func CheckURL(dsn string) error {
	if !IsURL(dsn) {
		return nil
	}
	rest := dsn[strings.Index(dsn, "://")+3:]
	if end := strings.IndexAny(rest, "/?"); end >= 0 {
		rest = rest[:end]
	}
	if strings.Count(rest, "@") > 1 {
		return ErrAtInURL
	}
	return nil
}

// HostHasAt reports whether a host walrelay would connect to holds an '@',
// which only a mangled URL produces (see ErrAtInURL); such a host must not
// be printed, since it may end with part of the password.
func HostHasAt(cfg *pgconn.Config) bool {
	if strings.Contains(cfg.Host, "@") {
		return true
	}
	for _, f := range cfg.Fallbacks {
		if strings.Contains(f.Host, "@") {
			return true
		}
	}
	return false
}
