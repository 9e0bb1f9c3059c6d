package config

import (
	"fmt"

	"github.com/walrelay/walrelay/filter"
)

// checkFilter validates rules, mask_salt and publication: the rules file
// must load (its own errors carry the rules file's line and column), a file
// that masks columns needs mask_salt (or WALRELAY_MASK_SALT), postgres.tables
// and rules exclude each other, and the catalog poll interval is positive.
func (c *Config) checkFilter() *Error {
	if c.Publication.PollInterval <= 0 {
		return &Error{Key: "publication.poll_interval", Msg: "must be positive", Fix: "e.g. 30s"}
	}
	if c.Rules == "" {
		return nil
	}
	if len(c.Postgres.Tables) > 0 {
		return &Error{Key: "postgres.tables", Msg: "cannot be used together with rules",
			Fix: "name the tables in the rules file and remove postgres.tables"}
	}
	if _, err := filter.Load(c.Rules, c.MaskSalt); err != nil {
		return &Error{Key: "rules", Msg: fmt.Sprintf("rules file %s has errors:\n%v", c.Rules, err)}
	}
	return nil
}
