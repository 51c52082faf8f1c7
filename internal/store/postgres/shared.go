package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"parley/internal/store"
)

var _ store.Shared = (*Store)(nil)

// The turn to append is a transaction-scoped advisory lock on the pair
// (turnClass, a hash of the schema's name): one per record, however many
// records the database holds. pg_locks shows which backend holds it, and
// pg_stat_activity (by application_name) which server that is.
const turnClass = 0x7061 // "pa"

// turnIdle is how long a turn may sit idle before PostgreSQL ends it: a
// server that stops without closing its connection (frozen, or cut off)
// loses the turn after this long, and the next server takes it. A server
// that dies outright loses it at once, with its connection.
const turnIdle = 5 * time.Second

// notifyChannel is the channel appends notify their followers on, with the
// schema's name as the payload.
const notifyChannel = "parley_log"

// followPoll is how often a follower looks at the log without a notice.
const followPoll = 2 * time.Second

// The SQL of turns and notices.
var (
	sqlTurnIdle = fmt.Sprintf(`SET LOCAL idle_in_transaction_session_timeout = %d`, turnIdle.Milliseconds())
	sqlTurnLock = fmt.Sprintf(`SELECT pg_advisory_xact_lock(%d, hashtext(current_schema()))`, turnClass)
)

const (
	sqlNotify = `SELECT pg_notify('` + notifyChannel + `', current_schema())`
	sqlListen = `LISTEN ` + notifyChannel
)

// Turn begins a transaction and waits, within it, for the record's turn
// lock; it then reads the size, which no one else can change until the
// transaction ends.
func (s *Store) Turn(ctx context.Context) (store.Turn, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("turn: %w", err)
	}
	t := &turn{tx: tx}
	if _, err = tx.Exec(ctx, sqlTurnIdle); err == nil {
		if _, err = tx.Exec(ctx, sqlTurnLock); err == nil {
			err = tx.QueryRow(ctx, sqlSize).Scan(&t.size)
		}
	}
	if err != nil {
		t.End()
		return nil, fmt.Errorf("turn: %w", err)
	}
	return t, nil
}

type turn struct {
	tx   pgx.Tx
	size int64
	done bool
}

func (t *turn) Size() int64 { return t.size }

func (t *turn) Append(ctx context.Context, b store.Batch) error {
	if t.done {
		return errors.New("append: the turn has ended")
	}
	t.done = true
	if b.Start != t.size {
		t.tx.Rollback(context.WithoutCancel(ctx))
		return fmt.Errorf("append at %d in a turn at %d: %w", b.Start, t.size, store.ErrConflict)
	}
	err := writeBatch(ctx, t.tx, b)
	if err == nil {
		err = t.tx.Commit(ctx)
	}
	if err != nil {
		t.tx.Rollback(context.WithoutCancel(ctx))
		return fmt.Errorf("append: %w", err)
	}
	return nil
}

func (t *turn) End() {
	if !t.done {
		t.done = true
		t.tx.Rollback(context.Background())
	}
}

// Changes listens for the notices of appends to this schema on a
// connection of its own, reconnecting when it is lost, and polls besides.
func (s *Store) Changes(ctx context.Context) <-chan struct{} {
	ch := make(chan struct{}, 1)
	poke := func() {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
	go func() {
		defer close(ch)
		for ctx.Err() == nil {
			err := s.listen(ctx, poke)
			if ctx.Err() != nil {
				return
			}
			_ = err // lost: poll until a new connection listens
			poke()
			select {
			case <-ctx.Done():
				return
			case <-time.After(followPoll):
			}
		}
	}()
	return ch
}

// listen pokes on every notice for this schema, and every followPoll,
// until ctx ends or the connection fails.
func (s *Store) listen(ctx context.Context, poke func()) error {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var schema string
	if err := conn.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, sqlListen); err != nil {
		return err
	}
	poke() // whatever was appended before the LISTEN
	for {
		wctx, cancel := context.WithTimeout(ctx, followPoll)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
			if n.Payload == schema {
				poke()
			}
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, context.DeadlineExceeded):
			poke()
		default:
			return err
		}
	}
}
