package vocab_test

import (
	"strings"
	"testing"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"parley/internal/entry"
	"parley/internal/vocab"
)

func TestValidate(t *testing.T) {
	types, err := vocab.Types()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		typ, body string
		want      string // "" when the body is valid
	}{
		{"actor", `{"id":"putin","name":"Vladimir Putin","kind":"person"}`, ""},
		{"actor", `{"id":"Putin","kind":"person"}`, `"id" is "Putin": an id is lower-case`},
		{"actor", `{"id":"putin","kind":"king"}`, `"kind" is "king", which is not allowed: one of person, state, organisation, delegation`},
		{"actor", `{"id":"putin","titles":[{"title":"President","from":"March"}]}`, `"titles/0/from"`},
		{"party", `{"id":"russia","role":"aggressor"}`, `one of side, mediator`},
		{"statement", `{"speaker":"putin","verb":"said","confidence":"reported"}`, `"quote" or "paraphrase" is required`},
		{"statement", `{"speaker":"putin","verb":"said","quote":"x","confidence":"likely"}`, `one of confirmed, reported, alleged`},
		{"statement", `{"speaker":"putin","verb":"said","quote":"x","confidence":"alleged"}`, ""},
		{"position", `{"party":"russia","proposal":"p","stance":"accepts-with-conditions"}`, `"conditions" must list them`},
		{"position", `{"party":"russia","proposal":"p","stance":"accepts","conditions":["x"]}`, `use "accepts-with-conditions"`},
		{"position", `{"party":"russia","proposal":"p","stance":"rejects","counter":"q"}`, `"counter" is only for the stance "counters"`},
		{"position", `{"party":"russia","proposal":"p","stance":"accepts-in-principle","conditions":["talks"]}`, ""},
		{"assessment", `{"by":"trump","of":"p","words":[],"tone":"mixed"}`, `"words" is required`},
		{"message", `{"id":"m","from":"a","to":"b"}`, `"summary" or "content" is required`},
		{"relay", `{"message":"m","event":"lost","from":"a","to":"b"}`, `one of handed, delivered, acknowledged`},
		{"request", `{"id":"r","outcome":"maybe"}`, `one of requested, granted, refused, no-decision`},
		{"roster", `{"talks":"t","actor":"a","status":"excluded"}`, `"by" must name the party`},
		{"roster", `{"talks":"t","actor":"a","status":"active","meetings":["m"]}`, `absent from`},
		{"action", `{"id":"call","status":"waiting"}`, `one of planned, pending, blocked, ready, done, cancelled`},
		{"action", `{"id":"call","status":"pending","due":"soon"}`, `"due" is "soon"`},
		{"action", `{"id":"call","status":"pending","due":"tbd"}`, ""},
		{"track", `{"id":"aid","parties":["a"],"status":"active"}`, `the two parties`},
		{"track", `{"id":"aid","status":"frozen"}`, `one of active, paused, restoring, restored`},
		{"retraction", `{"entry":3}`, `"reason" is required`},
		{"talks", `{"id":"t","extra":1}`, `unknown`},
	}
	for _, c := range cases {
		e := entry.Entry{Type: c.typ, Body: jsontext.Value(c.body), Time: time.Now()}
		_, err := types.Decode(&e)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s %s: %v", c.typ, c.body, err)
		case c.want != "" && err == nil:
			t.Errorf("%s %s: accepted, want an error saying %q", c.typ, c.body, c.want)
		case c.want != "" && !strings.Contains(err.Error(), c.want):
			t.Errorf("%s %s: error %q does not say %q", c.typ, c.body, err, c.want)
		}
	}
}
