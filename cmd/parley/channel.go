package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"text/tabwriter"
	"time"

	"filippo.io/age"
	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"parley/internal/channel"
	"parley/internal/entry"
	"parley/internal/problem"
	"parley/internal/record"
	"parley/internal/tlog"
	"parley/internal/vocab"
)

// The confidential channels, against a server: the keys and the plaintext
// stay on this machine. An account's age identity is DIR/keys/ACCOUNT.age.

// channelUsage lists the channel actions.
const channelUsage = "channel key --as ACCOUNT | create NAME --members a,b | list | show ID | add ID ACCOUNT | remove ID ACCOUNT | " +
	"post ID TYPE --as KEY --body JSON|@FILE | read ID --identity ACCOUNT"

// accountFile is what an account name looks like, as it becomes a file name.
var accountFile = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// channelWire is a channel as the server shows it.
type channelWire struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Creator string    `json:"creator"`
	Created time.Time `json:"created"`
	Epoch   int64     `json:"epoch"`
	Members []struct {
		Account   string    `json:"account"`
		Recipient string    `json:"recipient"`
		Since     time.Time `json:"since"`
	} `json:"members"`
}

func (c channelWire) memberNames() string {
	var names []string
	for _, m := range c.Members {
		names = append(names, m.Account)
	}
	return strings.Join(names, ", ")
}

// sealedWire is an entry posted to a channel, as the server keeps it.
type sealedWire struct {
	Index      int64     `json:"index"`
	Epoch      int64     `json:"epoch"`
	Poster     string    `json:"poster"`
	Time       time.Time `json:"time"`
	Commitment string    `json:"commitment"`
	Ciphertext string    `json:"ciphertext"`
}

// keyWire is a registered key as the server lists it.
type keyWire struct {
	ID         string `json:"id"`
	Key        string `json:"key"`
	Holder     string `json:"holder"`
	Registered int64  `json:"registered"`
	Revoked    *int64 `json:"revoked"`
}

func runChannel(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return usageErr("channel: say what to do: %s", channelUsage)
	}
	verb, args := args[0], args[1:]
	fset, dir := flags(e, "channel "+verb)
	as := fset.String("as", "", "key: the account whose age identity to make; post: the signing key (a name under DIR/keys)")
	members := fset.String("members", "", "create: the other members' accounts, comma-separated")
	body := fset.String("body", "", "post: the entry's body: a JSON object, @FILE, or @- for standard input")
	identity := fset.String("identity", "", "read: the account whose age identity (DIR/keys/ACCOUNT.age) decrypts")
	asJSON := fset.Bool("json", false, "list, show, read: print JSON")
	var (
		at      time.Time
		sources sourceList
	)
	fset.Var(timeFlag{&at}, "time", "post: the time the entry describes (RFC 3339 or a date; default now)")
	fset.Var(&sources, "source", "post: a source: a URL or a citation (repeat for several)")
	fset.Var(quoteFlag{&sources}, "quote", "post: the quoted span of the --source before it")
	var n int
	switch verb {
	case "key", "list":
	case "create", "show", "read":
		n = 1
	case "add", "remove", "post":
		n = 2
	default:
		return usageErr("channel: unknown action %q (%s)", verb, channelUsage)
	}
	pos, err := parse(fset, args, n, n)
	if err != nil {
		return err
	}
	c, err := e.client()
	if err != nil {
		return err
	}
	switch verb {
	case "key":
		return channelKey(ctx, e, c, *dir, *as)
	case "create":
		return channelCreate(ctx, e, c, pos[0], *members)
	case "list":
		return channelList(ctx, e, c, *asJSON)
	case "show":
		return channelShow(ctx, e, c, pos[0], *asJSON)
	case "add":
		var ch channelWire
		if err := c.call(ctx, http.MethodPost, "/api/v1/channels/"+pos[0]+"/members", nil, map[string]string{"account": pos[1]}, &ch); err != nil {
			return fmt.Errorf("channel add: %w", err)
		}
		fmt.Fprintf(e.stdout, "%s added to channel %s (epoch %d): members %s\n", pos[1], ch.ID, ch.Epoch, ch.memberNames())
		fmt.Fprintf(e.stdout, "%s can read what is posted from now on, not what was posted before\n", pos[1])
		return nil
	case "remove":
		var ch channelWire
		if err := c.call(ctx, http.MethodDelete, "/api/v1/channels/"+pos[0]+"/members/"+pos[1], nil, nil, &ch); err != nil {
			return fmt.Errorf("channel remove: %w", err)
		}
		fmt.Fprintf(e.stdout, "%s removed from channel %s: the key rotates to epoch %d; members %s\n", pos[1], ch.ID, ch.Epoch, ch.memberNames())
		return nil
	case "post":
		if *as == "" {
			return usageErr("channel post: say which key signs the entry with --as KEY")
		}
		if *body == "" {
			return usageErr("channel post: give the entry's body with --body JSON or --body @FILE")
		}
		raw, err := readArg(e, *body)
		if err != nil {
			return fmt.Errorf("channel post: --body: %w", err)
		}
		u := record.Unsigned{Type: pos[1], Body: jsontext.Value(raw), Time: at, Sources: sources.list}
		return channelPost(ctx, e, c, *dir, pos[0], u, *as)
	case "read":
		if *identity == "" {
			return usageErr("channel read: say whose age identity decrypts with --identity ACCOUNT")
		}
		return channelRead(ctx, e, c, *dir, pos[0], *identity, *asJSON)
	}
	return nil
}

