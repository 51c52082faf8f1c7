package storetest

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"parley/internal/store"
)

// testAccounts checks accounts, then sessions and tokens of those accounts,
// on one store.
func testAccounts(t *testing.T, s store.Store) {
	steps := []struct {
		name string
		run  func(t *testing.T, s store.Store)
	}{
		{"Accounts", testAccountRecords},
		{"Sessions", testSessions},
		{"Tokens", testTokens},
	}
	for _, st := range steps {
		if !t.Run(st.name, func(t *testing.T) { st.run(t, s) }) {
			return // later steps rest on the accounts of earlier ones
		}
	}
}

// at is a time of the accounts tests, in whole microseconds (the finest
// precision every driver keeps), in a zone other than UTC to check that
// drivers keep the instant.
func at(minutes int) time.Time {
	return base.Add(time.Duration(minutes) * (time.Minute + 3*time.Microsecond)).In(time.FixedZone("UTC+2", 2*3600))
}

// The accounts of the tests, created in this order (not the order of names).
var (
	alice = store.Account{Name: "alice", Role: "editor", Party: "ukraine", Created: at(1)}
	carol = store.Account{Name: "carol", Role: "reader", Created: at(2), Disabled: true}
	bob   = store.Account{Name: "bob", Role: "monitor", Created: at(3),
		Recipient: "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"}
)

// hashOf is a stand-in password hash: the store only keeps it.
func hashOf(password string) string { return "$argon2id$v=19$m=64,t=1,p=1$" + password }

func equalAccount(a, b store.Account) bool {
	return a.Name == b.Name && a.Role == b.Role && a.Party == b.Party && a.Recipient == b.Recipient &&
		a.Created.Equal(b.Created) && a.Disabled == b.Disabled
}

func checkAccount(t *testing.T, s store.Store, want store.Account, wantHash string) {
	t.Helper()
	got, hash, err := s.Account(t.Context(), want.Name)
	if err != nil {
		t.Fatalf("Account(%q): %v", want.Name, err)
	}
	if !equalAccount(got, want) {
		t.Errorf("Account(%q) = %+v, want %+v", want.Name, got, want)
	}
	if hash != wantHash {
		t.Errorf("Account(%q) password hash = %q, want %q", want.Name, hash, wantHash)
	}
}

