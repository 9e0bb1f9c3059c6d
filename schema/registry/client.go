package registry

import (
	"context"
	"fmt"
	"sync"

	"github.com/rs/zerolog"
)

// Backend is a Confluent-compatible registry as Client uses it on a cache
// miss. Implementations: *Store (embedded) and *HTTPBackend (by URL).
type Backend interface {
	// Lookup returns the ID of text if it is registered under subject
	// (POST /subjects/{s}); found is false when the subject or the schema is
	// unknown.
	Lookup(ctx context.Context, subject, text string) (id int, found bool, err error)
	// History returns the subject's versions, oldest first, with parsed
	// schemas: all of them, or only the latest when all is false. An unknown
	// subject has none.
	History(ctx context.Context, subject string, all bool) ([]Version, error)
	// SubjectLevel returns the subject's own compatibility level; ok is
	// false when it has none.
	SubjectLevel(ctx context.Context, subject string) (level Level, ok bool, err error)
	// Register registers text under subject and returns its ID
	// (POST /subjects/{s}/versions). A registry that refuses it as
	// incompatible returns an *IncompatibleError.
	Register(ctx context.Context, subject, text string) (int, error)
}

// Client gives schema IDs for the Avro encoder, caching subject+fingerprint
// -> ID so that a schema costs registry round trips only the first time it
// is seen in the process. Safe for concurrent use; calls that miss the cache
// are serialised.
type Client struct {
	b     Backend
	level Level
	log   zerolog.Logger

	mu  sync.Mutex
	ids map[cacheKey]int
}

type cacheKey struct {
	subject string
	sum     [32]byte
}

// NewClient returns a Client over b. level applies to subjects that have no
// level of their own in the registry (normally schema_registry.compatibility).
// A backend that says where it reads subjects' own levels (HTTPBackend's
// LevelSource) gets that logged once, here.
func NewClient(b Backend, level Level, log zerolog.Logger) *Client {
	if ls, ok := b.(interface{ LevelSource() string }); ok {
		log.Info().Str("source", ls.LevelSource()).Str("compatibility", string(level)).
			Msg("reading each subject's own compatibility level; subjects without one use the configured level")
	}
	return &Client{b: b, level: level, log: log, ids: map[cacheKey]int{}}
}

// Level returns the level applied to subjects without their own.
func (c *Client) Level() Level { return c.level }

// ID returns the registry ID of the schema text under subject. On a cache
// miss it looks the schema up; a schema the subject does not have yet is
// checked against the subject's history with the effective level (the
// subject's own in the registry, else the Client's) and registered. Errors:
// a 42201 *Error for an invalid schema, an *IncompatibleError naming the
// fields that break, or the registry's error (wrapped, naming the subject).
// Called from the encoder when a relation version is first seen; ctx bounds
// the registry calls.
func (c *Client) ID(ctx context.Context, subject, text string) (int, error) {
	canonical, schema, err := prepare(text)
	if err != nil {
		return 0, err
	}
	key := cacheKey{subject: subject, sum: fingerprint(canonical)}
	c.mu.Lock()
	defer c.mu.Unlock()
	if id, ok := c.ids[key]; ok {
		return id, nil
	}
	id, found, err := c.b.Lookup(ctx, subject, text)
	if err != nil {
		return 0, fmt.Errorf("schema registry: look up schema of subject %q: %w", subject, err)
	}
	if !found {
		level, err := c.effectiveLevel(ctx, subject)
		if err != nil {
			return 0, err
		}
		var history []Version
		if level != None {
			history, err = c.b.History(ctx, subject, level.Transitive())
			if err != nil {
				return 0, fmt.Errorf("schema registry: versions of subject %q: %w", subject, err)
			}
			if err := Check(level, schema, history); err != nil {
				if ie, ok := err.(*IncompatibleError); ok {
					ie.Subject = subject
				}
				return 0, err
			}
		}
		if id, err = c.b.Register(ctx, subject, text); err != nil {
			if ie, ok := err.(*IncompatibleError); ok {
				ie.Subject = subject
				return 0, err
			}
			return 0, fmt.Errorf("schema registry: register schema of subject %q: %w%s", subject, err, refsHint(level, history))
		}
		c.log.Info().Str("subject", subject).Int("schema_id", id).Str("compatibility", string(level)).
			Msg("registered schema")
	}
	c.ids[key] = id
	return id, nil
}

