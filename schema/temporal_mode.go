package schema

import (
	"math"

	"github.com/walrelay/walrelay/event"
)

// TimePrecisionMode is Debezium's time.precision.mode: the units of time,
// timestamp (and, in connect mode, date) columns. The zero value is
// TimeAdaptive. timetz and timestamptz are ISO-8601 strings in every mode.
type TimePrecisionMode uint8

const (
	// TimeAdaptive: time(0..3) and timestamp(0..3) in milliseconds
	// (io.debezium.time.Time, io.debezium.time.Timestamp); higher or
	// unqualified precision in microseconds (MicroTime, MicroTimestamp).
	TimeAdaptive TimePrecisionMode = iota
	// TimeAdaptiveMicroseconds: as TimeAdaptive, but time is always
	// MicroTime.
	TimeAdaptiveMicroseconds
	// TimeConnect: Kafka Connect's own logical types, all in milliseconds
	// (microseconds are truncated): org.apache.kafka.connect.data.Date,
	// .Time and .Timestamp.
	TimeConnect
)

var timeModeNames = []string{"adaptive", "adaptive_time_microseconds", "connect"}

// ParseTimePrecisionMode parses a time.precision.mode name.
func ParseTimePrecisionMode(s string) (TimePrecisionMode, error) {
	i, err := parseMode(s, timeModeNames)
	return TimePrecisionMode(i), err
}

func (m TimePrecisionMode) String() string { return timeModeNames[m] }

// TimePrecisionModeNames lists the accepted names, for messages.
func TimePrecisionModeNames() []string { return timeModeNames }

// millis reports whether m writes the time (timeOfDay) or timestamp values
// of col in milliseconds. A column's typmod is its precision; -1
// (unqualified) means 6, as pgjdbc reports it to Debezium.
func (m TimePrecisionMode) millis(col *event.Column, timeOfDay bool) bool {
	switch {
	case m == TimeConnect:
		return true
	case m == TimeAdaptiveMicroseconds && timeOfDay:
		return false
	}
	return col != nil && col.TypeMod >= 0 && col.TypeMod <= 3
}

// Kafka Connect's logical types (connect mode) and Debezium's millisecond
// types (adaptive mode, precision <= 3).
const (
	nameTime             = "io.debezium.time.Time"
	nameTimestamp        = "io.debezium.time.Timestamp"
	nameConnectDate      = "org.apache.kafka.connect.data.Date"
	nameConnectTime      = "org.apache.kafka.connect.data.Time"
	nameConnectTimestamp = "org.apache.kafka.connect.data.Timestamp"
)

// temporalType returns t (a date, time or timestamp type of col) as m
// writes it, or t itself when m keeps Debezium's adaptive default.
func (m TimePrecisionMode) temporalType(t *avroType, col *event.Column) *avroType {
	switch t.name {
	case nameDate:
		if m == TimeConnect {
			return &avroType{kind: kindInt, name: nameConnectDate, logical: "date", inf: infDate}
		}
	case nameMicroTime:
		switch {
		case m == TimeConnect:
			return &avroType{kind: kindInt, name: nameConnectTime, logical: "time-millis", milli: true}
		case m.millis(col, true):
			return &avroType{kind: kindInt, name: nameTime, milli: true}
		}
	case nameMicroTS:
		switch {
		case m == TimeConnect:
			return &avroType{kind: kindLong, name: nameConnectTimestamp, logical: "timestamp-millis", inf: infTimestamp, milli: true}
		case m.millis(col, false):
			return &avroType{kind: kindLong, name: nameTimestamp, inf: infTimestamp, milli: true}
		}
	}
	return t
}

// farTimestamp is a timestamp past the int64-µs range in the column's unit:
// its milliseconds, or in microseconds clamped to math.MaxInt64.
func farTimestamp(ms event.FarTimestamp, millis bool) int64 {
	if millis {
		return int64(ms)
	}
	return math.MaxInt64
}

// microsToMillis converts µs to ms, rounding down as java.time's
// toEpochMilli does.
func microsToMillis(us int64) int64 {
	ms := us / 1000
	if us%1000 < 0 {
		ms--
	}
	return ms
}
