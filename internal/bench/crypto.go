package bench

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"parley/internal/entry"
)

// rate runs op on workers goroutines for about d and returns the operations
// per second, all workers together.
func rate(ctx context.Context, workers int, d time.Duration, op func() error) (float64, error) {
	var total atomic.Int64
	var failed atomic.Pointer[error]
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var n int64
			for ctx.Err() == nil && failed.Load() == nil {
				for range 8 {
					if err := op(); err != nil {
						failed.Store(&err)
						return
					}
				}
				n += 8
				if time.Now().After(deadline) {
					break
				}
			}
			total.Add(n)
		}()
	}
	wg.Wait()
	if err := failed.Load(); err != nil {
		return 0, *err
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	return float64(total.Load()) / time.Since(start).Seconds(), nil
}

// measureCrypto measures the Ed25519 sign and verify rates and the SHA-256
// rate on one core and on all, over a typical entry.
func measureCrypto(ctx context.Context, cfg Config, c *corpus, r *report) error {
	e, a := c.note(1)
	s, err := entry.Sign(e, a.signer)
	if err != nil {
		return err
	}
	msg, sig, leaf := s.Canonical, s.Sig, s.Leaf()
	sign := func() error {
		_, err := a.signer.Sign(msg)
		return err
	}
	verify := func() error {
		if !a.verifier.Verify(msg, sig) {
			return errors.New("a good signature does not verify")
		}
		return nil
	}
	hash := func() error {
		sha256.Sum256(leaf)
		return nil
	}
	all := runtime.GOMAXPROCS(0)
	workers := []int{1, all}
	if all == 1 {
		workers = workers[:1]
	}
	for _, k := range []struct {
		name string
		op   func() error
	}{
		{"Ed25519 sign", sign},
		{"Ed25519 verify", verify},
		{fmt.Sprintf("SHA-256 of %d-byte leaves", len(leaf)), hash},
	} {
		var one float64
		for _, n := range workers {
			name := k.name + ", 1 core"
			if n > 1 {
				name = fmt.Sprintf("%s, all cores (%d)", k.name, n)
			}
			progress(cfg, "measuring %s for %s", name, cfg.CryptoTime)
			v, err := rate(ctx, n, cfg.CryptoTime, k.op)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			f := figure{name: name, value: perSecond(v), num: v}
			if n == 1 {
				one = v
			} else {
				f.ratio = fmt.Sprintf("%.2fx 1 core", v/one)
			}
			if k.name == "Ed25519 verify" {
				r.verifyCap = v // the last one measured: all cores
			}
			if strings.HasPrefix(k.name, "SHA-256") {
				f.value = fmt.Sprintf("%.0f MB/s (%s)", v*float64(len(leaf))/1e6, perSecond(v))
			}
			r.add(f)
		}
	}
	r.note("crypto: Go's crypto/ed25519 through golang.org/x/mod/sumdb/note, over a %d-byte canonical entry; SHA-256 over its %d-byte leaf; each rate over %s on 1 goroutine and on GOMAXPROCS goroutines.", len(msg), len(leaf), cfg.CryptoTime)
	return nil
}
