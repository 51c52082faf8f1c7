package entry_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"golang.org/x/mod/sumdb/note"

	"parley/internal/entry"
	"parley/internal/problem"
)

// A testKey is a signed-note key pair made for one test.
type testKey struct {
	signer   note.Signer
	verifier note.Verifier
	vkey     string
}

func newKey(t testing.TB, name string) testKey {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		t.Fatalf("GenerateKey: %v", err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatalf("NewSigner: %v", err)
	}
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	return testKey{signer: signer, verifier: verifier, vkey: vkey}
}

func int64p(v int64) *int64 { return &v }

// sampleEntry is a valid entry, unsigned.
func sampleEntry() entry.Entry {
	return entry.Entry{
		Type:     "note",
		Body:     jsontext.Value(`{"text":"Talks resumed in Geneva.","speakers":["A","B"],"weight":1.5}`),
		Time:     time.Date(2024, 3, 1, 9, 30, 0, 0, time.UTC),
		Recorded: time.Date(2024, 3, 1, 11, 0, 0, 123456789, time.FixedZone("MSK", 3*3600)),
		Sources: []entry.Source{
			{URL: "https://example.org/press/1", Quote: "talks resumed"},
			{Citation: "Izvestia, 1 March 2024, p. 2"},
		},
		Corrects: int64p(7),
	}
}

func mustSign(t testing.TB, e entry.Entry, k testKey) *entry.Signed {
	t.Helper()
	s, err := entry.Sign(e, k.signer)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	return s
}

// wantProblem fails t unless err is a refusal of kind with a message
// containing each of msgs.
func wantProblem(t *testing.T, err error, kind problem.Kind, msgs ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s", kind)
	}
	var p *problem.Error
	if !errors.As(err, &p) {
		t.Fatalf("error %v (%T) is not a *problem.Error", err, err)
	}
	if p.Kind != kind {
		t.Errorf("kind = %s, want %s (error: %v)", p.Kind, kind, err)
	}
	for _, m := range msgs {
		if !strings.Contains(err.Error(), m) {
			t.Errorf("error %q does not mention %q", err, m)
		}
	}
}

func TestSignParseRoundTrip(t *testing.T) {
	k := newKey(t, "kremlin")
	minimal := entry.Entry{
		Type:     "note",
		Body:     jsontext.Value(`{}`),
		Time:     time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
		Recorded: time.Date(2024, 1, 1, 0, 0, 1, 0, time.UTC),
	}
	unicode := sampleEntry()
	unicode.Body = jsontext.Value(`{"text":"переговоры \u20ac \ud83d\ude00 \"quoted\" \\ \n","n":-0,"big":1E21}`)
	unicode.Sources = []entry.Source{{URL: "https://example.org/?a=1&b=<2>", Citation: "TASS", Quote: "«возобновились»"}}
	unicode.Corrects = int64p(0)

	tests := []struct {
		name string
		e    entry.Entry
	}{
		{"full", sampleEntry()},
		{"minimal", minimal},
		{"unicode and numbers", unicode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustSign(t, tt.e, k)
			if err := s.Verify(k.verifier); err != nil {
				t.Fatalf("Verify after Sign: %v", err)
			}
			if c, err := entry.Canonical(s.Canonical); err != nil || !bytes.Equal(c, s.Canonical) {
				t.Errorf("signed bytes are not canonical: %s (err %v)", s.Canonical, err)
			}

			leaf := s.Leaf()
			if c, err := entry.Canonical(leaf); err != nil || !bytes.Equal(c, leaf) {
				t.Errorf("Leaf is not canonical JSON: %s (err %v)", leaf, err)
			}
			if m, err := s.MarshalJSON(); err != nil || !bytes.Equal(m, leaf) {
				t.Errorf("MarshalJSON = %s, %v; want Leaf %s", m, err, leaf)
			}

			p, err := entry.Parse(leaf, 0)
			if err != nil {
				t.Fatalf("Parse(Leaf): %v\n%s", err, leaf)
			}
			if !bytes.Equal(p.Canonical, s.Canonical) {
				t.Errorf("Canonical after round trip:\n got %s\nwant %s", p.Canonical, s.Canonical)
			}
			if !bytes.Equal(p.Sig, s.Sig) {
				t.Errorf("Sig after round trip differs")
			}
			if p.Hash() != s.Hash() || p.HashHex() != s.HashHex() {
				t.Errorf("Hash after round trip = %s, want %s", p.HashHex(), s.HashHex())
			}
			if !bytes.Equal(p.Leaf(), leaf) {
				t.Errorf("Leaf after round trip:\n got %s\nwant %s", p.Leaf(), leaf)
			}
			if err := p.Verify(k.verifier); err != nil {
				t.Errorf("Verify after Parse: %v", err)
			}

			// The decoded entry says what was signed.
			e := p.Entry
			if e.Type != tt.e.Type || !e.Time.Equal(tt.e.Time) || !e.Recorded.Equal(tt.e.Recorded) ||
				!slices.Equal(e.Sources, tt.e.Sources) || e.Author != s.Entry.Author {
				t.Errorf("entry after round trip = %+v, want %+v", e, tt.e)
			}
			if (e.Corrects == nil) != (tt.e.Corrects == nil) || e.Corrects != nil && *e.Corrects != *tt.e.Corrects {
				t.Errorf("Corrects after round trip = %v, want %v", e.Corrects, tt.e.Corrects)
			}
			wantBody, err := entry.Canonical(tt.e.Body)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(e.Body, wantBody) {
				t.Errorf("Body after round trip = %s, want %s", e.Body, wantBody)
			}
		})
	}
}

