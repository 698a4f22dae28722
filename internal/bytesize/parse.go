package bytesize

import (
	"errors"
	"math"
	"strconv"
	"strings"
)

// units are the suffixes Parse accepts, as dive's thresholds
// (go-humanize) spell them: SI (1000) and binary (1024) multiples.
var units = map[string]float64{
	"": 1, "b": 1,
	"kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12,
	"k": 1e3, "m": 1e6, "g": 1e9, "t": 1e12,
	"kib": KiB, "mib": MiB, "gib": GiB, "tib": 1 << 40,
}

// ErrSize is wrapped by Parse's errors.
var ErrSize = errors.New("not a size: give bytes, such as 20000000, 20MB or 19MiB")

// Parse reads a byte count written as a person or a dive CI file writes
// it: "1048576", "20MB" (10^6), "19.5 MiB" (2^20), case-insensitive.
func Parse(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	i := strings.IndexFunc(t, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	num, unit := t, ""
	if i >= 0 {
		num, unit = t[:i], strings.TrimSpace(t[i:])
	}
	mult, ok := units[unit]
	v, err := strconv.ParseFloat(num, 64)
	// float64(math.MaxInt64) is 2^63, one past the largest int64 (and
	// +Inf compares above it too).
	if !ok || err != nil || v < 0 || v*mult >= math.MaxInt64 {
		return 0, ErrSize
	}
	return int64(math.Round(v * mult)), nil
}