func testAccountRecords(t *testing.T, s store.Store) {
	ctx := t.Context()
	if got, err := s.ListAccounts(ctx); err != nil || len(got) != 0 {
		t.Fatalf("ListAccounts on an empty store = %v, %v; want none", got, err)
	}
	for _, a := range []store.Account{alice, carol, bob} {
		if err := s.CreateAccount(ctx, a, hashOf(a.Name)); err != nil {
			t.Fatalf("CreateAccount(%q): %v", a.Name, err)
		}
	}
	for _, a := range []store.Account{alice, bob, carol} {
		checkAccount(t, s, a, hashOf(a.Name))
	}

	t.Run("list by name", func(t *testing.T) {
		got, err := s.ListAccounts(ctx)
		if err != nil {
			t.Fatalf("ListAccounts: %v", err)
		}
		want := []store.Account{alice, bob, carol}
		if len(got) != len(want) {
			t.Fatalf("ListAccounts = %d accounts, want %d", len(got), len(want))
		}
		for i := range want {
			if !equalAccount(got[i], want[i]) {
				t.Errorf("ListAccounts[%d] = %+v, want %+v", i, got[i], want[i])
			}
		}
	})

	t.Run("conflict", func(t *testing.T) {
		again := store.Account{Name: "alice", Role: "admin", Created: at(9)}
		if err := s.CreateAccount(ctx, again, hashOf("other")); !errors.Is(err, store.ErrConflict) {
			t.Errorf("CreateAccount(alice) again: error = %v, want store.ErrConflict", err)
		}
		checkAccount(t, s, alice, hashOf("alice"))
	})

	t.Run("update", func(t *testing.T) {
		updates := []struct {
			name   string
			update store.Account
		}{
			{"role and party", store.Account{Name: "alice", Role: "admin", Party: ""}},
			{"recipient", store.Account{Name: "alice", Role: "admin", Recipient: bob.Recipient}},
			{"disable", store.Account{Name: "alice", Role: "admin", Recipient: bob.Recipient, Disabled: true}},
			{"back", store.Account{Name: "alice", Role: alice.Role, Party: alice.Party}},
		}
		for _, u := range updates {
			t.Run(u.name, func(t *testing.T) {
				// UpdateAccount changes neither the creation time nor the password.
				u.update.Created = at(99)
				if err := s.UpdateAccount(ctx, u.update); err != nil {
					t.Fatalf("UpdateAccount: %v", err)
				}
				want := u.update
				want.Created = alice.Created
				checkAccount(t, s, want, hashOf("alice"))
				checkAccount(t, s, bob, hashOf("bob"))
			})
		}
	})

	t.Run("password", func(t *testing.T) {
		if err := s.SetPassword(ctx, "bob", hashOf("new")); err != nil {
			t.Fatalf("SetPassword(bob): %v", err)
		}
		checkAccount(t, s, bob, hashOf("new"))
		checkAccount(t, s, alice, hashOf("alice"))
	})

	t.Run("not found", func(t *testing.T) {
		calls := []struct {
			name string
			call func() error
		}{
			{"Account", func() error { _, _, err := s.Account(ctx, "nobody"); return err }},
			{"Account of another case", func() error { _, _, err := s.Account(ctx, "Alice"); return err }},
			{"UpdateAccount", func() error { return s.UpdateAccount(ctx, store.Account{Name: "nobody", Role: "reader"}) }},
			{"SetPassword", func() error { return s.SetPassword(ctx, "nobody", hashOf("x")) }},
		}
		for _, c := range calls {
			if err := c.call(); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s(nobody): error = %v, want store.ErrNotFound", c.name, err)
			}
		}
		if got, err := s.ListAccounts(ctx); err != nil || len(got) != 3 {
			t.Errorf("ListAccounts after refusals = %d accounts, %v; want 3", len(got), err)
		}
	})
}

// newSession makes a session of account, distinguished by tag.
func newSession(account, tag string, minutes int) store.Session {
	return store.Session{
		Hash:    sha256.Sum256([]byte("cookie " + tag)),
		Account: account,
		CSRF:    "csrf-" + tag,
		Created: at(minutes),
		Expires: at(minutes + 12*60),
	}
}

func equalSession(a, b store.Session) bool {
	return a.Hash == b.Hash && a.Account == b.Account && a.CSRF == b.CSRF &&
		a.Created.Equal(b.Created) && a.Expires.Equal(b.Expires)
}

// checkSessions checks that the sessions of present are stored as they were
// created, and those of absent are not.
func checkSessions(t *testing.T, s store.Store, present, absent []store.Session) {
	t.Helper()
	for _, want := range present {
		got, err := s.Session(t.Context(), want.Hash)
		if err != nil {
			t.Errorf("Session(%s) of %s: %v", want.CSRF, want.Account, err)
		} else if !equalSession(got, want) {
			t.Errorf("Session(%s) = %+v, want %+v", want.CSRF, got, want)
		}
	}
	for _, gone := range absent {
		if _, err := s.Session(t.Context(), gone.Hash); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Session(%s) of %s: error = %v, want store.ErrNotFound", gone.CSRF, gone.Account, err)
		}
	}
}