func TestSignSetsAuthor(t *testing.T) {
	k := newKey(t, "kremlin")
	e := sampleEntry()
	e.Author = "someone-else+00000000"
	s := mustSign(t, e, k)

	want := entry.KeyID(k.signer.Name(), k.signer.KeyHash())
	if s.Entry.Author != want {
		t.Errorf("Author = %q, want %q", s.Entry.Author, want)
	}
	if want != entry.KeyID(k.verifier.Name(), k.verifier.KeyHash()) {
		t.Errorf("signer and verifier key IDs differ")
	}
	if !strings.HasPrefix(k.vkey, s.Entry.Author+"+") {
		t.Errorf("verifier key %q does not start with author %q", k.vkey, s.Entry.Author+"+")
	}
	if !strings.HasPrefix(s.Entry.Author, "kremlin+") || len(s.Entry.Author) != len("kremlin+")+8 {
		t.Errorf("Author %q is not kremlin+<8 hex digits>", s.Entry.Author)
	}
	if !bytes.Contains(s.Canonical, []byte(`"author":"`+want+`"`)) {
		t.Errorf("signed bytes do not carry the author: %s", s.Canonical)
	}
	if e.Author != "someone-else+00000000" {
		t.Errorf("Sign changed the caller's entry")
	}
}

func TestSignRefusesInvalidEntry(t *testing.T) {
	k := newKey(t, "kremlin")
	tests := []struct {
		name   string
		mutate func(*entry.Entry)
		msg    string
	}{
		{"no type", func(e *entry.Entry) { e.Type = "" }, `"type"`},
		{"no body", func(e *entry.Entry) { e.Body = nil }, `"body"`},
		{"body not object", func(e *entry.Entry) { e.Body = jsontext.Value(`[1]`) }, `"body"`},
		{"no time", func(e *entry.Entry) { e.Time = time.Time{} }, `"time"`},
		{"no recorded", func(e *entry.Entry) { e.Recorded = time.Time{} }, `"recorded"`},
		{"negative corrects", func(e *entry.Entry) { e.Corrects = int64p(-1) }, `"corrects"`},
		{"source without url or citation", func(e *entry.Entry) { e.Sources = []entry.Source{{Quote: "q"}} }, "sources[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := sampleEntry()
			tt.mutate(&e)
			_, err := entry.Sign(e, k.signer)
			wantProblem(t, err, problem.Invalid, tt.msg)
		})
	}
}

