package account

import (
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"
)

// Throttled is the cause (problem.Error.Err) of a sign-in refused as
// problem.RateLimited: how long until an attempt will be heard again, for
// an HTTP server's Retry-After (round it up to whole seconds).
type Throttled struct {
	RetryAfter time.Duration
}

// Error says how long to wait, to the second.
func (t *Throttled) Error() string {
	return fmt.Sprintf("too many failed sign-ins: try again in %s", t.RetryAfter.Round(time.Second))
}

// limiterSize is how many names and addresses the limiter remembers at
// most; past it, it forgets those whose failures are oldest.
const limiterSize = 10_000

// A limiter counts failed sign-ins per key (a name or an address) in a
// sliding window, in memory. It is safe for concurrent use.
type limiter struct {
	max    int
	window time.Duration
	size   int

	mu sync.Mutex
	// fails holds, for each key, the times of its last failures within the
	// window (at most max), oldest first.
	fails map[string][]time.Time
}

func newLimiter(max int, window time.Duration, size int) *limiter {
	return &limiter{max: max, window: window, size: size, fails: map[string][]time.Time{}}
}

// acquire counts an attempt at now as a failure of each key, in advance,
// so that concurrent attempts cannot slip past the limit; release takes it
// back if the attempt did not fail. If a key already has max failures in
// the window, acquire counts nothing and returns how long until that key
// may try again. Empty keys are skipped.
func (l *limiter) acquire(now time.Time, keys ...string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	var wait time.Duration
	for _, k := range keys {
		if f := l.recent(k, now); len(f) >= l.max {
			wait = max(wait, f[len(f)-l.max].Add(l.window).Sub(now))
		}
	}
	if wait > 0 {
		return wait
	}
	for _, k := range keys {
		if k == "" {
			continue
		}
		f, known := l.fails[k]
		if !known && len(l.fails) >= l.size {
			l.evict(now)
		}
		f = append(f, now)
		if len(f) > l.max {
			f = f[len(f)-l.max:]
		}
		l.fails[k] = f
	}
	return 0
}

// release takes back the failure that acquire counted at now for each key.
func (l *limiter) release(now time.Time, keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		f := l.fails[k]
		for i := len(f) - 1; i >= 0; i-- {
			if f[i].Equal(now) {
				f = append(f[:i:i], f[i+1:]...)
				break
			}
		}
		if len(f) == 0 {
			delete(l.fails, k)
		} else {
			l.fails[k] = f
		}
	}
}

// clear forgets the failures of key.
func (l *limiter) clear(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.fails, key)
}

// recent returns the failures of key within the window before now,
// forgetting older ones. The caller holds l.mu.
func (l *limiter) recent(key string, now time.Time) []time.Time {
	f := l.fails[key]
	i := 0
	for i < len(f) && !f[i].Add(l.window).After(now) {
		i++
	}
	if i == 0 {
		return f
	}
	if f = f[i:]; len(f) == 0 {
		delete(l.fails, key)
	} else {
		l.fails[key] = f
	}
	return f
}

// evict makes room for a key: it forgets every key whose failures are all
// outside the window, and if none is, the key whose last failure is the
// oldest. The caller holds l.mu.
func (l *limiter) evict(now time.Time) {
	var (
		oldest     string
		oldestTime time.Time
	)
	for k, f := range l.fails {
		last := f[len(f)-1]
		if !last.Add(l.window).After(now) {
			delete(l.fails, k)
			continue
		}
		if oldest == "" || last.Before(oldestTime) {
			oldest, oldestTime = k, last
		}
	}
	if len(l.fails) >= l.size {
		delete(l.fails, oldest)
	}
}

// nameKey is the limiter's key for the account name a sign-in gives. A
// name longer than any account's is cut, so that it cannot fill memory.
func nameKey(name string) string {
	if len(name) > maxName+1 {
		name = name[:maxName+1]
	}
	return "name:" + name
}

// addrKey is the limiter's key for the remote address of a sign-in: the
// host without the port; for IPv6, its /64 network, which one client
// commonly holds whole. An empty remote gives no key.
func addrKey(remote string) string {
	if remote == "" {
		return ""
	}
	host := remote
	if h, _, err := net.SplitHostPort(remote); err == nil {
		host = h
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		ip = ip.Unmap().WithZone("")
		if ip.Is6() {
			p, _ := ip.Prefix(64)
			return "addr:" + p.String()
		}
		return "addr:" + ip.String()
	}
	if len(host) > 255 {
		host = host[:255]
	}
	return "addr:" + host
}
