package evidence

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// sizeUnits are the suffixes ParseSize takes, longest first so that "MiB"
// is not read as "B".
var sizeUnits = []struct {
	suffix string
	n      int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
	{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"T", 1 << 40},
	{"B", 1},
}

// ParseSize reads a size in bytes: a whole number, optionally followed by
// a unit: KiB, MiB, GiB, TiB (powers of 1024; K, M, G, T mean the same),
// or KB, MB, GB, TB (powers of 1000). "64MiB" and "64 MiB" are the same.
func ParseSize(v string) (int64, error) {
	s := strings.TrimSpace(v)
	mult := int64(1)
	for _, u := range sizeUnits {
		if len(s) > len(u.suffix) && strings.EqualFold(s[len(s)-len(u.suffix):], u.suffix) {
			s, mult = strings.TrimSpace(s[:len(s)-len(u.suffix)]), u.n
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not a size: give a whole number of bytes above 0, optionally with a unit such as KiB, MiB or GiB (for example 64MiB)", v)
	}
	if n > math.MaxInt64/mult {
		return 0, fmt.Errorf("%q is too large a size", v)
	}
	return n * mult, nil
}

// FormatSize writes a size in bytes the way people read it: "100 MiB",
// "1.5 GiB", "512 bytes".
func FormatSize(n int64) string {
	units := []string{"KiB", "MiB", "GiB", "TiB"}
	if n < 1<<10 {
		return fmt.Sprintf("%d bytes", n)
	}
	f, unit := float64(n)/1024, units[0]
	for _, u := range units[1:] {
		if f < 1024 {
			break
		}
		f, unit = f/1024, u
	}
	return strings.TrimSuffix(strings.TrimSuffix(strconv.FormatFloat(f, 'f', 2, 64), "0"), ".0") + " " + unit
}