// latestBackend is a Backend that returns a subject's latest schema text as
// registered (Store, HTTPBackend).
type latestBackend interface {
	Latest(ctx context.Context, subject string) (text string, found bool, err error)
}

// Latest returns the text of the latest version registered under subject,
// as the registry keeps it (field properties included); found is false when
// the subject has no version. It is not cached: the Avro encoder calls it
// once per relation and process, before deriving the relation's first
// schema, to keep the field names already registered; ctx bounds it. Errors
// name the subject and wrap the registry's. A Backend without a Latest
// method is asked for its History, whose Text must then be the text as
// registered.
func (c *Client) Latest(ctx context.Context, subject string) (string, bool, error) {
	var text string
	var found bool
	var err error
	if lb, ok := c.b.(latestBackend); ok {
		text, found, err = lb.Latest(ctx, subject)
	} else {
		var vs []Version
		if vs, err = c.b.History(ctx, subject, false); err == nil && len(vs) > 0 {
			text, found = vs[len(vs)-1].Text, true
		}
	}
	if err != nil {
		return "", false, fmt.Errorf("schema registry: latest version of subject %q: %w", subject, err)
	}
	return text, found, nil
}

// registeredBackend is a Backend that returns a subject's latest version
// with the schemas it references (HTTPBackend).
type registeredBackend interface {
	LatestRegistered(ctx context.Context, subject string) (Registered, bool, error)
}

// LatestRegistered returns the latest version registered under subject as
// the registry keeps it, with the schemas it references (schema
// references, as Debezium's Avro converter registers), so that
// Registered.Parse parses it; found is false when the subject has no
// version. A Backend without references (the embedded Store) gives
// Latest's text alone. Not cached; errors as Latest's.
func (c *Client) LatestRegistered(ctx context.Context, subject string) (Registered, bool, error) {
	rb, ok := c.b.(registeredBackend)
	if !ok {
		text, found, err := c.Latest(ctx, subject)
		return Registered{Text: text}, found, err
	}
	r, found, err := rb.LatestRegistered(ctx, subject)
	if err != nil {
		return Registered{}, false, fmt.Errorf("schema registry: latest version of subject %q: %w", subject, err)
	}
	return r, found, nil
}

// refsHint explains a registry's refusal of a schema that walrelay found
// compatible with the subject's versions when one of those has schema
// references: Apicurio Registry 2.4 answers 42201 "Could not execute
// compatibility rule on invalid Avro schema" to any schema checked against
// such a version, since its compatibility rule does not resolve references.
func refsHint(level Level, history []Version) string {
	for i := len(history) - 1; i >= 0; i-- {
		v := history[i]
		if len(v.References) == 0 {
			continue
		}
		return fmt.Sprintf(" (walrelay found the schema %s-compatible with the subject's versions, with version %d's "+
			"references to %q resolved; the registry may be unable to check compatibility against a version with "+
			"schema references, as Apicurio Registry 2.4 is: lift the subject's compatibility rule (NONE) for this "+
			"one registration and restore it after, or upgrade the registry to one that resolves references in "+
			"its compatibility checks)",
			level, v.Version, v.References[0].Subject)
	}
	return ""
}

func (c *Client) effectiveLevel(ctx context.Context, subject string) (Level, error) {
	l, ok, err := c.b.SubjectLevel(ctx, subject)
	if err != nil {
		return "", fmt.Errorf("schema registry: compatibility of subject %q: %w", subject, err)
	}
	if ok {
		return l, nil
	}
	return c.level, nil
}
