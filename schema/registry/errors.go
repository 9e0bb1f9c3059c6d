package registry

import (
	"fmt"
	"net/http"
	"strings"
)

// Error is a registry error as the Confluent REST API reports it: an HTTP
// status and a body {"error_code": Code, "message": Message}. The Store
// returns it for the conditions the API names (subject, version or schema
// not found, invalid input); the Server writes it as it is.
type Error struct {
	Status  int    `json:"-"`
	Code    int    `json:"error_code"`
	Message string `json:"message"`
}

func (e *Error) Error() string {
	return fmt.Sprintf("schema registry: %s (error %d)", e.Message, e.Code)
}

// Confluent error codes.
const (
	CodeSubjectNotFound     = 40401
	CodeVersionNotFound     = 40402
	CodeSchemaNotFound      = 40403
	CodeSubjectLevelNotSet  = 40408
	CodeIncompatible        = 409
	CodeInvalidSchema       = 42201
	CodeInvalidVersion      = 42202
	CodeInvalidLevel        = 42203
	CodeInternal            = 50001
	codeNotFoundRoute       = 404
	codeMethodNotAllowed    = 405
	codeBadRequest          = 400
	codeUnsupportedMedia    = 415
	codeUnprocessableEntity = 422
)

func errSubjectNotFound(subject string) *Error {
	return &Error{Status: http.StatusNotFound, Code: CodeSubjectNotFound,
		Message: fmt.Sprintf("Subject '%s' not found.", subject)}
}

func errVersionNotFound(version int) *Error {
	return &Error{Status: http.StatusNotFound, Code: CodeVersionNotFound,
		Message: fmt.Sprintf("Version %d not found.", version)}
}

func errSchemaIDNotFound(id int) *Error {
	return &Error{Status: http.StatusNotFound, Code: CodeSchemaNotFound,
		Message: fmt.Sprintf("Schema %d not found", id)}
}

func errSchemaNotFound() *Error {
	return &Error{Status: http.StatusNotFound, Code: CodeSchemaNotFound, Message: "Schema not found"}
}

func errSubjectLevelNotSet(subject string) *Error {
	return &Error{Status: http.StatusNotFound, Code: CodeSubjectLevelNotSet,
		Message: fmt.Sprintf("Subject '%s' does not have subject-level compatibility configured", subject)}
}

func errInvalidSchema(err error) *Error {
	return &Error{Status: http.StatusUnprocessableEntity, Code: CodeInvalidSchema,
		Message: "Invalid schema: " + err.Error()}
}

func errInvalidVersion(v string) *Error {
	return &Error{Status: http.StatusUnprocessableEntity, Code: CodeInvalidVersion,
		Message: fmt.Sprintf("The specified version '%s' is not a valid version id. "+
			"Allowed values are between [1, 2^31-1] and the string \"latest\"", v)}
}

func errInvalidLevel() *Error {
	return &Error{Status: http.StatusUnprocessableEntity, Code: CodeInvalidLevel,
		Message: "Invalid compatibility level. Valid values are none, backward, forward, full, " +
			"backward_transitive, forward_transitive, and full_transitive"}
}

// IncompatibleError refuses a schema that is not compatible with the
// subject's history under Level. Problems lists what breaks, field by field,
// when the check ran in-process; Detail is the registry's own message when
// an external registry refused the schema.
type IncompatibleError struct {
	Subject  string
	Level    Level
	Against  Version // the version the first problem was found against
	Problems []Problem
	Detail   string
}

// Problem is one incompatibility between two versions of a schema.
type Problem struct {
	// Path names the field from the top-level record down, e.g.
	// ["after", "qty"]; empty when the top-level types themselves differ.
	Path []string
	// Change is what happened: ChangeAdded, ChangeRemoved, ChangeType,
	// ChangeRequired, ChangeOptional or ChangeOther.
	Change string
	// Old and New describe the field's type before and after ("" when the
	// field does not exist on that side).
	Old, New string
	// Reason is the Avro resolution rule that fails.
	Reason string
}

// Kinds of Problem.Change.
const (
	ChangeAdded   = "added without a default"
	ChangeRemoved = "removed without a default"
	ChangeType    = "changed type"
	ChangeOther   = "changed"
	// ChangeRequired: the field lost its null branch, its type otherwise
	// compatible; in walrelay's value schemas the column became a key
	// column. Reason says so and what it means for consumers.
	ChangeRequired = "became required"
	// ChangeOptional: the field gained a null branch the old schema cannot
	// read; in walrelay's value schemas the column left the key.
	ChangeOptional = "became optional"
)

func (e *IncompatibleError) Error() string {
	var b strings.Builder
	if e.Level == "" {
		fmt.Fprintf(&b, "schema for subject %q is incompatible", e.Subject)
	} else {
		fmt.Fprintf(&b, "schema for subject %q is not %s compatible", e.Subject, e.Level)
	}
	if e.Against.Version > 0 {
		fmt.Fprintf(&b, " with version %d (id %d)", e.Against.Version, e.Against.ID)
	}
	for i, p := range e.Problems {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(p.String())
	}
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	return b.String()
}

// String renders one problem, e.g. `field after.qty changed type from long to string`
// or `field after.a became required (it became a key column: ...)`.
func (p Problem) String() string {
	var b strings.Builder
	if len(p.Path) > 0 {
		fmt.Fprintf(&b, "field %s ", strings.Join(p.Path, "."))
	}
	b.WriteString(p.Change)
	switch p.Change {
	case ChangeType:
		fmt.Fprintf(&b, " from %s to %s", p.Old, p.New)
	case ChangeRequired, ChangeOptional:
		fmt.Fprintf(&b, " (%s)", p.Reason)
	case ChangeAdded:
		fmt.Fprintf(&b, " (%s)", p.New)
	case ChangeRemoved:
		fmt.Fprintf(&b, " (%s)", p.Old)
	}
	if p.Reason != "" && p.Change == ChangeOther {
		fmt.Fprintf(&b, " (%s)", p.Reason)
	}
	return b.String()
}
