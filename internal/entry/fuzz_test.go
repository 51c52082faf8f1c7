package entry_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"parley/internal/entry"
)

// FuzzParse checks that Parse never panics and that whatever it accepts
// survives the trip through Leaf unchanged.
func FuzzParse(f *testing.F) {
	k := newKey(f, "kremlin")
	full := mustSign(f, sampleEntry(), k)
	leaf := string(full.Leaf())
	e := sampleEntry()
	e.Sources, e.Corrects = nil, nil
	e.Body = jsontext.Value(`{"text":"\u20ac \ud83d\ude00 \"q\"","n":[1e21,-0,0.000001]}`)
	bare := mustSign(f, e, k)

	seeds := []string{
		leaf,
		string(bare.Leaf()),
		fmt.Sprintf("{ \"sig\" : %q ,\n \"entry\" : %s }", base64.StdEncoding.EncodeToString(full.Sig), full.Canonical),
		fmt.Sprintf(`{"entry":%s,"sig":%q}`, encodeObject(wireEntry()), validSig),
		strings.Replace(leaf, `"corrects":7`, `"corrects":7.0`, 1),
		strings.Replace(leaf, `"corrects":7`, `"corrects":-7`, 1),
		strings.Replace(leaf, `"type":"note"`, `"type":"note","type":"x"`, 1),
		strings.Replace(leaf, `"sig":"`, `"sig":"A`, 1),
		strings.Replace(leaf, `"body":{`, `"body":[{`, 1),
		leaf[:len(leaf)-1],
		leaf[:len(leaf)/2],
		leaf + " ",
		`{}`,
		`{"entry":{},"sig":""}`,
		`{"entry":null,"sig":null}`,
		``,
		`[`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := entry.Parse(data, 0)
		if err != nil {
			return
		}
		if len(s.Sig) != 64 {
			t.Fatalf("accepted a %d-byte signature", len(s.Sig))
		}
		c, err := entry.Canonical(s.Canonical)
		if err != nil {
			t.Fatalf("Canonical(%s): %v", s.Canonical, err)
		}
		if !bytes.Equal(c, s.Canonical) {
			t.Fatalf("parsed bytes are not canonical:\n got %s\nonce more %s", s.Canonical, c)
		}
		leaf := s.Leaf()
		if c, err := entry.Canonical(leaf); err != nil || !bytes.Equal(c, leaf) {
			t.Fatalf("Leaf is not canonical: %s (err %v)", leaf, err)
		}
		again, err := entry.Parse(leaf, 0)
		if err != nil {
			t.Fatalf("Parse(Leaf) failed: %v\ninput %q\nleaf %s", err, data, leaf)
		}
		if !bytes.Equal(again.Canonical, s.Canonical) || !bytes.Equal(again.Sig, s.Sig) {
			t.Fatalf("Parse(Leaf) differs:\n got %s\nwant %s", again.Canonical, s.Canonical)
		}
		if !bytes.Equal(again.Leaf(), leaf) {
			t.Fatalf("Leaf is not stable:\n got %s\nwant %s", again.Leaf(), leaf)
		}
	})
}

// FuzzCanonical checks that Canonical never panics, that what it returns is
// valid JSON, a fixed point, and means what its input meant.
func FuzzCanonical(f *testing.F) {
	for _, s := range []string{
		`{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],"string":"\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/","literals":[null,true,false]}`,
		`{"\u20ac":1,"\r":2,"\ufb33":3,"1":4,"\ud83d\ude00":5,"\u0080":6,"\u00f6":7}`,
		`[-0,1e21,1e-7,5e-324,1.7976931348623157e308,9007199254740993,1e400]`,
		" { \"b\" : [ 1 , 2 ] , \"a\" : { } } ",
		`{"a":1,"a":2}`,
		`{"a":1`,
		`{"a":[1,2`,
		`"\ud800"`,
		"\"\xff\"",
		``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		in := bytes.Clone(data)
		out, err := entry.Canonical(data)
		if !bytes.Equal(in, data) {
			t.Fatalf("Canonical changed its input")
		}
		if err != nil {
			return
		}
		if !jsontext.Value(out).IsValid() {
			t.Fatalf("Canonical(%q) = %q, not valid JSON", data, out)
		}
		again, err := entry.Canonical(out)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("not a fixed point: %q -> %q -> %q (err %v)", data, out, again, err)
		}
		// Same meaning, as far as float64 can tell. Inputs whose numbers
		// overflow float64 are saturated by Canonical and refused here.
		var before, after any
		if json.Unmarshal(data, &before) != nil {
			return
		}
		if err := json.Unmarshal(out, &after); err != nil {
			t.Fatalf("Unmarshal(%q): %v", out, err)
		}
		if !reflect.DeepEqual(before, after) {
			t.Fatalf("meaning changed: %q -> %q", data, out)
		}
	})
}
