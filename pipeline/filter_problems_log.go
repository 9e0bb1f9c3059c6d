package pipeline

import (
	"github.com/walrelay/walrelay/filter"
)

// maxProblemLines caps the warning lines logProblems writes of one kind: a
// rules file with hundreds of rules can have the same mistake on each (a
// where that reads a column outside the replica identity, say), logged at
// every start and SIGHUP.
const maxProblemLines = 10

// logProblems logs what the catalog shows wrong with the rules, other than
// where expressions that do not fit (those refuse the file), and the
// warnings (a where that deletes cannot pass), one line each; they do not
// stop the relay, walrelay check reports them too. Of each kind (problems,
// warnings) the first maxProblemLines are logged and the others counted in
// one line ("and N more like it"), which names walrelay check, which lists
// them all.
func (s *session) logProblems(rules *filter.Rules, tables []filter.Table) {
	var problems, warnings []*filter.Error
	for _, m := range rules.DescribeTables(tables) {
		problems = append(problems, m.Problems...)
		warnings = append(warnings, m.Warnings...)
	}
	s.logCapped(problems, "problems of the rules")
	s.logCapped(warnings, "warnings about the rules")
}

// logCapped logs the first maxProblemLines of errs, one warning each, and
// a summary of the rest.
func (s *session) logCapped(errs []*filter.Error, kind string) {
	for i, e := range errs {
		if i == maxProblemLines {
			s.log.Warn().Str("rules", s.cfg.Rules).Int("more", len(errs)-i).
				Msgf("and %d more like it (%d %s in all; walrelay check lists them all)", len(errs)-i, len(errs), kind)
			return
		}
		s.log.Warn().Str("rules", s.cfg.Rules).Msg(e.Error())
	}
}
