package filter

// ruleOutbox reads outbox: {id, key, topic, payload, type, content_type}.
func (l *loader) ruleOutbox(fs map[string]field, r *Rule, where string) bool {
	f, has := fs["outbox"]
	if !has {
		return true
	}
	where += ".outbox"
	os, ok := l.fields(f.val, where, "id", "key", "topic", "payload", "type", "content_type")
	if !ok {
		return false
	}
	o := &Outbox{Pos: pos(f.val)}
	good := l.required(os, f.val, where, "id", "topic", "payload")
	o.ID, good = l.optStr(os, "id", where, good)
	o.Key, good = l.optStr(os, "key", where, good)
	o.Payload, good = l.optStr(os, "payload", where, good)
	o.Type, good = l.optStr(os, "type", where, good)
	o.ContentType, good = l.optStr(os, "content_type", where, good)
	if t, has := os["topic"]; has {
		var tok bool
		o.Topic, o.topic, tok = l.topicKey(t.val, where+".topic", nil)
		good = good && tok
	}
	r.Outbox = o
	r.ops = opAll // the outbox rule decides every change of its tables
	return good
}
