package main

import (
	"context"
	"os"
	"strconv"
	"strings"

	"parley/internal/bench"
)

func runBench(ctx context.Context, e *env, args []string) error {
	fs, _ := flags(e, "bench")
	quick := fs.Bool("quick", false, "a run of about 20 seconds: smaller bundle, tree and append counts")
	entries := fs.Int64("entries", 0, "entries in the bundle verified (default 1000000)")
	sizes := fs.String("proof-sizes", "", "comma-separated tree sizes for proof latency (default 1000000,10000000)")
	appends := fs.Int("appends", 0, "entries appended in each append test (default 200000)")
	clients := fs.Int("clients", 0, "concurrent appenders (default 64)")
	projected := fs.Int64("projected", 0, "entries in the generated negotiation the projections are measured on (default 1000000)")
	asks := fs.Int("asks", 0, "times each question is asked, now and as of a past time (default 200)")
	incidents := fs.Int64("incidents", 0, "monitoring: incident reports imported from ACLED CSV (default 1000000)")
	steps := fs.String("steps", "", "run only these steps, comma-separated: crypto, appends, bundles, proofs, projections, serve, monitoring, cluster")
	serveRecord := fs.String("serve-record", "", "serve: the record to load over HTTP (a copy: the bench adds an account, a key and entries); default: the projections step's, else a generated one")
	serveTime := fs.Duration("serve-time", 0, "serve: how long each HTTP load runs (default 10s)")
	mixedTime := fs.Duration("mixed-time", 0, "serve: how long the mixed read/write load runs (default 60s)")
	serveClients := fs.Int("serve-clients", 0, "serve: concurrent HTTP clients (default 32)")
	clusterDB := fs.String("cluster-db", e.getenv("PARLEY_TEST_POSTGRES"), "cluster: the PostgreSQL server to measure on, in schemas of its own (env PARLEY_TEST_POSTGRES; default "+bench.DefaultClusterDB+")")
	clusterEntries := fs.Int64("cluster-entries", 0, "cluster: entries in the generated record asked on PostgreSQL (default: --projected, 1000000)")
	clusterTrials := fs.Int("cluster-trials", 0, "cluster: times the server holding the turn is killed under load (default 5)")
	scratch := fs.String("scratch", "", "directory for the run's databases and bundles (default: the system's temporary directory; the full run needs about 7 GB)")
	if _, err := parse(fs, args, 0, 0); err != nil {
		return err
	}
	var cfg bench.Config
	if *quick {
		cfg = bench.Quick()
	}
	if *entries > 0 {
		cfg.Entries = *entries
	}
	if *appends > 0 {
		cfg.Appends = *appends
	}
	if *clients > 0 {
		cfg.Clients = *clients
	}
	if *sizes != "" {
		cfg.ProofSizes = nil
		for _, s := range strings.Split(*sizes, ",") {
			n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
			if err != nil || n < 2 {
				return usageErr("bench: --proof-sizes: %q is not a tree size", s)
			}
			cfg.ProofSizes = append(cfg.ProofSizes, n)
		}
	}
	if *projected > 0 {
		cfg.Projected = *projected
	}
	if *asks > 0 {
		cfg.Asks = *asks
	}
	if *incidents > 0 {
		cfg.Incidents = *incidents
	}
	if *steps != "" {
		for _, s := range strings.Split(*steps, ",") {
			cfg.Steps = append(cfg.Steps, strings.TrimSpace(s))
		}
	}
	cfg.ClusterDB = *clusterDB
	if *clusterEntries > 0 {
		cfg.ClusterEntries = *clusterEntries
	}
	if *clusterTrials > 0 {
		cfg.ClusterTrials = *clusterTrials
	}
	cfg.ServeRecord = *serveRecord
	if *serveTime > 0 {
		cfg.ServeTime = *serveTime
	}
	if *mixedTime > 0 {
		cfg.MixedTime = *mixedTime
	}
	if *serveClients > 0 {
		cfg.ServeClients = *serveClients
	}
	// The server runs as a process of its own, so that its memory is its own.
	if exe, err := os.Executable(); err == nil {
		cfg.ServeExec = exe
	}
	cfg.Dir = *scratch
	cfg.Progress = e.stderr
	return bench.Run(ctx, e.stdout, cfg)
}
