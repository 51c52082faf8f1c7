package account

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/age"

	"parley/internal/problem"
	"parley/internal/store"
	"parley/internal/store/sqlite"
)

// clock is a settable Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// start is the clock's time when a test begins.
var start = time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)

// newService returns a service over a new SQLite file, on a clock the test
// moves, with cheap password hashing unless opts say otherwise.
func newService(t *testing.T, opts Options) (*Service, *sqlite.Store, *clock) {
	t.Helper()
	st := newStore(t)
	c := &clock{t: start}
	opts.Now = c.now
	if opts.Argon == (ArgonParams{}) {
		opts.Argon = FastArgon
	}
	return New(st, opts), st, c
}

// newStore opens a new SQLite store in a temporary directory.
func newStore(t *testing.T) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return st
}

// The password of the test accounts.
const pw = "correct horse battery"

func mustCreate(t *testing.T, s *Service, name string, role Role, party string) store.Account {
	t.Helper()
	a, err := s.Create(t.Context(), name, pw, role, party)
	if err != nil {
		t.Fatalf("Create(%q): %v", name, err)
	}
	return a
}

// checkProblem fails unless err is a refusal of kind whose message contains
// each of want.
func checkProblem(t *testing.T, what string, err error, kind problem.Kind, want ...string) {
	t.Helper()
	var p *problem.Error
	if !errors.As(err, &p) {
		t.Errorf("%s: error = %v, want a %s problem", what, err, kind)
		return
	}
	if p.Kind != kind {
		t.Errorf("%s: %s problem %q, want %s", what, p.Kind, p.Error(), kind)
	}
	for _, w := range want {
		if !strings.Contains(p.Error(), w) {
			t.Errorf("%s: message %q does not say %q", what, p.Error(), w)
		}
	}
}

func TestParseRole(t *testing.T) {
	for _, r := range Roles {
		if got, err := ParseRole(string(r)); err != nil || got != r {
			t.Errorf("ParseRole(%q) = %q, %v", r, got, err)
		}
	}
	for _, s := range []string{"", "Admin", "owner", " reader"} {
		_, err := ParseRole(s)
		checkProblem(t, "ParseRole("+s+")", err, problem.Invalid, "admin, editor, monitor, reader")
	}
}

func TestCreateGetList(t *testing.T) {
	s, st, _ := newService(t, Options{})
	ctx := t.Context()
	mustCreate(t, s, "zoe", Reader, "")
	a := mustCreate(t, s, "alice", Editor, "ukraine")
	want := store.Account{Name: "alice", Role: "editor", Party: "ukraine", Created: start}
	if a != want {
		t.Errorf("Create = %+v, want %+v", a, want)
	}
	if got, err := s.Get(ctx, "alice"); err != nil || !got.Created.Equal(want.Created) || got.Name != want.Name || got.Party != want.Party {
		t.Errorf("Get(alice) = %+v, %v; want %+v", got, err, want)
	}
	_, hash, err := st.Account(ctx, "alice")
	if err != nil || !strings.HasPrefix(hash, "$argon2id$v=19$m=64,t=1,p=1$") || strings.Contains(hash, pw) {
		t.Errorf("stored password = %q, %v; want an argon2id hash with the configured parameters", hash, err)
	}
	list, err := s.List(ctx)
	if err != nil || len(list) != 2 || list[0].Name != "alice" || list[1].Name != "zoe" {
		t.Errorf("List = %+v, %v; want alice, zoe", list, err)
	}

	_, err = s.Create(ctx, "alice", "another password", Admin, "")
	checkProblem(t, "Create(alice) again", err, problem.Conflict, `"alice" already exists`)
	_, err = s.Get(ctx, "bob")
	checkProblem(t, "Get(bob)", err, problem.NotFound, `no account called "bob"`)
}