func TestVerifyRefuses(t *testing.T) {
	k := newKey(t, "kremlin")
	other := newKey(t, "whitehouse")
	sameName := newKey(t, "kremlin")
	s := mustSign(t, sampleEntry(), k)

	flipBody := func(s *entry.Signed) {
		i := bytes.Index(s.Canonical, []byte("Geneva"))
		s.Canonical[i] ^= 0x20 // "geneva"
	}
	tests := []struct {
		name   string
		v      note.Verifier
		mutate func(*entry.Signed)
	}{
		{"another author's key", other.verifier, nil},
		{"another key with the same name", sameName.verifier, nil},
		{"one byte of the body flipped", k.verifier, flipBody},
		{"one bit of the signature flipped", k.verifier, func(s *entry.Signed) { s.Sig[10] ^= 1 }},
		{"signature truncated", k.verifier, func(s *entry.Signed) { s.Sig = s.Sig[:63] }},
		{"no signature", k.verifier, func(s *entry.Signed) { s.Sig = nil }},
		{"signature of another entry", k.verifier, func(s *entry.Signed) {
			e := sampleEntry()
			e.Type = "other"
			s.Sig = mustSign(t, e, k).Sig
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &entry.Signed{Entry: s.Entry, Canonical: bytes.Clone(s.Canonical), Sig: bytes.Clone(s.Sig)}
			if tt.mutate != nil {
				tt.mutate(c)
			}
			wantProblem(t, c.Verify(tt.v), problem.Tampered)
		})
	}
	if err := s.Verify(k.verifier); err != nil {
		t.Errorf("the original no longer verifies: %v", err)
	}
}

// Tampering with the wire form: the entry still parses, but no longer verifies.
func TestParseTamperedWire(t *testing.T) {
	k := newKey(t, "kremlin")
	s := mustSign(t, sampleEntry(), k)
	leaf := s.Leaf()

	tests := []struct {
		name     string
		from, to string
	}{
		{"body text changed", "Geneva", "geneva"},
		{"body number changed", `"weight":1.5`, `"weight":2.5`},
		{"type changed", `"type":"note"`, `"type":"nota"`},
		{"time changed", `"time":"2024-03-01T09:30:00Z"`, `"time":"2024-03-01T09:31:00Z"`},
		{"source dropped", `,{"citation":"Izvestia, 1 March 2024, p. 2"}`, ``},
		{"corrects changed", `"corrects":7`, `"corrects":6`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !bytes.Contains(leaf, []byte(tt.from)) {
				t.Fatalf("leaf has no %q: %s", tt.from, leaf)
			}
			w := bytes.Replace(leaf, []byte(tt.from), []byte(tt.to), 1)
			p, err := entry.Parse(w, 0)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if bytes.Equal(p.Canonical, s.Canonical) || p.Hash() == s.Hash() {
				t.Fatalf("tampered entry has the original's canonical bytes")
			}
			wantProblem(t, p.Verify(k.verifier), problem.Tampered)
		})
	}
}

// A wire form that differs from the canonical one only in ways canonical JSON
// erases parses to the signed bytes and verifies.
func TestParseNonCanonicalWire(t *testing.T) {
	k := newKey(t, "kremlin")
	s := mustSign(t, sampleEntry(), k)
	sig := base64.StdEncoding.EncodeToString(s.Sig)

	// Re-emit the entry's members in reverse order, each value indented.
	var members map[string]jsontext.Value
	if err := json.Unmarshal(s.Canonical, &members); err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(members))
	for n := range members {
		names = append(names, n)
	}
	sort.Sort(sort.Reverse(sort.StringSlice(names)))
	var reordered bytes.Buffer
	reordered.WriteString("{\n")
	for i, n := range names {
		v := bytes.Clone(members[n])
		if err := (*jsontext.Value)(&v).Indent(); err != nil {
			t.Fatal(err)
		}
		if i > 0 {
			reordered.WriteString(" ,\r\n")
		}
		fmt.Fprintf(&reordered, "\t%q :  %s", n, v)
	}
	reordered.WriteString("\n}")

	// Respell by hand: escapes, number forms, member order.
	respelt := strings.NewReplacer(
		`"Talks resumed in Geneva."`, `"T\u0061lks resumed in Geneva\u002E"`,
		`"weight":1.5`, `"weight":15e-1`,
		`"corrects":7`, `"corrects":7.0`,
		`{"citation":"Izvestia, 1 March 2024, p. 2"}`, `{ "citation" : "Izvestia, 1 March 2024, p. 2" }`,
		`"https://example.org/press/1"`, `"https:\/\/example.org\/press\/1"`,
	).Replace(string(s.Canonical))
	if respelt == string(s.Canonical) {
		t.Fatal("respelling changed nothing")
	}

	tests := []struct{ name, wire string }{
		{"members reordered and indented", fmt.Sprintf(`{"entry":%s,"sig":"%s"}`, reordered.Bytes(), sig)},
		{"top level reordered with whitespace", fmt.Sprintf("\n{ \"sig\" : \"%s\" ,\n  \"entry\" : %s }\n", sig, s.Canonical)},
		{"values respelt", fmt.Sprintf(`{"entry":%s,"sig":"%s"}`, respelt, sig)},
		{"sig escaped", fmt.Sprintf(`{"entry":%s,"sig":"%s"}`, s.Canonical, strings.ReplaceAll(sig, "A", `\u0041`))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := entry.Parse([]byte(tt.wire), 0)
			if err != nil {
				t.Fatalf("Parse: %v\n%s", err, tt.wire)
			}
			if !bytes.Equal(p.Canonical, s.Canonical) {
				t.Errorf("Canonical:\n got %s\nwant %s", p.Canonical, s.Canonical)
			}
			if !bytes.Equal(p.Leaf(), s.Leaf()) {
				t.Errorf("Leaf:\n got %s\nwant %s", p.Leaf(), s.Leaf())
			}
			if err := p.Verify(k.verifier); err != nil {
				t.Errorf("Verify: %v", err)
			}
		})
	}
}

