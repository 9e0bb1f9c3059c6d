// Package pgident parses and prints qualified table names, "schema.table",
// as walrelay's users write them: in postgres.tables, in `walrelay
// snapshot`, in snapshot signals and in the rules file.
//
// A part is taken as written (case-sensitive, no folding: public.Orders
// names the table "Orders"), up to the dot that separates schema from
// table. A part that starts with a double quote is quoted as in PostgreSQL:
// it ends at the next lone double quote, and "" inside stands for one. So a
// schema whose name contains a dot is written quoted, "x.y".z, and so is a
// part that starts with a double quote, "a""b".c for schema a"b. An
// unquoted table part is the rest of the name, dots included: public.a.b is
// the table "a.b" of schema public.
package pgident

import (
	"fmt"
	"strings"
)

// Parse splits a qualified name into its schema and table. It returns an
// error that says how to write the name when name is not schema.table.
func Parse(name string) (schema, table string, err error) {
	schema, rest, err := part(name, true)
	if err == nil {
		table, _, err = part(rest, false)
	}
	if err != nil {
		return "", "", fmt.Errorf("%q is not schema.table: %v (double-quote a part that contains a dot, e.g. \"my.schema\".orders)", name, err)
	}
	return schema, table, nil
}

// Cut is Parse in the form of strings.Cut: ok is false when name is not a
// well-formed schema.table.
func Cut(name string) (schema, table string, ok bool) {
	schema, table, err := Parse(name)
	return schema, table, err == nil
}

// part reads the first part of s: the schema (first) up to its dot, or the
// table, the rest of s. It returns the part and what follows the dot.
func part(s string, first bool) (string, string, error) {
	what := "table"
	if first {
		what = "schema"
	}
	if !strings.HasPrefix(s, `"`) {
		if !first {
			if s == "" {
				return "", "", fmt.Errorf("empty table")
			}
			return s, "", nil
		}
		p, rest, ok := strings.Cut(s, ".")
		switch {
		case !ok:
			return "", "", fmt.Errorf("no dot between schema and table")
		case p == "":
			return "", "", fmt.Errorf("empty schema")
		}
		return p, rest, nil
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		if s[i] != '"' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == '"' {
			b.WriteByte('"')
			i++
			continue
		}
		return quotedEnd(b.String(), s[i+1:], first, what)
	}
	return "", "", fmt.Errorf("the quoted %s has no closing double quote", what)
}

// quotedEnd checks what follows a quoted part p: a dot after the schema,
// nothing after the table.
func quotedEnd(p, after string, first bool, what string) (string, string, error) {
	switch {
	case p == "":
		return "", "", fmt.Errorf("empty %s", what)
	case first && !strings.HasPrefix(after, "."):
		return "", "", fmt.Errorf("no dot after the quoted schema")
	case first:
		return p, after[1:], nil
	case after != "":
		return "", "", fmt.Errorf("%q follows the quoted table", after)
	}
	return p, "", nil
}

// Format prints schema and table as a qualified name that Parse reads back:
// as they are (public.orders, public.Mixed Case), double-quoting only a part
// that could not be read back otherwise (a schema with a dot, a part that
// starts with a double quote). It is also walrelay's internal name of a
// table, so ordinary names look as they always have.
func Format(schema, table string) string {
	if strings.Contains(schema, ".") || strings.HasPrefix(schema, `"`) {
		schema = quote(schema)
	}
	if strings.HasPrefix(table, `"`) {
		table = quote(table)
	}
	return schema + "." + table
}

// Normalize returns name in Format's form, or an error as Parse does.
func Normalize(name string) (string, error) {
	s, t, err := Parse(name)
	if err != nil {
		return "", err
	}
	return Format(s, t), nil
}

// SQL returns schema.table quoted for SQL: "schema"."table".
func SQL(schema, table string) string {
	return quote(schema) + "." + quote(table)
}

// SQLName returns the qualified name name (as Parse reads it) quoted for
// SQL; a name Parse refuses is quoted whole, so the SQL fails loudly
// rather than naming another table.
func SQLName(name string) string {
	s, t, err := Parse(name)
	if err != nil {
		return quote(name)
	}
	return SQL(s, t)
}

func quote(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}
