package pgdsn

import (
	"errors"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// ErrorText returns err's message with dsn's secrets removed: a
// *pgconn.ParseConfigError quotes the DSN through Redact instead of pgconn's
// best-effort masking, and every secret Secrets finds is then replaced
// wherever it still appears.
func ErrorText(err error, dsn string) string {
	if err == nil {
		return ""
	}
	msg := err.Error()
	var pce *pgconn.ParseConfigError
	if errors.As(err, &pce) {
		c := *pce
		c.ConnString = Redact(pce.ConnString)
		msg = strings.Replace(msg, pce.Error(), hideCause(c.Error(), pce, dsn), 1)
		if pce.ConnString != dsn {
			msg = Scrub(msg, pce.ConnString)
		}
	}
	return Scrub(msg, dsn)
}

// hideCause drops the cause's text from text (a ParseConfigError's message)
// when the cause quotes a piece of a secret: a malformed URL's percent-decoding
// error quotes the token it stopped at, which may be half a password.
func hideCause(text string, pce *pgconn.ParseConfigError, dsn string) string {
	cause := errors.Unwrap(pce)
	if cause == nil || !quotesSecret(cause.Error(), append(Secrets(dsn), Secrets(pce.ConnString)...)) {
		return text
	}
	if i := strings.LastIndex(text, cause.Error()); i >= 0 {
		return text[:i] + "details not shown: they quote part of the password" + text[i+len(cause.Error()):]
	}
	return text
}

// quotesSecret reports whether text holds any 3 consecutive bytes of a secret
// (the whole secret when it is shorter).
func quotesSecret(text string, secrets []string) bool {
	for _, s := range secrets {
		n := min(3, len(s))
		for i := 0; i+n <= len(s); i++ {
			if strings.Contains(text, s[i:i+n]) {
				return true
			}
		}
	}
	return false
}

// Scrub replaces every secret of dsn found in msg by Mask.
func Scrub(msg, dsn string) string {
	for _, s := range Secrets(dsn) {
		msg = strings.ReplaceAll(msg, s, Mask)
	}
	return msg
}

// redactedError shows a message without the DSN's secrets and keeps the
// original error for errors.Is and errors.As.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// Wrap returns err with its message scrubbed of dsn's secrets (nil for nil).
func Wrap(err error, dsn string) error {
	if err == nil {
		return nil
	}
	return &redactedError{msg: ErrorText(err, dsn), err: err}
}
