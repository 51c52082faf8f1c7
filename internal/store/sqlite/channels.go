package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"parley/internal/store"
)

// The SQL of confidential channels. A channel is read with its members in
// one statement, so that it is one consistent snapshot.
const (
	sqlChannelWithMembers = `SELECT c.id, c.name, c.creator, c.created, c.epoch, m.account, COALESCE(a.recipient, ''), m.since
		FROM channels c
		LEFT JOIN channel_members m ON m.channel = c.id
		LEFT JOIN accounts a ON a.name = m.account`
	sqlChannel    = sqlChannelWithMembers + ` WHERE c.id = ? ORDER BY m.account`
	sqlChannelsOf = sqlChannelWithMembers + ` WHERE c.id IN (SELECT channel FROM channel_members WHERE account = ?)
		ORDER BY c.created, c.id, m.account`

	sqlCreateChannel  = `INSERT INTO channels (id, name, creator, created, epoch) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`
	sqlChannelEpoch   = `SELECT epoch FROM channels WHERE id = ?`
	sqlAddMember      = `INSERT INTO channel_members (channel, account, since) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`
	sqlIsMember       = `SELECT count(*) FROM channel_members WHERE channel = ? AND account = ?`
	sqlCountMembers   = `SELECT count(*) FROM channel_members WHERE channel = ?`
	sqlRemoveMember   = `DELETE FROM channel_members WHERE channel = ? AND account = ?`
	sqlAdvanceEpoch   = `UPDATE channels SET epoch = epoch + 1 WHERE id = ?`
	sqlAddSealed      = `INSERT INTO sealed (idx, channel, epoch, poster, commitment, ciphertext, posted) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`
	sqlSealedColumns  = `SELECT idx, channel, epoch, poster, commitment, ciphertext, posted FROM sealed`
	sqlSealedEntries  = sqlSealedColumns + ` WHERE channel = ? ORDER BY idx`
	sqlSealedEntry    = sqlSealedColumns + ` WHERE channel = ? AND idx = ?`
	sqlAccountPresent = `SELECT count(*) FROM accounts WHERE name = ?`
)

// channelReader is what reads a channel: the database, or a transaction.
type channelReader interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// scanChannels reads channels with their members, one row per member, rows
// of one channel together.
func scanChannels(rows *sql.Rows) ([]store.Channel, error) {
	defer rows.Close()
	var out []store.Channel
	for rows.Next() {
		var (
			c              store.Channel
			created        string
			account, since sql.NullString
			recipient      string
		)
		if err := rows.Scan(&c.ID, &c.Name, &c.Creator, &created, &c.Epoch, &account, &recipient, &since); err != nil {
			return nil, err
		}
		if n := len(out); n == 0 || out[n-1].ID != c.ID {
			var err error
			if c.Created, err = parseTime(created); err != nil {
				return nil, fmt.Errorf("channel %s: created: %w", c.ID, err)
			}
			out = append(out, c)
		}
		if account.Valid {
			m := store.ChannelMember{Account: account.String, Recipient: recipient}
			var err error
			if m.Since, err = parseTime(since.String); err != nil {
				return nil, fmt.Errorf("channel %s: member %q: since: %w", c.ID, m.Account, err)
			}
			last := &out[len(out)-1]
			last.Members = append(last.Members, m)
		}
	}
	return out, rows.Err()
}

// loadChannel reads the channel with the id through q.
func loadChannel(ctx context.Context, q channelReader, id string) (store.Channel, error) {
	rows, err := q.QueryContext(ctx, sqlChannel, id)
	if err != nil {
		return store.Channel{}, err
	}
	cs, err := scanChannels(rows)
	if err != nil {
		return store.Channel{}, err
	}
	if len(cs) == 0 {
		return store.Channel{}, store.ErrNotFound
	}
	return cs[0], nil
}

// countIn runs a SELECT count(*) in tx.
func countIn(ctx context.Context, tx *sql.Tx, query string, args ...any) (int64, error) {
	var n int64
	err := tx.QueryRowContext(ctx, query, args...).Scan(&n)
	return n, err
}

// channelEpoch returns the epoch of the channel id in tx, or
// store.ErrNotFound.
func channelEpoch(ctx context.Context, tx *sql.Tx, id string) (int64, error) {
	var epoch int64
	err := tx.QueryRowContext(ctx, sqlChannelEpoch, id).Scan(&epoch)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("channel %s: %w", id, store.ErrNotFound)
	}
	return epoch, err
}

// requireAccount returns store.ErrNotFound if there is no account called name.
func requireAccount(ctx context.Context, tx *sql.Tx, name string) error {
	n, err := countIn(ctx, tx, sqlAccountPresent, name)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("account %q: %w", name, store.ErrNotFound)
	}
	return nil
}

// CreateChannel stores a new channel with its members.
func (s *Store) CreateChannel(ctx context.Context, c store.Channel) error {
	err := s.channelTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, sqlCreateChannel, c.ID, c.Name, c.Creator, formatTime(c.Created), c.Epoch)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("the id is taken: %w", store.ErrConflict)
		}
		for _, m := range c.Members {
			if err := requireAccount(ctx, tx, m.Account); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, sqlAddMember, c.ID, m.Account, formatTime(c.Since(m))); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("create channel %s: %w", c.ID, err)
	}
	return nil
}