func testSessions(t *testing.T, s store.Store) {
	ctx := t.Context()
	a1, a2, b1 := newSession("alice", "a1", 10), newSession("alice", "a2", 11), newSession("bob", "b1", 12)
	for _, ss := range []store.Session{a1, a2, b1} {
		if err := s.CreateSession(ctx, ss); err != nil {
			t.Fatalf("CreateSession(%s): %v", ss.CSRF, err)
		}
	}
	checkSessions(t, s, []store.Session{a1, a2, b1}, []store.Session{newSession("alice", "never", 0)})

	t.Run("refused", func(t *testing.T) {
		sameHash := newSession("bob", "a1", 20)
		sameHash.CSRF = "csrf-other"
		cases := []struct {
			name    string
			session store.Session
			want    error
		}{
			{"same hash", sameHash, store.ErrConflict},
			{"unknown account", newSession("nobody", "n1", 20), store.ErrNotFound},
		}
		for _, c := range cases {
			if err := s.CreateSession(ctx, c.session); !errors.Is(err, c.want) {
				t.Errorf("CreateSession, %s: error = %v, want %v", c.name, err, c.want)
			}
		}
		checkSessions(t, s, []store.Session{a1, a2, b1}, []store.Session{newSession("nobody", "n1", 20)})
	})

	t.Run("delete one", func(t *testing.T) {
		if err := s.DeleteSession(ctx, a1.Hash); err != nil {
			t.Fatalf("DeleteSession(a1): %v", err)
		}
		checkSessions(t, s, []store.Session{a2, b1}, []store.Session{a1})
		if err := s.DeleteSession(ctx, a1.Hash); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("DeleteSession(a1) again: error = %v, want store.ErrNotFound", err)
		}
	})

	t.Run("delete all of an account", func(t *testing.T) {
		a3 := newSession("alice", "a3", 13)
		if err := s.CreateSession(ctx, a3); err != nil {
			t.Fatalf("CreateSession(a3): %v", err)
		}
		if err := s.DeleteSessions(ctx, "alice"); err != nil {
			t.Fatalf("DeleteSessions(alice): %v", err)
		}
		checkSessions(t, s, []store.Session{b1}, []store.Session{a2, a3})
		for _, name := range []string{"alice", "carol", "nobody"} {
			if err := s.DeleteSessions(ctx, name); err != nil {
				t.Errorf("DeleteSessions(%s) with none left: %v", name, err)
			}
		}
		checkSessions(t, s, []store.Session{b1}, nil)
	})
}

// newToken makes a token of account, distinguished by tag.
func newToken(account, tag string, minutes int) store.Token {
	h := sha256.Sum256([]byte("secret " + tag))
	return store.Token{Hash: h, ID: fmt.Sprintf("%x", h[:4]), Account: account, Label: "token " + tag, Created: at(minutes)}
}

func equalToken(a, b store.Token) bool {
	return a.Hash == b.Hash && a.ID == b.ID && a.Account == b.Account && a.Label == b.Label && a.Created.Equal(b.Created)
}

// checkTokens checks the tokens listed for account, and looks each up.
func checkTokens(t *testing.T, s store.Store, account string, want []store.Token) {
	t.Helper()
	got, err := s.Tokens(t.Context(), account)
	if err != nil {
		t.Fatalf("Tokens(%s): %v", account, err)
	}
	if len(got) != len(want) {
		t.Fatalf("Tokens(%s) = %d tokens, want %d", account, len(got), len(want))
	}
	for i := range want {
		if !equalToken(got[i], want[i]) {
			t.Errorf("Tokens(%s)[%d] = %+v, want %+v", account, i, got[i], want[i])
		}
		one, err := s.Token(t.Context(), want[i].Hash)
		if err != nil || !equalToken(one, want[i]) {
			t.Errorf("Token(%s) = %+v, %v; want %+v", want[i].ID, one, err, want[i])
		}
	}
}

