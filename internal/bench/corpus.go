package bench

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-json-experiment/json/jsontext"
	"golang.org/x/mod/sumdb/note"

	"parley/internal/entry"
	"parley/internal/store"
	"parley/internal/tlog"
)

// origin names the benchmark's records.
const origin = "bench.parley.example"

// noteType is the benchmark's entry type, shaped as the vocabulary's note:
// free text, optionally about earlier entries.
const noteType = "note"

// noteBody is the body of the benchmark's entries.
type noteBody struct {
	Text  string  `json:"text"`
	About []int64 `json:"about,omitempty"`
}

// Validate requires some text.
func (n *noteBody) Validate() error {
	if strings.TrimSpace(n.Text) == "" {
		return errors.New(`"text" is required`)
	}
	return nil
}

// Refs returns the entries the note is about, which the log checks.
func (n *noteBody) Refs() []int64 { return n.About }

// An author is one delegation's signing key.
type author struct {
	id       string // name+hash, as in an entry's author field
	vkey     string
	signer   note.Signer
	verifier note.Verifier
}

func newAuthor(name string) (author, error) {
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		return author{}, err
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		return author{}, err
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return author{}, err
	}
	return author{id: entry.KeyID(name, s.KeyHash()), vkey: vkey, signer: s, verifier: v}, nil
}

// A corpus makes the benchmark's signed entries: notes of about 400 bytes as
// stored (the entry, its sources and its signature), written by a handful of
// delegations whose keys the operator registers first.
type corpus struct {
	operator author
	authors  []author
	start    time.Time
}

// authorCount is the number of delegations writing to a benchmark record.
const authorCount = 16

func newCorpus() (*corpus, error) {
	op, err := newAuthor(origin)
	if err != nil {
		return nil, err
	}
	c := &corpus{operator: op, start: time.Date(2025, 3, 11, 9, 0, 0, 0, time.UTC)}
	for i := range authorCount {
		a, err := newAuthor(fmt.Sprintf("delegation-%02d", i+1))
		if err != nil {
			return nil, err
		}
		c.authors = append(c.authors, a)
	}
	return c, nil
}

// types returns the registry the benchmark's records accept.
func types() (*entry.Registry, error) {
	r := entry.NewRegistry()
	if err := tlog.RegisterTypes(r); err != nil {
		return nil, err
	}
	if err := r.Register(entry.Type{Name: noteType, Doc: "free text", New: func() entry.Body { return new(noteBody) }}); err != nil {
		return nil, err
	}
	return r, nil
}

// logConfig returns the configuration to open (and create) a benchmark record.
func (c *corpus) logConfig() (tlog.Config, error) {
	r, err := types()
	if err != nil {
		return tlog.Config{}, err
	}
	return tlog.Config{Origin: origin, Operator: c.operator.signer, OperatorKey: c.operator.vkey, Types: r}, nil
}

// verifiers returns every key of the corpus by id.
func (c *corpus) verifiers() map[string]note.Verifier {
	m := map[string]note.Verifier{c.operator.id: c.operator.verifier}
	for _, a := range c.authors {
		m[a.id] = a.verifier
	}
	return m
}

// keyEntries returns the operator's registrations of every author key.
func (c *corpus) keyEntries() ([]*entry.Signed, error) {
	var out []*entry.Signed
	for i, a := range c.authors {
		body, err := jsontext.AppendQuote(nil, a.vkey)
		if err != nil {
			return nil, err
		}
		holder, _ := jsontext.AppendQuote(nil, fmt.Sprintf("delegation %d", i+1))
		b := `{"holder":` + string(holder) + `,"key":` + string(body) + `}`
		s, err := entry.Sign(entry.Entry{Type: tlog.KeyRegister, Body: jsontext.Value(b), Time: c.start, Recorded: c.start}, c.operator.signer)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// noteText is the body of note i: distinct for every i.
func noteText(i int64) string {
	return "Statement " + strconv.FormatInt(i, 10) + ": the delegation confirms receipt of the envoy's message on the 30-day ceasefire proposal and will answer after consultations in the capital."
}

// note returns note i, unsigned, by the author who writes it.
func (c *corpus) note(i int64) (entry.Entry, author) {
	a := c.authors[i%int64(len(c.authors))]
	text, _ := jsontext.AppendQuote(nil, noteText(i))
	at := c.start.Add(time.Duration(i) * time.Second)
	return entry.Entry{
		Type:     noteType,
		Body:     jsontext.Value(`{"text":` + string(text) + `}`),
		Time:     at,
		Recorded: at.Add(90 * time.Second),
		Sources: []entry.Source{{
			URL:      "https://briefings.example.org/" + strconv.FormatInt(i, 10),
			Citation: "press briefing",
		}},
	}, a
}

// sign signs notes [from, to) on every core.
func (c *corpus) sign(ctx context.Context, from, to int64) ([]*entry.Signed, error) {
	out := make([]*entry.Signed, to-from)
	workers := runtime.GOMAXPROCS(0)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := int64(w); k < int64(len(out)); k += int64(workers) {
				if k%1024 == 0 && ctx.Err() != nil {
					errs[w] = ctx.Err()
					return
				}
				e, a := c.note(from + k)
				s, err := entry.Sign(e, a.signer)
				if err != nil {
					errs[w] = fmt.Errorf("sign note %d: %w", from+k, err)
					return
				}
				out[k] = s
			}
		}()
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// zeroSig is the placeholder signature of synthetic entries, in base64.
var zeroSig = base64.StdEncoding.EncodeToString(make([]byte, 64))

// syntheticLeaf returns leaf i of a synthetic record: a well-formed note
// entry in canonical form, shaped as the signed ones, but with an all-zero
// placeholder signature, which does not verify. It is built by hand, not
// signed, so that a tree of ten million entries takes minutes, not hours.
func (c *corpus) syntheticLeaf(i int64) store.Leaf {
	a := c.authors[i%int64(len(c.authors))]
	at := c.start.Add(time.Duration(i) * time.Second)
	text, _ := jsontext.AppendQuote(nil, noteText(i))
	n := strconv.FormatInt(i, 10)
	canon := make([]byte, 0, 400)
	canon = append(canon, `{"author":"`...)
	canon = append(canon, a.id...)
	canon = append(canon, `","body":{"text":`...)
	canon = append(canon, text...)
	canon = append(canon, `},"recorded":"`...)
	canon = at.Add(90*time.Second).AppendFormat(canon, time.RFC3339Nano)
	canon = append(canon, `","sources":[{"citation":"press briefing","url":"https://briefings.example.org/`...)
	canon = append(canon, n...)
	canon = append(canon, `"}],"time":"`...)
	canon = at.AppendFormat(canon, time.RFC3339Nano)
	canon = append(canon, `","type":"note"}`...)
	data := make([]byte, 0, len(canon)+len(zeroSig)+20)
	data = append(data, `{"entry":`...)
	data = append(data, canon...)
	data = append(data, `,"sig":"`...)
	data = append(data, zeroSig...)
	data = append(data, `"}`...)
	h := sha256.Sum256(canon)
	binary.BigEndian.PutUint64(h[:8], uint64(i))
	return store.Leaf{Hash: h, Type: noteType, Data: data}
}