// Channel returns the channel with the id, with its members.
func (s *Store) Channel(ctx context.Context, id string) (store.Channel, error) {
	c, err := loadChannel(ctx, s.db, id)
	if err != nil {
		return store.Channel{}, fmt.Errorf("channel %s: %w", id, err)
	}
	return c, nil
}

// ChannelsOf returns the channels account is a member of, oldest first.
func (s *Store) ChannelsOf(ctx context.Context, account string) ([]store.Channel, error) {
	rows, err := s.db.QueryContext(ctx, sqlChannelsOf, account)
	if err != nil {
		return nil, fmt.Errorf("channels of %q: %w", account, err)
	}
	cs, err := scanChannels(rows)
	if err != nil {
		return nil, fmt.Errorf("channels of %q: %w", account, err)
	}
	return cs, nil
}

// AddMember adds account to the channel id.
func (s *Store) AddMember(ctx context.Context, id, account string, since time.Time) (store.Channel, error) {
	var c store.Channel
	err := s.channelTx(ctx, func(tx *sql.Tx) error {
		if _, err := channelEpoch(ctx, tx, id); err != nil {
			return err
		}
		if err := requireAccount(ctx, tx, account); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, sqlAddMember, id, account, formatTime(since))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("already a member: %w", store.ErrConflict)
		}
		c, err = loadChannel(ctx, tx, id)
		return err
	})
	if err != nil {
		return store.Channel{}, fmt.Errorf("add %q to channel %s: %w", account, id, err)
	}
	return c, nil
}

// RemoveMember removes account from the channel id and advances its epoch.
func (s *Store) RemoveMember(ctx context.Context, id, account string) (store.Channel, error) {
	var c store.Channel
	err := s.channelTx(ctx, func(tx *sql.Tx) error {
		if _, err := channelEpoch(ctx, tx, id); err != nil {
			return err
		}
		if n, err := countIn(ctx, tx, sqlIsMember, id, account); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("not a member: %w", store.ErrNotFound)
		}
		if n, err := countIn(ctx, tx, sqlCountMembers, id); err != nil {
			return err
		} else if n <= 1 {
			return fmt.Errorf("the last member: %w", store.ErrConflict)
		}
		if _, err := tx.ExecContext(ctx, sqlRemoveMember, id, account); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, sqlAdvanceEpoch, id); err != nil {
			return err
		}
		var err error
		c, err = loadChannel(ctx, tx, id)
		return err
	})
	if err != nil {
		return store.Channel{}, fmt.Errorf("remove %q from channel %s: %w", account, id, err)
	}
	return c, nil
}

// AddSealed stores an entry posted to a channel, if its epoch is still the
// channel's and its poster still a member.
func (s *Store) AddSealed(ctx context.Context, x store.Sealed) error {
	err := s.channelTx(ctx, func(tx *sql.Tx) error {
		epoch, err := channelEpoch(ctx, tx, x.Channel)
		if err != nil {
			return err
		}
		if epoch != x.Epoch {
			return fmt.Errorf("epoch %d is not the channel's (%d): %w", x.Epoch, epoch, store.ErrConflict)
		}
		if n, err := countIn(ctx, tx, sqlIsMember, x.Channel, x.Poster); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("%q is not a member: %w", x.Poster, store.ErrConflict)
		}
		res, err := tx.ExecContext(ctx, sqlAddSealed, x.Index, x.Channel, x.Epoch, x.Poster, x.Commitment, x.Ciphertext, formatTime(x.Posted))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("an entry at index %d is already stored: %w", x.Index, store.ErrConflict)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("add sealed entry %d to channel %s: %w", x.Index, x.Channel, err)
	}
	return nil
}

// SealedEntries returns the entries posted to channel, by index.
func (s *Store) SealedEntries(ctx context.Context, channel string) ([]store.Sealed, error) {
	rows, err := s.db.QueryContext(ctx, sqlSealedEntries, channel)
	out, err := collect(rows, err, scanSealed)
	if err != nil {
		return nil, fmt.Errorf("sealed entries of channel %s: %w", channel, err)
	}
	return out, nil
}

// SealedEntry returns the entry at index if it was posted to channel.
func (s *Store) SealedEntry(ctx context.Context, channel string, index int64) (store.Sealed, error) {
	x, err := scanSealed(s.db.QueryRowContext(ctx, sqlSealedEntry, channel, index))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Sealed{}, fmt.Errorf("sealed entry %d of channel %s: %w", index, channel, store.ErrNotFound)
	}
	if err != nil {
		return store.Sealed{}, fmt.Errorf("sealed entry %d of channel %s: %w", index, channel, err)
	}
	return x, nil
}

func scanSealed(row scanner) (store.Sealed, error) {
	var (
		x      store.Sealed
		posted string
	)
	if err := row.Scan(&x.Index, &x.Channel, &x.Epoch, &x.Poster, &x.Commitment, &x.Ciphertext, &posted); err != nil {
		return x, err
	}
	var err error
	x.Posted, err = parseTime(posted)
	return x, err
}

// channelTx runs fn in a transaction, committed if fn returns nil.
func (s *Store) channelTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}
