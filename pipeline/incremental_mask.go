package pipeline

import (
	"strconv"
	"strings"
)

// shownCursor returns an incremental catch-up's cursor after (the text
// form of the chunk key of table's last row read) as logs and errors may
// show it: the value of a column the rules in force mask is
// filter.MaskedText (filter.Rules.HideKey; columns nil when the chunk key's
// column names are not known: then every value of a table with a masked
// column is). The checkpoint keeps the real cursor: it resumes from it.
// Safe on any goroutine (it reads filterState.latest).
func (s *session) shownCursor(table string, columns, after []string) []string {
	if s.filter == nil {
		return after
	}
	return s.filter.latest.Load().HideKey(table, columns, after)
}

// cursorError is an error whose text may quote an incremental catch-up's
// cursor (a chunk read that failed): its text shows the masked values of
// the cursor as filter.MaskedText. Unwrap returns the error as is, for
// errors.Is and errors.As.
type cursorError struct {
	err    error
	hidden *strings.Replacer
}

// hideCursor returns err, whose text may quote cursor after, with the
// values that shown (shownCursor) hides replaced in its text; err itself
// when none is hidden or err is nil.
func hideCursor(err error, after, shown []string) error {
	if err == nil {
		return nil
	}
	var pairs []string
	for i, v := range after {
		if i < len(shown) && shown[i] != v && v != "" {
			// The quoted form first: errors print cursors with %q as well as %v.
			pairs = append(pairs, strconv.Quote(v), strconv.Quote(shown[i]), v, shown[i])
		}
	}
	if len(pairs) == 0 {
		return err
	}
	return &cursorError{err: err, hidden: strings.NewReplacer(pairs...)}
}

func (e *cursorError) Error() string { return e.hidden.Replace(e.err.Error()) }

func (e *cursorError) Unwrap() error { return e.err }
