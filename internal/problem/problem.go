// Package problem is parley's one error type: a refusal with a kind, the place
// it concerns, and a message safe to show to the person who caused it.
//
// Every layer returns *problem.Error for anything a user did wrong; interface
// layers (the CLI now, the HTTP server later) are the only places that turn a
// Kind into an exit status or an HTTP status.
package problem

import (
	"errors"
	"fmt"
)

// Kind says what sort of refusal an error is, so that callers can decide
// without parsing messages.
type Kind string

// The kinds of refusal.
const (
	Invalid      Kind = "invalid"      // the input is malformed or fails validation
	NotFound     Kind = "not-found"    // the thing asked for does not exist
	Unauthorized Kind = "unauthorized" // the author's key is unknown or revoked
	// Unauthenticated: the caller did not say who they are, or the session
	// or token they gave is not (or no longer) valid.
	Unauthenticated Kind = "unauthenticated"
	Forbidden       Kind = "forbidden"    // the caller is known but their role does not allow it
	RateLimited     Kind = "rate-limited" // too many attempts: wait, then try again
	TooLarge        Kind = "too-large"    // the input exceeds a configured limit
	Conflict        Kind = "conflict"     // the request conflicts with the record's state
	Tampered        Kind = "tampered"     // a signature, hash or proof does not check
	Internal        Kind = "internal"     // a fault on our side, not the caller's
)

// Error is a refusal. Where names the place, such as "entry 12" or
// "line 7", so that a person can find what was wrong.
type Error struct {
	Kind    Kind
	Where   string
	Message string
	Err     error // the cause, if any
}

func (e *Error) Error() string {
	if e.Where == "" {
		return e.Message
	}
	return e.Where + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// New returns a refusal of the given kind at where.
func New(kind Kind, where, format string, args ...any) *Error {
	return &Error{Kind: kind, Where: where, Message: fmt.Sprintf(format, args...)}
}

// At returns err placed at where: if err is a refusal without a place it is
// copied with where set; if it has a place, where is prefixed to it; other
// errors are wrapped as Internal.
func At(where string, err error) error {
	if err == nil {
		return nil
	}
	var p *Error
	if errors.As(err, &p) {
		c := *p
		if c.Where == "" {
			c.Where = where
		} else {
			c.Where = where + ": " + c.Where
		}
		return &c
	}
	return &Error{Kind: Internal, Where: where, Message: err.Error(), Err: err}
}

// Rename returns err with its place respelled by name (a parameter as the
// CLI writes it, say); other errors are returned as they are.
func Rename(err error, name func(string) string) error {
	var p *Error
	if name == nil || !errors.As(err, &p) || p.Where == "" {
		return err
	}
	c := *p
	c.Where = name(p.Where)
	return &c
}

// KindOf returns the kind of err, Internal for errors that are not refusals.
func KindOf(err error) Kind {
	var p *Error
	if errors.As(err, &p) {
		return p.Kind
	}
	return Internal
}
