package server

import (
	"strings"
	"testing"

	"parley/internal/account"
	"parley/internal/entry"
)

// TestBadInput sends what a server must refuse and checks each refusal:
// a problem detail of the right kind and status, naming where the input
// was wrong, and nothing appended.
func TestBadInput(t *testing.T) {
	const maxBody = 16 << 10
	ls := startLive(t, Options{MaxBody: maxBody}, true)
	editor, reader := ls.users[account.Editor], ls.users[account.Reader]
	mine := ls.newKey(editor)
	theirs := ls.newKey(reader)
	leaf := func() string { return string(ls.signNote(mine).Leaf()) }

	// tampered is a note changed after it was signed: the signature no
	// longer covers it.
	tampered := func() string {
		se := ls.signNote(mine)
		e := se.Entry
		e.Body = []byte(`{"text":"a note changed after signing"}`)
		c, err := entry.Encode(&e)
		if err != nil {
			t.Fatal(err)
		}
		return string((&entry.Signed{Entry: e, Canonical: c, Sig: se.Sig}).Leaf())
	}
	// unregistered is a note signed by a key the record does not know.
	stranger, _ := generateKey(t, "stranger")
	unregistered := func() string { return string(ls.signNote(stranger).Leaf()) }
	post := func(path, body string) call {
		return call{method: "POST", path: path, token: editor.token, body: body}
	}
	read := func(path string) call { return call{method: "GET", path: path, token: reader.token} }

	cases := []struct {
		name   string
		call   call
		status int
		kind   string
		// where is the place the problem must name; "" checks nothing.
		where string
	}{
		{"malformed JSON", post("/api/v1/entries", `{"entry": {"type": "note",`), 400, "invalid", "body"},
		{"not an object", post("/api/v1/entries", `[1, 2]`), 400, "invalid", "body"},
		{"no body", post("/api/v1/entries", ""), 400, "invalid", "body"},
		{"text/plain", call{method: "POST", path: "/api/v1/entries", token: editor.token, body: leaf(), contentType: "text/plain"},
			415, "unsupported-media-type", "Content-Type"},
		{"a form", call{method: "POST", path: "/api/v1/entries", token: editor.token, body: "entry=x", contentType: "application/x-www-form-urlencoded"},
			415, "unsupported-media-type", "Content-Type"},
		{"over MaxBody", post("/api/v1/batches", `{"entries":[`+strings.Repeat(leaf()+",", maxBody/100)+leaf()+`]}`),
			413, "too-large", "body"},
		{"unknown member", post("/api/v1/entries", strings.TrimSuffix(leaf(), "}")+`,"note":"hello"}`), 400, "invalid", "body"},
		{"unknown member in the entry", post("/api/v1/entries", strings.Replace(leaf(), `"type":`, `"colour":"red","type":`, 1)),
			400, "invalid", ""},
		{"no sig", post("/api/v1/entries", strings.Split(leaf(), `,"sig"`)[0]+"}"), 400, "invalid", ""},
		{"a sig that is not base64", post("/api/v1/entries", leaf()[:len(leaf())-10]+`!!!!!!!!"}`), 400, "invalid", ""},
		{"bad signature", post("/api/v1/entries", tampered()), 422, "tampered", "entry"},
		{"bad signature in a batch", post("/api/v1/batches", `{"entries":[`+leaf()+`,`+tampered()+`]}`), 422, "tampered", "entries/1"},
		{"unregistered key", post("/api/v1/entries", unregistered()), 403, "unauthorized", "entry: author"},
		{"another's key", post("/api/v1/entries", string(ls.signNote(theirs).Leaf())), 403, "forbidden", "entry: author"},
		{"another's key in a batch", post("/api/v1/batches", `{"entries":[`+leaf()+`,`+string(ls.signNote(theirs).Leaf())+`]}`),
			403, "forbidden", "entries/1: author"},
		{"empty batch", post("/api/v1/batches", `{"entries":[]}`), 400, "invalid", "entries"},
		{"unknown member in a batch", post("/api/v1/batches", `{"entries":[`+leaf()+`],"atomic":true}`), 400, "invalid", "body"},

		{"missing index", read("/api/v1/proofs/inclusion"), 400, "invalid", "index"},
		{"missing from", read("/api/v1/proofs/consistency?to=3"), 400, "invalid", "from"},
		{"non-numeric from", read("/api/v1/entries?from=ten"), 400, "invalid", "from"},
		{"negative to", read("/api/v1/entries?to=-1"), 400, "invalid", "to"},
		{"non-numeric index", read("/api/v1/entries/first"), 400, "invalid", "index"},
		{"non-numeric size", read("/api/v1/proofs/inclusion?index=0&size=all"), 400, "invalid", "size"},
		{"from after to", read("/api/v1/entries?from=9&to=3"), 400, "invalid", "from"},
		{"no such entry", read("/api/v1/entries/100000"), 404, "not-found", ""},
		{"an index beyond the tree", read("/api/v1/proofs/inclusion?index=100000"), 404, "not-found", ""},
		{"a bad Last-Event-ID", call{method: "GET", path: "/api/v1/feed", token: reader.token, header: map[string]string{"Last-Event-ID": "x"}},
			400, "invalid", "Last-Event-ID"},

		{"unknown question", read("/api/v1/ask/weather"), 404, "not-found", ""},
		{"unknown ask parameter", read("/api/v1/ask/pending?colour=red"), 400, "invalid", "colour"},
		{"another question's parameter", read("/api/v1/ask/pending?by=putin"), 400, "invalid", "by"},
		{"a limit of 0", read("/api/v1/ask/statements?limit=0"), 400, "invalid", "limit"},
		{"a bad as_of", read("/api/v1/ask/positions?as_of=yesterday-ish"), 400, "invalid", "as_of"},

		{"unknown problem type", read("/api/v1/problems/gremlins"), 404, "not-found", ""},
		{"unknown endpoint", read("/api/v1/nothing-here"), 404, "not-found", ""},
		{"a tile path that is not one", read("/tile/0/1.p/2"), 404, "not-found", ""},
		{"a tile beyond the tree", read("/tile/0/999"), 404, "not-found", ""},
		{"a tile index with a sign", read("/tile/0/+00.p/3"), 404, "not-found", ""},
		{"a method the path does not take", call{method: "POST", path: "/api/v1/checkpoint", token: editor.token, body: "{}"},
			405, "method-not-allowed", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ls := ls.on(t)
			size := ls.size()
			p := ls.do(c.call).problem(t, c.status, c.kind)
			if c.where != "" && p.Where != c.where {
				t.Errorf("where %q, want %q (detail %q)", p.Where, c.where, p.Detail)
			}
			if p.Where != "" && !strings.HasPrefix(p.Detail, p.Where+": ") {
				t.Errorf("detail %q does not start with where %q", p.Detail, p.Where)
			}
			if p.Instance != strings.Split(c.call.path, "?")[0] {
				t.Errorf("instance %q, want the path %q", p.Instance, c.call.path)
			}
			if c.status == 405 && ls.do(c.call).header.Get("Allow") != "GET" {
				t.Errorf("405 without Allow: GET")
			}
			if got := ls.size(); got != size {
				t.Errorf("the record grew from %d to %d entries on a refused request", size, got)
			}
		})
	}
}

// A cookie whose session has ended must not stand in the way of signing in
// again: public routes treat it as absent, and the answer clears it.
func TestStaleCookie(t *testing.T) {
	ls := startLive(t, Options{}, false)
	u := ls.users[account.Reader]
	cookie, csrf := ls.signIn(u.name)
	ls.do(call{method: "DELETE", path: "/api/v1/session", cookie: cookie, csrf: csrf}).want(t, 204, "sign out")
	r := ls.do(call{method: "GET", path: "/api/v1/ask/pending", cookie: cookie})
	r.problem(t, 401, "unauthenticated")
	if r.cookie == nil || r.cookie.MaxAge >= 0 {
		t.Errorf("a 401 for an ended session does not clear the cookie: %v", r.cookie)
	}
	ls.do(call{method: "GET", path: "/healthz", cookie: cookie}).want(t, 200, "healthz with a stale cookie")
	r = ls.do(call{method: "POST", path: "/api/v1/session", cookie: cookie, body: map[string]string{"name": u.name, "password": testPassword}})
	r.want(t, 200, "sign in again with a stale cookie")
	if r.cookie == nil || r.cookie.Value == "" {
		t.Error("signing in again set no new cookie")
	}
}
