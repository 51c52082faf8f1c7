package tlog

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	fmtlog "github.com/transparency-dev/formats/log"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"parley/internal/problem"
)

// A Checkpoint is the operator's signed statement of the tree's size and root
// hash, in the C2SP tlog-checkpoint format. One extension line, "time
// RFC3339", records when it was issued; readers of the format ignore it.
type Checkpoint struct {
	Origin string
	Size   int64
	Root   tlog.Hash
	Time   time.Time
	Note   []byte // the signed note, exactly as issued
}

// signCheckpoint makes and signs the checkpoint for a tree.
func signCheckpoint(origin string, size int64, root tlog.Hash, at time.Time, signer note.Signer) (Checkpoint, error) {
	c := fmtlog.Checkpoint{Origin: origin, Size: uint64(size), Hash: root[:]}
	text := string(c.Marshal()) + "time " + at.UTC().Format(time.RFC3339Nano) + "\n"
	msg, err := note.Sign(&note.Note{Text: text}, signer)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("sign checkpoint %d: %w", size, err)
	}
	return Checkpoint{Origin: origin, Size: size, Root: root, Time: at.UTC(), Note: msg}, nil
}

// OpenCheckpoint checks a signed checkpoint note against the operator's key
// and the expected origin, and parses it. It is strict: the note must carry
// exactly the operator's signature, in strict base64, so one checkpoint has
// exactly one text.
func OpenCheckpoint(msg []byte, operator note.Verifier, origin string) (Checkpoint, error) {
	n, err := note.Open(msg, note.VerifierList(operator))
	if err != nil {
		return Checkpoint{}, problem.New(problem.Tampered, "", "checkpoint signature: %v", err)
	}
	if len(n.UnverifiedSigs) > 0 || len(n.Sigs) != 1 {
		return Checkpoint{}, problem.New(problem.Tampered, "", "checkpoint must carry exactly one signature, the operator's")
	}
	if _, err := base64.StdEncoding.Strict().DecodeString(n.Sigs[0].Base64); err != nil {
		return Checkpoint{}, problem.New(problem.Tampered, "", "checkpoint signature is not strict base64")
	}
	var c fmtlog.Checkpoint
	rest, err := c.Unmarshal([]byte(n.Text))
	if err != nil {
		return Checkpoint{}, problem.New(problem.Invalid, "", "checkpoint: %v", err)
	}
	if c.Origin != origin {
		return Checkpoint{}, problem.New(problem.Tampered, "", "checkpoint is for origin %q, not %q", c.Origin, origin)
	}
	if len(c.Hash) != tlog.HashSize {
		return Checkpoint{}, problem.New(problem.Invalid, "", "checkpoint root hash is %d bytes, not %d", len(c.Hash), tlog.HashSize)
	}
	if !bytes.Equal(c.Marshal(), []byte(n.Text)[:len(n.Text)-len(rest)]) {
		return Checkpoint{}, problem.New(problem.Tampered, "", "checkpoint is not in canonical form")
	}
	out := Checkpoint{Origin: c.Origin, Size: int64(c.Size), Note: msg}
	copy(out.Root[:], c.Hash)
	for _, line := range strings.Split(strings.TrimSuffix(string(rest), "\n"), "\n") {
		if v, ok := strings.CutPrefix(line, "time "); ok {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return Checkpoint{}, problem.New(problem.Invalid, "", "checkpoint time %q: %v", v, err)
			}
			out.Time = t
		}
	}
	return out, nil
}
