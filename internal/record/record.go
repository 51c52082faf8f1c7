// Package record is a record on disk: the data directory that holds the
// SQLite store, the operator's key and the author keys created on this
// machine, and the log opened over them with the whole vocabulary.
//
// A data directory looks like this:
//
//	parley.db        the SQLite store (entries, tree tiles, checkpoints)
//	operator.key     the operator's signing key (mode 0600); absent on a
//	                 record imported from a bundle, which is then read-only
//	keys/NAME.key    author signing keys (mode 0600)
package record

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"parley/internal/entry"
	"parley/internal/problem"
	"parley/internal/state"
	"parley/internal/store"
	"parley/internal/tlog"
	"parley/internal/vocab"
)

// Files in a data directory.
const (
	StoreFile   = "parley.db"
	OperatorKey = "operator.key"
	KeysDir     = "keys"
)

// A Record is an open data directory and the store it names.
type Record struct {
	Dir string
	// DB names the store: "" for the SQLite file in Dir (see OpenStore).
	DB  string
	Log *tlog.Log
	// Ask answers the questions of the record's state.
	Ask      *state.Asker
	store    store.Store
	types    *entry.Registry
	operator note.Signer // nil when read-only
}

// DefaultOrigin returns a fresh origin name for a new record.
func DefaultOrigin() string {
	b := make([]byte, 4)
	rand.Read(b)
	return "parley.local/record-" + hex.EncodeToString(b)
}

