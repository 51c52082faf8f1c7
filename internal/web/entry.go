package web

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"parley/internal/entry"
	"parley/internal/problem"
	"parley/internal/state"
	"parley/internal/store"
	"parley/internal/vocab"
)

// historyCap is the most entries an entity's page lists.
const historyCap = 200

// EntityView is an entity as it stands at the page's clock, and the
// entries that mention it, newest first.
type EntityView struct {
	Entity vocab.Entity
	Kind   string
	Fields []Field
	// NotYet says the entity was not on the record at the page's clock;
	// Entity is then as it stands now.
	NotYet  bool
	History []HistoryLine
	// More says the history was cut at historyCap entries.
	More bool
}

// A Field is one part of an entity's view, with its values.
type Field struct {
	Name   string
	Values []FieldValue
}

// A FieldValue is a value as text or, when it names an entity, a link.
type FieldValue struct {
	Text string
	Ref  state.Ref
}

// HistoryLine is one entry that mentions the entity.
type HistoryLine struct {
	Index int64
	Time  time.Time
	Type  string
	Text  string
}

// Entity shows an actor, party, proposal, meeting, message, action, talks,
// track, statement or request, and every entry that mentions it.
func (s *Site) Entity(w http.ResponseWriter, r *http.Request) error {
	c := clockOf(r)
	ctx := r.Context()
	kind, id := r.PathValue("kind"), r.PathValue("id")
	if !slices.Contains(vocab.Kinds, kind) {
		return problem.New(problem.NotFound, "", "there is no kind of thing called %q on the record (one of %s)", kind, strings.Join(vocab.Kinds, ", "))
	}
	key := kind + "/" + id
	e, err := s.rec.Ask.Entity(ctx, key)
	if err != nil {
		return err
	}
	sc, err := s.clockState(ctx, c)
	if err != nil {
		return err
	}
	v := EntityView{Entity: e, Kind: kind}
	if sc != (state.Clock{}) {
		found := false
		err := s.rec.Store().Facts(ctx, store.FactQuery{Kind: vocab.FactEntity, Subject: key, Latest: true, AsOf: sc.AsOf, KnownAt: sc.KnownAt}, func(f store.Fact) error {
			found = true
			return json.Unmarshal(f.Data, &v.Entity)
		})
		if err != nil {
			return err
		}
		v.NotYet = !found
	}
	if v.Fields, err = s.fieldsOf(ctx, v.Entity.View); err != nil {
		return err
	}
	if v.History, v.More, err = s.historyOf(ctx, key, sc); err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "entity", Page{Title: v.Entity.Name, Clock: c, Body: v})
}

// clockState reads the page's clock as the store filters by it: as_of a
// time, known_at a log size.
func (s *Site) clockState(ctx context.Context, c ClockView) (state.Clock, error) {
	var sc state.Clock
	var err error
	if c.AsOf != "" {
		if sc.AsOf, err = state.EndOf(c.AsOf); err != nil {
			return sc, problem.New(problem.Invalid, "as_of", "%v", err)
		}
	}
	if c.KnownAt == "" {
		return sc, nil
	}
	if n, ok := strings.CutPrefix(c.KnownAt, "#"); ok {
		size, err := strconv.ParseInt(n, 10, 64)
		if err != nil || size < 1 {
			return sc, problem.New(problem.Invalid, "known_at", "%q: a log size is #N with N at least 1", c.KnownAt)
		}
		if have := s.rec.Log.Size(); size > have {
			return sc, problem.New(problem.NotFound, "known_at", "the record has %d entries, not %d", have, size)
		}
		sc.KnownAt = size
		return sc, nil
	}
	t, err := state.EndOf(c.KnownAt)
	if err != nil {
		return sc, problem.New(problem.Invalid, "known_at", "%v", err)
	}
	if sc.KnownAt, err = state.SizeAt(ctx, s.rec.Store(), t); err != nil {
		return sc, problem.At("known_at", err)
	}
	return sc, nil
}

// fieldsOf lays an entity's view out as named fields, in the view's order;
// a value that is an entity's key becomes a link to it.
func (s *Site) fieldsOf(ctx context.Context, view jsontext.Value) ([]Field, error) {
	if len(view) == 0 {
		return nil, nil
	}
	var m map[string]jsontext.Value
	if err := json.Unmarshal(view, &m); err != nil {
		return nil, fmt.Errorf("entity view: %w", err)
	}
	// The order of the members as written: a map loses it.
	var names []string
	dec := jsontext.NewDecoder(strings.NewReader(string(view)))
	if _, err := dec.ReadToken(); err != nil {
		return nil, err
	}
	for dec.PeekKind() != '}' {
		t, err := dec.ReadToken()
		if err != nil {
			return nil, err
		}
		names = append(names, t.String())
		if err := dec.SkipValue(); err != nil {
			return nil, err
		}
	}
	var out []Field
	for _, n := range names {
		var x any
		if err := json.Unmarshal(m[n], &x); err != nil {
			return nil, err
		}
		f := Field{Name: strings.ReplaceAll(n, "_", " ")}
		switch x := x.(type) {
		case []any:
			for _, y := range x {
				f.Values = append(f.Values, s.fieldValue(ctx, y))
			}
		default:
			f.Values = append(f.Values, s.fieldValue(ctx, x))
		}
		if len(f.Values) > 0 {
			out = append(out, f)
		}
	}
	return out, nil
}

