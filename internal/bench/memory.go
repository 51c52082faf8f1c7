package bench

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// A memoryWatch samples the heap every few milliseconds while a step runs.
type memoryWatch struct {
	stop, done chan struct{}
	// resetRSS says whether the kernel's high-water mark of the resident
	// size was reset at the start, so that maxRSS covers the step alone.
	resetRSS bool
	peak     memoryPeak
}

// memoryPeak is the most memory a step used.
type memoryPeak struct {
	live  uint64 // live heap, as of the garbage collections during the step
	heap  uint64 // heap objects, live or not yet collected
	rss   uint64 // resident size, from getrusage (0 if unknown)
	ofRun bool   // rss is the whole run's peak, not the step's
}

// watchMemory collects garbage, returns memory to the system, resets the
// resident high-water mark where Linux allows, and starts sampling.
func watchMemory() *memoryWatch {
	runtime.GC()
	debug.FreeOSMemory()
	m := &memoryWatch{stop: make(chan struct{}), done: make(chan struct{})}
	// Writing 5 to clear_refs resets the peak resident size (Linux 4.0+).
	m.resetRSS = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
	go m.run()
	return m
}

func (m *memoryWatch) run() {
	defer close(m.done)
	samples := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/memory/classes/heap/objects:bytes"}}
	t := time.NewTicker(2 * time.Millisecond)
	defer t.Stop()
	for {
		metrics.Read(samples)
		m.peak.live = max(m.peak.live, samples[0].Value.Uint64())
		m.peak.heap = max(m.peak.heap, samples[1].Value.Uint64())
		select {
		case <-t.C:
		case <-m.stop:
			return
		}
	}
}

// end stops sampling and returns the peaks.
func (m *memoryWatch) end() memoryPeak {
	close(m.stop)
	<-m.done
	m.peak.rss = maxRSS()
	m.peak.ofRun = !m.resetRSS
	return m.peak
}
