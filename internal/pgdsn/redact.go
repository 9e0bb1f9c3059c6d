// Package pgdsn hides the secrets of a PostgreSQL connection string (DSN)
// before it, or an error that quotes it, reaches a log, a status or a
// message: README promises "Passwords never appear in logs or errors".
//
// It reads both forms libpq and pgx accept: a URL (postgres:// or
// postgresql://) and keyword=value pairs, with libpq's grammar (spaces
// allowed around '=', single-quoted values with \' and \\ escapes, a
// backslash escaping the next byte of an unquoted value too). Malformed input
// is masked generously: when a secret's end is uncertain, everything from its
// start to the end of the string is masked.
package pgdsn

import (
	"net/url"
	"strings"
)

// Mask replaces a secret in redacted text.
const Mask = "xxxxx"

// secretKeys are the keywords (and URL query keys) whose values are secrets.
var secretKeys = map[string]bool{"password": true, "sslpassword": true}

// knownKeys are libpq's and pgx's connection keywords. After a secret, a pair
// with another keyword (a run-time parameter, or a typo) may be the tail of a
// password written with an unescaped space, and is masked.
var knownKeys = map[string]bool{}

func init() {
	for _, k := range strings.Fields(`host hostaddr port dbname database user passfile
		connect_timeout client_encoding options application_name fallback_application_name
		keepalives keepalives_idle keepalives_interval keepalives_count tcp_user_timeout
		replication gssencmode sslmode sslnegotiation sslcompression sslcert sslkey sslcertmode
		sslrootcert sslcrl sslcrldir sslsni requirepeer ssl_min_protocol_version
		ssl_max_protocol_version krbsrvname gsslib gssdelegation service servicefile
		target_session_attrs load_balance_hosts min_read_buffer_size channel_binding
		require_auth`) {
		knownKeys[k] = true
	}
}

const spaces = " \t\n\r\v\f"

// IsURL reports whether dsn is in URL form, as pgconn decides it.
func IsURL(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Redact returns dsn with every password (and sslpassword) replaced by Mask;
// the rest of the text is kept so the user can see what is wrong.
func Redact(dsn string) string {
	out, _ := scan(dsn)
	return out
}

// Secrets returns the secret values dsn holds (as written and as decoded),
// longest first, for removing them from texts that quote them in pieces.
func Secrets(dsn string) []string {
	_, secrets := scan(dsn)
	return secrets
}

// scan redacts dsn and collects its secrets.
func scan(dsn string) (string, []string) {
	if IsURL(dsn) {
		return scanURL(dsn)
	}
	return scanKeywordValue(dsn)
}

// scanKeywordValue walks keyword = value pairs as libpq's conninfo_parse does.
func scanKeywordValue(s string) (string, []string) {
	var b strings.Builder
	var secrets []string
	afterSecret := false
	i := 0
	for i < len(s) {
		start := i
		i = skip(s, i)
		kw := i
		for i < len(s) && s[i] != '=' && !isSpace(s[i]) {
			i++
		}
		key := s[kw:i]
		j := skip(s, i)
		if j >= len(s) || s[j] != '=' {
			// No '=' after the keyword: not a pair. A secret keyword here
			// (password secret) means the rest may be the secret; a bare
			// word after a secret (password=my secret) may be its tail.
			switch {
			case isSecret(key) && j < len(s):
				b.WriteString(s[start:i] + " " + Mask)
				secrets = append(secrets, strings.TrimSpace(s[j:]))
				return b.String(), longestFirst(secrets)
			case afterSecret && key != "":
				b.WriteString(s[start:kw] + Mask)
				secrets = append(secrets, key)
			default:
				b.WriteString(s[start:i])
			}
			continue
		}
		v := skip(s, j+1)
		end, val := value(s, v)
		if afterSecret && !isSecret(key) && !knownKeys[strings.ToLower(key)] {
			// password=my x=y: the pair may be the secret's tail.
			b.WriteString(s[start:kw] + Mask)
			secrets = append(secrets, s[kw:end])
			i = end
			continue
		}
		afterSecret = isSecret(key)
		if afterSecret {
			b.WriteString(s[start:kw] + key + "=" + Mask)
			if end < len(s) && !isSpace(s[end]) {
				// Text glued to a closing quote (password='it's'...): an
				// unescaped quote inside the secret; mask to the end.
				secrets = append(secrets, val, s[v:])
				return b.String(), longestFirst(secrets)
			}
			secrets = append(secrets, val, s[v:end])
		} else {
			b.WriteString(s[start:end])
		}
		i = end
	}
	return b.String(), longestFirst(secrets)
}

// value reads the value that starts at s[i]: quoted or unquoted, with
// backslash escapes. It returns the end of the value's text and the decoded
// value. An unterminated quote runs to the end of s.
func value(s string, i int) (int, string) {
	var v strings.Builder
	if i < len(s) && s[i] == '\'' {
		for i++; i < len(s); i++ {
			switch {
			case s[i] == '\'':
				return i + 1, v.String()
			case s[i] == '\\' && i+1 < len(s):
				i++
			}
			v.WriteByte(s[i])
		}
		return len(s), v.String()
	}
	for ; i < len(s) && !isSpace(s[i]); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		v.WriteByte(s[i])
	}
	return i, v.String()
}