// wireEntry returns the members of a valid entry as JSON values, for tests to
// change one at a time.
func wireEntry() map[string]string {
	return map[string]string{
		"type":     `"note"`,
		"body":     `{"text":"Talks resumed."}`,
		"time":     `"2024-03-01T09:30:00Z"`,
		"recorded": `"2024-03-01T11:00:00+03:00"`,
		"sources":  `[{"url":"https://example.org/1"},{"citation":"TASS"}]`,
		"author":   `"kremlin+0123abcd"`,
		"corrects": `3`,
	}
}

// encodeObject writes members as a JSON object in sorted order.
func encodeObject(members map[string]string) string {
	names := make([]string, 0, len(members))
	for n := range members {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("{")
	for i, n := range names {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "%q:%s", n, members[n])
	}
	b.WriteString("}")
	return b.String()
}

// validSig is a well-formed signature; Parse does not check what it signs.
var validSig = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0x5a}, 64))

func TestParseAcceptsWellFormed(t *testing.T) {
	wire := fmt.Sprintf(`{"entry":%s,"sig":%q}`, encodeObject(wireEntry()), validSig)
	s, err := entry.Parse([]byte(wire), 0)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if s.Entry.Author != "kremlin+0123abcd" || s.Entry.Type != "note" || *s.Entry.Corrects != 3 || len(s.Entry.Sources) != 2 {
		t.Errorf("Parse decoded %+v", s.Entry)
	}
	if !s.Entry.Recorded.Equal(time.Date(2024, 3, 1, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("Recorded = %v", s.Entry.Recorded)
	}
}

func TestParseRefuses(t *testing.T) {
	// A 64-byte signature in base64 ends in one character carrying two bits
	// of the last byte and four padding bits, then "==". Setting a padding bit
	// gives a text that lenient decoders map to the same signature.
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	last := strings.IndexByte(alphabet, validSig[85])
	nonStrictSig := validSig[:85] + string(alphabet[last|1]) + "=="
	if d, err := base64.StdEncoding.DecodeString(nonStrictSig); err != nil || base64.StdEncoding.EncodeToString(d) != validSig {
		t.Fatalf("test setup: %q is not a lenient spelling of %q", nonStrictSig, validSig)
	}

	with := func(name, value string) string {
		m := wireEntry()
		if value == "" {
			delete(m, name)
		} else {
			m[name] = value
		}
		return encodeObject(m)
	}
	wireWithSig := func(sig string) string {
		return fmt.Sprintf(`{"entry":%s,"sig":%s}`, encodeObject(wireEntry()), sig)
	}
	wireWithEntry := func(e string) string {
		return fmt.Sprintf(`{"entry":%s,"sig":%q}`, e, validSig)
	}
	good := wireWithEntry(encodeObject(wireEntry()))

	tests := []struct {
		name string
		wire string
		msgs []string
	}{
		// The signed entry as a whole.
		{"empty input", ``, []string{"malformed JSON"}},
		{"truncated", good[:len(good)-1], []string{"malformed JSON"}},
		{"truncated inside entry", good[:40], []string{"malformed JSON"}},
		{"trailing garbage", good + `x`, []string{"malformed JSON"}},
		{"not an object", `["entry","sig"]`, []string{"signed entry"}},
		{"duplicate sig", fmt.Sprintf(`{"entry":%s,"sig":%q,"sig":%q}`, encodeObject(wireEntry()), validSig, validSig), []string{"duplicate"}},
		{"unknown top-level member", fmt.Sprintf(`{"entry":%s,"sig":%q,"note":"x"}`, encodeObject(wireEntry()), validSig), []string{"note"}},
		{"top-level member in other case", fmt.Sprintf(`{"Entry":%s,"sig":%q}`, encodeObject(wireEntry()), validSig), []string{"Entry"}},
		{"missing entry", fmt.Sprintf(`{"sig":%q}`, validSig), []string{`"entry"`}},
		{"entry null", wireWithEntry(`null`), []string{`"type"`}},
		{"entry not an object", wireWithEntry(`"note"`), []string{"entry"}},

		// The signature.
		{"missing sig", fmt.Sprintf(`{"entry":%s}`, encodeObject(wireEntry())), []string{`no "sig"`}},
		{"empty sig", wireWithSig(`""`), []string{`no "sig"`}},
		{"sig not a string", wireWithSig(`12`), []string{"sig"}},
		{"sig not base64", wireWithSig(`"not base64!"`), []string{`"sig" is not`}},
		{"sig too short", wireWithSig(fmt.Sprintf("%q", base64.StdEncoding.EncodeToString(make([]byte, 63)))), []string{`"sig" is not`, "64 bytes"}},
		{"sig too long", wireWithSig(fmt.Sprintf("%q", base64.StdEncoding.EncodeToString(make([]byte, 65)))), []string{`"sig" is not`, "64 bytes"}},
		{"sig unpadded", wireWithSig(fmt.Sprintf("%q", strings.TrimRight(validSig, "="))), []string{`"sig" is not`}},
		{"sig URL alphabet", wireWithSig(fmt.Sprintf("%q", base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{0xfb, 0xff}, 32)))), []string{`"sig" is not`}},
		{"sig with non-zero padding bits", wireWithSig(fmt.Sprintf("%q", nonStrictSig)), []string{`"sig" is not`}},
		{"sig with inner space", wireWithSig(fmt.Sprintf("%q", validSig[:40]+" "+validSig[40:])), []string{`"sig" is not`}},

		// The entry's members.
		{"unknown entry member", wireWithEntry(with("title", `"x"`)), []string{"title"}},
		{"entry member in other case", wireWithEntry(with("Type", `"note"`)), []string{"Type"}},
		{"missing type", wireWithEntry(with("type", "")), []string{`no "type"`}},
		{"empty type", wireWithEntry(with("type", `""`)), []string{`no "type"`}},
		{"type not a string", wireWithEntry(with("type", `1`)), []string{"type"}},
		{"missing body", wireWithEntry(with("body", "")), []string{`no "body"`}},
		{"body an array", wireWithEntry(with("body", `[]`)), []string{`"body" must be a JSON object`}},
		{"body a string", wireWithEntry(with("body", `"{}"`)), []string{`"body" must be a JSON object`}},
		{"body null", wireWithEntry(with("body", `null`)), []string{`"body"`}},
		{"missing time", wireWithEntry(with("time", "")), []string{`no "time"`}},
		{"time not RFC 3339", wireWithEntry(with("time", `"1 March 2024"`)), []string{"time"}},
		{"time a number", wireWithEntry(with("time", `1709285400`)), []string{"time"}},
		{"missing recorded", wireWithEntry(with("recorded", "")), []string{`no "recorded"`}},
		{"missing author", wireWithEntry(with("author", "")), []string{`no "author"`}},
		{"author without hash", wireWithEntry(with("author", `"kremlin"`)), []string{`"author"`, "name+hash"}},
		{"author with short hash", wireWithEntry(with("author", `"kremlin+0123abc"`)), []string{`"author"`}},
		{"author with bad hash", wireWithEntry(with("author", `"kremlin+0123abcz"`)), []string{`"author"`}},
		{"source without url or citation", wireWithEntry(with("sources", `[{"url":"https://example.org/1"},{"quote":"q"}]`)), []string{"sources[1]", "neither a url nor a citation"}},
		{"source empty", wireWithEntry(with("sources", `[{}]`)), []string{"sources[0]"}},
		{"source unknown member", wireWithEntry(with("sources", `[{"url":"https://example.org/1","page":2}]`)), []string{"page"}},
		{"sources not an array", wireWithEntry(with("sources", `{"url":"https://example.org/1"}`)), []string{"sources"}},
		{"negative corrects", wireWithEntry(with("corrects", `-1`)), []string{`"corrects"`, "-1"}},
		{"fractional corrects", wireWithEntry(with("corrects", `1.5`)), []string{"corrects"}},
		{"corrects a string", wireWithEntry(with("corrects", `"1"`)), []string{"corrects"}},
		{"duplicate entry member", wireWithEntry(strings.Replace(encodeObject(wireEntry()), `"type":"note"`, `"type":"note","type":"position"`, 1)), []string{"duplicate"}},
		{"duplicate entry member, escaped", wireWithEntry(strings.Replace(encodeObject(wireEntry()), `"type":"note"`, `"type":"note","\u0074ype":"position"`, 1)), []string{"duplicate"}},
		{"duplicate body member", wireWithEntry(with("body", `{"text":"a","text":"b"}`)), []string{"duplicate"}},
		{"invalid UTF-8 in body", wireWithEntry(with("body", "{\"text\":\"\xff\"}")), []string{"malformed JSON"}},
		{"lone surrogate in body", wireWithEntry(with("body", `{"text":"\ud800"}`)), []string{"malformed JSON"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := entry.Parse([]byte(tt.wire), 0)
			if err == nil {
				t.Fatalf("Parse accepted %s\n(canonical %s)", tt.wire, s.Canonical)
			}
			wantProblem(t, err, problem.Invalid, tt.msgs...)
		})
	}
}

