package pipeline

import "github.com/walrelay/walrelay/schema"

// warnTopicShared logs two tables whose changes go to one default topic
// (schema.Options.TopicShared): Debezium mixes them silently; walrelay
// says so, with the fix, when the second table's first event is encoded
// (at start-up for a snapshot, else when it first changes or joins).
func (s *session) warnTopicShared(st schema.SharedTopic) {
	s.log.Warn().Str("table", st.Table).Str("topic", st.Topic).Str("other_table", st.Other).
		Str("other_topic", st.OtherTopic).Str("fix", st.Fix()).Msg(st.Message())
}
