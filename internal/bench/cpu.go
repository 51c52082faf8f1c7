package bench

import (
	"os"
	"strconv"
	"strings"
	"time"
)

// A cpuMeter tells how much of the machine's CPU other processes took
// during a step: on a shared machine they slow the figures down, and the
// reader should know.
type cpuMeter struct {
	busy, total time.Duration // machine-wide, from /proc/stat
	self        time.Duration // this process, from getrusage
	ok          bool
}

func startCPU() cpuMeter {
	busy, total, ok1 := machineCPU()
	self, ok2 := selfCPU()
	return cpuMeter{busy: busy, total: total, self: self, ok: ok1 && ok2}
}

// others returns the share of the machine's CPU time, since start, that
// went to other processes.
func (m cpuMeter) others() (float64, bool) {
	busy, total, ok1 := machineCPU()
	self, ok2 := selfCPU()
	if !m.ok || !ok1 || !ok2 || total <= m.total {
		return 0, false
	}
	other := (busy - m.busy) - (self - m.self)
	return max(0, float64(other)/float64(total-m.total)), true
}

// machineCPU reads the time all CPUs spent busy and in all, where Linux says.
func machineCPU() (busy, total time.Duration, ok bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, false
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0, 0, false
	}
	// user nice system idle iowait irq softirq steal, in ticks of 1/100 s.
	var t [8]int64
	for i := range t {
		if t[i], err = strconv.ParseInt(f[i+1], 10, 64); err != nil {
			return 0, 0, false
		}
	}
	tick := 10 * time.Millisecond
	busyTicks := t[0] + t[1] + t[2] + t[5] + t[6] + t[7]
	return time.Duration(busyTicks) * tick, time.Duration(busyTicks+t[3]+t[4]) * tick, true
}