// identityPath is where the age identity of account is kept.
func identityPath(dir, account string) (string, error) {
	if !accountFile.MatchString(account) {
		return "", problem.New(problem.Invalid, "", "%q is not an account name", account)
	}
	return filepath.Join(dir, record.KeysDir, account+".age"), nil
}

// channelKey makes an age identity for the token's account, keeps it in
// DIR/keys/ACCOUNT.age, and registers its recipient with the server.
func channelKey(ctx context.Context, e *env, c *apiClient, dir, as string) error {
	if as == "" {
		return usageErr("channel key: say whose identity it is with --as ACCOUNT (the account of the token)")
	}
	path, err := identityPath(dir, as)
	if err != nil {
		return fmt.Errorf("channel key: --as: %w", err)
	}
	var me struct {
		Account struct {
			Name      string `json:"name"`
			Recipient string `json:"recipient"`
		} `json:"account"`
	}
	if err := c.call(ctx, http.MethodGet, "/api/v1/account", nil, nil, &me); err != nil {
		return fmt.Errorf("channel key: %w", err)
	}
	if me.Account.Name != as {
		return problem.New(problem.Invalid, "--as", "the token is %s's, not %s's: make the identity for the token's account", me.Account.Name, as)
	}
	if _, err := os.Stat(path); err == nil {
		return problem.New(problem.Conflict, path, "an age identity for %s is already here; it is not replaced (what was posted to it could no longer be read)", as)
	}
	file, recipient, err := channel.NewIdentity(time.Now())
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(dir, record.KeysDir), 0o700); err != nil {
		return err
	}
	if err := writeNew(path, file); err != nil {
		return fmt.Errorf("channel key: %w", err)
	}
	if err := c.call(ctx, http.MethodPut, "/api/v1/account/recipient", nil, map[string]string{"recipient": recipient}, nil); err != nil {
		os.Remove(path)
		return fmt.Errorf("channel key: not registered, and not kept: %w", err)
	}
	if me.Account.Recipient != "" && me.Account.Recipient != recipient {
		fmt.Fprintf(e.stderr, "channel key: %s's previous recipient (%s) is replaced: entries posted to it are read with the old identity\n", as, me.Account.Recipient)
	}
	fmt.Fprintf(e.stdout, "registered recipient %s for %s on %s\n", recipient, as, c.base)
	fmt.Fprintf(e.stdout, "age identity: %s (keep it secret; it never leaves this machine)\n", path)
	return nil
}

// writeNew writes a secret file readable by its owner only, refusing to
// replace one.
func writeNew(path, content string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(content); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	return f.Close()
}

