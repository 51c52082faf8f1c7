package vocab

import (
	"slices"
	"strings"

	"parley/internal/entry"
)

// ActionBody records something someone will do (a phone call, a report, a
// visit), its status, and what it waits on; later entries with the same id
// change its status. When everything it waits on is done, it is ready.
type ActionBody struct {
	ID   string `json:"id"`
	What string `json:"what,omitempty"`
	// Kind is call, visit, meeting, report, aid or other.
	Kind   string `json:"kind,omitempty"`
	Owner  string `json:"owner,omitempty"`
	Status string `json:"status"`
	// WaitsOn lists the actions, or messages (done when delivered), it waits on.
	WaitsOn []string `json:"waits_on,omitempty"`
	// Due is a date, a time, or "tbd" when the timing is not set.
	Due string `json:"due,omitempty"`
}

// ActionKinds are the kinds of action, for their coding.
var ActionKinds = []string{"call", "visit", "meeting", "report", "aid", "other"}

// ActionStatuses are where an action stands.
var ActionStatuses = []string{"planned", "pending", "blocked", "ready", "done", "cancelled"}

// Closed says whether an action status is final.
func Closed(status string) bool { return status == "done" || status == "cancelled" }

// ActionView is an action as it stands.
type ActionView struct {
	What    string   `json:"what"`
	Kind    string   `json:"kind"`
	Owner   string   `json:"owner"`
	Status  string   `json:"status"`
	WaitsOn []string `json:"waits_on,omitempty"`
	Due     string   `json:"due,omitempty"`
}

var actionType = entry.Type{
	Name: "action",
	Doc:  "something someone will do, its status, owner, due date and what it waits on",
	New:  func() entry.Body { return new(ActionBody) },
}

// Validate checks the id, kind, status and due date.
func (b *ActionBody) Validate() error {
	if err := checkID("id", b.ID); err != nil {
		return err
	}
	if err := optionalOneOf("kind", b.Kind, ActionKinds); err != nil {
		return err
	}
	if err := oneOf("status", b.Status, ActionStatuses); err != nil {
		return err
	}
	if err := noEmpty("waits_on", b.WaitsOn); err != nil {
		return err
	}
	return checkDue("due", b.Due)
}

// Fold records the action, refusing a wait that would close a cycle.
func (b *ActionBody) Fold(f *Fold) error {
	key := Action + "/" + b.ID
	var v ActionView
	old, exists := f.Dir.Entity(key)
	if exists {
		if err := ViewOf(old, &v); err != nil {
			return err
		}
	} else {
		if b.What == "" || b.Owner == "" {
			return invalid("action %q is new, so \"what\" and \"owner\" are required", b.ID)
		}
		v.Kind = "other"
	}
	if b.What != "" {
		v.What = b.What
	}
	if b.Kind != "" {
		v.Kind = b.Kind
	}
	if b.Due != "" {
		v.Due = b.Due
	}
	v.Status = b.Status
	if b.Owner != "" {
		o, err := f.Resolve("owner", b.Owner, Actor, Party)
		if err != nil {
			return err
		}
		v.Owner = o.Key()
	}
	if b.WaitsOn != nil {
		ws, err := f.ResolveAll("waits_on", b.WaitsOn, Action, Message)
		if err != nil {
			return err
		}
		v.WaitsOn = keys(ws)
		if slices.Contains(v.WaitsOn, key) {
			return invalid("action %q cannot wait on itself", b.ID)
		}
		if cycle := findCycle(f.Dir, key, v.WaitsOn); cycle != nil {
			return invalid("\"waits_on\" would make a cycle: %s", strings.Join(cycle, " → "))
		}
	}
	e, _, err := f.Declare(Action, b.ID, v.What, nil, v)
	if err != nil {
		return err
	}
	e.Waits = v.WaitsOn
	if err := f.Commit(e); err != nil {
		return err
	}
	if err := f.Fact(FactAction, key, v.Owner, v.Status, true, v); err != nil {
		return err
	}
	owner, _ := f.Dir.Entity(v.Owner)
	due := ""
	switch v.Due {
	case "":
	case TBD:
		due = ", timing not set"
	default:
		due = ", due " + v.Due
	}
	waits := ""
	if len(v.WaitsOn) > 0 {
		waits = ", waits on " + strings.Join(v.WaitsOn, ", ")
	}
	f.Story("%s: %s (%s, %s%s%s)", b.ID, v.What, owner.Name, v.Status, waits, due)
	if exists {
		return nil
	}
	c := map[string]Coding{
		"call":    {Event: "CONSULT", Mode: []string{"phone"}, Context: []string{"diplomatic"}, CAMEO: "041"},
		"visit":   {Event: "CONSULT", Mode: []string{"visit"}, Context: []string{"diplomatic"}, CAMEO: "042"},
		"meeting": {Event: "CONSULT", Context: []string{"diplomatic"}, CAMEO: "046"},
		"aid":     {Event: "AID", Context: []string{"military"}, CAMEO: "072"},
	}[v.Kind]
	return f.Event(c, owner, Entity{}, v.What)
}

// findCycle returns the cycle that making action wait on waits would close,
// from action back to itself, or nil.
func findCycle(dir Directory, action string, waits []string) []string {
	seen := map[string]bool{}
	var path []string
	var walk func(k string) bool
	walk = func(k string) bool {
		if k == action {
			return true
		}
		if seen[k] {
			return false
		}
		seen[k] = true
		e, ok := dir.Entity(k)
		if !ok {
			return false
		}
		for _, w := range e.Waits {
			path = append(path, w)
			if walk(w) {
				return true
			}
			path = path[:len(path)-1]
		}
		return false
	}
	for _, w := range waits {
		path = []string{action, w}
		if walk(w) {
			return path
		}
	}
	return nil
}
