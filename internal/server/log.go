package server

import (
	"cmp"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"parley/internal/account"
	"parley/internal/entry"
	"parley/internal/export"
	"parley/internal/problem"
	"parley/internal/tlog"
)

// maxPage is the most entries or checkpoints one list request returns.
const maxPage = 1000

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers once the record is open, its store answers, and (on a
// store several servers share) it follows the others' appends.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.rec.Store().Size(r.Context()); err != nil {
		return problem.New(problem.Internal, "", "the store does not answer: %v", err)
	}
	if err := s.rec.Log.Following(); err != nil {
		return problem.New(problem.Internal, "", "this server cannot follow what other servers append to the store: %v", err)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "size": s.rec.Log.Size()})
}

// EntryJSON is an entry as the API returns it: its place, its hash and the
// signed entry.
type EntryJSON struct {
	Index int64          `json:"index"`
	Hash  string         `json:"hash"`
	Entry jsontext.Value `json:"entry"`
	Sig   string         `json:"sig"`
}

func entryJSON(ix tlog.Indexed) EntryJSON {
	return EntryJSON{Index: ix.Index, Hash: ix.HashHex(), Entry: jsontext.Value(ix.Canonical), Sig: base64.StdEncoding.EncodeToString(ix.Sig)}
}

// intParam reads an integer query parameter, def if absent.
func intParam(r *http.Request, name string, def int64) (int64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, problem.New(problem.Invalid, name, "%q is not a whole number of at least 0", v)
	}
	return n, nil
}

// requiredInt reads an integer query parameter that must be present.
func requiredInt(r *http.Request, name string) (int64, error) {
	if r.URL.Query().Get(name) == "" {
		return 0, problem.New(problem.Invalid, name, "the query parameter is required")
	}
	return intParam(r, name, 0)
}

// EntryList is a page of entries; Next is where the next page starts, if
// there is one.
type EntryList struct {
	Entries []EntryJSON `json:"entries"`
	Size    int64       `json:"size"`
	Next    *int64      `json:"next,omitempty"`
}