// Go's base64 decoder skips '\r' and '\n' even in strict mode, so a signature
// with a line break in it has a second text.
func TestParseSigWithLineBreak(t *testing.T) {
	wire := fmt.Sprintf(`{"entry":%s,"sig":%q}`, encodeObject(wireEntry()), validSig[:40]+"\n"+validSig[40:])
	_, err := entry.Parse([]byte(wire), 0)
	wantProblem(t, err, problem.Invalid, `"sig" is not`)
}

func TestParseBodyLimit(t *testing.T) {
	// A body of exactly n canonical bytes: {"t":"xxx…"} is 8 bytes plus the text.
	body := func(n int) string { return `{"t":"` + strings.Repeat("x", n-8) + `"}` }
	wire := func(b string) []byte {
		m := wireEntry()
		m["body"] = b
		return []byte(fmt.Sprintf(`{"entry":%s,"sig":%q}`, encodeObject(m), validSig))
	}
	spaced := func(n int) string { return `{ "t" :    "` + strings.Repeat("x", n-8) + `"  }` }

	tests := []struct {
		name    string
		body    string
		maxBody int
		ok      bool
	}{
		{"at the limit", body(100), 100, true},
		{"one over the limit", body(101), 100, false},
		{"whitespace does not count", spaced(100), 100, true},
		{"escapes count as their canonical form", `{"t":"` + strings.Repeat(`\u0078`, 92) + `"}`, 100, true},
		{"default limit", body(entry.DefaultMaxBody), 0, true},
		{"over the default limit", body(entry.DefaultMaxBody + 1), 0, false},
		{"negative means default", body(entry.DefaultMaxBody + 1), -1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := entry.Parse(wire(tt.body), tt.maxBody)
			if tt.ok {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				limit := tt.maxBody
				if limit <= 0 {
					limit = entry.DefaultMaxBody
				}
				if len(s.Entry.Body) > limit {
					t.Errorf("accepted a body of %d bytes, over %d", len(s.Entry.Body), limit)
				}
				return
			}
			wantProblem(t, err, problem.TooLarge, "over the limit")
		})
	}
}

