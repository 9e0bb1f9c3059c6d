package schema

import (
	"bufio"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestAppendJSONFloatJava: every double and float in
// testdata/java_float_tostring.txt is written byte for byte as Java's
// Double.toString / Float.toString wrote it, which is what Debezium's JSON
// (Jackson) carries. The file was made by feeding "d <bits>" / "f <bits>"
// lines to this program under OpenJDK 25:
//
//	double d = Double.longBitsToDouble(Long.parseUnsignedLong(p[1], 16));
//	System.out.println("d " + p[1] + " " + Double.toString(d));
//	float f = Float.intBitsToFloat(Integer.parseUnsignedInt(p[1], 16));
//	System.out.println("f " + p[1] + " " + Float.toString(f));
func TestAppendJSONFloatJava(t *testing.T) {
	t.Parallel()
	fh, err := os.Open("testdata/java_float_tostring.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	n := 0
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "#") {
			continue
		}
		p := strings.Fields(sc.Text())
		u, err := strconv.ParseUint(p[1], 16, 64)
		if err != nil || len(p) != 3 {
			t.Fatalf("bad line %q", sc.Text())
		}
		f, bits := math.Float64frombits(u), 64
		if p[0] == "f" {
			f, bits = float64(math.Float32frombits(uint32(u))), 32
		}
		if got := string(appendJSONFloat(nil, f, bits)); got != p[2] {
			t.Errorf("appendJSONFloat(%s %s) = %s, Java writes %s", p[0], p[1], got, p[2])
		}
		n++
	}
	if n < 1000 {
		t.Fatalf("read %d values, want the whole file", n)
	}
}

// javaFloat is the grammar of Double.toString for a finite value: a plain
// decimal with digits on both sides of the point, or d.dddE[-]n.
var javaFloat = regexp.MustCompile(`^-?(?:(?:0|[1-9][0-9]*)\.[0-9]+|[1-9]\.[0-9]+E-?[1-9][0-9]*)$`)

// FuzzAppendJSONFloat: for any double (and the float nearest it) the output
// reads back as the same value, sign of zero included, has Java's shape (a
// fractional part always; scientific exactly outside 1e-3 <= |x| < 1e7),
// and has no more digits than Go's shortest form, plus one for Java's
// two-digit rule.
func FuzzAppendJSONFloat(f *testing.F) {
	for _, x := range []float64{0, 1, -2, 1e7, 9999999, 0.001, 0.00099999, 5e-324, 1.5e-5, math.MaxFloat64} {
		f.Add(math.Float64bits(x))
	}
	f.Fuzz(func(t *testing.T, u uint64) {
		x := math.Float64frombits(u)
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return
		}
		checkJavaFloat(t, x, 64)
		if x32 := float32(x); !math.IsInf(float64(x32), 0) {
			checkJavaFloat(t, float64(x32), 32)
		}
	})
}

func checkJavaFloat(t *testing.T, x float64, bits int) {
	t.Helper()
	s := string(appendJSONFloat(nil, x, bits))
	if !javaFloat.MatchString(s) {
		t.Fatalf("appendJSONFloat(%v, %d) = %s: not Java's form", x, bits, s)
	}
	back, err := strconv.ParseFloat(s, bits)
	if err != nil || back != x || math.Signbit(back) != math.Signbit(x) {
		t.Fatalf("appendJSONFloat(%v, %d) = %s reads back as %v (%v)", x, bits, s, back, err)
	}
	abs := math.Abs(x)
	if sci := strings.Contains(s, "E"); sci != (abs != 0 && (abs < 1e-3 || abs >= 1e7)) {
		t.Fatalf("appendJSONFloat(%v, %d) = %s: wrong notation for its magnitude", x, bits, s)
	}
	if x != 0 {
		if got, want := sigDigits(s), sigDigits(strconv.FormatFloat(abs, 'e', -1, bits)); got > max(want, 2) {
			t.Fatalf("appendJSONFloat(%v, %d) = %s: %d digits, shortest has %d", x, bits, s, got, want)
		}
	}
}

// sigDigits counts the significant digits of a decimal (no exponent sign
// digits, no leading or trailing zeros).
func sigDigits(s string) int {
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		s = s[:i]
	}
	s = strings.Trim(strings.NewReplacer("-", "", ".", "").Replace(s), "0")
	return len(s)
}
