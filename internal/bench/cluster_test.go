package bench

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"parley/internal/store/postgres/pgtest"
)

// TestClusterStep runs the cluster step at a tiny size with its servers
// in processes of their own, as `parley bench` runs it (TestRunQuick runs
// them in the test's process, where none can be killed): the takeover is
// measured, and the record verifies after its servers were killed.
func TestClusterStep(t *testing.T) {
	pgtest.Connect(t).Close(context.Background()) // skips, or fails in CI, without a server
	bin := filepath.Join(t.TempDir(), "parley")
	if out, err := exec.CommandContext(t.Context(), "go", "build", "-o", bin, "parley/cmd/parley").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cfg := Config{
		Dir:            t.TempDir(),
		Steps:          []string{"cluster"},
		ClusterDB:      pgtest.ServerURL(),
		ClusterEntries: 1000,
		ClusterTrials:  2,
		Asks:           3,
		ServeTime:      300 * time.Millisecond,
		ServeClients:   4,
		ServeExec:      bin,
	}
	if testing.Verbose() {
		cfg.Progress = &stamped{w: os.Stderr, start: time.Now()}
	}
	var out bytes.Buffer
	if err := Run(t.Context(), &out, cfg); err != nil {
		t.Fatalf("Run: %v\n%s", err, out.String())
	}
	t.Logf("\n%s", out.String())
	for _, want := range []string{
		`signed appends over HTTP, 4 clients, one server on SQLite \(p50 .*\)\s+[0-9,]+ /s`,
		`signed appends over HTTP, 4 clients, one server on PostgreSQL \(p50 .*\)\s+[0-9,]+ /s\s+[0-9,]+ /s PostgreSQL commits`,
		`signed appends over HTTP, 4 clients, 3 servers on one PostgreSQL record \(p50 .*\)\s+[0-9,]+ /s\s+[0-9,]+ /s PostgreSQL commits`,
		`takeover: .*, p50 / max of 2\s+[0-9.]+ ms / [0-9.]+ ms`,
		`the PostgreSQL record after these loads \(5 servers started in all\)\s+verify: [0-9,]+ entries, root \S+ .* verifies met`,
		`ask timeline as of a past time p50/p99, 1,005 entries, PostgreSQL\s+\d+ µs / \d+ µs`,
	} {
		if !regexp.MustCompile(want).MatchString(out.String()) {
			t.Errorf("no line in the report matches %q", want)
		}
	}
	if strings.Contains(out.String(), "skipped") {
		t.Errorf("the step was skipped")
	}
}
