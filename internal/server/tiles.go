package server

import (
	"encoding/binary"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"parley/internal/problem"
	"parley/internal/tlog"
)

// The log in the C2SP tlog-tiles layout (https://c2sp.org/tlog-tiles):
// GET /checkpoint, GET /tile/<L>/<N>[.p/<W>] for hash tiles of height 8 and
// GET /tile/entries/<N>[.p/<W>] for entry bundles, each entry a big-endian
// uint16 length and the entry's bytes (the signed entry exactly as the tree
// hashes it). Full tiles never change and are cached for good.

const tileWidth = 256

func (s *Server) tileCheckpoint(w http.ResponseWriter, r *http.Request) error {
	c, ok := s.rec.Log.Latest()
	if !ok {
		return problem.New(problem.NotFound, "", "the record has no checkpoint yet")
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	_, err := w.Write(c.Note)
	return err
}

// parseTileIndex reads a tile index "x001/x234/067" (groups of three
// digits, all but the last prefixed with x) and an optional ".p/W".
func parseTileIndex(path string) (n int64, width int, err error) {
	bad := problem.New(problem.NotFound, "", "%q is not a tile path (N as x001/234, optionally .p/W)", path)
	path, partial, isPartial := strings.Cut(path, ".p/")
	width = tileWidth
	if isPartial {
		w, err := strconv.Atoi(partial)
		if err != nil || strings.Trim(partial, "0123456789") != "" || w < 1 || w >= tileWidth || strconv.Itoa(w) != partial {
			return 0, 0, bad
		}
		width = w
	}
	parts := strings.Split(path, "/")
	for i, p := range parts {
		if i < len(parts)-1 {
			if !strings.HasPrefix(p, "x") {
				return 0, 0, bad
			}
			p = p[1:]
		}
		if len(p) != 3 || strings.Trim(p, "0123456789") != "" {
			return 0, 0, bad
		}
		d, err := strconv.Atoi(p)
		if err != nil || d < 0 {
			return 0, 0, bad
		}
		n = n*1000 + int64(d)
	}
	return n, width, nil
}

// tile serves a hash tile or an entry bundle.
func (s *Server) tile(w http.ResponseWriter, r *http.Request) error {
	level := r.PathValue("level")
	n, width, err := parseTileIndex(r.PathValue("path"))
	if err != nil {
		return err
	}
	size := s.rec.Log.Size()
	if level == "entries" {
		return s.entryBundle(w, r, n, width, size)
	}
	l, err := strconv.Atoi(level)
	if err != nil || l < 0 || l > 63 || strconv.Itoa(l) != level {
		return problem.New(problem.NotFound, "", "%q is not a tile level", level)
	}
	// A tile of level l holds hashes of subtrees of 256^l leaves: the tree
	// has size>>(8l) of them, and the tile exists up to there.
	have := size >> (8 * l)
	if n*tileWidth+int64(width) > have {
		return problem.New(problem.NotFound, "", "tile %d/%d of width %d is beyond the tree of size %d", l, n, width, size)
	}
	data, err := s.rec.Store().Tile(r.Context(), l, n)
	if err != nil {
		return err
	}
	if len(data) < width*32 {
		return fmt.Errorf("tile %d/%d: stored %d bytes, want %d", l, n, len(data), width*32)
	}
	setTileCache(w, width)
	w.Header().Set("Content-Type", "application/octet-stream")
	_, err = w.Write(data[:width*32])
	return err
}

func (s *Server) entryBundle(w http.ResponseWriter, r *http.Request, n int64, width int, size int64) error {
	from, to := n*tileWidth, n*tileWidth+int64(width)
	if to > size {
		return problem.New(problem.NotFound, "", "entry bundle %d of width %d is beyond the tree of size %d", n, width, size)
	}
	var out []byte
	err := s.rec.Log.Entries(r.Context(), from, to, func(ix tlog.Indexed) error {
		leaf := ix.Leaf()
		if len(leaf) > 0xffff {
			return fmt.Errorf("entry %d is %d bytes, more than an entry bundle's uint16 length holds", ix.Index, len(leaf))
		}
		out = binary.BigEndian.AppendUint16(out, uint16(len(leaf)))
		out = append(out, leaf...)
		return nil
	})
	if err != nil {
		return err
	}
	setTileCache(w, width)
	w.Header().Set("Content-Type", "application/octet-stream")
	_, err = w.Write(out)
	return err
}

// setTileCache lets full tiles be cached for good: they never change.
func setTileCache(w http.ResponseWriter, width int) {
	if width == tileWidth {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
}
