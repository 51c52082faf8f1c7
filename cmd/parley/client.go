package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"parley/internal/entry"
	"parley/internal/problem"
	"parley/internal/record"
	"parley/internal/state"
	"parley/internal/tlog"
)

// apiClient talks to a parley server's API with an API token.
type apiClient struct {
	base  *url.URL
	token string
	http  *http.Client
}

// client returns the API client for --server, or an error if none is set.
func (e *env) client() (*apiClient, error) {
	if e.server == "" {
		return nil, usageErr("no server: give --server URL before the command, or set PARLEY_SERVER")
	}
	u, err := url.Parse(strings.TrimRight(e.server, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, usageErr("--server %q: give the server's URL, such as http://127.0.0.1:8080", e.server)
	}
	return &apiClient{base: u, token: e.token, http: &http.Client{Timeout: 5 * time.Minute}}, nil
}

// remoteProblem is a problem detail a server answered with.
type remoteProblem struct {
	Type   string `json:"type"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Where  string `json:"where"`
	Kind   string `json:"kind"`
}

// request sends body as JSON (no body if nil) and returns the response if
// its status is 2xx; otherwise an error, as send.
func (c *apiClient) request(ctx context.Context, method, path string, query url.Values, body any) (*http.Response, error) {
	if body == nil {
		return c.send(ctx, method, path, query, nil, "", 0)
	}
	b, err := json.Marshal(body, json.Deterministic(true))
	if err != nil {
		return nil, err
	}
	return c.send(ctx, method, path, query, bytes.NewReader(b), "application/json", int64(len(b)))
}

// send sends a request with body (nil for none) of media type ctype ("" to
// declare none) and size bytes, and returns the response if its status is
// 2xx; otherwise it turns the server's problem detail into an error of the
// same kind.
func (c *apiClient) send(ctx context.Context, method, path string, query url.Values, body io.Reader, ctype string, size int64) (*http.Response, error) {
	u := *c.base
	u.Path += path
	u.RawQuery = query.Encode()
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.ContentLength = size
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("server %s: %w", c.base, err)
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var p remoteProblem
	if json.Unmarshal(b, &p) != nil || p.Kind == "" {
		return nil, fmt.Errorf("server %s: %s %s: %s", c.base, method, path, resp.Status)
	}
	detail, _ := strings.CutPrefix(p.Detail, p.Where+": ")
	return nil, problem.New(problem.Kind(p.Kind), p.Where, "%s", detail)
}

// call sends a request and decodes a JSON answer into out (if not nil).
func (c *apiClient) call(ctx context.Context, method, path string, query url.Values, body, out any) error {
	resp, err := c.request(ctx, method, path, query, body)
	if err != nil {
		return err
	}
	return c.decode(resp, method, path, out)
}

// decode reads the JSON answer to method path into out (if not nil), and
// closes it.
func (c *apiClient) decode(resp *http.Response, method, path string, out any) error {
	defer resp.Body.Close()
	if out == nil {
		return nil
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("server %s: %s %s: %w", c.base, method, path, err)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("server %s: %s %s: the answer is not what this client reads: %w", c.base, method, path, err)
	}
	return nil
}

// askServer asks a parley server the query, with the same parameters.
func askServer(ctx context.Context, e *env, q state.Query) (any, error) {
	c, err := e.client()
	if err != nil {
		return nil, err
	}
	v := url.Values{}
	set := func(k, x string) {
		if x != "" {
			v.Set(k, x)
		}
	}
	set("as_of", q.AsOf)
	set("known_at", q.KnownAt)
	if q.Limit > 0 {
		v.Set("limit", fmt.Sprint(q.Limit))
	}
	qu, _ := state.QuestionNamed(q.Question)
	if q.Arg != "" {
		if qu.Arg == "" {
			return nil, problem.New(problem.Invalid, "", "%s takes no argument (got %q)", q.Question, q.Arg)
		}
		v.Set(qu.Arg, q.Arg)
	}
	for k, x := range q.Params {
		set(k, x)
	}
	var answer any
	switch q.Question {
	case "positions":
		answer = new(state.Positions)
	case "routes":
		answer = new(state.Routes)
	case "pending":
		answer = new(state.Pending)
	case "roster":
		answer = new(state.Roster)
	case "statements":
		answer = new(state.Statements)
	case "tracks":
		answer = new(state.Tracks)
	case "compliance":
		answer = new(state.Compliance)
	case "incidents":
		answer = new(state.Incidents)
	case "timeline":
		answer = new(state.Timeline)
	}
	if err := c.call(ctx, http.MethodGet, "/api/v1/ask/"+q.Question, v, nil, answer); err != nil {
		// Name the parameter as it was given here: a flag.
		return nil, problem.Rename(err, state.CLIFlag)
	}
	return deref(answer), nil
}

// deref returns the value a pointer to an answer points at.
func deref(p any) any {
	switch a := p.(type) {
	case *state.Positions:
		return *a
	case *state.Routes:
		return *a
	case *state.Compliance:
		return *a
	case *state.Incidents:
		return *a
	case *state.Pending:
		return *a
	case *state.Roster:
		return *a
	case *state.Statements:
		return *a
	case *state.Tracks:
		return *a
	case *state.Timeline:
		return *a
	}
	return p
}

// appendResult is the server's answer to an append.
type appendResult struct {
	Appended []struct {
		Index     int64  `json:"index"`
		Hash      string `json:"hash"`
		Duplicate bool   `json:"duplicate"`
	} `json:"appended"`
	Checkpoint struct {
		Size int64  `json:"size"`
		Root string `json:"root"`
	} `json:"checkpoint"`
}

// signedWire is a signed entry as the API takes it.
type signedWire struct {
	Entry jsontext.Value `json:"entry"`
	Sig   string         `json:"sig"`
}

func wireOf(s *entry.Signed) signedWire {
	return signedWire{Entry: jsontext.Value(s.Canonical), Sig: base64.StdEncoding.EncodeToString(s.Sig)}
}

// addRemote signs u here, with DIR/keys/AS.key, and appends it on the server.
func addRemote(ctx context.Context, e *env, dir string, u record.Unsigned, as string) error {
	c, err := e.client()
	if err != nil {
		return err
	}
	s, err := record.KeySigners(dir, as).Sign(u)
	if err != nil {
		return fmt.Errorf("add %s: nothing appended: %w", u.Type, err)
	}
	var res appendResult
	if err := c.call(ctx, http.MethodPost, "/api/v1/entries", nil, wireOf(s), &res); err != nil {
		return fmt.Errorf("add %s: nothing appended: %w", u.Type, err)
	}
	a := res.Appended[0]
	if a.Duplicate {
		fmt.Fprintf(e.stdout, "already on the record as entry %d (%s); nothing appended\n", a.Index, a.Hash)
		return nil
	}
	fmt.Fprintf(e.stdout, "appended entry %d (%s) on %s\n", a.Index, a.Hash, c.base)
	return nil
}

// addBatchRemote signs the batch's unsigned lines here and appends the whole
// batch on the server, all or nothing.
func addBatchRemote(ctx context.Context, e *env, dir, file, as string) error {
	c, err := e.client()
	if err != nil {
		return err
	}
	data, err := readArg(e, "@"+file)
	if err != nil {
		return fmt.Errorf("add --batch: %w", err)
	}
	signers := record.KeySigners(dir, as)
	var batch struct {
		Entries []signedWire `json:"entries"`
	}
	var lines []int
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 4*entry.DefaultMaxBody+1<<16)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		s, err := batchLine(line, signers)
		if err != nil {
			return fmt.Errorf("%s line %d: nothing appended: %w", file, n, err)
		}
		batch.Entries = append(batch.Entries, wireOf(s))
		lines = append(lines, n)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("add --batch %s: %w", file, err)
	}
	if len(lines) == 0 {
		return problem.New(problem.Invalid, file, "no entries in the file")
	}
	var res appendResult
	if err := c.call(ctx, http.MethodPost, "/api/v1/batches", nil, batch, &res); err != nil {
		var p *problem.Error
		if errors.As(err, &p) {
			var i int
			if _, serr := fmt.Sscanf(p.Where, "entries/%d", &i); serr == nil && i >= 0 && i < len(lines) {
				return fmt.Errorf("%s line %d: nothing appended: %w", file, lines[i], err)
			}
		}
		return fmt.Errorf("add --batch %s: nothing appended: %w", file, err)
	}
	added := 0
	for _, a := range res.Appended {
		if !a.Duplicate {
			added++
		}
	}
	fmt.Fprintf(e.stdout, "appended %d entries on %s (%d already on the record); tree size %d\n", added, c.base, len(res.Appended)-added, res.Checkpoint.Size)
	return nil
}

// keyNewRemote makes a signing key here and registers its public half with
// the server under the caller's account. The private key stays here.
func keyNewRemote(ctx context.Context, e *env, dir, name string) error {
	c, err := e.client()
	if err != nil {
		return err
	}
	path, vkey, err := record.NewLocalKey(dir, name)
	if err != nil {
		return fmt.Errorf("key new: %w", err)
	}
	var k struct {
		ID         string `json:"id"`
		Registered int64  `json:"registered"`
	}
	if err := c.call(ctx, http.MethodPost, "/api/v1/account/keys", nil, map[string]string{"key": vkey}, &k); err != nil {
		os.Remove(path)
		return fmt.Errorf("key new: not registered, and not kept: %w", err)
	}
	fmt.Fprintf(e.stdout, "registered key %s as entry %d on %s\n", k.ID, k.Registered, c.base)
	fmt.Fprintf(e.stdout, "verifier key: %s\n", vkey)
	fmt.Fprintf(e.stdout, "signing key:  %s (keep it secret; it never leaves this machine)\n", path)
	return nil
}

// verifyRemote streams the server's bundle through the same verifier as a
// local bundle, pinned to the operator key if given, and checks that the
// server's latest checkpoint is one the bundle verified or one after it.
func verifyRemote(ctx context.Context, e *env, pin string) (tlog.Summary, error) {
	c, err := e.client()
	if err != nil {
		return tlog.Summary{}, err
	}
	resp, err := c.request(ctx, http.MethodGet, "/api/v1/bundle", nil, nil)
	if err != nil {
		return tlog.Summary{}, err
	}
	defer resp.Body.Close()
	bar := newProgress(e.stderr, resp.ContentLength)
	sum, err := record.VerifyBundle(ctx, bufio.NewReaderSize(resp.Body, 1<<20), pin, bar.update)
	bar.done()
	if err != nil {
		return sum, err
	}
	if pin == "" {
		fmt.Fprintf(e.stderr, "verify: the operator key was taken from the server (%s): pin it with --key to check it is the one you expect\n", sum.Operator)
	}
	return sum, nil
}

// exportRemote writes the server's bundle (or its PLOVER events) to a file.
func exportRemote(ctx context.Context, e *env, format, to string) error {
	c, err := e.client()
	if err != nil {
		return err
	}
	q := url.Values{}
	if format != "bundle" {
		q.Set("format", format)
	}
	resp, err := c.request(ctx, http.MethodGet, "/api/v1/bundle", q, nil)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer resp.Body.Close()
	if err := writeExport(e, to, func(w io.Writer) error {
		_, err := io.Copy(w, resp.Body)
		return err
	}); err != nil {
		return err
	}
	if to != "-" {
		fmt.Fprintf(e.stderr, "exported the %s of %s to %s\n", format, c.base, to)
	}
	return nil
}
