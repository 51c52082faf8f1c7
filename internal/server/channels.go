package server

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"parley/internal/channel"
	"parley/internal/problem"
	"parley/internal/store"
	"parley/internal/vocab"
)

// Confidential channels. A channel's name and members are kept by the
// server, off the log. Members post entries encrypted (with age) to every
// member; the server keeps the ciphertexts, which it cannot read, and the
// operator appends for each a public sealed entry holding only a
// commitment to it. To anyone but a member, a channel and everything under
// it does not exist: the answer is 404, never 403.

// sealedType is the type only the operator appends (see maySubmit).
const sealedType = vocab.SealedType

// channelID is what a channel's id looks like: 16 lower-case hex digits.
var channelID = regexp.MustCompile(`^[0-9a-f]{16}$`)

// Limits on a channel.
const (
	maxChannelName = 100
	maxMembers     = 100
)

// ChannelJSON is a channel as its members see it.
type ChannelJSON struct {
	ID      string       `json:"id"`
	Name    string       `json:"name"`
	Creator string       `json:"creator"`
	Created time.Time    `json:"created"`
	Epoch   int64        `json:"epoch"`
	Members []MemberJSON `json:"members"`
}

// MemberJSON is a member of a channel, with the age recipient to encrypt
// to ("" if the account has registered none yet).
type MemberJSON struct {
	Account   string    `json:"account"`
	Recipient string    `json:"recipient,omitempty"`
	Since     time.Time `json:"since"`
}

func channelJSON(c store.Channel) ChannelJSON {
	out := ChannelJSON{ID: c.ID, Name: c.Name, Creator: c.Creator, Created: c.Created, Epoch: c.Epoch, Members: []MemberJSON{}}
	for _, m := range c.Members {
		out.Members = append(out.Members, MemberJSON{Account: m.Account, Recipient: m.Recipient, Since: m.Since})
	}
	return out
}

// NewChannel is the body of POST /api/v1/channels. The creator is always a
// member, named in Members or not.
type NewChannel struct {
	Name    string   `json:"name"`
	Members []string `json:"members"`
}

// NewMember is the body of POST /api/v1/channels/{id}/members.
type NewMember struct {
	Account string `json:"account"`
}

// SealedPost is the body of POST /api/v1/channels/{id}/entries: an entry
// signed, committed to and encrypted by its author.
type SealedPost struct {
	// Epoch is the channel's epoch the ciphertext was encrypted for.
	Epoch int64 `json:"epoch"`
	// Commitment is hex(SHA-256(salt || the inner entry's leaf bytes)).
	Commitment string `json:"commitment"`
	// Ciphertext is a binary age file, in standard base64, encrypted to
	// every member's recipient.
	Ciphertext string `json:"ciphertext"`
}

// SealedPosted says where a posted entry's commitment went.
type SealedPosted struct {
	Index      int64  `json:"index"`
	Epoch      int64  `json:"epoch"`
	Commitment string `json:"commitment"`
}

// SealedJSON is an entry posted to a channel, as its members fetch it.
type SealedJSON struct {
	Index      int64     `json:"index"`
	Epoch      int64     `json:"epoch"`
	Poster     string    `json:"poster"`
	Time       time.Time `json:"time"`
	Commitment string    `json:"commitment"`
	Ciphertext string    `json:"ciphertext"`
}

func sealedJSON(x store.Sealed) SealedJSON {
	return SealedJSON{Index: x.Index, Epoch: x.Epoch, Poster: x.Poster, Time: x.Posted, Commitment: x.Commitment,
		Ciphertext: base64.StdEncoding.EncodeToString(x.Ciphertext)}
}

// noChannel is the one answer to anyone who may not see a channel, whether
// it exists or not.
func noChannel(id string) error {
	return problem.New(problem.NotFound, "", "no such channel %.40q", id)
}

// channelOf returns the channel named in the path if the caller is one of
// its members.
func (s *Server) channelOf(r *http.Request) (store.Channel, error) {
	c := callerOf(r.Context())
	id := r.PathValue("id")
	if c.anonymous() || !channelID.MatchString(id) {
		return store.Channel{}, noChannel(id)
	}
	ch, err := s.rec.Store().Channel(r.Context(), id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return store.Channel{}, noChannel(id)
	case err != nil:
		return store.Channel{}, err
	case !ch.Has(c.account.Name):
		return store.Channel{}, noChannel(id)
	}
	return ch, nil
}

// checkChannelName requires 1 to 100 characters, none a control character.
func checkChannelName(name string) error {
	n := utf8.RuneCountInString(name)
	switch {
	case strings.TrimSpace(name) == "":
		return problem.New(problem.Invalid, "name", "a channel needs a name, such as \"security guarantees\"")
	case !utf8.ValidString(name):
		return problem.New(problem.Invalid, "name", "the name is not valid UTF-8")
	case n > maxChannelName:
		return problem.New(problem.Invalid, "name", "the name is %d characters long; at most %d", n, maxChannelName)
	case strings.ContainsFunc(name, unicode.IsControl):
		return problem.New(problem.Invalid, "name", "the name has a control character in it")
	}
	return nil
}

