package pipeline

import "testing"

// TestReaderDue: the reader checks the stages and the clock at the first
// step, then every checkEvery messages, and at once after checkNow is set
// (a wait on the socket ended empty), counting afresh from there.
func TestReaderDue(t *testing.T) {
	r := reader{checkNow: true}
	var checked []int
	for i := 0; i < 3*checkEvery; i++ {
		if i == checkEvery+10 {
			r.checkNow = true
		}
		if r.due() {
			checked = append(checked, i)
		}
	}
	want := []int{0, checkEvery, checkEvery + 10, 2*checkEvery + 10}
	if len(checked) != len(want) {
		t.Fatalf("checked at messages %v, want %v", checked, want)
	}
	for i := range want {
		if checked[i] != want[i] {
			t.Fatalf("checked at messages %v, want %v", checked, want)
		}
	}
}
