package filter

import (
	"time"

	"github.com/expr-lang/expr/types"

	"github.com/walrelay/walrelay/event"
)

// ColumnType is the type of a column's values as the decoder resolves it
// and as where expressions see them (see exprValue): TypeName is the
// pg_type.typname of the type, a domain counting as its base type, and Kind
// says whether it is an enum, an array, another type outside pg_catalog
// (event.KindOther, decoded as text unless it is hstore or PostGIS), or a
// built-in (event.KindBase).
type ColumnType struct {
	TypeName string
	Kind     event.TypeKind
}

// columnTypes returns the types of rel's columns.
func columnTypes(rel *event.Relation) []ColumnType {
	out := make([]ColumnType, len(rel.Columns))
	for i, c := range rel.Columns {
		out[i] = ColumnType{TypeName: c.TypeName, Kind: c.Kind}
	}
	return out
}

// columnNames returns the names of rel's columns.
func columnNames(rel *event.Relation) []string {
	out := make([]string, len(rel.Columns))
	for i, c := range rel.Columns {
		out[i] = c.Name
	}
	return out
}

var (
	timeType     = types.TypeOf(time.Time{})
	durationType = types.TypeOf(time.Duration(0))
	listType     = types.TypeOf([]any{})
	mapType      = types.TypeOf(map[string]any{})
	pointType    = types.Map{"x": types.Float64, "y": types.Float64}
	geometryType = types.Map{"wkb": types.String, "srid": types.Int}
)

// baseExprTypes are the built-in types whose values are not strings in a
// where expression (see exprValue and event/value.go). bit and varbit are
// bool for bit(1) and strings otherwise: any.
var baseExprTypes = map[string]types.Type{
	"bool": types.Bool,
	"int2": types.Int, "int4": types.Int, "int8": types.Int64, "oid": types.Int64,
	"float4": types.Float64, "float8": types.Float64, "numeric": types.Float64, "money": types.Float64,
	"date": timeType, "timestamp": timeType, "timestamptz": timeType,
	"time": durationType, "interval": durationType,
	"point": pointType,
	"bit":   types.Any, "varbit": types.Any,
}

// exprType is the type a where expression sees for a column of type ct.
// A NULL is nil whatever the type; ±infinity dates and timestamps are the
// strings "infinity" and "-infinity" (only a run-time check sees those).
func exprType(ct ColumnType) types.Type {
	switch ct.Kind {
	case event.KindEnum:
		return types.String
	case event.KindArray:
		return listType
	case event.KindOther:
		switch ct.TypeName {
		case "hstore":
			return mapType
		case "geometry", "geography":
			return geometryType
		}
		return types.String
	}
	switch {
	case ct.TypeName == "":
		return types.Any
	case ct.TypeName[0] == '_': // pg_catalog's array types, whatever Kind says
		return listType
	}
	if t, ok := baseExprTypes[ct.TypeName]; ok {
		return t
	}
	return types.String // text, varchar, uuid, json, bytea, inet, ranges, ...: their text
}

// exprTypeName describes exprType(ct) for messages: "string", "int",
// "time.Time", "list", "map", "any".
func exprTypeName(ct ColumnType) string {
	switch t := exprType(ct).(type) {
	case types.Map:
		return "map"
	default:
		switch {
		case t == types.Any:
			return "any"
		case t == listType:
			return "list"
		case t == mapType:
			return "map"
		}
		return t.String()
	}
}

// typeText is ct's PostgreSQL type for messages: "text", "int4[]".
func typeText(ct ColumnType) string {
	if ct.Kind != event.KindOther && ct.Kind != event.KindEnum && len(ct.TypeName) > 1 && ct.TypeName[0] == '_' {
		return ct.TypeName[1:] + "[]"
	}
	if ct.TypeName == "" {
		return "an unknown type"
	}
	return ct.TypeName
}

// whereEnv is the typed environment a where expression is checked against
// for a table with columns cols of types ts (nil: unknown types, only the
// names are checked). row, before and after are strict maps: a member
// access to another name is a compile error.
func whereEnv(cols []string, ts []ColumnType) types.Map {
	row := make(types.Map, len(cols))
	for i, c := range cols {
		row[c] = types.Any
		if i < len(ts) {
			row[c] = exprType(ts[i])
		}
	}
	return types.Map{"row": row, "before": row, "after": row, "op": types.String}
}