// fieldValue shows one value of a view.
func (s *Site) fieldValue(ctx context.Context, x any) FieldValue {
	switch x := x.(type) {
	case string:
		if kind, _, ok := strings.Cut(x, "/"); ok && slices.Contains(vocab.Kinds, kind) {
			if e, err := s.rec.Ask.Entity(ctx, x); err == nil {
				return FieldValue{Ref: state.Ref{Key: x, Name: e.Name}}
			}
		}
		return FieldValue{Text: x}
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var parts []string
		for _, k := range keys {
			v := s.fieldValue(ctx, x[k])
			text := v.Text
			if v.Ref.Key != "" {
				text = v.Ref.Name
			}
			parts = append(parts, k+": "+text)
		}
		return FieldValue{Text: strings.Join(parts, "; ")}
	case nil:
		return FieldValue{Text: "—"}
	}
	return FieldValue{Text: fmt.Sprint(x)}
}

// historyOf finds every entry whose facts have key as subject or object
// (and, for an actor, the messages it carried or received), at the clock,
// newest first.
func (s *Site) historyOf(ctx context.Context, key string, sc state.Clock) ([]HistoryLine, bool, error) {
	st := s.rec.Store()
	at := map[int64]time.Time{}
	add := func(f store.Fact) error {
		at[f.Index] = f.Time
		return nil
	}
	var qs []store.FactQuery
	for _, kind := range vocab.FactKinds {
		qs = append(qs, store.FactQuery{Kind: kind, Subject: key}, store.FactQuery{Kind: kind, Object: key})
	}
	for _, q := range qs {
		q.AsOf, q.KnownAt = sc.AsOf, sc.KnownAt
		if err := st.Facts(ctx, q, add); err != nil {
			return nil, false, err
		}
	}
	if strings.HasPrefix(key, vocab.Actor+"/") {
		if err := s.carried(ctx, key, sc, add); err != nil {
			return nil, false, err
		}
	}
	lines := make([]HistoryLine, 0, len(at))
	for i, t := range at {
		lines = append(lines, HistoryLine{Index: i, Time: t})
	}
	sort.Slice(lines, func(i, j int) bool {
		if !lines[i].Time.Equal(lines[j].Time) {
			return lines[i].Time.After(lines[j].Time)
		}
		return lines[i].Index > lines[j].Index
	})
	more := len(lines) > historyCap
	if more {
		lines = lines[:historyCap]
	}
	// Each entry's line of the timeline: one look-up per distinct time.
	want := map[int64]int{}
	var times []time.Time
	for i, l := range lines {
		want[l.Index] = i
		if i == 0 || !l.Time.Equal(lines[i-1].Time) {
			times = append(times, l.Time)
		}
	}
	for _, t := range times {
		err := st.Facts(ctx, store.FactQuery{Kind: vocab.FactStory, From: t, AsOf: t, KnownAt: sc.KnownAt}, func(f store.Fact) error {
			i, ok := want[f.Index]
			if !ok {
				return nil
			}
			var sf vocab.StoryFact
			if err := json.Unmarshal(f.Data, &sf); err != nil {
				return fmt.Errorf("story of entry %d: %w", f.Index, err)
			}
			lines[i].Type, lines[i].Text = sf.Type, sf.Text
			return nil
		})
		if err != nil {
			return nil, false, err
		}
	}
	for i := range lines {
		if lines[i].Type == "" {
			ix, err := s.rec.Log.Entry(ctx, lines[i].Index)
			if err != nil {
				return nil, false, err
			}
			lines[i].Type = ix.Entry.Type
		}
	}
	return lines, more, nil
}

