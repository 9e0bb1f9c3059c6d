package snapshot

import (
	"testing"
	"time"

	"github.com/walrelay/walrelay/event"
)

func TestEventPosition(t *testing.T) {
	t.Parallel()
	for _, lsn := range []event.LSN{0x16B3748, 0x16B3749, 0x16B374F, 0x100000000} {
		seen := map[string]bool{}
		for _, n := range []uint64{0, 1, perPosition - 1, perPosition, 2*perPosition + 5, MaxRows - 1} {
			commit, ord, err := EventPosition(lsn, n)
			if err != nil {
				t.Fatalf("lsn %s n %d: %v", lsn, n, err)
			}
			if commit%8 == 0 || commit >= (lsn+7)&^7 || commit+8 <= lsn || ord == 0 {
				t.Errorf("lsn %s n %d: commit %s ordinal %d (want an unaligned LSN just below the next aligned one, ordinal > 0)",
					lsn, n, commit, ord)
			}
			id := event.FormatID(commit, ord)
			if seen[id] {
				t.Errorf("lsn %s n %d: ID %s repeats", lsn, n, id)
			}
			seen[id] = true
		}
		c0, o0, _ := EventPosition(lsn, 0)
		c1, o1, _ := EventPosition(lsn, 1)
		if c0 != c1 || o1 != o0+1 || event.FormatID(c0, o0) >= event.FormatID(c1, o1) {
			t.Errorf("lsn %s: ordinals 0 and 1 give %s, %s", lsn, event.FormatID(c0, o0), event.FormatID(c1, o1))
		}
	}
	if _, _, err := EventPosition(0x1000, MaxRows); err == nil {
		t.Error("EventPosition accepted MaxRows")
	}
}

func TestProgress(t *testing.T) {
	t.Parallel()
	now := time.Unix(1000, 0)
	clock := func() time.Time { return now }
	a := &TablePlan{Table: Table{"public", "a"}, Rows: 100, Estimate: 90}
	b := &TablePlan{Table: Table{"public", "b"}, Rows: 0, Estimate: -1}
	p := NewProgress([]*TablePlan{a, b}, clock)
	if st := p.Table(b); st.State != "done" || st.RowsTotal != 0 {
		t.Errorf("empty table: %+v", st)
	}
	if st := p.Table(a); st.State != "pending" {
		t.Errorf("unstarted table: %+v", st)
	}
	p.Add(a, 10)
	now = now.Add(2 * time.Second)
	if p.Add(a, 30) {
		t.Error("Add reported completion at 40/100")
	}
	st := p.Table(a)
	if st.State != "running" || st.RowsDone != 40 || st.RowsPerSecond != 20 || st.ETASeconds != 3 || st.RowsEstimated != 90 {
		t.Errorf("running table: %+v (want 40 done, 20 rows/s, ETA 3 s)", st)
	}
	if !p.Add(a, 60) {
		t.Error("Add did not report completion at 100/100")
	}
	done, total, _, eta := p.Totals()
	if done != 100 || total != 100 || eta != 0 || p.Table(a).State != "done" {
		t.Errorf("totals %d/%d eta %s, table %+v", done, total, eta, p.Table(a))
	}
}
