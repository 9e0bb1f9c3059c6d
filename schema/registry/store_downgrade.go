package registry

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
)

// logFileSince names the commit that added LogFile: a walrelay built before
// it reads and writes only StoreFile, so on a data_dir a newer one wrote it
// gives new schemas IDs the log has given to others.
const logFileSince = "1ebd47e (2026-11-28 08:02 UTC)"

// maxClashesShown caps the clashes an error names.
const maxClashesShown = 3

// olderWriterCause explains why the log, whose complete lines are log, does
// not replay over the snapshot at snapPath, when what the files show points
// to a walrelay from before logFileSince having run on the directory: the
// snapshot gives a schema ID, or a subject's version, to something other
// than the log does, or the snapshot was written after the log (a newer
// walrelay writes it only when compacting, and empties the log right after).
// It returns "" when neither shows, or the snapshot cannot be read.
func olderWriterCause(snapPath, logPath string, log []byte) string {
	b, err := os.ReadFile(snapPath)
	if err != nil {
		return ""
	}
	var st fileState
	if json.Unmarshal(b, &st) != nil {
		return ""
	}
	clashes, reused := logClashes(st, log)
	newer := modifiedAfter(snapPath, logPath)
	if len(clashes) == 0 && !newer {
		return ""
	}
	var why []string
	if newer {
		why = append(why, StoreFile+" was written after "+LogFile+"'s last line")
	}
	if len(clashes) > 0 {
		shown := clashes[:min(len(clashes), maxClashesShown)]
		w := strings.Join(shown, "; ")
		if more := len(clashes) - len(shown); more > 0 {
			w += fmt.Sprintf("; and %d more", more)
		}
		why = append(why, w)
	}
	cause := fmt.Sprintf("likely cause: a walrelay before %s, which reads and writes only %s, ran on this data_dir "+
		"after a newer one had written %s (%s); ", logFileSince, StoreFile, LogFile, strings.Join(why, "; "))
	if reused {
		cause += "records published with a reused ID decode with only one of its two schemas; "
	}
	return cause + "do not run that walrelay on this data_dir again"
}

// logClashes lists, once per schema ID, each log registration that the
// snapshot st contradicts: the ID holds another schema text in st (reused
// reports one), or st has another ID as that version of the subject.
func logClashes(st fileState, log []byte) (out []string, reused bool) {
	texts := make(map[int]string, len(st.Schemas))
	for _, fs := range st.Schemas {
		texts[fs.ID] = fs.Schema
	}
	owner := idOwners(st.Subjects)
	seen := map[int]bool{}
	for _, line := range bytes.Split(log, []byte{'\n'}) {
		var r logRecord
		if json.Unmarshal(line, &r) != nil || r.Op != "register" || seen[r.ID] {
			continue
		}
		ids := st.Subjects[r.Subject]
		switch {
		case r.Schema != "" && texts[r.ID] != "" && texts[r.ID] != r.Schema:
			out = append(out, fmt.Sprintf("schema id %d is %s in %s, %q version %d in %s",
				r.ID, owner(r.ID), StoreFile, r.Subject, r.Version, LogFile))
			reused = true
		case r.Version >= 1 && r.Version <= len(ids) && ids[r.Version-1] != r.ID:
			out = append(out, fmt.Sprintf("%q version %d is schema id %d in %s, %d in %s",
				r.Subject, r.Version, ids[r.Version-1], StoreFile, r.ID, LogFile))
		default:
			continue
		}
		seen[r.ID] = true
	}
	return out, reused
}

// idOwners returns a function naming the first subject version (subjects
// in name order) that subjects gives a schema ID, for an error.
func idOwners(subjects map[string][]int) func(id int) string {
	names := make([]string, 0, len(subjects))
	for s := range subjects {
		names = append(names, s)
	}
	sort.Strings(names)
	return func(id int) string {
		for _, s := range names {
			for i, v := range subjects[s] {
				if v == id {
					return fmt.Sprintf("%q version %d", s, i+1)
				}
			}
		}
		return "a schema of no subject"
	}
}

// modifiedAfter reports whether file a was modified after file b.
func modifiedAfter(a, b string) bool {
	fa, err := os.Stat(a)
	if err != nil {
		return false
	}
	fb, err := os.Stat(b)
	return err == nil && fa.ModTime().After(fb.ModTime())
}
