package main

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"golang.org/x/mod/sumdb/note"

	"parley/internal/account"
	"parley/internal/entry"
	"parley/internal/record"
	"parley/internal/server"
)

// TestServeShutdown serves a record with `serve`, appends from many clients,
// and stops the server in the middle: every append the server acknowledged
// is on the record afterwards, the record verifies, and the logs are JSON.
func TestServeShutdown(t *testing.T) {
	c := newCLI(t)
	ctx := context.Background()
	rec, err := record.Open(ctx, c.dir)
	if err != nil {
		t.Fatal(err)
	}
	acc := account.New(rec.Store(), account.Options{Argon: account.FastArgon})
	if _, err := acc.Create(ctx, "writer", "a long enough password", account.Editor, ""); err != nil {
		t.Fatal(err)
	}
	token, _, _ := acc.NewToken(ctx, "writer", "test")
	skey, vkey, err := note.GenerateKey(crand.Reader, "writer-own")
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := note.NewSigner(skey)
	if _, _, err := rec.RegisterKey(ctx, vkey, server.Holder("writer")); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	var logs bytes.Buffer
	e := &env{getenv: func(string) string { return "" }, stdout: &bytes.Buffer{}, stderr: &syncWriter{w: &logs}}
	done := make(chan error, 1)
	go func() { done <- serve(sctx, e, rec, ln, server.Options{}) }()
	base := "http://" + ln.Addr().String()

	var acked sync.Map // index → hash
	var n atomic.Int64
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				body, _ := json.Marshal(map[string]string{"text": fmt.Sprintf("client %d note %d", w, i)})
				now := time.Now().UTC()
				s, err := entry.Sign(entry.Entry{Type: "note", Body: jsontext.Value(body), Time: now, Recorded: now}, signer)
				if err != nil {
					t.Error(err)
					return
				}
				b, _ := json.Marshal(map[string]any{"entry": jsontext.Value(s.Canonical), "sig": base64.StdEncoding.EncodeToString(s.Sig)})
				req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/entries", bytes.NewReader(b))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+token)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					return // the server has stopped listening
				}
				var res server.AppendResult
				dec := json.UnmarshalRead(resp.Body, &res)
				resp.Body.Close()
				if resp.StatusCode == http.StatusCreated && dec == nil {
					acked.Store(res.Appended[0].Index, res.Appended[0].Hash)
					n.Add(1)
				} else if resp.StatusCode != http.StatusServiceUnavailable {
					return
				}
			}
		}()
	}
	for n.Load() < 50 {
		time.Sleep(5 * time.Millisecond)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	wg.Wait()
	count := 0
	acked.Range(func(k, v any) bool {
		count++
		ix, err := rec.Log.Entry(ctx, k.(int64))
		if err != nil || ix.HashHex() != v.(string) {
			t.Errorf("acknowledged entry %d (%s) is not on the record: %v", k, v, err)
		}
		return true
	})
	if _, err := rec.Verify(ctx, nil); err != nil {
		t.Errorf("verify after shutdown: %v", err)
	}
	rec.Close()
	t.Logf("%d appends acknowledged before and during shutdown, all on the record", count)
	first, _, _ := strings.Cut(logs.String(), "\n")
	var line map[string]any
	if err := json.Unmarshal([]byte(first), &line); err != nil || line["msg"] == nil {
		t.Errorf("log line is not JSON with a msg: %q", first)
	}
	if !strings.Contains(logs.String(), `"msg":"shutting down: finishing requests in flight"`) {
		t.Errorf("no shutdown line in the logs:\n%.2000s", logs.String())
	}
}

// syncWriter serializes writes, as a log destination shared by goroutines.
type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func (s *syncWriter) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.String()
}
