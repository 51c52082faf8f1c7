package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"parley/internal/store"
)

// The SQL of confidential channels. A channel is read with its members in
// one statement, so that it is one consistent snapshot; a change to a
// channel locks its row first, so that changes to one channel take turns
// (a post cannot slip in at an epoch a removal is ending).
const (
	sqlChannelWithMembers = `SELECT c.id, c.name, c.creator, c.created, c.epoch, m.account, COALESCE(a.recipient, ''), m.since
		FROM channels c
		LEFT JOIN channel_members m ON m.channel = c.id
		LEFT JOIN accounts a ON a.name = m.account`
	sqlChannel    = sqlChannelWithMembers + ` WHERE c.id = $1 ORDER BY m.account`
	sqlChannelsOf = sqlChannelWithMembers + ` WHERE c.id IN (SELECT channel FROM channel_members WHERE account = $1)
		ORDER BY c.created, c.id, m.account`

	sqlCreateChannel = `INSERT INTO channels (id, name, creator, created, epoch) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`
	sqlLockChannel   = `SELECT epoch FROM channels WHERE id = $1 FOR UPDATE`
	sqlAddMember     = `INSERT INTO channel_members (channel, account, since) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`
	sqlIsMember      = `SELECT count(*) FROM channel_members WHERE channel = $1 AND account = $2`
	sqlCountMembers  = `SELECT count(*) FROM channel_members WHERE channel = $1`
	sqlRemoveMember  = `DELETE FROM channel_members WHERE channel = $1 AND account = $2`
	sqlAdvanceEpoch  = `UPDATE channels SET epoch = epoch + 1 WHERE id = $1`
	sqlAddSealed     = `INSERT INTO sealed (idx, channel, epoch, poster, commitment, ciphertext, posted)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`
	sqlSealedColumns = `SELECT idx, channel, epoch, poster, commitment, ciphertext, posted FROM sealed`
	sqlSealedEntries = sqlSealedColumns + ` WHERE channel = $1 ORDER BY idx`
	sqlSealedEntry   = sqlSealedColumns + ` WHERE channel = $1 AND idx = $2`
)

// querier is what reads a channel: the pool, or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// scanChannels reads channels with their members, one row per member, rows
// of one channel together.
func scanChannels(rows pgx.Rows) ([]store.Channel, error) {
	defer rows.Close()
	var out []store.Channel
	for rows.Next() {
		var (
			c         store.Channel
			account   *string
			recipient string
			since     *time.Time
		)
		if err := rows.Scan(&c.ID, &c.Name, &c.Creator, &c.Created, &c.Epoch, &account, &recipient, &since); err != nil {
			return nil, err
		}
		if n := len(out); n == 0 || out[n-1].ID != c.ID {
			c.Created = c.Created.UTC()
			out = append(out, c)
		}
		if account != nil {
			last := &out[len(out)-1]
			last.Members = append(last.Members, store.ChannelMember{Account: *account, Recipient: recipient, Since: since.UTC()})
		}
	}
	return out, rows.Err()
}

// loadChannel reads the channel with the id through q.
func loadChannel(ctx context.Context, q querier, id string) (store.Channel, error) {
	rows, err := q.Query(ctx, sqlChannel, id)
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
func countIn(ctx context.Context, tx pgx.Tx, query string, args ...any) (int64, error) {
	var n int64
	err := tx.QueryRow(ctx, query, args...).Scan(&n)
	return n, err
}

// lockChannel locks the channel id in tx and returns its epoch, or
// store.ErrNotFound.
func lockChannel(ctx context.Context, tx pgx.Tx, id string) (int64, error) {
	var epoch int64
	err := tx.QueryRow(ctx, sqlLockChannel, id).Scan(&epoch)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("channel %s: %w", id, store.ErrNotFound)
	}
	return epoch, err
}

// CreateChannel stores a new channel with its members.
func (s *Store) CreateChannel(ctx context.Context, c store.Channel) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, sqlCreateChannel, c.ID, c.Name, c.Creator, c.Created, c.Epoch)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("the id is taken: %w", store.ErrConflict)
		}
		for _, m := range c.Members {
			if err := requireAccount(ctx, tx, m.Account); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, sqlAddMember, c.ID, m.Account, c.Since(m)); err != nil {
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
	c, err := loadChannel(ctx, s.pool, id)
	if err != nil {
		return store.Channel{}, fmt.Errorf("channel %s: %w", id, err)
	}
	return c, nil
}

// ChannelsOf returns the channels account is a member of, oldest first.
func (s *Store) ChannelsOf(ctx context.Context, account string) ([]store.Channel, error) {
	rows, err := s.pool.Query(ctx, sqlChannelsOf, account)
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
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := lockChannel(ctx, tx, id); err != nil {
			return err
		}
		if err := requireAccount(ctx, tx, account); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, sqlAddMember, id, account, since)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
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
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := lockChannel(ctx, tx, id); err != nil {
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
		if _, err := tx.Exec(ctx, sqlRemoveMember, id, account); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, sqlAdvanceEpoch, id); err != nil {
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
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		epoch, err := lockChannel(ctx, tx, x.Channel)
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
		tag, err := tx.Exec(ctx, sqlAddSealed, x.Index, x.Channel, x.Epoch, x.Poster, x.Commitment, x.Ciphertext, x.Posted)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
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
	rows, err := s.pool.Query(ctx, sqlSealedEntries, channel)
	out, err := collect(rows, err, scanSealed)
	if err != nil {
		return nil, fmt.Errorf("sealed entries of channel %s: %w", channel, err)
	}
	return out, nil
}

// SealedEntry returns the entry at index if it was posted to channel.
func (s *Store) SealedEntry(ctx context.Context, channel string, index int64) (store.Sealed, error) {
	x, err := scanSealed(s.pool.QueryRow(ctx, sqlSealedEntry, channel, index))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Sealed{}, fmt.Errorf("sealed entry %d of channel %s: %w", index, channel, store.ErrNotFound)
	}
	if err != nil {
		return store.Sealed{}, fmt.Errorf("sealed entry %d of channel %s: %w", index, channel, err)
	}
	return x, nil
}

func scanSealed(row pgx.Row) (store.Sealed, error) {
	var x store.Sealed
	err := row.Scan(&x.Index, &x.Channel, &x.Epoch, &x.Poster, &x.Commitment, &x.Ciphertext, &x.Posted)
	x.Posted = x.Posted.UTC()
	return x, err
}