// existing checks that account names an account, for the body field where.
func (s *Server) existing(r *http.Request, where, account string) error {
	if _, err := s.accounts.Get(r.Context(), account); err != nil {
		if problem.KindOf(err) == problem.NotFound {
			return problem.New(problem.Invalid, where, "there is no account called %.80q", account)
		}
		return err
	}
	return nil
}

func (s *Server) createChannel(w http.ResponseWriter, r *http.Request) error {
	c := callerOf(r.Context())
	var in NewChannel
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := checkChannelName(in.Name); err != nil {
		return err
	}
	if len(in.Members) > maxMembers {
		return problem.New(problem.Invalid, "members", "%d members; a channel has at most %d", len(in.Members), maxMembers)
	}
	members := []string{c.account.Name}
	for i, m := range in.Members {
		if slices.Contains(members, m) {
			continue
		}
		if err := s.existing(r, fmt.Sprintf("members/%d", i), m); err != nil {
			return err
		}
		members = append(members, m)
	}
	if len(members) > maxMembers {
		return problem.New(problem.Invalid, "members", "%d members with you; a channel has at most %d", len(members), maxMembers)
	}
	b := make([]byte, 8)
	rand.Read(b)
	now := s.rec.Log.Now().Truncate(time.Microsecond)
	ch := store.Channel{ID: hex.EncodeToString(b), Name: in.Name, Creator: c.account.Name, Created: now, Epoch: 1}
	for _, m := range members {
		ch.Members = append(ch.Members, store.ChannelMember{Account: m, Since: now})
	}
	if err := s.rec.Store().CreateChannel(r.Context(), ch); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return problem.New(problem.Conflict, "members", "a member's account was removed meanwhile; try again")
		}
		return err
	}
	ch, err := s.rec.Store().Channel(r.Context(), ch.ID)
	if err != nil {
		return err
	}
	s.log.InfoContext(r.Context(), "channel created", "by", c.account.Name, "channel", ch.ID, "members", len(ch.Members))
	return writeJSON(w, http.StatusCreated, channelJSON(ch))
}

func (s *Server) listChannels(w http.ResponseWriter, r *http.Request) error {
	c := callerOf(r.Context())
	cs, err := s.rec.Store().ChannelsOf(r.Context(), c.account.Name)
	if err != nil {
		return err
	}
	out := []ChannelJSON{}
	for _, ch := range cs {
		out = append(out, channelJSON(ch))
	}
	return writeJSON(w, http.StatusOK, map[string]any{"channels": out})
}

func (s *Server) getChannel(w http.ResponseWriter, r *http.Request) error {
	ch, err := s.channelOf(r)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, channelJSON(ch))
}

// addMember adds an account to a channel. The epoch stays: the new member
// can read what is posted from now on, not what was posted before.
func (s *Server) addMember(w http.ResponseWriter, r *http.Request) error {
	ch, err := s.channelOf(r)
	if err != nil {
		return err
	}
	var in NewMember
	if err := decode(r, &in); err != nil {
		return err
	}
	if ch.Has(in.Account) {
		return problem.New(problem.Conflict, "account", "%s is a member already", in.Account)
	}
	if len(ch.Members) >= maxMembers {
		return problem.New(problem.Conflict, "account", "the channel has %d members, the most it may have", len(ch.Members))
	}
	if err := s.existing(r, "account", in.Account); err != nil {
		return err
	}
	ch, err = s.rec.Store().AddMember(r.Context(), ch.ID, in.Account, s.rec.Log.Now().Truncate(time.Microsecond))
	switch {
	case errors.Is(err, store.ErrConflict):
		return problem.New(problem.Conflict, "account", "%s is a member already", in.Account)
	case errors.Is(err, store.ErrNotFound):
		return noChannel(r.PathValue("id"))
	case err != nil:
		return err
	}
	s.log.InfoContext(r.Context(), "channel member added", "by", callerOf(r.Context()).account.Name, "channel", ch.ID, "account", in.Account)
	return writeJSON(w, http.StatusOK, channelJSON(ch))
}

// removeMember removes an account from a channel (a member may remove
// themself) and rotates the channel's key: the epoch advances, and what is
// posted from now on is encrypted to the remaining members only.
func (s *Server) removeMember(w http.ResponseWriter, r *http.Request) error {
	ch, err := s.channelOf(r)
	if err != nil {
		return err
	}
	account := r.PathValue("account")
	if !ch.Has(account) {
		return problem.New(problem.NotFound, "account", "%.80q is not a member of this channel", account)
	}
	if len(ch.Members) == 1 {
		return problem.New(problem.Conflict, "account", "%s is the channel's last member; a channel keeps at least one", account)
	}
	ch, err = s.rec.Store().RemoveMember(r.Context(), ch.ID, account)
	switch {
	case errors.Is(err, store.ErrConflict):
		return problem.New(problem.Conflict, "account", "%s is the channel's last member; a channel keeps at least one", account)
	case errors.Is(err, store.ErrNotFound):
		return problem.New(problem.NotFound, "account", "%.80q is not a member of this channel", account)
	case err != nil:
		return err
	}
	s.log.InfoContext(r.Context(), "channel member removed", "by", callerOf(r.Context()).account.Name, "channel", ch.ID,
		"account", account, "epoch", ch.Epoch)
	return writeJSON(w, http.StatusOK, channelJSON(ch))
}