func (s *Server) listEntries(w http.ResponseWriter, r *http.Request) error {
	size := s.rec.Log.Size()
	from, err := intParam(r, "from", 0)
	if err != nil {
		return err
	}
	to, err := intParam(r, "to", size)
	if err != nil {
		return err
	}
	if to > size {
		to = size
	}
	if from > to {
		return problem.New(problem.Invalid, "from", "%d is after to (%d)", from, to)
	}
	out := EntryList{Entries: []EntryJSON{}, Size: size}
	if to-from > maxPage {
		next := from + maxPage
		out.Next, to = &next, next
	}
	err = s.rec.Log.Entries(r.Context(), from, to, func(ix tlog.Indexed) error {
		out.Entries = append(out.Entries, entryJSON(ix))
		return nil
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) getEntry(w http.ResponseWriter, r *http.Request) error {
	v := r.PathValue("index")
	i, err := strconv.ParseInt(v, 10, 64)
	if err != nil || i < 0 {
		return problem.New(problem.Invalid, "index", "%q is not an entry index", v)
	}
	ix, err := s.rec.Log.Entry(r.Context(), i)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, entryJSON(ix))
}

// AppendResult says where each submitted entry went.
type AppendResult struct {
	Appended   []Appended     `json:"appended"`
	Checkpoint CheckpointJSON `json:"checkpoint"`
}

// Appended is one entry's place on the record.
type Appended struct {
	Index     int64  `json:"index"`
	Hash      string `json:"hash"`
	Duplicate bool   `json:"duplicate,omitzero"`
}

// signedJSON is a signed entry as a client sends it.
type signedJSON struct {
	Entry jsontext.Value `json:"entry"`
	Sig   string         `json:"sig"`
}

// BatchJSON is a batch of signed entries.
type BatchJSON struct {
	Entries []signedJSON `json:"entries"`
}

func (s *Server) appendEntry(w http.ResponseWriter, r *http.Request) error {
	var in signedJSON
	if err := decode(r, &in); err != nil {
		return err
	}
	return s.appendSigned(w, r, []signedJSON{in}, func(i int) string { return "entry" })
}

func (s *Server) appendBatch(w http.ResponseWriter, r *http.Request) error {
	var in BatchJSON
	if err := decode(r, &in); err != nil {
		return err
	}
	if len(in.Entries) == 0 {
		return problem.New(problem.Invalid, "entries", "the batch is empty")
	}
	return s.appendSigned(w, r, in.Entries, func(i int) string { return fmt.Sprintf("entries/%d", i) })
}

// appendSigned checks that the caller may submit each entry, appends them
// all or none, and answers 201 with their places.
func (s *Server) appendSigned(w http.ResponseWriter, r *http.Request, in []signedJSON, where func(int) string) error {
	c := callerOf(r.Context())
	entries := make([]*entry.Signed, len(in))
	for i, x := range in {
		if len(x.Entry) == 0 || x.Sig == "" {
			return problem.New(problem.Invalid, where(i), "a signed entry has \"entry\" and \"sig\"")
		}
		se, err := entry.FromParts(x.Entry, x.Sig, 0)
		if err != nil {
			return at(where(i), err)
		}
		if err := s.maySubmit(c, se); err != nil {
			return at(where(i), err)
		}
		if err := s.mayMonitor(c, se); err != nil {
			return at(where(i), err)
		}
		entries[i] = se
	}
	s.inflight.Add(1)
	res, err := s.rec.Log.Append(r.Context(), entries)
	s.inflight.Done()
	if err != nil {
		var ref *tlog.Refusal
		if errors.As(err, &ref) {
			return at(where(ref.Pos), ref.Err)
		}
		return err
	}
	out := AppendResult{Appended: make([]Appended, len(res))}
	added := 0
	for i, a := range res {
		out.Appended[i] = Appended{Index: a.Index, Hash: fmt.Sprintf("%x", a.Hash), Duplicate: a.Duplicate}
		if !a.Duplicate {
			added++
		}
	}
	s.metrics.appended.Add(float64(added))
	cp, _ := s.rec.Log.Latest()
	out.Checkpoint = checkpointJSON(cp)
	status := http.StatusCreated
	if added == 0 {
		status = http.StatusOK
	}
	return writeJSON(w, status, out)
}

// at places err at where, if where is not empty.
func at(where string, err error) error {
	if where == "" {
		var p *problem.Error
		if errors.As(err, &p) {
			return err
		}
	}
	return problem.At(where, err)
}

// Holder is how a key registered through the server names its account.
func Holder(account string) string { return "account:" + account }

// maySubmit checks the caller may put this entry on the record: it must be
// signed by one of their own keys (an admin may submit anyone's signed
// entry), be a type their role appends, and an editor for a party may only
// speak for that party.
func (s *Server) maySubmit(c caller, se *entry.Signed) error {
	typ := se.Entry.Type
	switch typ {
	case tlog.KeyRegister, tlog.KeyRevoke:
		return problem.New(problem.Forbidden, "type", "%s entries are the operator's: register and revoke keys with /api/v1/account/keys and /api/v1/keys", typ)
	case sealedType:
		return problem.New(problem.Forbidden, "type", "sealed entries are the operator's: post to a channel with POST /api/v1/channels/{id}/entries")
	}
	if c.role == account.Admin {
		return nil
	}
	k, ok := s.rec.Log.Key(se.Entry.Author)
	if !ok {
		return problem.New(problem.Unauthorized, "author", "key %s is not registered: register it with POST /api/v1/account/keys", se.Entry.Author)
	}
	if k.Holder != Holder(c.account.Name) {
		return problem.New(problem.Forbidden, "author", "key %s is not %s's: sign with one of your own keys", se.Entry.Author, c.account.Name)
	}
	if c.role == account.Monitor && !monitorTypes[typ] {
		return problem.New(problem.Forbidden, "type", "a monitor files and reviews incident reports; %s entries are for editors", typ)
	}
	if c.role == account.Editor && c.account.Party != "" {
		var body struct {
			Party string `json:"party"`
		}
		json.Unmarshal(se.Entry.Body, &body)
		if body.Party != "" && body.Party != c.account.Party && body.Party != "party/"+c.account.Party {
			return problem.New(problem.Forbidden, "body/party", "%s edits for %s, not %s", c.account.Name, c.account.Party, body.Party)
		}
	}
	return nil
}

// CheckpointJSON is a checkpoint as the API returns it.
type CheckpointJSON struct {
	Origin string    `json:"origin"`
	Size   int64     `json:"size"`
	Root   string    `json:"root"`
	Time   time.Time `json:"time"`
	Note   string    `json:"note"`
}

func checkpointJSON(c tlog.Checkpoint) CheckpointJSON {
	return CheckpointJSON{Origin: c.Origin, Size: c.Size, Root: c.Root.String(), Time: c.Time, Note: string(c.Note)}
}

func (s *Server) latestCheckpoint(w http.ResponseWriter, r *http.Request) error {
	c, ok := s.rec.Log.Latest()
	if !ok {
		return problem.New(problem.NotFound, "", "the record has no checkpoint yet")
	}
	return writeJSON(w, http.StatusOK, checkpointJSON(c))
}

func (s *Server) listCheckpoints(w http.ResponseWriter, r *http.Request) error {
	size := s.rec.Log.Size()
	from, err := intParam(r, "from", 1)
	if err != nil {
		return err
	}
	to, err := intParam(r, "to", size)
	if err != nil {
		return err
	}
	out := []CheckpointJSON{}
	err = s.rec.Log.Checkpoints(r.Context(), from, to, func(c tlog.Checkpoint) error {
		if len(out) == maxPage {
			return errFull
		}
		out = append(out, checkpointJSON(c))
		return nil
	})
	if err != nil && !errors.Is(err, errFull) {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"checkpoints": out})
}