func TestParseEntry(t *testing.T) {
	s, err := entry.ParseEntry([]byte(" "+encodeObject(wireEntry())+"\n"), 0)
	if err != nil {
		t.Fatalf("ParseEntry: %v", err)
	}
	if s.Sig != nil {
		t.Errorf("ParseEntry set a signature")
	}
	if want := encodeObject(wireEntry()); string(s.Canonical) != want {
		t.Errorf("Canonical = %s, want %s", s.Canonical, want)
	}
	_, err = entry.ParseEntry([]byte(`{"type":"note"`), 0)
	wantProblem(t, err, problem.Invalid, "malformed JSON")
}

func TestKeyID(t *testing.T) {
	tests := []struct {
		name string
		hash uint32
		want string
	}{
		{"kremlin", 0x0123abcd, "kremlin+0123abcd"},
		{"k", 0, "k+00000000"},
		{"whitehouse.gov", 0xffffffff, "whitehouse.gov+ffffffff"},
	}
	for _, tt := range tests {
		id := entry.KeyID(tt.name, tt.hash)
		if id != tt.want {
			t.Errorf("KeyID(%q, %#x) = %q, want %q", tt.name, tt.hash, id, tt.want)
		}
		name, hash, err := entry.ParseKeyID(id)
		if err != nil || name != tt.name || hash != tt.hash {
			t.Errorf("ParseKeyID(%q) = %q, %#x, %v; want %q, %#x", id, name, hash, err, tt.name, tt.hash)
		}
	}
}

