package entry_test

import (
	"math"
	"strconv"
	"strings"
	"testing"

	"parley/internal/entry"
)

// The examples of RFC 8785: section 3.2.3 (sorting), section 3.2.4 (the
// complete example, including string escaping) and the "structures" vector of
// the reference test suite the RFC points to.
func TestCanonicalRFC8785Examples(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{
			name: "3.2.4 complete example",
			in: `{
  "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
  "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
  "literals": [null, true, false]
}`,
			want: `{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}`,
		},
		{
			// Names sort by their UTF-16 code units, not by UTF-8 bytes or
			// code points: the surrogate pair of U+1F600 (0xD83D…) sorts
			// before U+FB33, though its code point is larger.
			name: "3.2.3 sorting",
			in: `{
  "\u20ac": "Euro Sign",
  "\r": "Carriage Return",
  "\ufb33": "Hebrew Letter Dalet With Dagesh",
  "1": "One",
  "\ud83d\ude00": "Emoji: Grinning Face",
  "\u0080": "Control",
  "\u00f6": "Latin Small Letter O With Diaeresis"
}`,
			want: `{"\r":"Carriage Return","1":"One","` + "\u0080" + `":"Control","` + "\u00f6" + `":"Latin Small Letter O With Diaeresis","` + "\u20ac" + `":"Euro Sign","` + "\U0001f600" + `":"Emoji: Grinning Face","` + "\ufb33" + `":"Hebrew Letter Dalet With Dagesh"}`,
		},
		{
			name: "nested structures",
			in: `{
  "1": {"f": {"f": "hi","F": 5} ,"\n": 56.0},
  "10": { },
  "": "empty",
  "a": { },
  "111": [ {"e": "yes","E": "no" } ],
  "A": { }
}`,
			want: `{"":"empty","1":{"\n":56,"f":{"F":5,"f":"hi"}},"10":{},"111":[{"E":"no","e":"yes"}],"A":{},"a":{}}`,
		},
		{
			// 3.2.2.2: only '"', '\\' and U+0000–U+001F are escaped, the
			// latter as \b \t \n \f \r or lower-case \u00xx; everything else,
			// including '/', U+007F, U+2028 and HTML characters, is literal.
			name: "string escaping",
			in:   `["\u0000\u0001\b\t\n\u000b\f\r\u001f", "\/\u007f\u2028\u2029<>&", "\uD834\uDD1E", "caf\u00e9"]`,
			want: `["\u0000\u0001\b\t\n\u000b\f\r\u001f","/` + "\u007f\u2028\u2029" + `<>&","𝄞","café"]`,
		},
		{
			name: "whitespace removed",
			in:   " \t\r\n{ \"b\" :\n[ 1 ,\t2 ] , \"a\" : true , \"c\" : { } , \"d\" : [ ] }\r\n ",
			want: `{"a":true,"b":[1,2],"c":{},"d":[]}`,
		},
		{
			name: "scalars at top level",
			in:   ` "x" `,
			want: `"x"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := entry.Canonical([]byte(tt.in))
			if err != nil {
				t.Fatalf("Canonical: %v", err)
			}
			if string(got) != tt.want {
				t.Errorf("Canonical:\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

// The number serialisation table of RFC 8785, Appendix B, given as IEEE 754
// bit patterns. NaN and Infinity (7fffffffffffffff, 7ff0000000000000) have no
// JSON text and are left out.
func TestCanonicalNumbersAppendixB(t *testing.T) {
	tests := []struct {
		bits uint64
		want string
	}{
		{0x0000000000000000, "0"},
		{0x8000000000000000, "0"}, // -0
		{0x0000000000000001, "5e-324"},
		{0x8000000000000001, "-5e-324"},
		{0x7fefffffffffffff, "1.7976931348623157e+308"},
		{0xffefffffffffffff, "-1.7976931348623157e+308"},
		{0x4340000000000000, "9007199254740992"},
		{0xc340000000000000, "-9007199254740992"},
		{0x4430000000000000, "295147905179352830000"},
		{0x44b52d02c7e14af5, "9.999999999999997e+22"},
		{0x44b52d02c7e14af6, "1e+23"},
		{0x44b52d02c7e14af7, "1.0000000000000001e+23"},
		{0x444b1ae4d6e2ef4e, "999999999999999700000"},
		{0x444b1ae4d6e2ef4f, "999999999999999900000"},
		{0x444b1ae4d6e2ef50, "1e+21"},
		{0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"},
		{0x3eb0c6f7a0b5ed8d, "0.000001"},
		{0x41b3de4355555553, "333333333.3333332"},
		{0x41b3de4355555554, "333333333.33333325"},
		{0x41b3de4355555555, "333333333.3333333"},
		{0x41b3de4355555556, "333333333.3333334"},
		{0x41b3de4355555557, "333333333.33333343"},
		{0xbecbf647612f3696, "-0.0000033333333333333333"},
		{0x43143ff3c1cb0959, "1424953923781206.2"},
	}
	for _, tt := range tests {
		f := math.Float64frombits(tt.bits)
		// Feed each value in two spellings that are not the canonical one:
		// Go's exponent form and a 17-digit form.
		for _, in := range []string{
			strconv.FormatFloat(f, 'e', -1, 64),
			strconv.FormatFloat(f, 'e', 16, 64),
		} {
			t.Run(strconv.FormatUint(tt.bits, 16)+"/"+in, func(t *testing.T) {
				got, err := entry.Canonical([]byte(in))
				if err != nil {
					t.Fatalf("Canonical(%s): %v", in, err)
				}
				if string(got) != tt.want {
					t.Errorf("Canonical(%s) = %s, want %s", in, got, tt.want)
				}
			})
		}
	}
}

// Number spellings written by hand, as they might arrive on the wire.
func TestCanonicalNumberSpellings(t *testing.T) {
	tests := []struct{ in, want string }{
		{"1e21", "1e+21"},
		{"1E+21", "1e+21"},
		{"1e+21", "1e+21"},
		{"1e20", "100000000000000000000"},
		{"0.000001", "0.000001"},
		{"1e-6", "0.000001"},
		{"1e-7", "1e-7"},
		{"0.0000001", "1e-7"},
		{"-0", "0"},
		{"-0.0", "0"},
		{"-0e10", "0"},
		{"1.0", "1"},
		{"1.50", "1.5"},
		{"100", "100"},
		{"1e2", "100"},
		{"-1", "-1"},
		{"333333333.33333329", "333333333.3333333"},
		{"9007199254740992", "9007199254740992"},
		// Beyond 2^53 integers are doubles too: ...993 rounds to ...992.
		{"9007199254740993", "9007199254740992"},
		{"123456789012345678901234567890", "1.2345678901234568e+29"},
		{"0.1", "0.1"},
		{"[0.1,0.2,0.30000000000000004]", "[0.1,0.2,0.30000000000000004]"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := entry.Canonical([]byte(tt.in))
			if err != nil {
				t.Fatalf("Canonical(%s): %v", tt.in, err)
			}
			if string(got) != tt.want {
				t.Errorf("Canonical(%s) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

// Canonical must refuse anything that is not exactly one valid JSON value with
// unique names. github.com/gowebpki/jcs, for one, silently accepts truncated
// input; a canonicaliser that did would let two different texts sign alike.
func TestCanonicalRefuses(t *testing.T) {
	tests := []struct{ name, in string }{
		{"empty", ""},
		{"whitespace only", " \n\t"},
		{"truncated object", `{"a":1`},
		{"truncated array in object", `{"a":[1,2`},
		{"truncated name", `{"a`},
		{"truncated after colon", `{"a":`},
		{"truncated after comma", `{"a":1,`},
		{"truncated array", `[`},
		{"truncated string", `"abc`},
		{"truncated literal", `tru`},
		{"truncated number exponent", `1e`},
		{"truncated escape", `"\u00"`},
		{"trailing garbage", `{"a":1}x`},
		{"two values", `{"a":1}{"b":2}`},
		{"trailing comma in object", `{"a":1,}`},
		{"trailing comma in array", `[1,2,]`},
		{"single quotes", `{'a':1}`},
		{"unquoted name", `{a:1}`},
		{"leading zero", `01`},
		{"leading plus", `+1`},
		{"bare dot", `.5`},
		{"NaN", `NaN`},
		{"Infinity", `Infinity`},
		{"comment", `{"a":1 /* c */}`},
		{"control character in string", "\"a\x01b\""},
		{"invalid UTF-8", "\"\xff\""},
		{"lone high surrogate", `"\ud800"`},
		{"lone low surrogate", `"\udc00"`},
		{"duplicate names", `{"a":1,"a":2}`},
		{"duplicate names, same value", `{"a":1,"a":1}`},
		{"duplicate names after unescaping", `{"a":1,"\u0061":2}`},
		{"duplicate names nested", `{"x":[{"b":true,"b":false}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := entry.Canonical([]byte(tt.in))
			if err == nil {
				t.Fatalf("Canonical(%q) = %s, want an error", tt.in, got)
			}
		})
	}
}

// Canonical does not modify its argument, whether or not it succeeds.
func TestCanonicalLeavesInputAlone(t *testing.T) {
	for _, in := range []string{`{ "b":1, "a":2 }`, `{"a":1`} {
		b := []byte(in)
		entry.Canonical(b)
		if string(b) != in {
			t.Errorf("Canonical changed its input %q to %q", in, b)
		}
	}
}

func TestCanonicalIdempotent(t *testing.T) {
	inputs := []string{
		`{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],"string":"\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/","literals":[null,true,false]}`,
		`{"\u20ac":1,"\r":2,"\ufb33":3,"1":4,"\ud83d\ude00":5,"\u0080":6,"\u00f6":7}`,
		`[-0, 1e21, 1e-7, 5e-324, 1.7976931348623157e308, 9007199254740993]`,
		`{"z":{"y":{"x":[{"b":1,"a":2}]}}}`,
		strings.Repeat("[", 50) + strings.Repeat("]", 50),
	}
	for _, in := range inputs {
		once, err := entry.Canonical([]byte(in))
		if err != nil {
			t.Fatalf("Canonical(%s): %v", in, err)
		}
		twice, err := entry.Canonical(once)
		if err != nil {
			t.Fatalf("Canonical(%s): %v", once, err)
		}
		if string(once) != string(twice) {
			t.Errorf("Canonical is not idempotent:\n once %s\ntwice %s", once, twice)
		}
	}
}