func TestCreateValidation(t *testing.T) {
	s, _, _ := newService(t, Options{})
	cases := []struct {
		name, account, password string
		role                    Role
		party                   string
		where                   string // "" for a valid account
		says                    []string
	}{
		{"shortest", "a", pw, Reader, "", "", nil},
		{"longest", strings.Repeat("a", 64), pw, Reader, "", "", nil},
		{"punctuation", "j.doe_2-x", pw, Editor, "russia", "", nil},
		{"digit first", "7seas", pw, Monitor, "", "", nil},
		{"password of 12 characters", "twelve", "123456789012", Reader, "", "", nil},
		{"password of 12 letters in 24 bytes", "cyrillic", "абвгдеёжзийк", Reader, "", "", nil},
		{"password of 1024", "long", strings.Repeat("x", 1024), Reader, "", "", nil},

		{"no name", "", pw, Reader, "", "name", []string{"required", "lower-case"}},
		{"upper case", "Alice", pw, Reader, "", "name", []string{"upper-case", "lower-case", `"alice"`}},
		{"too long", strings.Repeat("a", 65), pw, Reader, "", "name", []string{"65 characters", "at most 64"}},
		{"starts with a dot", ".alice", pw, Reader, "", "name", []string{`'.'`, "character 1", "after the first character"}},
		{"starts with a dash", "-alice", pw, Reader, "", "name", []string{`'-'`}},
		{"space", "al ice", pw, Reader, "", "name", []string{`' '`, "character 3"}},
		{"accent", "zoé", pw, Reader, "", "name", []string{`'é'`, "character 3"}},
		{"at sign", "a@b", pw, Reader, "", "name", []string{`'@'`}},
		{"short password", "bob", "eleven char", Reader, "", "password", []string{"11 characters long", "at least 12"}},
		{"empty password", "bob", "", Reader, "", "password", []string{"0 characters", "at least 12"}},
		{"long password", "bob", strings.Repeat("x", 1025), Reader, "", "password", []string{"1025", "at most 1024"}},
		{"unknown role", "bob", pw, "owner", "", "role", []string{`"owner"`, "admin, editor, monitor, reader"}},
		{"no role", "bob", pw, "", "", "role", []string{"required"}},
		{"bad party", "bob", pw, Editor, "Ukraine", "party", []string{"upper-case", `"ukraine"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := s.Create(t.Context(), c.account, c.password, c.role, c.party)
			if c.where == "" {
				if err != nil {
					t.Fatalf("Create(%q): %v", c.account, err)
				}
				return
			}
			checkProblem(t, "Create", err, problem.Invalid, c.says...)
			if p := (*problem.Error)(nil); errors.As(err, &p) && p.Where != c.where {
				t.Errorf("Create: problem at %q, want %q", p.Where, c.where)
			}
			if c.password != "" && len(c.password) > 3 && err != nil && strings.Contains(err.Error(), c.password) {
				t.Errorf("Create: the error quotes the password: %v", err)
			}
			if _, err := s.Get(t.Context(), c.account); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("Get(%q) after a refused Create: %v, want not found", c.account, err)
			}
		})
	}
}

func TestSetRole(t *testing.T) {
	s, _, _ := newService(t, Options{})
	ctx := t.Context()
	mustCreate(t, s, "alice", Reader, "")
	rec := mustIdentity(t).Recipient().String()
	if err := s.SetRecipient(ctx, "alice", rec); err != nil {
		t.Fatalf("SetRecipient: %v", err)
	}
	a, err := s.SetRole(ctx, "alice", Editor, "ukraine")
	if err != nil {
		t.Fatalf("SetRole: %v", err)
	}
	if a.Role != "editor" || a.Party != "ukraine" || a.Recipient != rec || !a.Created.Equal(start) {
		t.Errorf("SetRole = %+v; want editor for ukraine, recipient and creation kept", a)
	}
	if got, _ := s.Get(ctx, "alice"); got.Role != "editor" || got.Party != "ukraine" || got.Recipient != rec {
		t.Errorf("Get after SetRole = %+v", got)
	}
	_, err = s.SetRole(ctx, "alice", "chief", "")
	checkProblem(t, "SetRole(chief)", err, problem.Invalid, "admin, editor, monitor, reader")
	_, err = s.SetRole(ctx, "alice", Editor, "Not An Id")
	checkProblem(t, "SetRole(bad party)", err, problem.Invalid, "party")
	_, err = s.SetRole(ctx, "nobody", Admin, "")
	checkProblem(t, "SetRole(nobody)", err, problem.NotFound, `"nobody"`)
}

func mustIdentity(t *testing.T) *age.X25519Identity {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatalf("GenerateX25519Identity: %v", err)
	}
	return id
}

func TestSetRecipient(t *testing.T) {
	s, _, _ := newService(t, Options{})
	ctx := t.Context()
	mustCreate(t, s, "alice", Monitor, "")
	id := mustIdentity(t)
	rec := id.Recipient().String()
	if err := s.SetRecipient(ctx, "alice", rec); err != nil {
		t.Fatalf("SetRecipient(%s): %v", rec, err)
	}
	if a, _ := s.Get(ctx, "alice"); a.Recipient != rec {
		t.Errorf("Recipient = %q, want %q", a.Recipient, rec)
	}
	bad := []struct {
		name, recipient, says string
	}{
		{"empty", "", `starts with "age1"`},
		{"garbage", "age1notarecipient", `starts with "age1"`},
		{"ssh key", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl", `starts with "age1"`},
		{"truncated", rec[:len(rec)-1], `starts with "age1"`},
		{"secret key", id.String(), "secret key"},
	}
	for _, b := range bad {
		t.Run(b.name, func(t *testing.T) {
			err := s.SetRecipient(ctx, "alice", b.recipient)
			checkProblem(t, "SetRecipient", err, problem.Invalid, b.says)
			if b.recipient != "" && strings.Contains(err.Error(), b.recipient) {
				t.Errorf("the error quotes the input: %v", err)
			}
			if a, _ := s.Get(ctx, "alice"); a.Recipient != rec {
				t.Errorf("Recipient after a refused change = %q, want %q", a.Recipient, rec)
			}
		})
	}
	err := s.SetRecipient(ctx, "nobody", rec)
	checkProblem(t, "SetRecipient(nobody)", err, problem.NotFound, `"nobody"`)
}

func TestSignInAndSession(t *testing.T) {
	s, st, c := newService(t, Options{})
	ctx := t.Context()
	mustCreate(t, s, "alice", Editor, "ukraine")
	cookie, sess, a, err := s.SignIn(ctx, "alice", pw, "192.0.2.7:51234")
	if err != nil {
		t.Fatalf("SignIn: %v", err)
	}
	if raw, err := base64.RawURLEncoding.DecodeString(cookie); err != nil || len(raw) != 32 {
		t.Errorf("cookie %q is not 32 bytes of unpadded base64url", cookie)
	}
	if raw, err := base64.RawURLEncoding.DecodeString(sess.CSRF); err != nil || len(raw) != 32 || sess.CSRF == cookie {
		t.Errorf("CSRF token %q is not 32 fresh bytes of unpadded base64url", sess.CSRF)
	}
	if sess.Hash != sha256.Sum256([]byte(cookie)) || sess.Account != "alice" || a.Name != "alice" || a.Party != "ukraine" {
		t.Errorf("SignIn = session %+v, account %+v", sess, a)
	}
	if !sess.Created.Equal(start) || !sess.Expires.Equal(start.Add(12*time.Hour)) {
		t.Errorf("session from %v to %v, want %v for 12h", sess.Created, sess.Expires, start)
	}
	stored, err := st.Session(ctx, sess.Hash)
	if err != nil || stored.CSRF != sess.CSRF {
		t.Errorf("stored session = %+v, %v", stored, err)
	}

	steps := []struct {
		name    string
		advance time.Duration
		cookie  string
		ok      bool
		says    string
	}{
		{"fresh", 0, cookie, true, ""},
		{"an hour on", time.Hour, cookie, true, ""},
		{"just before expiry", 11*time.Hour - time.Nanosecond, cookie, true, ""},
		{"other cookie", 0, cookie + "x", false, "ended"},
		{"no cookie", 0, "", false, "not signed in"},
		{"at expiry", time.Nanosecond, cookie, false, "expired"},
		{"after expiry", time.Hour, cookie, false, "ended"}, // the expired session was forgotten
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			c.advance(step.advance)
			got, ga, err := s.Session(ctx, step.cookie)
			if !step.ok {
				checkProblem(t, "Session", err, problem.Unauthenticated, step.says)
				return
			}
			if err != nil || got.Hash != sess.Hash || got.CSRF != sess.CSRF || ga.Name != "alice" {
				t.Errorf("Session = %+v, %+v, %v", got, ga, err)
			}
		})
	}
	if _, err := st.Session(ctx, sess.Hash); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("expired session still stored: %v", err)
	}

	t.Run("sign out", func(t *testing.T) {
		cookie, _, _, err := s.SignIn(ctx, "alice", pw, "192.0.2.7:51234")
		if err != nil {
			t.Fatalf("SignIn: %v", err)
		}
		other, _, _, err := s.SignIn(ctx, "alice", pw, "198.51.100.1:443")
		if err != nil {
			t.Fatalf("SignIn: %v", err)
		}
		if err := s.SignOut(ctx, cookie); err != nil {
			t.Fatalf("SignOut: %v", err)
		}
		_, _, err = s.Session(ctx, cookie)
		checkProblem(t, "Session after SignOut", err, problem.Unauthenticated)
		if _, _, err := s.Session(ctx, other); err != nil {
			t.Errorf("the other session ended too: %v", err)
		}
		if err := s.SignOut(ctx, cookie); err != nil {
			t.Errorf("SignOut again: %v", err)
		}
	})
}

func TestSignInRefused(t *testing.T) {
	s, _, _ := newService(t, Options{MaxFailures: 100})
	ctx := t.Context()
	mustCreate(t, s, "alice", Reader, "")
	mustCreate(t, s, "bob", Reader, "")
	const wrong = "wrong account name or password"
	cases := []struct {
		name, account, password string
		says                    string
	}{
		{"wrong password", "alice", pw + "!", wrong},
		{"empty password", "alice", "", wrong},
		{"password of another case", "alice", strings.ToUpper(pw), wrong},
		{"unknown name", "carol", pw, wrong},
		{"name of another case", "Alice", pw, wrong},
		{"empty name", "", pw, wrong},
		{"huge name", strings.Repeat("a", 10000), pw, wrong},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, _, err := s.SignIn(ctx, c.account, c.password, "192.0.2.1:1")
			checkProblem(t, "SignIn", err, problem.Unauthenticated, c.says)
			if err != nil && err.Error() != wrong {
				t.Errorf("SignIn: %q tells more than %q", err, wrong)
			}
		})
	}

	t.Run("disabled", func(t *testing.T) {
		cookie, _, _, err := s.SignIn(ctx, "bob", pw, "")
		if err != nil {
			t.Fatalf("SignIn(bob): %v", err)
		}
		if err := s.SetDisabled(ctx, "bob", true); err != nil {
			t.Fatalf("SetDisabled: %v", err)
		}
		_, _, err = s.Session(ctx, cookie)
		checkProblem(t, "Session after disabling", err, problem.Unauthenticated)
		_, _, _, err = s.SignIn(ctx, "bob", pw, "")
		checkProblem(t, "SignIn while disabled", err, problem.Unauthenticated, "disabled")
		_, _, _, err = s.SignIn(ctx, "bob", "not the password", "")
		checkProblem(t, "SignIn while disabled, wrong password", err, problem.Unauthenticated, wrong)
		if err := s.SetDisabled(ctx, "bob", false); err != nil {
			t.Fatalf("SetDisabled(false): %v", err)
		}
		if _, _, _, err := s.SignIn(ctx, "bob", pw, ""); err != nil {
			t.Errorf("SignIn after enabling: %v", err)
		}
		checkProblem(t, "SetDisabled(nobody)", s.SetDisabled(ctx, "nobody", true), problem.NotFound)
	})

	t.Run("new password", func(t *testing.T) {
		cookie, _, _, err := s.SignIn(ctx, "alice", pw, "")
		if err != nil {
			t.Fatalf("SignIn: %v", err)
		}
		checkProblem(t, "SetPassword(short)", s.SetPassword(ctx, "alice", "short"), problem.Invalid, "at least 12")
		if _, _, err := s.Session(ctx, cookie); err != nil {
			t.Errorf("a refused SetPassword signed alice out: %v", err)
		}
		const next = "a whole new passphrase"
		if err := s.SetPassword(ctx, "alice", next); err != nil {
			t.Fatalf("SetPassword: %v", err)
		}
		_, _, err = s.Session(ctx, cookie)
		checkProblem(t, "Session after SetPassword", err, problem.Unauthenticated)
		_, _, _, err = s.SignIn(ctx, "alice", pw, "")
		checkProblem(t, "SignIn with the old password", err, problem.Unauthenticated, wrong)
		if _, _, _, err := s.SignIn(ctx, "alice", next, ""); err != nil {
			t.Errorf("SignIn with the new password: %v", err)
		}
		checkProblem(t, "SetPassword(nobody)", s.SetPassword(ctx, "nobody", next), problem.NotFound)
	})
}

// throttled returns the wait of a RateLimited refusal, failing the test if
// err is not one.
func throttled(t *testing.T, what string, err error) time.Duration {
	t.Helper()
	checkProblem(t, what, err, problem.RateLimited, "too many failed sign-ins")
	var th *Throttled
	if !errors.As(err, &th) {
		t.Fatalf("%s: %v has no *Throttled", what, err)
	}
	return th.RetryAfter
}

func TestRateLimit(t *testing.T) {
	type attempt struct {
		advance        time.Duration
		name, password string
		remote         string
		want           problem.Kind  // "" for success
		retryAfter     time.Duration // for RateLimited
	}
	const bad = "not the password"
	fail := func(name, remote string) attempt {
		return attempt{time.Minute, name, bad, remote, problem.Unauthenticated, 0}
	}
	ok := func(name, remote string) attempt { return attempt{0, name, pw, remote, "", 0} }
	limited := func(name, remote string, after time.Duration) attempt {
		return attempt{0, name, pw, remote, problem.RateLimited, after}
	}
	// Each case starts with accounts alice, bob and carol, and failures one
	// minute apart: five fill the limit, and the first of them leaves the
	// 15-minute window 11 minutes after the fifth.
	cases := []struct {
		name     string
		attempts []attempt
	}{
		{"per name", []attempt{
			fail("alice", "192.0.2.1:1"), fail("alice", "192.0.2.2:1"), fail("alice", "192.0.2.3:1"),
			fail("alice", "192.0.2.4:1"), fail("alice", "192.0.2.5:1"),
			limited("alice", "192.0.2.6:1", 11*time.Minute), // the right password is not even checked
			ok("bob", "192.0.2.6:1"),
			{10 * time.Minute, "alice", pw, "192.0.2.7:1", problem.RateLimited, time.Minute},
			{time.Minute, "alice", bad, "192.0.2.7:1", problem.Unauthenticated, 0}, // a slot came free
			limited("alice", "192.0.2.8:1", time.Minute),
			{time.Minute, "alice", pw, "192.0.2.7:1", "", 0},
		}},
		{"unknown name", []attempt{
			fail("mallory", "192.0.2.1:1"), fail("mallory", "192.0.2.2:1"), fail("mallory", "192.0.2.3:1"),
			fail("mallory", "192.0.2.4:1"), fail("mallory", "192.0.2.5:1"),
			{0, "mallory", bad, "192.0.2.6:1", problem.RateLimited, 11 * time.Minute},
		}},
		{"per address, any port", []attempt{
			fail("alice", "192.0.2.1:1000"), fail("bob", "192.0.2.1:1001"), fail("carol", "192.0.2.1:1002"),
			fail("dave", "192.0.2.1:1003"), fail("erin", "192.0.2.1"),
			limited("carol", "192.0.2.1:2000", 11*time.Minute),
			ok("carol", "192.0.2.2:2000"),
			ok("alice", "[2001:db8::1]:443"),
		}},
		{"per IPv6 network", []attempt{
			fail("alice", "[2001:db8::1]:443"), fail("bob", "[2001:db8::2]:443"), fail("carol", "[2001:db8::3]:443"),
			fail("dave", "[2001:db8::4]:443"), fail("erin", "[2001:db8::5]:443"),
			limited("carol", "[2001:db8::ffff:1]:443", 11*time.Minute),
			ok("carol", "[2001:db8:0:1::1]:443"),
		}},
		{"mapped IPv4 is IPv4", []attempt{
			fail("alice", "[::ffff:192.0.2.9]:1"), fail("bob", "192.0.2.9:2"), fail("carol", "192.0.2.9:3"),
			fail("dave", "192.0.2.9:4"), fail("erin", "192.0.2.9:5"),
			limited("carol", "[::ffff:192.0.2.9]:6", 11*time.Minute),
		}},
		{"no address", []attempt{
			fail("dave", ""), fail("erin", ""), fail("frank", ""), fail("gina", ""), fail("hugo", ""),
			ok("alice", ""),
		}},
		{"success clears the name", []attempt{
			fail("alice", "192.0.2.1:1"), fail("alice", "192.0.2.2:1"), fail("alice", "192.0.2.3:1"),
			fail("alice", "192.0.2.4:1"),
			ok("alice", "192.0.2.5:1"),
			fail("alice", "192.0.2.6:1"), fail("alice", "192.0.2.7:1"), fail("alice", "192.0.2.8:1"),
			fail("alice", "192.0.2.9:1"), fail("alice", "192.0.2.10:1"),
			limited("alice", "192.0.2.11:1", 11*time.Minute),
		}},
		{"success does not clear the address", []attempt{
			fail("dave", "192.0.2.1:1"), fail("erin", "192.0.2.1:1"), fail("frank", "192.0.2.1:1"),
			fail("gina", "192.0.2.1:1"),
			ok("alice", "192.0.2.1:1"), // not a failure, but not a pardon for the others
			fail("hugo", "192.0.2.1:1"),
			limited("bob", "192.0.2.1:1", 11*time.Minute),
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, _, clk := newService(t, Options{})
			for _, name := range []string{"alice", "bob", "carol"} {
				mustCreate(t, s, name, Reader, "")
			}
			for i, a := range c.attempts {
				clk.advance(a.advance)
				_, _, _, err := s.SignIn(t.Context(), a.name, a.password, a.remote)
				what := fmt.Sprintf("attempt %d (%s from %q)", i+1, a.name, a.remote)
				switch a.want {
				case "":
					if err != nil {
						t.Errorf("%s: %v", what, err)
					}
				case problem.RateLimited:
					if got := throttled(t, what, err); got != a.retryAfter {
						t.Errorf("%s: retry after %v, want %v", what, got, a.retryAfter)
					}
				default:
					checkProblem(t, what, err, a.want)
				}
			}
		})
	}
}

func TestRateLimitOptions(t *testing.T) {
	s, _, _ := newService(t, Options{MaxFailures: 2, Window: time.Hour})
	mustCreate(t, s, "alice", Reader, "")
	for range 2 {
		_, _, _, err := s.SignIn(t.Context(), "alice", "not the password", "")
		checkProblem(t, "SignIn", err, problem.Unauthenticated)
	}
	_, _, _, err := s.SignIn(t.Context(), "alice", pw, "")
	if got := throttled(t, "third SignIn", err); got != time.Hour {
		t.Errorf("retry after %v, want 1h", got)
	}
}

// TestRateLimitConcurrent checks that attempts at once cannot slip past the
// limit: each counts before its password is checked.
func TestRateLimitConcurrent(t *testing.T) {
	s, _, _ := newService(t, Options{})
	mustCreate(t, s, "alice", Reader, "")
	const attempts = 40
	kinds := make(chan problem.Kind, attempts)
	var wg sync.WaitGroup
	for i := range attempts {
		wg.Go(func() {
			_, _, _, err := s.SignIn(t.Context(), "alice", "not the password", fmt.Sprintf("192.0.2.%d:1", i%10))
			kinds <- problem.KindOf(err)
		})
	}
	wg.Wait()
	close(kinds)
	count := map[problem.Kind]int{}
	for k := range kinds {
		count[k]++
	}
	if count[problem.Unauthenticated] != 5 || count[problem.RateLimited] != attempts-5 {
		t.Errorf("outcomes = %v, want 5 unauthenticated and %d rate-limited", count, attempts-5)
	}
}

func TestTokens(t *testing.T) {
	s, st, c := newService(t, Options{})
	ctx := t.Context()
	mustCreate(t, s, "alice", Editor, "ukraine")
	mustCreate(t, s, "bob", Monitor, "")

	secret, tok, err := s.NewToken(ctx, "alice", "nightly export")
	if err != nil {
		t.Fatalf("NewToken: %v", err)
	}
	body, found := strings.CutPrefix(secret, "pt_")
	if raw, err := base64.RawURLEncoding.DecodeString(body); !found || err != nil || len(raw) != 32 {
		t.Errorf("secret %q is not pt_ and 32 bytes of unpadded base64url", secret)
	}
	h := sha256.Sum256([]byte(secret))
	want := store.Token{Hash: h, ID: hex.EncodeToString(h[:])[:8], Account: "alice", Label: "nightly export", Created: start}
	if tok != want {
		t.Errorf("NewToken = %+v, want %+v", tok, want)
	}
	if stored, err := st.Token(ctx, h); err != nil || stored.ID != want.ID {
		t.Errorf("stored token = %+v, %v", stored, err)
	}
	c.advance(time.Minute)
	secret2, tok2, err := s.NewToken(ctx, "alice", "ci — деплой ✓")
	if err != nil {
		t.Fatalf("NewToken: %v", err)
	}
	bobSecret, bobTok, err := s.NewToken(ctx, "bob", "monitor feed")
	if err != nil {
		t.Fatalf("NewToken(bob): %v", err)
	}
	if secret2 == secret || tok2.ID == tok.ID {
		t.Errorf("two tokens share a secret or id: %s, %s", tok.ID, tok2.ID)
	}

	t.Run("look up", func(t *testing.T) {
		for _, c := range []struct {
			secret, id, account string
		}{{secret, tok.ID, "alice"}, {secret2, tok2.ID, "alice"}, {bobSecret, bobTok.ID, "bob"}} {
			got, a, err := s.ByToken(ctx, c.secret)
			if err != nil || got.ID != c.id || a.Name != c.account {
				t.Errorf("ByToken(%s) = %+v, %s, %v; want %s of %s", c.id, got, a.Name, err, c.id, c.account)
			}
		}
		unknown := []struct{ name, secret, says string }{
			{"unknown", "pt_" + strings.Repeat("A", 43), "unknown or revoked"},
			{"no prefix", strings.TrimPrefix(secret, "pt_"), `start with "pt_"`},
			{"empty", "", `start with "pt_"`},
			{"a cookie", base64.RawURLEncoding.EncodeToString(make([]byte, 32)), `start with "pt_"`},
		}
		for _, u := range unknown {
			_, _, err := s.ByToken(ctx, u.secret)
			checkProblem(t, "ByToken("+u.name+")", err, problem.Unauthenticated, u.says)
		}
	})

	t.Run("list", func(t *testing.T) {
		list, err := s.Tokens(ctx, "alice")
		if err != nil || len(list) != 2 || list[0].ID != tok.ID || list[1].ID != tok2.ID {
			t.Errorf("Tokens(alice) = %+v, %v; want %s then %s", list, err, tok.ID, tok2.ID)
		}
		mustCreate(t, s, "carol", Reader, "")
		if list, err := s.Tokens(ctx, "carol"); err != nil || list == nil || len(list) != 0 {
			t.Errorf("Tokens(carol) = %#v, %v; want an empty list", list, err)
		}
		_, err = s.Tokens(ctx, "nobody")
		checkProblem(t, "Tokens(nobody)", err, problem.NotFound, `"nobody"`)
	})

	t.Run("labels", func(t *testing.T) {
		cases := []struct {
			label string
			ok    bool
			says  string
		}{
			{"x", true, ""},
			{strings.Repeat("é", 100), true, ""},
			{"", false, "required"},
			{"   ", false, "required"},
			{strings.Repeat("x", 101), false, "at most 100"},
			{"two\nlines", false, "control character"},
			{"bad \xff utf-8", false, "UTF-8"},
		}
		for _, c := range cases {
			_, _, err := s.NewToken(ctx, "carol", c.label)
			if c.ok {
				if err != nil {
					t.Errorf("NewToken(%q): %v", c.label, err)
				}
				continue
			}
			checkProblem(t, "NewToken("+c.label+")", err, problem.Invalid, c.says)
		}
		_, _, err := s.NewToken(ctx, "nobody", "feed")
		checkProblem(t, "NewToken(nobody)", err, problem.NotFound, `"nobody"`)
	})

	t.Run("revoke", func(t *testing.T) {
		err := s.RevokeToken(ctx, "bob", tok.ID)
		checkProblem(t, "RevokeToken(bob, alice's token)", err, problem.NotFound, tok.ID)
		if _, _, err := s.ByToken(ctx, secret); err != nil {
			t.Errorf("alice's token stopped working when bob tried to revoke it: %v", err)
		}
		if err := s.RevokeToken(ctx, "alice", tok.ID); err != nil {
			t.Fatalf("RevokeToken(alice, %s): %v", tok.ID, err)
		}
		_, _, err = s.ByToken(ctx, secret)
		checkProblem(t, "ByToken after revoking", err, problem.Unauthenticated, "unknown or revoked")
		checkProblem(t, "RevokeToken again", s.RevokeToken(ctx, "alice", tok.ID), problem.NotFound)
		if list, err := s.Tokens(ctx, "alice"); err != nil || len(list) != 1 || list[0].ID != tok2.ID {
			t.Errorf("Tokens(alice) after revoking = %+v, %v; want only %s", list, err, tok2.ID)
		}
	})

	t.Run("disabled account", func(t *testing.T) {
		if err := s.SetDisabled(ctx, "bob", true); err != nil {
			t.Fatalf("SetDisabled: %v", err)
		}
		_, _, err := s.ByToken(ctx, bobSecret)
		checkProblem(t, "ByToken of a disabled account", err, problem.Unauthenticated, "disabled")
		if err := s.SetDisabled(ctx, "bob", false); err != nil {
			t.Fatalf("SetDisabled(false): %v", err)
		}
		if _, _, err := s.ByToken(ctx, bobSecret); err != nil {
			t.Errorf("ByToken after enabling: %v", err)
		}
	})
}
