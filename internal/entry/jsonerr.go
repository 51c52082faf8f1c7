package entry

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// DescribeJSON turns a JSON decoding error into words for the person who
// wrote the JSON: which field, what was wrong, what was expected — never the
// program's own type names.
func DescribeJSON(err error) string {
	var se *json.SemanticError
	if errors.As(err, &se) {
		at := string(se.JSONPointer)
		if errors.Is(se.Err, json.ErrUnknownName) {
			if at == "" {
				return "unknown field"
			}
			return fmt.Sprintf("unknown field %q at %s", se.JSONPointer.LastToken(), at)
		}
		if at == "" {
			at = "the top level"
		}
		want := expected(se.GoType)
		got := kindName(se.JSONKind)
		switch {
		case want != "" && got != "":
			msg := fmt.Sprintf("%s must be %s, not %s", at, want, got)
			if se.Err != nil && !strings.Contains(se.Err.Error(), "cannot unmarshal") {
				msg += " (" + trimJSONPrefix(se.Err.Error()) + ")"
			}
			return msg
		case want != "" && se.Err != nil:
			return fmt.Sprintf("%s must be %s: %s", at, want, trimJSONPrefix(se.Err.Error()))
		case se.Err != nil:
			return fmt.Sprintf("%s: %s", at, trimJSONPrefix(se.Err.Error()))
		}
		return fmt.Sprintf("%s: invalid value", at)
	}
	var syn *jsontext.SyntacticError
	if errors.As(err, &syn) {
		return fmt.Sprintf("malformed JSON at byte %d: %s", syn.ByteOffset, trimJSONPrefix(syn.Err.Error()))
	}
	return trimJSONPrefix(err.Error())
}

func trimJSONPrefix(s string) string {
	s = strings.TrimPrefix(s, "json: ")
	return strings.TrimPrefix(s, "jsontext: ")
}

var timeType = reflect.TypeFor[time.Time]()

// expected names, in JSON's words, what a Go type accepts.
func expected(t reflect.Type) string {
	if t == nil {
		return ""
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == timeType {
		return "an RFC 3339 time string"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return "a JSON value"
		}
		return "a list"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return ""
}

func kindName(k jsontext.Kind) string {
	switch k {
	case 'n':
		return "null"
	case 'f', 't':
		return "a boolean"
	case '"':
		return "a string"
	case '0':
		return "a number"
	case '{':
		return "an object"
	case '[':
		return "a list"
	}
	return ""
}
