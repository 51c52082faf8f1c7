package storetest

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"parley/internal/store"
)

// testChannels checks confidential channels: members, the epoch that
// advances when one is removed, and the ciphertexts posted.
func testChannels(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, a := range []store.Account{alice, carol, bob} {
		if err := s.CreateAccount(ctx, a, hashOf(a.Name)); err != nil {
			t.Fatalf("CreateAccount(%q): %v", a.Name, err)
		}
	}
	if got, err := s.ChannelsOf(ctx, "alice"); err != nil || len(got) != 0 {
		t.Fatalf("ChannelsOf before any channel = %v, %v; want none", got, err)
	}

	talks := store.Channel{ID: "0123456789abcdef", Name: "back channel", Creator: "alice", Created: at(10), Epoch: 1,
		Members: []store.ChannelMember{{Account: "bob"}, {Account: "alice"}}}
	if err := s.CreateChannel(ctx, talks); err != nil {
		t.Fatalf("CreateChannel: %v", err)
	}
	other := store.Channel{ID: "fedcba9876543210", Name: "other", Creator: "carol", Created: at(11), Epoch: 1,
		Members: []store.ChannelMember{{Account: "carol"}}}
	if err := s.CreateChannel(ctx, other); err != nil {
		t.Fatalf("CreateChannel(other): %v", err)
	}
	checkChannel(t, s, talks.ID, 1, "alice", "bob")
	c, _ := s.Channel(ctx, talks.ID)
	if c.Name != talks.Name || c.Creator != "alice" || !c.Created.Equal(talks.Created) {
		t.Errorf("Channel = %+v, want name, creator and time of %+v", c, talks)
	}
	if !c.Members[0].Since.Equal(talks.Created) {
		t.Errorf("member since %v, want the channel's creation %v", c.Members[0].Since, talks.Created)
	}
	if c.Members[1].Recipient != bob.Recipient || c.Members[0].Recipient != "" {
		t.Errorf("members' recipients = %q, %q; want the accounts' (%q, %q)", c.Members[0].Recipient, c.Members[1].Recipient, "", bob.Recipient)
	}

	for _, tc := range []struct {
		name string
		c    store.Channel
		want error
	}{
		{"IDTaken", store.Channel{ID: talks.ID, Name: "again", Creator: "bob", Created: at(12), Epoch: 1,
			Members: []store.ChannelMember{{Account: "bob"}}}, store.ErrConflict},
		{"NoSuchAccount", store.Channel{ID: "1111111111111111", Name: "ghost", Creator: "alice", Created: at(12), Epoch: 1,
			Members: []store.ChannelMember{{Account: "alice"}, {Account: "zed"}}}, store.ErrNotFound},
	} {
		if err := s.CreateChannel(ctx, tc.c); !errors.Is(err, tc.want) {
			t.Errorf("CreateChannel(%s) = %v, want %v", tc.name, err, tc.want)
		}
	}
	if _, err := s.Channel(ctx, "1111111111111111"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a refused CreateChannel left a channel behind: %v", err)
	}
	if _, err := s.Channel(ctx, "0000000000000000"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Channel(missing) = %v, want ErrNotFound", err)
	}

	// Members come and go.
	c, err := s.AddMember(ctx, talks.ID, "carol", at(13))
	if err != nil || c.Epoch != 1 || len(c.Members) != 3 {
		t.Fatalf("AddMember(carol) = %+v, %v; want three members at epoch 1", c, err)
	}
	if !c.Members[2].Since.Equal(at(13)) {
		t.Errorf("carol is a member since %v, want %v", c.Members[2].Since, at(13))
	}
	for _, tc := range []struct {
		id, account string
		want        error
	}{
		{talks.ID, "carol", store.ErrConflict},
		{talks.ID, "zed", store.ErrNotFound},
		{"0000000000000000", "bob", store.ErrNotFound},
	} {
		if _, err := s.AddMember(ctx, tc.id, tc.account, at(14)); !errors.Is(err, tc.want) {
			t.Errorf("AddMember(%s, %s) = %v, want %v", tc.id, tc.account, err, tc.want)
		}
	}
	if got := channelIDs(t, s, "carol"); !slices.Equal(got, []string{talks.ID, other.ID}) {
		t.Errorf("ChannelsOf(carol) = %v, want both, oldest first", got)
	}
	if got := channelIDs(t, s, "bob"); !slices.Equal(got, []string{talks.ID}) {
		t.Errorf("ChannelsOf(bob) = %v, want %v", got, []string{talks.ID})
	}
	cs, _ := s.ChannelsOf(ctx, "carol")
	if len(cs) == 2 && len(cs[0].Members) != 3 {
		t.Errorf("ChannelsOf(carol) shows %d members of %s, want all 3", len(cs[0].Members), talks.ID)
	}

	// Sealed entries, at the epoch they were posted in.
	cipher := []byte{0x00, 0xff, '\n', 'a', 'g', 'e'}
	posted := store.Sealed{Index: 7, Channel: talks.ID, Epoch: 1, Poster: "bob", Commitment: "ab", Ciphertext: cipher, Posted: at(15)}
	if err := s.AddSealed(ctx, posted); err != nil {
		t.Fatalf("AddSealed: %v", err)
	}

	c, err = s.RemoveMember(ctx, talks.ID, "bob")
	if err != nil || c.Epoch != 2 || c.Has("bob") || len(c.Members) != 2 {
		t.Fatalf("RemoveMember(bob) = %+v, %v; want epoch 2 without bob", c, err)
	}
	checkChannel(t, s, talks.ID, 2, "alice", "carol")
	if got := channelIDs(t, s, "bob"); len(got) != 0 {
		t.Errorf("ChannelsOf(bob) after removal = %v, want none", got)
	}
	for _, tc := range []struct {
		name string
		x    store.Sealed
		want error
	}{
		{"StaleEpoch", store.Sealed{Index: 8, Channel: talks.ID, Epoch: 1, Poster: "alice", Commitment: "cd", Ciphertext: cipher, Posted: at(16)}, store.ErrConflict},
		{"FutureEpoch", store.Sealed{Index: 8, Channel: talks.ID, Epoch: 3, Poster: "alice", Commitment: "cd", Ciphertext: cipher, Posted: at(16)}, store.ErrConflict},
		{"NotAMember", store.Sealed{Index: 8, Channel: talks.ID, Epoch: 2, Poster: "bob", Commitment: "cd", Ciphertext: cipher, Posted: at(16)}, store.ErrConflict},
		{"IndexTaken", store.Sealed{Index: 7, Channel: talks.ID, Epoch: 2, Poster: "alice", Commitment: "cd", Ciphertext: cipher, Posted: at(16)}, store.ErrConflict},
		{"NoSuchChannel", store.Sealed{Index: 8, Channel: "0000000000000000", Epoch: 1, Poster: "alice", Commitment: "cd", Ciphertext: cipher, Posted: at(16)}, store.ErrNotFound},
	} {
		if err := s.AddSealed(ctx, tc.x); !errors.Is(err, tc.want) {
			t.Errorf("AddSealed(%s) = %v, want %v", tc.name, err, tc.want)
		}
	}
	later := store.Sealed{Index: 9, Channel: talks.ID, Epoch: 2, Poster: "carol", Commitment: "ef", Ciphertext: []byte("x"), Posted: at(17)}
	if err := s.AddSealed(ctx, later); err != nil {
		t.Fatalf("AddSealed(epoch 2): %v", err)
	}
	xs, err := s.SealedEntries(ctx, talks.ID)
	if err != nil || len(xs) != 2 {
		t.Fatalf("SealedEntries = %v, %v; want two", xs, err)
	}
	for i, want := range []store.Sealed{posted, later} {
		checkSealed(t, xs[i], want)
	}
	if xs, err := s.SealedEntries(ctx, other.ID); err != nil || len(xs) != 0 {
		t.Errorf("SealedEntries(other) = %v, %v; want none", xs, err)
	}
	x, err := s.SealedEntry(ctx, talks.ID, 7)
	if err != nil {
		t.Fatalf("SealedEntry(7): %v", err)
	}
	checkSealed(t, x, posted)
	if _, err := s.SealedEntry(ctx, other.ID, 7); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SealedEntry of another channel = %v, want ErrNotFound", err)
	}
	if _, err := s.SealedEntry(ctx, talks.ID, 8); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SealedEntry(8), refused earlier, = %v, want ErrNotFound", err)
	}

	// The last member stays.
	if _, err := s.RemoveMember(ctx, other.ID, "carol"); !errors.Is(err, store.ErrConflict) {
		t.Errorf("RemoveMember(last member) = %v, want ErrConflict", err)
	}
	if _, err := s.RemoveMember(ctx, talks.ID, "bob"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RemoveMember(not a member) = %v, want ErrNotFound", err)
	}
	if _, err := s.RemoveMember(ctx, "0000000000000000", "alice"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RemoveMember(no such channel) = %v, want ErrNotFound", err)
	}
	checkChannel(t, s, other.ID, 1, "carol")
	checkChannel(t, s, talks.ID, 2, "alice", "carol")

	// A member's recipient is the account's, as it is now.
	a, _, _ := s.Account(ctx, "alice")
	a.Recipient = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"
	if err := s.UpdateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	c, _ = s.Channel(ctx, talks.ID)
	if c.Members[0].Recipient != a.Recipient {
		t.Errorf("alice's recipient in the channel = %q, want the account's new one", c.Members[0].Recipient)
	}
}

