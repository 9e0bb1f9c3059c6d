package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
)

// debeziumMinJava is the Java feature release Debezium Server 3.x needs
// (its classes are Java 21 class files).
const debeziumMinJava = 21

var javaVersionRe = regexp.MustCompile(`version "(\d+)(?:\.(\d+))?`)

// javaMajor returns the feature release of a java binary ("1.8" -> 8).
func javaMajor(java string) (int, error) {
	out, err := exec.Command(java, "-version").CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("%s -version: %w", java, err)
	}
	v, ok := parseJavaVersion(out)
	if !ok {
		return 0, fmt.Errorf("%s -version: no version in %q", java, out)
	}
	return v, nil
}

// parseJavaVersion reads the feature release from `java -version` output:
// `openjdk version "17.0.15"` -> 17, `java version "1.8.0_402"` -> 8.
func parseJavaVersion(out []byte) (int, bool) {
	m := javaVersionRe.FindSubmatch(out)
	if m == nil {
		return 0, false
	}
	major, _ := strconv.Atoi(string(m[1]))
	if major == 1 && len(m[2]) > 0 {
		major, _ = strconv.Atoi(string(m[2]))
	}
	return major, major > 0
}

// findJava returns a java binary of at least release min: $JAVA_HOME's,
// the one on PATH, or the newest under /usr/lib/jvm.
func findJava(min int) (string, int, error) {
	var candidates []string
	if home := os.Getenv("JAVA_HOME"); home != "" {
		candidates = append(candidates, filepath.Join(home, "bin", "java"))
	}
	if p, err := exec.LookPath("java"); err == nil {
		candidates = append(candidates, p)
	}
	jvms, _ := filepath.Glob("/usr/lib/jvm/*/bin/java")
	sort.Sort(sort.Reverse(sort.StringSlice(jvms)))
	candidates = append(candidates, jvms...)
	best, bestV := "", 0
	for _, c := range candidates {
		v, err := javaMajor(c)
		if err != nil {
			continue
		}
		if v >= min {
			return c, v, nil
		}
		if v > bestV {
			best, bestV = c, v
		}
	}
	if best == "" {
		return "", 0, fmt.Errorf("no java found: Debezium Server needs Java %d or newer (set JAVA_HOME)", min)
	}
	return "", bestV, fmt.Errorf("Debezium Server needs Java %d or newer; the newest found is %d (%s): install one and set JAVA_HOME", min, bestV, best)
}
