package main

import (
	"slices"
	"strings"

	"github.com/walrelay/walrelay/config"
	"github.com/walrelay/walrelay/filter"
)

// statusCursor returns an incremental catch-up's stored cursor after (the
// chunk key of table's last row read) as walrelay status shows it: the
// values of a table whose columns cfg's rules mask are filter.MaskedText
// (the checkpoint keeps them in clear, to resume from). When the rules
// file does not load, which columns it masks is unknown: every value is
// hidden.
func statusCursor(cfg *config.Config, table string, after []string) []string {
	if cfg.Rules == "" {
		return after
	}
	rules, err := filter.Load(cfg.Rules, cfg.MaskSalt)
	if err != nil {
		hidden := slices.Clone(after)
		for i := range hidden {
			hidden[i] = filter.MaskedText
		}
		return hidden
	}
	return rules.HideKey(table, nil, after)
}

// cursorText shows a catch-up cursor's values in parentheses, or only
// filter.MaskedText when every value is masked (not "((masked))").
func cursorText(vals []string) string {
	if len(vals) > 0 && !slices.ContainsFunc(vals, func(v string) bool { return v != filter.MaskedText }) {
		return filter.MaskedText
	}
	return "(" + strings.Join(vals, ", ") + ")"
}