var errFull = errors.New("page full")

func (s *Server) inclusionProof(w http.ResponseWriter, r *http.Request) error {
	index, err := requiredInt(r, "index")
	if err != nil {
		return err
	}
	size, err := intParam(r, "size", 0)
	if err != nil {
		return err
	}
	p, err := s.rec.Log.ProveInclusion(r.Context(), index, size)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, p)
}

func (s *Server) consistencyProof(w http.ResponseWriter, r *http.Request) error {
	from, err := requiredInt(r, "from")
	if err != nil {
		return err
	}
	to, err := intParam(r, "to", s.rec.Log.Size())
	if err != nil {
		return err
	}
	p, err := s.rec.Log.ProveConsistency(r.Context(), from, to)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, p)
}

// bundle streams the record as a bundle, which `parley verify -` and
// `parley import` read.
// With ?format=plover it streams the record's coded events as PLOVER JSON
// Lines instead, and with geojson or acled its incidents, as `parley
// export --format F` writes them.
func (s *Server) bundle(w http.ResponseWriter, r *http.Request) error {
	switch f := r.URL.Query().Get("format"); f {
	case "", "bundle":
	case "plover":
		w.Header().Set("Content-Type", "application/jsonl")
		w.Header().Set("Content-Disposition", `attachment; filename="record.plover.jsonl"`)
		if _, err := export.WritePLOVER(r.Context(), s.rec.Store(), s.rec.Log.Origin(), w); err != nil {
			s.log.ErrorContext(r.Context(), "PLOVER export failed", "err", err)
		}
		return nil
	case "geojson", "acled":
		write, typ, name := export.WriteGeoJSON, "application/geo+json", "incidents.geojson"
		if f == "acled" {
			write, typ, name = export.WriteACLED, "text/csv; charset=utf-8", "incidents.acled.csv"
		}
		w.Header().Set("Content-Type", typ)
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
		if _, err := write(w, export.IncidentRows(r.Context(), s.rec.Store())); err != nil {
			// Headers are gone: a cut-off collection does not parse, and
			// a cut-off CSV lacks rows, so say so here at least.
			s.log.ErrorContext(r.Context(), "incident export failed", "format", f, "err", err)
		}
		return nil
	default:
		return problem.New(problem.Invalid, "format", "%q: use bundle, plover, geojson or acled", f)
	}
	w.Header().Set("Content-Type", "application/jsonl")
	w.Header().Set("Content-Disposition", `attachment; filename="record.bundle.jsonl"`)
	if err := s.rec.Log.Export(r.Context(), w); err != nil {
		// Headers are gone: all a client can learn is a cut-off stream,
		// which verify refuses.
		s.log.ErrorContext(r.Context(), "bundle export failed", "err", err)
	}
	return nil
}

