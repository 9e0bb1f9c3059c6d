package config

import (
	"strings"
	"testing"
)

// TestDSNPasswordNeverInErrors: README says "Passwords never appear in logs
// or errors". Every libpq spelling of a password, from the file or from
// WALRELAY_POSTGRES_DSN, is masked in the error of a DSN that cannot be
// parsed (here: a bad port), and a URL with an unencoded '@' in its password
// is refused with the way out, without printing the password's tail.
func TestDSNPasswordNeverInErrors(t *testing.T) {
	t.Parallel()
	cases := []struct{ dsn, want string }{
		{"host=127.0.0.1 port=22935a user=u password = PGPASS_S3cr3t_xyz dbname=own", "invalid port"},
		{"host=127.0.0.1 port=22935a user=u password=PGPASS_S3cr3t_xyz dbname=own", "invalid port"},
		{`host=127.0.0.1 port=22935a user=u password='it\'s S3cr3t' dbname=own`, "invalid port"},
		{`host=127.0.0.1 port=22935a user=u password = 'a\\b S3cr3t' dbname=own`, "invalid port"},
		{`host=127.0.0.1 port=22935a user=u password=my S3cr3t dbname=own`, "password=xxxxx"},
		{"postgres://u:PGPASS_S3cr3t@127.0.0.1:22935a/own", "invalid port"},
		{"postgres://u:AAA@BBB_S3cr3tTAIL@127.0.0.1:22935/own", "%40"},
	}
	for _, c := range cases {
		for _, env := range []bool{false, true} {
			body := "postgres:\n  dsn: '" + strings.ReplaceAll(c.dsn, "'", "''") + "'\nkafka:\n  brokers: [a:1]\n"
			var vars []string
			if env {
				body = "kafka:\n  brokers: [a:1]\n"
				vars = []string{"WALRELAY_POSTGRES_DSN=" + c.dsn}
			}
			_, err := Load(writeConfig(t, body), vars)
			if err == nil {
				t.Fatalf("%q (env %v): no error", c.dsn, env)
			}
			if msg := err.Error(); strings.Contains(msg, "S3cr3t") || !strings.Contains(msg, c.want) {
				t.Errorf("%q (env %v): error %q leaks the password or lacks %q", c.dsn, env, msg, c.want)
			}
		}
	}
}
