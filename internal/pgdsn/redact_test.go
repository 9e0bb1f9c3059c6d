package pgdsn

import (
	"errors"
	"math/rand"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// TestRedactSpellings covers the spellings the audit found leaking and the
// ordinary ones: the secret never survives, the rest stays readable.
func TestRedactSpellings(t *testing.T) {
	cases := []struct{ dsn, want string }{
		{"host=h password=Zq1 dbname=d", "host=h password=xxxxx dbname=d"},
		{"host=h password = Zq1 dbname=d", "host=h password=xxxxx dbname=d"},
		{"host=h password=\tZq1 dbname=d", "host=h password=xxxxx dbname=d"},
		{`host=h password='it\'s Zq1' dbname=d`, "host=h password=xxxxx dbname=d"},
		{`host=h password='a\\' dbname=Zq1`, "host=h password=xxxxx dbname=Zq1"},
		{`host=h password=Zq1\ Zq2 dbname=d`, "host=h password=xxxxx dbname=d"},
		{"host=h password='Zq1 Zq2", "host=h password=xxxxx"},
		{"host=h PASSWORD=Zq1 sslpassword = 'Zq2'", "host=h PASSWORD=xxxxx sslpassword=xxxxx"},
		{"host=h password Zq1 Zq2", "host=h password xxxxx"},
		{"postgres://u:Zq1@h:5432/d", "postgres://u:xxxxx@h:5432/d"},
		{"postgres://u:AAA@BBB_Zq1@127.0.0.1:1/own", "postgres://u:xxxxx@127.0.0.1:1/own"},
		{"postgresql://u:Zq1@h/d?sslmode=require&password=Zq2", "postgresql://u:xxxxx@h/d?sslmode=require&password=xxxxx"},
		{"postgres://h/d?password=Zq1", "postgres://h/d?password=xxxxx"},
		{"postgres://u:a/b?c@Zq1@h/d", "postgres://u:xxxxx@h/d"},
	}
	for _, c := range cases {
		if got := Redact(c.dsn); got != c.want {
			t.Errorf("Redact(%q) = %q, want %q", c.dsn, got, c.want)
		}
	}
}

// pieces build generated passwords: every "Zq" marks a piece of the secret,
// and the others are the characters that make quoting, escaping and URL
// splitting hard.
var pieces = []string{"Zq1", "Zq2", "Zq3", " ", "'", `\`, "=", "@", ":", "/", "?", "&", "%", "#", "\t", "Zq4"}

func genPassword(r *rand.Rand) string {
	var b strings.Builder
	b.WriteString("Zq0")
	for n := r.Intn(8); n >= 0; n-- {
		b.WriteString(pieces[r.Intn(len(pieces))])
	}
	return b.String()
}

// spellings writes pw into a DSN the way a user might: quoted and escaped,
// unquoted with spaces around '=', raw or encoded in a URL. Every DSN has a
// bad port so that parsing fails and pgconn quotes it.
func spellings(pw string) []string {
	q := strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(pw)
	raw := strings.NewReplacer(`\`, `\\`, " ", `\ `, "\t", "\\\t", `'`, `\'`).Replace(pw)
	return []string{
		"host=127.0.0.1 port=1a user=u password='" + q + "' dbname=d",
		"host=127.0.0.1 port=1a user=u password = '" + q + "' dbname=d",
		"host=127.0.0.1 port=1a user=u password=" + raw + " dbname=d",
		"user=u password =  " + raw + "\tport=1a",
		"host=127.0.0.1 port=1a password='" + pw + "' dbname=d", // unescaped: malformed
		"host=127.0.0.1 port=1a password=" + pw,
		"postgres://u:" + url.PathEscape(pw) + "@127.0.0.1:1a/d",
		"postgres://u:" + pw + "@127.0.0.1:1a/d",
		"postgres://u:" + pw + "@127.0.0.1:5432/d?sslmode=bogus",
		"postgres://u@127.0.0.1:1a/d?password=" + url.QueryEscape(pw),
		"postgresql://u:" + pw + "@h1:1,h2:2a/d",
	}
}

// TestGeneratedPasswordsNeverSurvive feeds generated passwords in every
// spelling to pgconn and checks that neither Redact nor ErrorText keeps any
// piece of them.
func TestGeneratedPasswordsNeverSurvive(t *testing.T) {
	r := rand.New(rand.NewSource(seed()))
	for i := 0; i < 1000; i++ {
		pw := genPassword(r)
		for _, dsn := range spellings(pw) {
			if got := Redact(dsn); strings.Contains(got, "Zq") {
				t.Fatalf("Redact(%q) = %q keeps part of password %q", dsn, got, pw)
			}
			_, err := pgconn.ParseConfig(dsn)
			if err == nil {
				continue
			}
			if got := ErrorText(err, dsn); strings.Contains(got, "Zq") {
				t.Fatalf("ErrorText for %q = %q keeps part of password %q", dsn, got, pw)
			}
			if got := Wrap(err, dsn).Error(); strings.Contains(got, "Zq") {
				t.Fatalf("Wrap for %q = %q keeps part of password %q", dsn, got, pw)
			}
		}
	}
}

// TestErrorTextKeepsTheReason: the user still learns what is wrong.
func TestErrorTextKeepsTheReason(t *testing.T) {
	dsn := "host=127.0.0.1 port=22935a user=u password = PGPASS_S3cr3t_xyz dbname=own"
	_, err := pgconn.ParseConfig(dsn)
	got := ErrorText(err, dsn)
	if strings.Contains(got, "S3cr3t") || !strings.Contains(got, "invalid port") || !strings.Contains(got, "host=127.0.0.1") {
		t.Errorf("ErrorText = %q", got)
	}
	var pce *pgconn.ParseConfigError
	if !errors.As(Wrap(err, dsn), &pce) {
		t.Errorf("Wrap lost the *pgconn.ParseConfigError")
	}
}

func TestCheckURL(t *testing.T) {
	for dsn, bad := range map[string]bool{
		"postgres://u:AAA@BBB@127.0.0.1:1/d": true,
		"postgres://u%40x:p%40q@h/d":         false,
		"postgres://u:p@h/d?options=a@b":     false,
		"host=h password=a@b@c":              false,
		"postgresql://u@x:p@h":               true,
	} {
		if err := CheckURL(dsn); (err != nil) != bad {
			t.Errorf("CheckURL(%q) = %v, want error %v", dsn, err, bad)
		}
	}
	cfg, err := pgconn.ParseConfig("postgres://u:AAA@BBB_S3cr3t@127.0.0.1:1/d")
	if err == nil && !HostHasAt(cfg) {
		t.Errorf("HostHasAt(%q) = false", cfg.Host)
	}
}

// seed is 1, or WALRELAY_FUZZ_SEED for a longer search by hand.
func seed() int64 {
	if n, err := strconv.ParseInt(os.Getenv("WALRELAY_FUZZ_SEED"), 10, 64); err == nil {
		return n
	}
	return 1
}
