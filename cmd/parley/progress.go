package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// progress draws a progress bar on a terminal, and nothing when the output
// is piped or redirected.
type progress struct {
	w            io.Writer // nil when not a terminal
	total        int64     // bytes (or entries, with countEntries); 0 if unknown
	countEntries bool
	start        time.Time
	mu           sync.Mutex
	last         time.Time
	drawn        bool
}

func newProgress(w io.Writer, totalBytes int64) *progress {
	p := &progress{total: totalBytes, start: time.Now()}
	if isTerminal(w) {
		p.w = w
	}
	return p
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// update is called by the verifier with entries checked and bytes read.
func (p *progress) update(entries, bytes int64) {
	if p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if now.Sub(p.last) < 100*time.Millisecond {
		return
	}
	p.last = now
	done := bytes
	if p.countEntries {
		done = entries
	}
	rate := float64(entries) / now.Sub(p.start).Seconds()
	line := fmt.Sprintf("%d entries, %.0f/s", entries, rate)
	if p.total > 0 {
		frac := min(float64(done)/float64(p.total), 1)
		const width = 30
		n := int(frac * width)
		line = fmt.Sprintf("[%s%s] %3.0f%%  %s", strings.Repeat("#", n), strings.Repeat(".", width-n), frac*100, line)
	}
	fmt.Fprintf(p.w, "\r%s\033[K", line)
	p.drawn = true
}

// done clears the bar.
func (p *progress) done() {
	if p.w != nil && p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
