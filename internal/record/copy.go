package record

import (
	"context"
	"errors"
	"fmt"
	"io"

	"golang.org/x/mod/sumdb/tlog"

	"parley/internal/problem"
	"parley/internal/store"
)

// Copied is what Copy moved and proved.
type Copied struct {
	Origin string
	// Size and Root are the tree's, the same in both stores: Copy fails
	// unless they are.
	Size int64
	Root tlog.Hash
	// What the server kept beside the log: accounts (with their password
	// hashes), API tokens, confidential channels and their ciphertexts.
	// Sessions are not copied: people sign in again.
	Accounts, Tokens, Channels, Sealed int
}

// Copy copies the record in the store from names into the store to names,
// which must be empty; the keys in dir are not touched, and the copy keeps
// the same operator. Every entry and checkpoint is verified on the way, as
// an import verifies a bundle; the server's accounts, tokens and channels
// follow; then the copy is opened (which folds its projections) and its
// tree size and root hash, read from its own tiles, must be the original's.
func Copy(ctx context.Context, dir, from, to string, progress func(entries, bytes int64)) (Copied, error) {
	if from == to {
		return Copied{}, problem.New(problem.Invalid, "--to", "the copy must go to another store than --from")
	}
	src, err := OpenDB(ctx, dir, from)
	if err != nil {
		return Copied{}, fmt.Errorf("--from: %w", err)
	}
	defer src.Close()
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(src.Log.Export(ctx, pw)) }()
	sum, err := ImportDB(ctx, dir, to, pr, progress)
	pr.CloseWithError(errors.New("copy stopped"))
	if err != nil {
		return Copied{}, fmt.Errorf("--to: %w", err)
	}
	out := Copied{Origin: sum.Origin, Size: sum.Entries}

	dst, err := OpenStore(ctx, dir, to)
	if err != nil {
		return out, fmt.Errorf("--to: %w", err)
	}
	err = copyServer(ctx, src.Store(), dst, &out)
	dst.Close()
	if err != nil {
		return out, fmt.Errorf("copy the server's accounts and channels: %w", err)
	}

	copied, err := OpenDB(ctx, dir, to)
	if err != nil {
		return out, fmt.Errorf("open the copy: %w", err)
	}
	defer copied.Close()
	want, err := src.Log.RootAt(ctx, out.Size)
	if err != nil {
		return out, fmt.Errorf("--from: %w", err)
	}
	got, err := copied.Log.RootAt(ctx, out.Size)
	if err != nil {
		return out, fmt.Errorf("--to: %w", err)
	}
	c, _ := copied.Log.Latest()
	if c.Size != out.Size || got != want || c.Root != want || sum.Root != want {
		return out, problem.New(problem.Tampered, "--to", "the copy does not prove the same tree: %d entries with root %s, the original %d with %s", c.Size, got, out.Size, want)
	}
	out.Root = got
	return out, nil
}

// copyServer copies accounts, tokens, channels and sealed entries.
func copyServer(ctx context.Context, from, to store.Store, out *Copied) error {
	accounts, err := from.ListAccounts(ctx)
	if err != nil {
		return err
	}
	for _, a := range accounts {
		_, hash, err := from.Account(ctx, a.Name)
		if err != nil {
			return err
		}
		if err := to.CreateAccount(ctx, a, hash); err != nil {
			return fmt.Errorf("account %s: %w", a.Name, err)
		}
		if a.Disabled || a.Recipient != "" {
			if err := to.UpdateAccount(ctx, a); err != nil {
				return fmt.Errorf("account %s: %w", a.Name, err)
			}
		}
		out.Accounts++
		tokens, err := from.Tokens(ctx, a.Name)
		if err != nil {
			return err
		}
		for _, t := range tokens {
			if err := to.CreateToken(ctx, t); err != nil {
				return fmt.Errorf("token %s of %s: %w", t.ID, a.Name, err)
			}
			out.Tokens++
		}
	}
	// Channels are found through their members; each is copied once, after
	// every account exists.
	seen := map[string]bool{}
	for _, a := range accounts {
		channels, err := from.ChannelsOf(ctx, a.Name)
		if err != nil {
			return err
		}
		for _, c := range channels {
			if seen[c.ID] {
				continue
			}
			seen[c.ID] = true
			if err := to.CreateChannel(ctx, c); err != nil {
				return fmt.Errorf("channel %s: %w", c.ID, err)
			}
			out.Channels++
			sealed, err := from.SealedEntries(ctx, c.ID)
			if err != nil {
				return err
			}
			for _, x := range sealed {
				if err := to.AddSealed(ctx, x); err != nil {
					return fmt.Errorf("channel %s, entry %d: %w", c.ID, x.Index, err)
				}
				out.Sealed++
			}
		}
	}
	return nil
}
