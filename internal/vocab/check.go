package vocab

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"parley/internal/problem"
)

// invalid is a body that fails its own rules.
func invalid(format string, args ...any) error {
	return problem.New(problem.Invalid, "", format, args...)
}

// forbidden is a body its author may not put on the record.
func forbidden(format string, args ...any) error {
	return problem.New(problem.Forbidden, "", format, args...)
}

// required refuses an empty string field.
func required(field, v string) error {
	if strings.TrimSpace(v) == "" {
		return invalid("%q is required", field)
	}
	return nil
}

// checkID accepts ids people can type and read: lower-case letters, digits
// and "-", "_", "." inside, at most 64 characters.
func checkID(field, id string) error {
	if id == "" {
		return invalid("%q is required: a short id such as \"putin\" or \"ceasefire-30-day\"", field)
	}
	if len(id) > 64 {
		return invalid("%q is %d characters long; at most 64", field, len(id))
	}
	for i, r := range id {
		ok := r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || (i > 0 && strings.ContainsRune("-_.", r))
		if !ok {
			return invalid("%q is %q: an id is lower-case letters, digits, and - _ . after the first character", field, id)
		}
	}
	return nil
}

// oneOf refuses a value outside allowed, listing them.
func oneOf(field, v string, allowed []string) error {
	if !slices.Contains(allowed, v) {
		if v == "" {
			return invalid("%q is required: one of %s", field, strings.Join(allowed, ", "))
		}
		return invalid("%q is %q, which is not allowed: one of %s", field, v, strings.Join(allowed, ", "))
	}
	return nil
}

// optionalOneOf is oneOf for a field that may be left out.
func optionalOneOf(field, v string, allowed []string) error {
	if v == "" {
		return nil
	}
	return oneOf(field, v, allowed)
}

// Confidences say how sure the record is of a fact: "reportedly" is
// reported, not confirmed.
var Confidences = []string{"confirmed", "reported", "alleged"}

// confidence defaults an unset confidence to confirmed.
func confidence(c string) string {
	if c == "" {
		return "confirmed"
	}
	return c
}

// noEmpty refuses empty items in a list field.
func noEmpty(field string, list []string) error {
	for i, s := range list {
		if strings.TrimSpace(s) == "" {
			return invalid("%q item %d is empty", field, i)
		}
	}
	return nil
}

// TBD is the due date of something whose timing is not set.
const TBD = "tbd"

// checkDue accepts a date (2025-03-20), a time (RFC 3339) or "tbd".
func checkDue(field, due string) error {
	if due == "" || due == TBD {
		return nil
	}
	if _, err := ParseTime(due); err != nil {
		return invalid("%q is %q: a date (2025-03-20), a time (2025-03-20T15:00:00Z) or %q", field, due, TBD)
	}
	return nil
}

// ParseTime reads a date or an RFC 3339 time; a date means its start, UTC.
func ParseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a date (2025-03-20) or an RFC 3339 time", s)
	}
	return t, nil
}

func itoa(i int) string { return fmt.Sprint(i) }
