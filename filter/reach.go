package filter

import "strings"

// checkReach reports rules that can never decide anything: a rule identical
// to an earlier one, or one whose every table pattern an earlier rule
// without a where expression covers for all of its operations.
func (l *loader) checkReach(rs *Rules) {
	for j, rj := range rs.Rules {
		if dup := duplicateOf(rs.Rules[:j], rj); dup != nil {
			l.c.add(rj.Pos, "remove one of them",
				"rules[%d] duplicates rules[%d] (line %d)", rj.Index, dup.Index, dup.Pos.Line)
			continue
		}
		if by := shadowedBy(rs.Rules[:j], rj); by != nil {
			l.c.add(rj.Pos, "remove it, or move it above line "+itoa(by.Pos.Line)+" if it should win",
				"rules[%d] is unreachable: rules[%d] (line %d) already decides every table and operation it names",
				rj.Index, by.Index, by.Pos.Line)
		}
	}
}

func duplicateOf(earlier []*Rule, r *Rule) *Rule {
	for _, e := range earlier {
		if sameRule(e, r) {
			return e
		}
	}
	return nil
}

// sameRule compares two rules' matching and effect.
func sameRule(a, b *Rule) bool {
	return strings.Join(a.Tables, "\x00") == strings.Join(b.Tables, "\x00") && a.ops == b.ops &&
		a.Where == b.Where && a.Drop == b.Drop && a.Topic == b.Topic && (a.Outbox == nil) == (b.Outbox == nil)
}

// shadowedBy returns an earlier unconditional rule that covers all of r's
// patterns and operations, or nil; patterns may be covered by different
// earlier rules, the last one found is returned.
func shadowedBy(earlier []*Rule, r *Rule) *Rule {
	var last *Rule
	for _, p := range r.pats {
		var by *Rule
		for _, e := range earlier {
			if e.where == nil && e.ops&r.ops == r.ops && coveredBy(p, e) {
				by = e
				break
			}
		}
		if by == nil {
			return nil
		}
		last = by
	}
	return last
}

func coveredBy(p *pattern, r *Rule) bool {
	for _, q := range r.pats {
		if q.covers(p) {
			return true
		}
	}
	return false
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}