func channelCreate(ctx context.Context, e *env, c *apiClient, name, members string) error {
	in := struct {
		Name    string   `json:"name"`
		Members []string `json:"members"`
	}{Name: name, Members: []string{}}
	for _, m := range strings.Split(members, ",") {
		if m = strings.TrimSpace(m); m != "" {
			in.Members = append(in.Members, m)
		}
	}
	var ch channelWire
	if err := c.call(ctx, http.MethodPost, "/api/v1/channels", nil, in, &ch); err != nil {
		return fmt.Errorf("channel create: %w", err)
	}
	fmt.Fprintf(e.stdout, "created channel %s (%s), epoch %d, members %s\n", ch.ID, ch.Name, ch.Epoch, ch.memberNames())
	for _, m := range ch.Members {
		if m.Recipient == "" {
			fmt.Fprintf(e.stderr, "channel create: %s has no age recipient yet: nothing can be posted until they run `parley channel key --as %s`\n", m.Account, m.Account)
		}
	}
	return nil
}

func channelList(ctx context.Context, e *env, c *apiClient, asJSON bool) error {
	var out struct {
		Channels []channelWire `json:"channels"`
	}
	if err := c.call(ctx, http.MethodGet, "/api/v1/channels", nil, nil, &out); err != nil {
		return fmt.Errorf("channel list: %w", err)
	}
	if asJSON {
		return writeJSON(e.stdout, out.Channels)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tEPOCH\tMEMBERS")
	for _, ch := range out.Channels {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", ch.ID, ch.Name, ch.Epoch, ch.memberNames())
	}
	return tw.Flush()
}

func channelShow(ctx context.Context, e *env, c *apiClient, id string, asJSON bool) error {
	var ch channelWire
	if err := c.call(ctx, http.MethodGet, "/api/v1/channels/"+id, nil, nil, &ch); err != nil {
		return fmt.Errorf("channel show: %w", err)
	}
	if asJSON {
		return writeJSON(e.stdout, ch)
	}
	fmt.Fprintf(e.stdout, "channel %s: %s\n", ch.ID, ch.Name)
	fmt.Fprintf(e.stdout, "created by %s at %s; epoch %d\n", ch.Creator, ch.Created.Format(time.RFC3339), ch.Epoch)
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MEMBER\tSINCE\tRECIPIENT")
	for _, m := range ch.Members {
		r := m.Recipient
		if r == "" {
			r = "(none: run `parley channel key`)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", m.Account, m.Since.Format(time.RFC3339), r)
	}
	return tw.Flush()
}

// channelPost signs u here with DIR/keys/AS.key, checks its body, seals it
// for the channel's members as the server lists them now, and posts it.
func channelPost(ctx context.Context, e *env, c *apiClient, dir, id string, u record.Unsigned, as string) error {
	if !u.Body.IsValid() {
		var v any
		return problem.New(problem.Invalid, "channel post: --body", "%s", entry.DescribeJSON(json.Unmarshal(u.Body, &v)))
	}
	s, err := record.KeySigners(dir, as).Sign(u)
	if err != nil {
		return fmt.Errorf("channel post: nothing posted: %w", err)
	}
	switch u.Type {
	case vocab.SealedType, tlog.KeyRegister, tlog.KeyRevoke:
		return problem.New(problem.Invalid, "channel post", "nothing posted: %s entries are the operator's; post an entry of the vocabulary (see `parley types`)", u.Type)
	}
	types, err := vocab.Types()
	if err != nil {
		return err
	}
	if _, err := types.Decode(&s.Entry); err != nil {
		return fmt.Errorf("channel post: nothing posted: %w", err)
	}
	var ch channelWire
	if err := c.call(ctx, http.MethodGet, "/api/v1/channels/"+id, nil, nil, &ch); err != nil {
		return fmt.Errorf("channel post: %w", err)
	}
	var recipients, missing []string
	for _, m := range ch.Members {
		if m.Recipient == "" {
			missing = append(missing, m.Account)
		}
		recipients = append(recipients, m.Recipient)
	}
	if len(missing) > 0 {
		return problem.New(problem.Conflict, "channel post", "nothing posted: %s registered no age recipient (each runs `parley channel key`)", strings.Join(missing, ", "))
	}
	commitment, ct, err := channel.Seal(s, recipients)
	if err != nil {
		return fmt.Errorf("channel post: %w", err)
	}
	in := struct {
		Epoch      int64  `json:"epoch"`
		Commitment string `json:"commitment"`
		Ciphertext string `json:"ciphertext"`
	}{ch.Epoch, commitment, base64.StdEncoding.EncodeToString(ct)}
	var out struct {
		Index int64 `json:"index"`
		Epoch int64 `json:"epoch"`
	}
	if err := c.call(ctx, http.MethodPost, "/api/v1/channels/"+id+"/entries", nil, in, &out); err != nil {
		return fmt.Errorf("channel post: %w", err)
	}
	fmt.Fprintf(e.stdout, "posted a %s entry to channel %s (epoch %d), encrypted to %s\n", u.Type, ch.ID, out.Epoch, ch.memberNames())
	fmt.Fprintf(e.stdout, "public entry %d holds its commitment %s\n", out.Index, commitment)
	return nil
}

// readEntry is one channel entry as `channel read` reports it.
type readEntry struct {
	Index    int64          `json:"index"`
	Epoch    int64          `json:"epoch"`
	Poster   string         `json:"poster"`
	Time     time.Time      `json:"time"`
	Readable bool           `json:"readable"`
	Type     string         `json:"type,omitempty"`
	Author   string         `json:"author,omitempty"`
	Holder   string         `json:"holder,omitempty"`
	Body     jsontext.Value `json:"body,omitempty"`
	// Entry is the signed inner entry, {"entry":…,"sig":…}.
	Entry jsontext.Value `json:"entry,omitempty"`
	// Problems are the checks that failed.
	Problems []string `json:"problems,omitempty"`
}

// channelRead fetches a channel's ciphertexts and decrypts them here with
// DIR/keys/ACCOUNT.age. Each entry read is checked: its commitment against
// the operator-signed sealed entry at its index on the public log, and its
// signature against its author's key as registered on the record.
func channelRead(ctx context.Context, e *env, c *apiClient, dir, id, account string, asJSON bool) error {
	path, err := identityPath(dir, account)
	if err != nil {
		return fmt.Errorf("channel read: --identity: %w", err)
	}
	file, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return problem.New(problem.NotFound, "--identity", "no age identity for %s in %s (make one with `parley channel key --as %s`)", account, filepath.Join(dir, record.KeysDir), account)
	}
	if err != nil {
		return err
	}
	ids, err := channel.ParseIdentities(file)
	if err != nil {
		return fmt.Errorf("channel read: %s: %w", path, err)
	}
	var list struct {
		Entries []sealedWire `json:"entries"`
	}
	if err := c.call(ctx, http.MethodGet, "/api/v1/channels/"+id+"/entries", nil, nil, &list); err != nil {
		return fmt.Errorf("channel read: %w", err)
	}
	var keys struct {
		Keys []keyWire `json:"keys"`
	}
	if err := c.call(ctx, http.MethodGet, "/api/v1/keys", nil, nil, &keys); err != nil {
		return fmt.Errorf("channel read: %w", err)
	}
	byID := map[string]keyWire{}
	var operator keyWire
	for _, k := range keys.Keys {
		byID[k.ID] = k
		if k.Registered == 0 {
			operator = k
		}
	}
	out := []readEntry{}
	failed := 0
	for _, x := range list.Entries {
		r := readSealed(ctx, c, x, ids, byID, operator)
		if len(r.Problems) > 0 {
			failed++
		}
		out = append(out, r)
	}
	if asJSON {
		if err := writeJSON(e.stdout, out); err != nil {
			return err
		}
	} else {
		for _, r := range out {
			printRead(e, r, account)
		}
		if len(out) == 0 {
			fmt.Fprintf(e.stdout, "channel %s has no entries\n", id)
		}
	}
	if failed > 0 {
		return problem.New(problem.Tampered, "channel read", "%d of %d entries failed their checks (see above)", failed, len(out))
	}
	return nil
}

