package store

import (
	"math"
	"testing"
)

func TestDerivedCheck(t *testing.T) {
	d := Derived{Facts: []Fact{{Index: 3}, {Index: 4, Seq: 1}}}
	for _, c := range []struct {
		from, through int64
		ok            bool
	}{
		{3, 5, true},
		{0, 10, true},
		{4, 5, false}, // entry 3 is before the run
		{3, 4, false}, // entry 4 is after it
		{5, 5, false},
	} {
		if err := d.Check(c.from, c.through); (err == nil) != c.ok {
			t.Errorf("Check(%d, %d) = %v, want ok %v", c.from, c.through, err, c.ok)
		}
	}
	if err := (Derived{}).Check(2, 2); err != nil {
		t.Errorf("an empty run: Check(2, 2) = %v", err)
	}
	if err := (Derived{}).Check(3, 2); err == nil {
		t.Error("a run that ends before it starts: Check(3, 2) = nil")
	}
}

func TestTallyBounds(t *testing.T) {
	lo, hi, from, to := TallyQuery{Kind: "tally.x", Subjects: "a|"}.Bounds()
	if lo != "a|" || hi != "a|\U0010FFFF" || from != math.MinInt64 || to != math.MaxInt64 {
		t.Errorf("Bounds without days = %q, %q, %d, %d", lo, hi, from, to)
	}
	for _, s := range []string{"a|", "a|x", "a|é", "a|\U0010FFFE"} {
		if s < lo || s >= hi {
			t.Errorf("subject %q is outside [%q, %q)", s, lo, hi)
		}
	}
	if _, _, from, to := (TallyQuery{FromDay: -3, ToDay: 7}).Bounds(); from != -3 || to != 7 {
		t.Errorf("Bounds of days -3 to 7 = %d, %d", from, to)
	}
}