// scanURL masks the userinfo's password and password/sslpassword query
// values. The userinfo runs to the LAST '@' before the query (an unencoded
// '@' in a password leaves several), so a password's tail is never taken
// for the host.
func scanURL(dsn string) (string, []string) {
	scheme := strings.Index(dsn, "://") + 3
	rest := dsn[scheme:]
	query := ""
	if q := strings.IndexByte(rest, '?'); q >= 0 && !strings.Contains(rest[q:], "@") {
		rest, query = rest[:q], rest[q:]
	}
	var secrets []string
	var b strings.Builder
	b.WriteString(dsn[:scheme])
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		user, pass, hasPass := strings.Cut(rest[:at], ":")
		b.WriteString(user)
		if hasPass {
			b.WriteString(":" + Mask)
			secrets = append(secrets, pass, decode(pass))
		}
		if q := strings.IndexByte(rest[at:], '?'); q >= 0 { // a '?' in the password ended up here
			rest, query = rest[:at+q], rest[at+q:]
		}
		rest = rest[at:]
	}
	b.WriteString(rest)
	q, qs := scanQuery(query)
	b.WriteString(q)
	return b.String(), longestFirst(append(secrets, qs...))
}

// scanQuery masks password and sslpassword values in a URL query ("?a=b&...").
func scanQuery(query string) (string, []string) {
	if query == "" {
		return "", nil
	}
	var secrets []string
	parts := strings.Split(query[1:], "&")
	for i, p := range parts {
		k, v, ok := strings.Cut(p, "=")
		if ok && isSecret(decode(k)) {
			parts[i] = k + "=" + Mask
			secrets = append(secrets, v, decode(v))
		}
	}
	return "?" + strings.Join(parts, "&"), secrets
}

// decode percent-decodes s, or returns it as is when it is not valid.
func decode(s string) string {
	if d, err := url.PathUnescape(s); err == nil {
		return d
	}
	return s
}

// longestFirst drops empty and repeated secrets and orders the rest by
// length, longest first, so replacing one never leaves part of a longer one.
func longestFirst(secrets []string) []string {
	var out []string
	for _, s := range secrets {
		if s == "" || contains(out, s) {
			continue
		}
		k := len(out)
		for k > 0 && len(out[k-1]) < len(s) {
			k--
		}
		out = append(out[:k], append([]string{s}, out[k:]...)...)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// isSecret reports whether a keyword names a secret, in any letter case (pgx
// sends an unknown spelling to the server, whose error may quote it).
func isSecret(key string) bool { return secretKeys[strings.ToLower(key)] }

func skip(s string, i int) int {
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	return i
}

func isSpace(c byte) bool { return strings.IndexByte(spaces, c) >= 0 }