// keyName is what this tool accepts as a key name: it becomes a file name.
var keyName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// originName is what a record's origin may be: a signed-note key name.
var originName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/:-]{0,127}$`)

// Init creates a record in dir (created if missing; it must not already hold
// a record) with a new operator key named origin.
func Init(ctx context.Context, dir, origin string) (*Record, error) {
	return InitDB(ctx, dir, "", origin)
}

// InitDB creates a record in the store db names (which must not hold one),
// with a new operator key named origin kept in dir.
func InitDB(ctx context.Context, dir, db, origin string) (*Record, error) {
	path, err := sqlitePath(dir, db)
	if err != nil {
		return nil, err
	}
	if origin == "" {
		origin = DefaultOrigin()
	}
	if !originName.MatchString(origin) {
		return nil, problem.New(problem.Invalid, "--origin", "%q is not a usable origin: use letters, digits and . _ / : - (for example example.org/talks-2025)", origin)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	if path != "" {
		if _, err := os.Stat(path); err == nil {
			return nil, problem.New(problem.Conflict, dir, "a record already exists here")
		}
	} else if _, err := os.Stat(filepath.Join(dir, OperatorKey)); err == nil {
		return nil, problem.New(problem.Conflict, dir, "an operator key is already kept here, for another record: give a new --dir")
	}
	st, err := OpenStore(ctx, dir, db)
	if err != nil {
		return nil, err
	}
	if held, err := holdsRecord(ctx, st); err != nil || held {
		st.Close()
		if err == nil {
			err = problem.New(problem.Conflict, "--db", "%s already holds a record", Redact(db))
		}
		return nil, err
	}
	skey, vkey, err := note.GenerateKey(rand.Reader, origin)
	if err != nil {
		st.Close()
		return nil, err
	}
	if err := writeSecret(filepath.Join(dir, OperatorKey), skey); err != nil {
		st.Close()
		return nil, err
	}
	r, err := open(ctx, dir, db, st, tlog.Config{Origin: origin, OperatorKey: vkey})
	if err != nil {
		// Leave nothing half-made: a later init must be able to start over.
		os.Remove(filepath.Join(dir, OperatorKey))
		if path != "" {
			removeDB(path)
		}
		return nil, err
	}
	return r, nil
}

// Open opens the record in dir. Without operator.key it opens read-only.
func Open(ctx context.Context, dir string) (*Record, error) {
	return OpenDB(ctx, dir, "")
}

// OpenDB opens the record in the store db names, with the keys in dir.
// Without dir/operator.key it opens read-only.
func OpenDB(ctx context.Context, dir, db string) (*Record, error) {
	path, err := sqlitePath(dir, db)
	if err != nil {
		return nil, err
	}
	if path != "" {
		if _, err := os.Stat(path); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, problem.New(problem.NotFound, dir, "no record here: create one with `parley init` or `parley import FILE` (or point --dir / PARLEY_DIR at one)")
			}
			return nil, err
		}
	}
	st, err := OpenStore(ctx, dir, db)
	if err != nil {
		return nil, err
	}
	if held, err := holdsRecord(ctx, st); err != nil || !held {
		st.Close()
		if err == nil {
			err = problem.New(problem.NotFound, "--db", "%s holds no record: create one with `parley init --db …` or `parley copy`", Redact(db))
		}
		return nil, err
	}
	return open(ctx, dir, db, st, tlog.Config{})
}

// open opens the log in st, which it closes if it fails.
func open(ctx context.Context, dir, db string, st store.Store, cfg tlog.Config) (*Record, error) {
	types, err := vocab.Types()
	if err != nil {
		st.Close()
		return nil, err
	}
	cfg.Types = types
	cfg.Projection = state.NewProjection(types)
	r := &Record{Dir: dir, DB: db, types: types, store: st}
	skey, err := os.ReadFile(filepath.Join(dir, OperatorKey))
	switch {
	case err == nil:
		if r.operator, err = note.NewSigner(strings.TrimSpace(string(skey))); err != nil {
			st.Close()
			return nil, fmt.Errorf("%s: %w", filepath.Join(dir, OperatorKey), err)
		}
		cfg.Operator = r.operator
	case !errors.Is(err, fs.ErrNotExist):
		st.Close()
		return nil, err
	}
	if r.Log, err = tlog.Open(ctx, r.store, cfg); err != nil {
		r.store.Close()
		return nil, err
	}
	r.Ask = state.NewAsker(r.store, r.Log.Size)
	return r, nil
}

// Rebuild throws the projections away and folds the whole log again.
func (r *Record) Rebuild(ctx context.Context, progress func(done int64)) error {
	return state.Rebuild(ctx, r.store, r.types, r.Log.Size(), progress)
}

// Types is the registry of the entry types the record accepts.
func (r *Record) Types() *entry.Registry { return r.types }

// Store returns the record's store, for the questions and dumps that read
// it directly.
func (r *Record) Store() store.Store { return r.store }

// ReadOnly reports whether the record was opened without its operator key.
func (r *Record) ReadOnly() bool { return r.operator == nil }

// Close closes the log and the store.
func (r *Record) Close() error {
	r.Log.Close()
	return r.store.Close()
}

// NewKey creates an author key called name, writes its signing key to
// keys/NAME.key, and registers it on the record, signed by the operator.
func (r *Record) NewKey(ctx context.Context, name, holder string) (tlog.Key, tlog.Appended, error) {
	if r.operator == nil {
		return tlog.Key{}, tlog.Appended{}, tlog.ErrReadOnly
	}
	path, vkey, err := NewLocalKey(r.Dir, name)
	if err != nil {
		return tlog.Key{}, tlog.Appended{}, err
	}
	a, err := r.operatorAppend(ctx, tlog.KeyRegister, tlog.KeyRegisterBody{Key: vkey, Holder: holder})
	if err != nil {
		os.Remove(path)
		return tlog.Key{}, tlog.Appended{}, err
	}
	v, _ := note.NewVerifier(vkey)
	k, _ := r.Log.Key(entry.KeyID(v.Name(), v.KeyHash()))
	return k, a, nil
}

// RegisterKey registers a public key made elsewhere (a person's, whose
// private key never leaves their machine or browser), signed by the
// operator, with holder saying whose it is.
func (r *Record) RegisterKey(ctx context.Context, vkey, holder string) (tlog.Key, tlog.Appended, error) {
	if r.operator == nil {
		return tlog.Key{}, tlog.Appended{}, tlog.ErrReadOnly
	}
	body := tlog.KeyRegisterBody{Key: vkey, Holder: holder}
	if err := body.Validate(); err != nil {
		return tlog.Key{}, tlog.Appended{}, problem.New(problem.Invalid, "key", "%v", err)
	}
	if k, ok := r.Log.Key(body.ID()); ok {
		return tlog.Key{}, tlog.Appended{}, problem.New(problem.Conflict, "key", "key %s is already registered (entry %d, to %s)", k.ID, k.Registered, k.Holder)
	}
	a, err := r.operatorAppend(ctx, tlog.KeyRegister, body)
	if err != nil {
		return tlog.Key{}, tlog.Appended{}, err
	}
	k, _ := r.Log.Key(body.ID())
	return k, a, nil
}

// Revoke revokes the key with the given name+hash id (or bare name, if only
// one key has that name) from now on.
func (r *Record) Revoke(ctx context.Context, id, reason string) (tlog.Key, tlog.Appended, error) {
	if r.operator == nil {
		return tlog.Key{}, tlog.Appended{}, tlog.ErrReadOnly
	}
	k, err := r.FindKey(id)
	if err != nil {
		return tlog.Key{}, tlog.Appended{}, err
	}
	a, err := r.operatorAppend(ctx, tlog.KeyRevoke, tlog.KeyRevokeBody{Key: k.ID, Reason: reason})
	if err != nil {
		return tlog.Key{}, tlog.Appended{}, err
	}
	k, _ = r.Log.Key(k.ID)
	return k, a, nil
}

// FindKey finds a registered key by its name+hash id or by its bare name.
func (r *Record) FindKey(id string) (tlog.Key, error) {
	if k, ok := r.Log.Key(id); ok {
		return k, nil
	}
	var found []tlog.Key
	for _, k := range r.Log.Keys() {
		if name, _, _ := strings.Cut(k.ID, "+"); name == id {
			found = append(found, k)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return tlog.Key{}, problem.New(problem.NotFound, "", "no key %q is registered on this record (see `parley key list`)", id)
	default:
		return tlog.Key{}, problem.New(problem.Invalid, "", "%d keys are named %q: give the full name+hash (see `parley key list`)", len(found), id)
	}
}

func (r *Record) operatorAppend(ctx context.Context, typ string, body any) (tlog.Appended, error) {
	b, err := entry.Object(body)
	if err != nil {
		return tlog.Appended{}, err
	}
	now := r.Log.Now()
	s, err := entry.Sign(entry.Entry{Type: typ, Body: b, Time: now, Recorded: now}, r.operator)
	if err != nil {
		return tlog.Appended{}, err
	}
	a, err := r.Log.Append(ctx, []*entry.Signed{s})
	if err != nil {
		return tlog.Appended{}, err
	}
	return a[0], nil
}

// Signer loads the signing key called name from keys/NAME.key.
func (r *Record) Signer(name string) (note.Signer, error) { return LoadSigner(r.Dir, name) }

// LoadSigner loads the signing key called name from dir/keys/NAME.key.
func LoadSigner(dir, name string) (note.Signer, error) {
	if !keyName.MatchString(name) {
		return nil, problem.New(problem.Invalid, "--as", "%q is not a key name", name)
	}
	path := keyPath(dir, name)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, problem.New(problem.NotFound, "--as", "no signing key %q in %s (create one with `parley key new %s`)", name, filepath.Join(dir, KeysDir), name)
	}
	if err != nil {
		return nil, err
	}
	s, err := note.NewSigner(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// NewLocalKey makes a signing key called name in dir/keys without
// registering it anywhere, and returns its path and public verifier key: a
// client registers it with a server, whose operator signs the registration.
func NewLocalKey(dir, name string) (path, vkey string, err error) {
	if !keyName.MatchString(name) {
		return "", "", problem.New(problem.Invalid, "NAME", "%q is not a usable key name: use up to 64 letters, digits and . _ - (for example lavrov or us-delegation)", name)
	}
	path = keyPath(dir, name)
	if _, err := os.Stat(path); err == nil {
		return "", "", problem.New(problem.Conflict, path, "a key called %q already exists", name)
	}
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		return "", "", err
	}
	if err := os.MkdirAll(filepath.Join(dir, KeysDir), 0o700); err != nil {
		return "", "", err
	}
	if err := writeSecret(path, skey); err != nil {
		return "", "", err
	}
	return path, vkey, nil
}

func (r *Record) keyPath(name string) string { return keyPath(r.Dir, name) }

func keyPath(dir, name string) string { return filepath.Join(dir, KeysDir, name+".key") }

// writeSecret writes a private key readable by its owner only, refusing to
// replace an existing file.
func writeSecret(path, key string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.WriteString(f, key+"\n"); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