// readSealed decrypts and checks one channel entry.
func readSealed(ctx context.Context, c *apiClient, x sealedWire, ids []age.Identity, keys map[string]keyWire, operator keyWire) readEntry {
	r := readEntry{Index: x.Index, Epoch: x.Epoch, Poster: x.Poster, Time: x.Time}
	fail := func(format string, args ...any) { r.Problems = append(r.Problems, fmt.Sprintf(format, args...)) }
	ct, err := base64.StdEncoding.DecodeString(x.Ciphertext)
	if err != nil {
		fail("the ciphertext is not base64")
		return r
	}
	o, err := channel.Open(ct, ids...)
	if errors.Is(err, channel.ErrNotForYou) {
		return r
	}
	if err != nil {
		fail("%v", err)
		return r
	}
	r.Readable = true
	s := o.Entry
	r.Type, r.Author, r.Body, r.Entry = s.Entry.Type, s.Entry.Author, s.Entry.Body, s.Leaf()

	// The commitment, against the public log.
	if o.Commitment != x.Commitment {
		fail("the plaintext's commitment %s is not the one the server lists (%s)", o.Commitment, x.Commitment)
	}
	var pub struct {
		Entry jsontext.Value `json:"entry"`
		Sig   string         `json:"sig"`
	}
	if err := c.call(ctx, http.MethodGet, fmt.Sprintf("/api/v1/entries/%d", x.Index), nil, nil, &pub); err != nil {
		fail("public entry %d: %v", x.Index, err)
	} else if p, err := entry.FromParts(pub.Entry, pub.Sig, 0); err != nil {
		fail("public entry %d: %v", x.Index, err)
	} else {
		var body vocab.Sealed
		json.Unmarshal(p.Entry.Body, &body)
		switch {
		case p.Entry.Type != vocab.SealedType:
			fail("public entry %d is a %s entry, not a sealed one", x.Index, p.Entry.Type)
		case body.Commitment != o.Commitment:
			fail("public entry %d commits to %s, not to this entry (%s)", x.Index, body.Commitment, o.Commitment)
		case operator.ID == "" || p.Entry.Author != operator.ID:
			fail("public entry %d is signed by %s, not by the operator", x.Index, p.Entry.Author)
		default:
			if err := verifyWith(p, operator); err != nil {
				fail("public entry %d: %v", x.Index, err)
			}
		}
	}

	// The signature, against the author's registered key.
	k, ok := keys[s.Entry.Author]
	switch {
	case !ok:
		fail("the author's key %s is not registered on the record", s.Entry.Author)
	case k.Registered > x.Index:
		fail("the author's key %s was registered at entry %d, after this entry (%d)", k.ID, k.Registered, x.Index)
	case k.Revoked != nil && *k.Revoked < x.Index:
		fail("the author's key %s was revoked at entry %d, before this entry (%d)", k.ID, *k.Revoked, x.Index)
	default:
		r.Holder = k.Holder
		if err := verifyWith(s, k); err != nil {
			fail("%v", err)
		}
	}
	return r
}

func verifyWith(s *entry.Signed, k keyWire) error {
	v, err := entry.NewVerifier(k.Key)
	if err != nil {
		return fmt.Errorf("key %s: %w", k.ID, err)
	}
	return s.Verify(v)
}

func printRead(e *env, r readEntry, account string) {
	fmt.Fprintf(e.stdout, "entry %d (epoch %d, posted by %s at %s): ", r.Index, r.Epoch, r.Poster, r.Time.Format(time.RFC3339))
	switch {
	case r.Readable:
		author := r.Author
		if r.Holder != "" {
			author += " (" + r.Holder + ")"
		}
		fmt.Fprintf(e.stdout, "%s by %s\n", r.Type, author)
		fmt.Fprintf(e.stdout, "  %s\n", r.Body)
	case len(r.Problems) == 0:
		fmt.Fprintf(e.stdout, "not readable with %s's key (posted after you were removed, or before you joined)\n", account)
	default:
		fmt.Fprintln(e.stdout, "not readable")
	}
	for _, p := range r.Problems {
		fmt.Fprintf(e.stdout, "  FAILED: %s\n", p)
	}
}