func TestParseKeyIDRefuses(t *testing.T) {
	for _, id := range []string{
		"",
		"kremlin",
		"kremlin+",
		"+0123abcd",
		"kremlin+0123abc",
		"kremlin+0123abcde",
		"kremlin+0123abcg",
		"kremlin+0x23abcd",
		"kremlin++123abcd",
		"kremlin+-123abcd",
		"kremlin+0123_bcd",
		"kremlin+ 123abcd",
		"kremlin+0123abcd+",
		"kremlin+0123abcd+AAAA",
	} {
		t.Run(id, func(t *testing.T) {
			name, hash, err := entry.ParseKeyID(id)
			if err == nil {
				t.Fatalf("ParseKeyID(%q) = %q, %#x; want an error", id, name, hash)
			}
			if !strings.Contains(err.Error(), "name+hash") {
				t.Errorf("error %q does not say the expected form", err)
			}
		})
	}
}

// noteBody is a test entry type's body.
type noteBody struct {
	Text string   `json:"text"`
	Tags []string `json:"tags,omitempty"`
}

func (b *noteBody) Validate() error {
	if b.Text == "" {
		return errors.New("text is empty")
	}
	if len(b.Text) > 20 {
		return problem.New(problem.TooLarge, "text", "text is %d bytes, over 20", len(b.Text))
	}
	return nil
}

type positionBody struct {
	Party string `json:"party"`
}

func (b *positionBody) Validate() error { return nil }

func testRegistry(t *testing.T) *entry.Registry {
	t.Helper()
	r := entry.NewRegistry()
	for _, typ := range []entry.Type{
		{Name: "position", Doc: "a party's position", New: func() entry.Body { return new(positionBody) }},
		{Name: "note", Doc: "a free note", New: func() entry.Body { return new(noteBody) }},
	} {
		if err := r.Register(typ); err != nil {
			t.Fatalf("Register(%s): %v", typ.Name, err)
		}
	}
	return r
}

