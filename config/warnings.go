package config

import "fmt"

// Warning is a setting that is valid but does not do what it seems to:
// `walrelay check` prints it and `walrelay run` logs it at start.
type Warning struct {
	Key  string // dotted key, e.g. "heartbeat.topic"
	What string // "file:line: key: what", or "VAR: what" for a variable
	Fix  string // what to do
}

// String renders the warning as an error renders: "what (fix)".
func (w Warning) String() string { return w.What + " (" + w.Fix + ")" }

// Warnings returns the warnings of a loaded config, located as errors are.
func (c *Config) Warnings() []Warning {
	var out []Warning
	if c.Heartbeat.Topic != "" && c.Heartbeat.Interval == 0 {
		// README: heartbeats are emitted every heartbeat.interval and
		// published only if heartbeat.topic is set; the topic alone does
		// not turn them on.
		out = append(out, c.warning(&Error{Key: "heartbeat.topic",
			Msg: fmt.Sprintf("set to %q while heartbeat.interval is 0s (off): no heartbeat is emitted, so none is published", c.Heartbeat.Topic),
			Fix: "set heartbeat.interval, e.g. 10s, or remove heartbeat.topic"}))
	}
	return out
}

// warning locates e (its key's line or variable) and renders it.
func (c *Config) warning(e *Error) Warning {
	c.locate(e)
	fix := e.Fix
	e.Fix = ""
	return Warning{Key: e.Key, What: e.Error(), Fix: fix}
}
