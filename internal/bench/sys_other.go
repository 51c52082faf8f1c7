//go:build !unix

package bench

import "time"

// maxRSS is unknown where there is no getrusage.
func maxRSS() uint64 { return 0 }

// selfCPU is unknown where there is no getrusage.
func selfCPU() (time.Duration, bool) { return 0, false }
