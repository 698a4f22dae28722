// Package bytesize formats byte counts for people: the one formatter every
// report of fnopt uses, so a size reads the same in build, verify, the gate,
// optimize and the benchmark.
package bytesize

import "fmt"

// Binary units: Lambda's own limits (50 MB zip, 250 MB unzipped, 10 GB
// image) are documented in MB but computed in MiB, and so are RSS figures.
const (
	KiB = 1 << 10
	MiB = 1 << 20
	GiB = 1 << 30
)

// Format renders n as "512 B", "12.3 KiB", "4.5 MiB" or "1.25 GiB": whole
// bytes below a KiB, one decimal for KiB and MiB, two for GiB (where one
// decimal would hide a 50 MiB change).
func Format(n int64) string {
	sign := ""
	if n < 0 {
		sign, n = "-", -n
	}
	switch {
	case n >= GiB:
		return fmt.Sprintf("%s%.2f GiB", sign, float64(n)/GiB)
	case n >= MiB:
		return fmt.Sprintf("%s%.1f MiB", sign, float64(n)/MiB)
	case n >= KiB:
		return fmt.Sprintf("%s%.1f KiB", sign, float64(n)/KiB)
	}
	return fmt.Sprintf("%s%d B", sign, n)
}

// Float formats a byte figure that is a statistic (a median or mean of
// samples), rounded to whole bytes first.
func Float(v float64) string {
	if v < 0 {
		return Format(int64(v - 0.5))
	}
	return Format(int64(v + 0.5))
}
