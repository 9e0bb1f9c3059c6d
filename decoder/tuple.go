package decoder

import (
	"fmt"

	"github.com/walrelay/walrelay/event"
)

// decodeNew converts a new tuple (insert, update) into dst. An unchanged TOAST
// value ('u') takes the old tuple's value from oldVals when Postgres sent one
// (REPLICA IDENTITY FULL, or a key column of a 'K' tuple); otherwise it is
// event.Unavailable. oldVals is nil when there was no old tuple.
func (e *relEntry) decodeNew(dst []any, t []tupleCol, oldVals []any) error {
	if err := e.checkWidth(t); err != nil {
		return err
	}
	for i, col := range t {
		if col.kind == colToast {
			dst[i] = event.Unavailable{}
			if oldVals != nil {
				switch oldVals[i].(type) {
				case event.Absent, event.Unavailable:
				default:
					dst[i] = oldVals[i]
				}
			}
			continue
		}
		v, err := e.value(i, col)
		if err != nil {
			return err
		}
		dst[i] = v
	}
	return nil
}

// decodeOld converts an old tuple into dst. In a key tuple ('K', REPLICA
// IDENTITY DEFAULT or INDEX) the columns outside the identity, which Postgres
// sends as 'n', are event.Absent; in a full old tuple ('O') every column is
// converted, and a 'u' there is event.Unavailable.
func (e *relEntry) decodeOld(dst []any, kind byte, t []tupleCol) error {
	if err := e.checkWidth(t); err != nil {
		return err
	}
	cols := e.rel.Columns
	for i, col := range t {
		switch {
		case kind == 'K' && !cols[i].Key && col.kind == colNull:
			dst[i] = event.Absent{}
		case col.kind == colToast:
			dst[i] = event.Unavailable{}
		default:
			v, err := e.value(i, col)
			if err != nil {
				return err
			}
			dst[i] = v
		}
	}
	return nil
}

func (e *relEntry) checkWidth(t []tupleCol) error {
	if len(t) != len(e.convs) {
		return fmt.Errorf("tuple has %d columns, relation version %d has %d", len(t), e.rel.Version, len(e.convs))
	}
	return nil
}

// value converts one column that is not an unchanged TOAST value.
func (e *relEntry) value(i int, col tupleCol) (any, error) {
	switch col.kind {
	case colNull:
		return nil, nil
	case colText:
		v, err := e.convs[i](col.data)
		if err != nil {
			c := &e.rel.Columns[i]
			return nil, fmt.Errorf("column %q (%s): %w", c.Name, c.TypeName, err)
		}
		return v, nil
	case colBinary:
		return nil, fmt.Errorf("column %q: binary tuple data is not supported (start replication without the binary option)", e.rel.Columns[i].Name)
	}
	return nil, fmt.Errorf("column %q: unknown tuple data kind %q", e.rel.Columns[i].Name, col.kind)
}
