package incidents_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"parley/internal/incidents"
	"parley/internal/record"
)

func TestImport(t *testing.T) {
	ctx := context.Background()
	rec, err := record.Init(ctx, t.TempDir(), "test.example/import")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rec.Close() })
	if _, err := rec.LoadSeed(ctx); err != nil {
		t.Fatal(err)
	}
	data := generated(1000)
	opts := incidents.ImportOptions{ReadOptions: testOptions(), As: "monitor-north", Batch: 300, TempDir: t.TempDir()}
	opts.ReportedBy = "the Mission" // by name, as the record resolves it

	// From a pipe: kept aside in TempDir for the second pass, then removed.
	before := rec.Log.Size()
	var last incidents.Progress
	batches := 0
	sum, err := incidents.Import(ctx, rec, struct{ io.Reader }{bytes.NewReader(data)}, opts, func(p incidents.Progress) {
		if p.Appending {
			batches++
		}
		last = p
	})
	if err != nil {
		t.Fatal(err, sum.Errors)
	}
	if sum.Rows != 1000 || sum.Imported != 1000 || sum.Bad != 0 || sum.First != before || sum.Last != before+999 || rec.Log.Size() != before+1000 {
		t.Errorf("summary %+v; the log grew from %d to %d", sum, before, rec.Log.Size())
	}
	if !last.Appending || last.Rows != 1000 || last.Of != 1000 || batches != 4 {
		t.Errorf("last progress %+v after %d batches, want 1000 of 1000 after 4", last, batches)
	}
	if left, _ := os.ReadDir(opts.TempDir); len(left) != 0 {
		t.Errorf("the copy of the input is left behind: %v", left)
	}

	// Again, from a file that can seek: every id is on the record now.
	size := rec.Log.Size()
	sum, err = incidents.Import(ctx, rec, bytes.NewReader(data), opts, nil)
	if !errors.Is(err, incidents.ErrBadRows) || sum.Bad != 1000 || len(sum.Errors) != 1000 || sum.Imported != 0 || rec.Log.Size() != size {
		t.Fatalf("a second import: %v, %d bad, %d errors, %d imported; the log %d → %d", err, sum.Bad, len(sum.Errors), sum.Imported, size, rec.Log.Size())
	}
	if e := sum.Errors[999]; e.Line != 1001 || e.Field != "event_id_cnty" {
		t.Errorf("the last error is %v", e)
	}
	opts.GoodOnly = true
	if _, err := incidents.Import(ctx, rec, bytes.NewReader(data), opts, nil); !errors.Is(err, incidents.ErrBadRows) || rec.Log.Size() != size {
		t.Errorf("--good-only with no good rows: %v", err)
	}
}

// TestImportStopsAtAFailedAppend cancels an import after its first batch:
// it stops there, saying which lines were left out and how many reports
// made it, and the log holds exactly those.
func TestImportStopsAtAFailedAppend(t *testing.T) {
	rec, err := record.Init(context.Background(), t.TempDir(), "test.example/import")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rec.Close() })
	if _, err := rec.LoadSeed(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opts := incidents.ImportOptions{ReadOptions: testOptions(), As: "monitor-north", Batch: 10}
	opts.ReportedBy = "monitoring-mission"
	before := rec.Log.Size()
	sum, err := incidents.Import(ctx, rec, bytes.NewReader(generated(30)), opts, func(p incidents.Progress) {
		if p.Appending && p.Rows == 10 {
			cancel()
		}
	})
	if err == nil || !strings.Contains(err.Error(), "appending lines 12 to 21") || !strings.Contains(err.Error(), "10 reports were imported before them") ||
		strings.Contains(err.Error(), "line 21: appending") {
		t.Errorf("an import cancelled after its first batch: %v", err)
	}
	if sum.Imported != 10 || rec.Log.Size() != before+10 {
		t.Errorf("%d imported; the log grew by %d; want 10 and 10", sum.Imported, rec.Log.Size()-before)
	}
}
