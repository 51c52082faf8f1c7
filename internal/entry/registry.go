package entry

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/go-json-experiment/json"

	"parley/internal/problem"
)

// A Body is the decoded content of one type of entry.
type Body interface {
	// Validate checks the body on its own, without the rest of the record.
	Validate() error
}

// A Type is one kind of entry: its name, what it is for, and how to decode
// and check its body. Adding a type to parley means registering one Type.
type Type struct {
	Name string
	Doc  string
	// New returns a pointer to an empty body to decode into.
	New func() Body
	// OperatorOnly types may be signed by the record's operator alone.
	OperatorOnly bool
}

// Registry holds the types a record accepts.
type Registry struct {
	types map[string]Type
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{types: map[string]Type{}} }

// Register adds t; registering a name twice is a programming error.
func (r *Registry) Register(t Type) error {
	if t.Name == "" || t.New == nil {
		return fmt.Errorf("register type %q: name and New are required", t.Name)
	}
	if _, dup := r.types[t.Name]; dup {
		return fmt.Errorf("register type %q: already registered", t.Name)
	}
	r.types[t.Name] = t
	return nil
}

// Types returns the registered types, sorted by name.
func (r *Registry) Types() []Type {
	ts := make([]Type, 0, len(r.types))
	for _, t := range r.types {
		ts = append(ts, t)
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i].Name < ts[j].Name })
	return ts
}

// Lookup returns the type called name.
func (r *Registry) Lookup(name string) (Type, bool) {
	t, ok := r.types[name]
	return t, ok
}

// Decode decodes and validates e's body by its type's rules.
func (r *Registry) Decode(e *Entry) (Body, error) {
	t, ok := r.types[e.Type]
	if !ok {
		names := make([]string, 0, len(r.types))
		for n := range r.types {
			names = append(names, n)
		}
		sort.Strings(names)
		return nil, problem.New(problem.Invalid, "", "unknown entry type %q (known: %s)", e.Type, strings.Join(names, ", "))
	}
	b := t.New()
	if err := json.Unmarshal(e.Body, b, json.RejectUnknownMembers(true)); err != nil {
		return nil, problem.New(problem.Invalid, "", "%s body: %s", e.Type, DescribeJSON(err))
	}
	if err := b.Validate(); err != nil {
		return nil, problem.At(e.Type+" body", invalid(err))
	}
	return b, nil
}

// invalid makes a plain validation error a refusal of kind Invalid.
func invalid(err error) error {
	if pe := (*problem.Error)(nil); errors.As(err, &pe) {
		return err
	}
	return &problem.Error{Kind: problem.Invalid, Message: err.Error(), Err: err}
}

// A Referrer is a body that names other entries by index: a note about an
// entry, a position resting on a statement. The log refuses a body that names
// an entry not already on the record, so every reference points backwards.
type Referrer interface {
	Refs() []int64
}
