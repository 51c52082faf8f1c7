package store

import (
	"context"
	"time"
)

// A Channel is a confidential channel: a few accounts that post entries to
// one another, encrypted to every member, while the public log holds only a
// commitment to each. The channel itself (its name, its members) is kept
// here, on the server, never on the log.
type Channel struct {
	ID      string // 16 lower-case hex digits, random
	Name    string
	Creator string // the account that made it
	Created time.Time
	// Epoch starts at 1 and grows by one whenever a member is removed: an
	// entry is encrypted to the members of the epoch it is posted in, so a
	// removed member cannot read what is posted after.
	Epoch   int64
	Members []ChannelMember // by account name
}

// A ChannelMember is an account in a channel, with the age recipient it has
// registered ("" if none yet: nothing can be posted to the channel then).
type ChannelMember struct {
	Account   string
	Recipient string
	Since     time.Time // when the account joined the channel
}

// Since returns when m joined c: m.Since, or c's Created if it is zero
// (the members a channel is created with joined when it was made).
func (c Channel) Since(m ChannelMember) time.Time {
	if m.Since.IsZero() {
		return c.Created
	}
	return m.Since
}

// Has reports whether account is a member of c.
func (c Channel) Has(account string) bool {
	for _, m := range c.Members {
		if m.Account == account {
			return true
		}
	}
	return false
}

// A Sealed is one entry posted to a channel: the ciphertext the server
// cannot read, and where its commitment is on the public log.
type Sealed struct {
	Index      int64 // the index of the public sealed entry holding Commitment
	Channel    string
	Epoch      int64 // the channel's epoch when it was posted
	Poster     string
	Commitment string // lower-case hex SHA-256 of the salt and the inner entry
	Ciphertext []byte // an age file, encrypted to the members of Epoch
	Posted     time.Time
}

// Channels is where a server keeps its confidential channels and their
// ciphertexts. Lookups of something missing return ErrNotFound; a change
// that conflicts with the channel's state returns ErrConflict.
type Channels interface {
	// CreateChannel stores a new channel with its members (Recipient is
	// ignored; it is the account's; a member joined when c.Since says).
	// ErrConflict if the id is taken, ErrNotFound if a member is not an
	// account.
	CreateChannel(ctx context.Context, c Channel) error
	// Channel returns the channel with the id, with its members.
	Channel(ctx context.Context, id string) (Channel, error)
	// ChannelsOf returns the channels account is a member of, oldest first.
	ChannelsOf(ctx context.Context, account string) ([]Channel, error)
	// AddMember adds account to the channel, and returns the channel as it
	// now is. ErrNotFound if there is no such channel or account,
	// ErrConflict if account is a member already.
	AddMember(ctx context.Context, id, account string, since time.Time) (Channel, error)
	// RemoveMember removes account from the channel and advances its epoch,
	// and returns the channel as it now is. ErrNotFound if there is no such
	// channel or account is not a member, ErrConflict if account is the
	// last member.
	RemoveMember(ctx context.Context, id, account string) (Channel, error)
	// AddSealed stores an entry posted to a channel. It returns ErrConflict,
	// and stores nothing, if s.Epoch is not the channel's epoch, if the
	// poster is not a member, or if an entry with s.Index is stored;
	// ErrNotFound if there is no such channel.
	AddSealed(ctx context.Context, s Sealed) error
	// SealedEntries returns the entries posted to a channel, by index.
	SealedEntries(ctx context.Context, channel string) ([]Sealed, error)
	// SealedEntry returns the entry at index if it was posted to channel.
	SealedEntry(ctx context.Context, channel string, index int64) (Sealed, error)
}