func TestRegistryDecode(t *testing.T) {
	r := testRegistry(t)
	tests := []struct {
		name  string
		typ   string
		body  string
		kind  problem.Kind // "" for success
		msgs  []string
		check func(*testing.T, entry.Body)
	}{
		{name: "valid", typ: "note", body: `{"tags":["a"],"text":"hello"}`, check: func(t *testing.T, b entry.Body) {
			n, ok := b.(*noteBody)
			if !ok || n.Text != "hello" || !slices.Equal(n.Tags, []string{"a"}) {
				t.Errorf("Decode = %#v", b)
			}
		}},
		{name: "other type", typ: "position", body: `{"party":"A"}`, check: func(t *testing.T, b entry.Body) {
			if p, ok := b.(*positionBody); !ok || p.Party != "A" {
				t.Errorf("Decode = %#v", b)
			}
		}},
		{name: "unknown type", typ: "nope", body: `{}`, kind: problem.Invalid, msgs: []string{`"nope"`, "known: note, position"}},
		{name: "unknown body field", typ: "note", body: `{"text":"hi","mood":"calm"}`, kind: problem.Invalid, msgs: []string{"note body", "mood"}},
		{name: "body field in other case", typ: "note", body: `{"Text":"hi"}`, kind: problem.Invalid, msgs: []string{"Text"}},
		{name: "wrong field type", typ: "note", body: `{"text":5}`, kind: problem.Invalid, msgs: []string{"note body"}},
		{name: "duplicate field", typ: "note", body: `{"text":"a","text":"b"}`, kind: problem.Invalid, msgs: []string{"duplicate"}},
		{name: "Validate error", typ: "note", body: `{"text":""}`, kind: problem.Invalid, msgs: []string{"note body", "text is empty"}},
		{name: "Validate problem keeps its kind", typ: "note", body: `{"text":"much longer than twenty bytes"}`, kind: problem.TooLarge, msgs: []string{"note body: text", "over 20"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := &entry.Entry{Type: tt.typ, Body: jsontext.Value(tt.body)}
			b, err := r.Decode(e)
			if tt.kind == "" {
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				tt.check(t, b)
				return
			}
			if b != nil {
				t.Errorf("Decode returned a body with an error: %#v", b)
			}
			wantProblem(t, err, tt.kind, tt.msgs...)
		})
	}
}

func TestRegistryValidateErrorWhere(t *testing.T) {
	r := testRegistry(t)
	_, err := r.Decode(&entry.Entry{Type: "note", Body: jsontext.Value(`{"text":""}`)})
	var p *problem.Error
	if !errors.As(err, &p) || p.Where != "note body" || p.Message != "text is empty" {
		t.Errorf("Decode error = %#v, want Where %q, Message %q", p, "note body", "text is empty")
	}
}

func TestRegistryRegister(t *testing.T) {
	r := testRegistry(t)

	err := r.Register(entry.Type{Name: "note", New: func() entry.Body { return new(noteBody) }})
	if err == nil || !strings.Contains(err.Error(), "already registered") {
		t.Errorf("registering note twice: %v, want an error", err)
	}
	if err := r.Register(entry.Type{New: func() entry.Body { return new(noteBody) }}); err == nil {
		t.Errorf("registering a type without a name succeeded")
	}
	if err := r.Register(entry.Type{Name: "empty"}); err == nil {
		t.Errorf("registering a type without New succeeded")
	}
	if _, ok := r.Lookup("empty"); ok {
		t.Errorf("a refused type was registered")
	}

	var names []string
	for _, typ := range r.Types() {
		names = append(names, typ.Name)
	}
	if !slices.Equal(names, []string{"note", "position"}) {
		t.Errorf("Types = %v, want [note position]", names)
	}
	typ, ok := r.Lookup("note")
	if !ok || typ.Doc != "a free note" {
		t.Errorf("Lookup(note) = %+v, %v", typ, ok)
	}
	if _, ok := r.Lookup("nope"); ok {
		t.Errorf("Lookup(nope) found a type")
	}
}

// Registries are independent of each other.
func TestRegistriesIndependent(t *testing.T) {
	a, b := entry.NewRegistry(), entry.NewRegistry()
	if err := a.Register(entry.Type{Name: "note", New: func() entry.Body { return new(noteBody) }}); err != nil {
		t.Fatal(err)
	}
	if err := b.Register(entry.Type{Name: "note", New: func() entry.Body { return new(noteBody) }}); err != nil {
		t.Errorf("registering in a second registry: %v", err)
	}
	_, err := entry.NewRegistry().Decode(&entry.Entry{Type: "note", Body: jsontext.Value(`{"text":"x"}`)})
	wantProblem(t, err, problem.Invalid, `unknown entry type "note"`)
}