// carried adds the messages an actor carried or received, and their hops
// to it: the facts of a message name only its sender as their object.
func (s *Site) carried(ctx context.Context, actor string, sc state.Clock, add func(store.Fact) error) error {
	st := s.rec.Store()
	var msgs []string
	err := st.Facts(ctx, store.FactQuery{Kind: vocab.FactMessage, AsOf: sc.AsOf, KnownAt: sc.KnownAt}, func(f store.Fact) error {
		var v vocab.MessageView
		if err := json.Unmarshal(f.Data, &v); err != nil {
			return fmt.Errorf("message fact of entry %d: %w", f.Index, err)
		}
		if slices.Contains(v.Via, actor) || v.To == actor {
			msgs = append(msgs, f.Subject)
			return add(f)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, m := range msgs {
		err := st.Facts(ctx, store.FactQuery{Kind: vocab.FactHop, Subject: m, AsOf: sc.AsOf, KnownAt: sc.KnownAt}, func(f store.Fact) error {
			var h vocab.HopFact
			if err := json.Unmarshal(f.Data, &h); err != nil {
				return fmt.Errorf("hop fact of entry %d: %w", f.Index, err)
			}
			if h.From == actor || h.To == actor {
				return add(f)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// EntryView is one entry, its signature, and its inclusion proof against
// the latest checkpoint, with what the browser needs to check them.
type EntryView struct {
	Index int64
	Entry entry.Entry
	Story string
	// Holder is who holds the author's key; AuthorKey is its verifier key.
	Holder, AuthorKey string
	Hash, Sig         string
	Body              string
	// CorrectedBy is the entry that corrected or retracted this one, or -1.
	CorrectedBy int64
	Proof       *ProofView
	// Verify is the data block of the "verify here" button.
	Verify VerifyData
}

// ProofView is an inclusion proof as the page shows it.
type ProofView struct {
	Size       int64
	Root       string // base64, as in the checkpoint
	LeafHash   string // hex
	Hashes     []string
	Checkpoint string
	Operator   string
}

// VerifyData is what static/verify.js checks, as a JSON data block in the
// page. It carries no hash the server computed: the script recomputes the
// leaf hash and the root from the leaf and the proof, and checks the two
// signatures itself.
type VerifyData struct {
	Index int64 `json:"index"`
	Size  int64 `json:"size"`
	// Leaf is the exact text the tree commits to:
	// {"entry":<canonical entry>,"sig":"<base64 signature>"}.
	Leaf string `json:"leaf"`
	// Proof is the inclusion proof's hashes, base64, from the leaf up.
	Proof []string `json:"proof"`
	// Checkpoint is the operator's signed note for the tree of Size.
	Checkpoint string `json:"checkpoint"`
	// AuthorKey and OperatorKey are signed-note verifier keys.
	AuthorKey   string `json:"author_key"`
	Holder      string `json:"holder,omitempty"`
	OperatorKey string `json:"operator_key"`
}

// Entry shows one entry with its signature and inclusion proof, and a
// button that checks both in the browser.
func (s *Site) Entry(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	raw := strings.TrimPrefix(r.PathValue("index"), "#")
	index, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || index < 0 {
		return problem.New(problem.NotFound, "", "%q is not an entry number", r.PathValue("index"))
	}
	ix, err := s.rec.Log.Entry(ctx, index)
	if err != nil {
		return err
	}
	e := ix.Entry
	v := EntryView{Index: index, Entry: e, Hash: ix.HashHex(), Sig: base64.StdEncoding.EncodeToString(ix.Sig), CorrectedBy: -1}
	if k, ok := s.rec.Log.Key(e.Author); ok {
		v.Holder, v.AuthorKey = k.Holder, k.VKey
	}
	body := jsontext.Value(slices.Clone([]byte(e.Body)))
	if err := body.Indent(jsontext.WithIndent("  ")); err != nil {
		body = e.Body
	}
	v.Body = string(body)
	st := s.rec.Store()
	err = st.Facts(ctx, store.FactQuery{Kind: vocab.FactStory, Subject: e.Type, From: e.Time, AsOf: e.Time}, func(f store.Fact) error {
		if f.Index != index {
			return nil
		}
		var sf vocab.StoryFact
		if err := json.Unmarshal(f.Data, &sf); err != nil {
			return err
		}
		v.Story = sf.Text
		return nil
	})
	if err != nil {
		return err
	}
	err = st.Facts(ctx, store.FactQuery{Kind: vocab.FactVoid, Subject: strconv.FormatInt(index, 10)}, func(f store.Fact) error {
		v.CorrectedBy = f.Index
		return nil
	})
	if err != nil {
		return err
	}
	v.Verify = VerifyData{Index: index, Leaf: string(ix.Leaf()), AuthorKey: v.AuthorKey, Holder: v.Holder,
		OperatorKey: s.rec.Log.OperatorKey(), Proof: []string{}}
	// Against the latest checkpoint, which the operator signed.
	var size int64
	if cp, ok := s.rec.Log.Latest(); ok && index < cp.Size {
		size = cp.Size
	}
	p, err := s.rec.Log.ProveInclusion(ctx, index, size)
	if err != nil {
		return err
	}
	pv := &ProofView{Size: p.Size, Root: base64.StdEncoding.EncodeToString(p.Root[:]), LeafHash: fmt.Sprintf("%x", p.LeafHash[:]),
		Checkpoint: p.Checkpoint, Operator: p.Operator}
	for _, h := range p.Hashes {
		pv.Hashes = append(pv.Hashes, base64.StdEncoding.EncodeToString(h[:]))
	}
	v.Proof = pv
	v.Verify.Size, v.Verify.Checkpoint = p.Size, p.Checkpoint
	v.Verify.Proof = append(v.Verify.Proof, pv.Hashes...)
	return s.render(w, r, http.StatusOK, "entry", Page{Title: fmt.Sprintf("Entry %d", index), Body: v})
}
