package geo

import (
	"io"
	"math"
	"strconv"
	"unicode/utf8"
)

// svg builds a document in memory, so that a picture is written whole or
// not at all and a failed write is reported once.
type svg struct {
	b []byte
}

// s appends markup as it is.
func (w *svg) s(markup string) { w.b = append(w.b, markup...) }

// num appends v rounded to one decimal, which is a tenth of a pixel.
func (w *svg) num(v float64) {
	w.b = appendNum(w.b, v)
}

func appendNum(b []byte, v float64) []byte {
	t := math.Round(v * 10)
	if math.IsNaN(t) || math.IsInf(t, 0) || math.Abs(t) > 1e15 {
		return append(b, '0')
	}
	n := int64(t)
	if n < 0 {
		b = append(b, '-')
		n = -n
	}
	b = strconv.AppendInt(b, n/10, 10)
	if d := n % 10; d != 0 {
		b = append(b, '.', byte('0'+d))
	}
	return b
}

// int appends an integer.
func (w *svg) int(v int) { w.b = strconv.AppendInt(w.b, int64(v), 10) }

// attr appends ` name="v"` with v rounded as num does.
func (w *svg) attr(name string, v float64) {
	w.b = append(w.b, ' ')
	w.b = append(w.b, name...)
	w.b = append(w.b, '=', '"')
	w.b = appendNum(w.b, v)
	w.b = append(w.b, '"')
}

// sattr appends ` name="v"` with v escaped.
func (w *svg) sattr(name, v string) {
	w.b = append(w.b, ' ')
	w.b = append(w.b, name...)
	w.b = append(w.b, '=', '"')
	w.b = appendEscaped(w.b, v)
	w.b = append(w.b, '"')
}

// text appends v escaped for use as character data or an attribute value.
func (w *svg) text(v string) { w.b = appendEscaped(w.b, v) }

// appendEscaped escapes like encoding/xml's EscapeText: the five XML
// specials and the line-breaking controls become references, and anything
// XML 1.0 cannot carry (other controls, invalid UTF-8) becomes U+FFFD.
func appendEscaped(b []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '&':
				b = append(b, "&amp;"...)
			case c == '<':
				b = append(b, "&lt;"...)
			case c == '>':
				b = append(b, "&gt;"...)
			case c == '"':
				b = append(b, "&#34;"...)
			case c == '\'':
				b = append(b, "&#39;"...)
			case c == '\t':
				b = append(b, "&#x9;"...)
			case c == '\n':
				b = append(b, "&#xA;"...)
			case c == '\r':
				b = append(b, "&#xD;"...)
			case c < ' ':
				b = append(b, "\uFFFD"...)
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 || !inXMLRange(r) {
			b = append(b, "\uFFFD"...)
		} else {
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return b
}

// inXMLRange reports whether r is a character XML 1.0 allows (non-ASCII part).
func inXMLRange(r rune) bool {
	return r >= 0x80 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}

// flush writes the document.
func (w *svg) flush(out io.Writer) error {
	_, err := out.Write(w.b)
	return err
}

// textWidth estimates the width of s set in a sans-serif face of the given
// size, enough to keep labels apart.
func textWidth(s string, size float64) float64 {
	return 0.58 * size * float64(utf8.RuneCountInString(s))
}