func testTokens(t *testing.T, s store.Store) {
	ctx := t.Context()
	// t2 is created after t1 but dated earlier: the list goes by date.
	t1, t2, t3 := newToken("alice", "t1", 30), newToken("alice", "t2", 29), newToken("bob", "t3", 31)
	for _, tok := range []store.Token{t1, t2, t3} {
		if err := s.CreateToken(ctx, tok); err != nil {
			t.Fatalf("CreateToken(%s): %v", tok.Label, err)
		}
	}
	checkTokens(t, s, "alice", []store.Token{t2, t1})
	checkTokens(t, s, "bob", []store.Token{t3})
	checkTokens(t, s, "carol", nil)
	checkTokens(t, s, "nobody", nil)
	if _, err := s.Token(ctx, sha256.Sum256([]byte("unknown"))); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Token(unknown): error = %v, want store.ErrNotFound", err)
	}

	t.Run("refused", func(t *testing.T) {
		sameHash := newToken("bob", "t1", 40)
		sameHash.ID = "0badc0de"
		sameID := newToken("bob", "t4", 40)
		sameID.ID = t1.ID
		cases := []struct {
			name  string
			token store.Token
			want  error
		}{
			{"same hash", sameHash, store.ErrConflict},
			{"same id", sameID, store.ErrConflict},
			{"unknown account", newToken("nobody", "t5", 40), store.ErrNotFound},
		}
		for _, c := range cases {
			if err := s.CreateToken(ctx, c.token); !errors.Is(err, c.want) {
				t.Errorf("CreateToken, %s: error = %v, want %v", c.name, err, c.want)
			}
		}
		checkTokens(t, s, "alice", []store.Token{t2, t1})
		checkTokens(t, s, "bob", []store.Token{t3})
		checkTokens(t, s, "nobody", nil)
	})

	t.Run("delete", func(t *testing.T) {
		deletes := []struct {
			name        string
			account, id string
			want        error
		}{
			{"another account's token", "bob", t1.ID, store.ErrNotFound},
			{"unknown id", "alice", "ffffffff", store.ErrNotFound},
			{"own token", "alice", t1.ID, nil},
			{"own token again", "alice", t1.ID, store.ErrNotFound},
		}
		for _, d := range deletes {
			if err := s.DeleteToken(ctx, d.account, d.id); !errors.Is(err, d.want) {
				t.Errorf("DeleteToken(%s, %s), %s: error = %v, want %v", d.account, d.id, d.name, err, d.want)
			}
		}
		checkTokens(t, s, "alice", []store.Token{t2})
		checkTokens(t, s, "bob", []store.Token{t3})
		if _, err := s.Token(ctx, t1.Hash); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Token(t1) after DeleteToken: error = %v, want store.ErrNotFound", err)
		}
	})
}

// testByteOrder: names are listed in the order of their bytes (as SQLite
// compares text), not of a locale: upper case before lower, accented
// letters after z.
func testByteOrder(t *testing.T, s store.Store) {
	ctx := t.Context()
	names := []string{"émile", "alice", "Zoe", "zed", "_x", "Alice"}
	for i, n := range names {
		if err := s.CreateAccount(ctx, store.Account{Name: n, Role: "reader", Created: at(i)}, hashOf(n)); err != nil {
			t.Fatalf("CreateAccount(%q): %v", n, err)
		}
	}
	got, err := s.ListAccounts(ctx)
	if err != nil {
		t.Fatalf("ListAccounts: %v", err)
	}
	var order []string
	for _, a := range got {
		order = append(order, a.Name)
	}
	want := slices.Clone(names)
	slices.Sort(want) // Go compares strings by their bytes
	if !slices.Equal(order, want) {
		t.Errorf("ListAccounts order = %q, want %q", order, want)
	}
	// The same for the subjects of tallies.
	var d store.Derived
	for i, n := range names {
		d.Facts = append(d.Facts, store.Fact{Index: 0, Seq: i, Kind: "tally.order", Subject: n, Object: "o",
			Tag: "t", Time: day(1), Latest: true, Data: []byte(`{}`)})
	}
	b := newBatch(0, 1, "order")
	b.Derived = &d
	mustAppend(t, s, b)
	var subjects []string
	err = s.Tallies(ctx, store.TallyQuery{Kind: "tally.order"}, func(c store.Tally) error {
		subjects = append(subjects, c.Subject)
		return nil
	})
	if err != nil {
		t.Fatalf("Tallies: %v", err)
	}
	if !slices.Equal(subjects, want) {
		t.Errorf("Tallies order = %q, want %q", subjects, want)
	}
}