// feed streams entries as Server-Sent Events: each event is an entry (id:
// its index), from ?from= or after the Last-Event-ID a reconnecting client
// sends, then each new entry as it is appended.
func (s *Server) feed(w http.ResponseWriter, r *http.Request) error {
	next, err := intParam(r, "from", s.rec.Log.Size())
	if err != nil {
		return err
	}
	if id := r.Header.Get("Last-Event-ID"); id != "" {
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil || n < 0 {
			return problem.New(problem.Invalid, "Last-Event-ID", "%q is not an entry index", id)
		}
		next = n + 1
	}
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, "retry: 2000\n\n")
	rc.Flush()
	ctx := r.Context()
	s.metrics.feeds.Inc()
	defer s.metrics.feeds.Dec()
	heartbeat := time.NewTicker(15 * time.Second)
	defer heartbeat.Stop()
	for {
		grown := s.rec.Log.Grown()
		for size := s.rec.Log.Size(); next < size; {
			to := min(size, next+maxPage)
			err := s.rec.Log.Entries(ctx, next, to, func(ix tlog.Indexed) error {
				b, err := json.Marshal(entryJSON(ix), json.Deterministic(true))
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(w, "event: entry\nid: %d\ndata: %s\n\n", ix.Index, b)
				return err
			})
			if err != nil {
				return nil
			}
			next = to
			if rc.Flush() != nil {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-grown:
		case <-heartbeat.C:
			if _, err := fmt.Fprint(w, ": still here\n\n"); err != nil || rc.Flush() != nil {
				return nil
			}
		}
	}
}

// TypeJSON is an entry type.
type TypeJSON struct {
	Name string `json:"name"`
	Doc  string `json:"doc"`
}

func (s *Server) types(w http.ResponseWriter, r *http.Request) error {
	out := []TypeJSON{}
	for _, t := range s.rec.Log.Types().Types() {
		out = append(out, TypeJSON{t.Name, t.Doc})
	}
	return writeJSON(w, http.StatusOK, map[string]any{"types": out})
}

// KeyJSON is a registered author key.
type KeyJSON struct {
	ID         string `json:"id"`
	Key        string `json:"key"`
	Holder     string `json:"holder,omitempty"`
	Registered int64  `json:"registered"`
	Revoked    *int64 `json:"revoked,omitempty"`
}

func keyJSON(k tlog.Key) KeyJSON {
	out := KeyJSON{ID: k.ID, Key: k.VKey, Holder: k.Holder, Registered: k.Registered}
	if k.Revoked >= 0 {
		rv := k.Revoked
		out.Revoked = &rv
	}
	return out
}

// sortedKeys orders keys as they were registered.
func sortedKeys(keys []tlog.Key) []tlog.Key {
	slices.SortFunc(keys, func(a, b tlog.Key) int { return cmp.Compare(a.Registered, b.Registered) })
	return keys
}

func (s *Server) listKeys(w http.ResponseWriter, r *http.Request) error {
	out := []KeyJSON{}
	for _, k := range sortedKeys(s.rec.Log.Keys()) {
		out = append(out, keyJSON(k))
	}
	return writeJSON(w, http.StatusOK, map[string]any{"keys": out})
}