// postSealed takes an entry a member signed, committed to and encrypted to
// every member; the operator appends its commitment to the public log, and
// the server keeps the ciphertext. The server never sees the plaintext:
// it checks what it can, the shape of the commitment and of the age file,
// the epoch, and that the file has one recipient per member.
func (s *Server) postSealed(w http.ResponseWriter, r *http.Request) error {
	ch, err := s.channelOf(r)
	if err != nil {
		return err
	}
	c := callerOf(r.Context())
	var in SealedPost
	if err := decode(r, &in); err != nil {
		return err
	}
	if !vocab.IsCommitment(in.Commitment) {
		return problem.New(problem.Invalid, "commitment", "give hex(SHA-256(salt || leaf)): 64 lower-case hex digits, not %.80q", in.Commitment)
	}
	ct, err := base64.StdEncoding.Strict().DecodeString(in.Ciphertext)
	if err != nil {
		return problem.New(problem.Invalid, "ciphertext", "not standard base64: give the binary age file in standard base64, with padding")
	}
	n, err := channel.Recipients(ct)
	if err != nil {
		return problem.New(problem.Invalid, "ciphertext", "%v", err)
	}
	if in.Epoch != ch.Epoch {
		return problem.New(problem.Conflict, "epoch", "the channel is at epoch %d, not %d: its members changed; fetch the channel again (GET /api/v1/channels/%s) and encrypt to its members", ch.Epoch, in.Epoch, ch.ID)
	}
	var missing []string
	for _, m := range ch.Members {
		if m.Recipient == "" {
			missing = append(missing, m.Account)
		}
	}
	if len(missing) > 0 {
		verb := "have"
		if len(missing) == 1 {
			verb = "has"
		}
		return problem.New(problem.Conflict, "members", "%s %s registered no age recipient, so nothing can be posted to the channel: each member registers one with PUT /api/v1/account/recipient (parley channel key)",
			strings.Join(missing, ", "), verb)
	}
	if n != len(ch.Members) {
		return problem.New(problem.Conflict, "ciphertext", "encrypted to %d recipients, but the channel has %d members: fetch the channel again (GET /api/v1/channels/%s) and encrypt to every member's recipient", n, len(ch.Members), ch.ID)
	}
	s.inflight.Add(1)
	a, err := s.rec.Seal(r.Context(), in.Commitment)
	s.inflight.Done()
	if err != nil {
		return err
	}
	s.metrics.appended.Inc()
	posted := s.rec.Log.Now()
	if ix, err := s.rec.Log.Entry(r.Context(), a.Index); err == nil {
		posted = ix.Entry.Recorded
	}
	err = s.rec.Store().AddSealed(r.Context(), store.Sealed{Index: a.Index, Channel: ch.ID, Epoch: in.Epoch, Poster: c.account.Name,
		Commitment: in.Commitment, Ciphertext: ct, Posted: posted})
	if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
		// The members changed between the checks and now: the ciphertext
		// may be readable by someone just removed, so it is not kept. The
		// commitment stays on the log, as everything does.
		s.log.WarnContext(r.Context(), "sealed entry not kept: the channel changed while posting", "channel", ch.ID, "entry", a.Index, "err", err)
		return problem.New(problem.Conflict, "epoch", "the channel's members changed while the entry was posted: its commitment is on the log at entry %d, but the ciphertext was not kept; fetch the channel again and post again", a.Index)
	}
	if err != nil {
		return err
	}
	s.log.InfoContext(r.Context(), "sealed entry posted", "by", c.account.Name, "channel", ch.ID, "entry", a.Index, "epoch", in.Epoch)
	return writeJSON(w, http.StatusCreated, SealedPosted{Index: a.Index, Epoch: in.Epoch, Commitment: in.Commitment})
}

func (s *Server) listSealed(w http.ResponseWriter, r *http.Request) error {
	ch, err := s.channelOf(r)
	if err != nil {
		return err
	}
	xs, err := s.rec.Store().SealedEntries(r.Context(), ch.ID)
	if err != nil {
		return err
	}
	out := []SealedJSON{}
	for _, x := range xs {
		out = append(out, sealedJSON(x))
	}
	return writeJSON(w, http.StatusOK, map[string]any{"entries": out})
}

func (s *Server) getSealed(w http.ResponseWriter, r *http.Request) error {
	ch, err := s.channelOf(r)
	if err != nil {
		return err
	}
	v := r.PathValue("index")
	i, err := strconv.ParseInt(v, 10, 64)
	if err != nil || i < 0 {
		return problem.New(problem.Invalid, "index", "%.40q is not an entry index", v)
	}
	x, err := s.rec.Store().SealedEntry(r.Context(), ch.ID, i)
	if errors.Is(err, store.ErrNotFound) {
		return problem.New(problem.NotFound, "index", "entry %d was not posted to this channel", i)
	}
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, sealedJSON(x))
}