func checkChannel(t *testing.T, s store.Store, id string, epoch int64, members ...string) {
	t.Helper()
	c, err := s.Channel(t.Context(), id)
	if err != nil {
		t.Fatalf("Channel(%s): %v", id, err)
	}
	var got []string
	for _, m := range c.Members {
		got = append(got, m.Account)
	}
	if c.ID != id || c.Epoch != epoch || !slices.Equal(got, members) {
		t.Errorf("Channel(%s) = id %s, epoch %d, members %v; want epoch %d, members %v (by name)", id, c.ID, c.Epoch, got, epoch, members)
	}
}

func channelIDs(t *testing.T, s store.Store, account string) []string {
	t.Helper()
	cs, err := s.ChannelsOf(t.Context(), account)
	if err != nil {
		t.Fatalf("ChannelsOf(%q): %v", account, err)
	}
	var ids []string
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	return ids
}

func checkSealed(t *testing.T, got, want store.Sealed) {
	t.Helper()
	if got.Index != want.Index || got.Channel != want.Channel || got.Epoch != want.Epoch || got.Poster != want.Poster ||
		got.Commitment != want.Commitment || !bytes.Equal(got.Ciphertext, want.Ciphertext) || !got.Posted.Equal(want.Posted) {
		t.Errorf("sealed entry = %+v, want %+v", got, want)
	}
}
