package report

import (
	"fmt"
	"math"
	"time"
)

// secs renders a time on the run's clock (ns) as seconds for people: "12.4 s".
func secs(ns int64) string {
	s := float64(ns) / 1e9
	switch {
	case math.Abs(s) >= 100:
		return fmt.Sprintf("%.0f s", s)
	case math.Abs(s) >= 10:
		return fmt.Sprintf("%.1f s", s)
	default:
		return fmt.Sprintf("%.2f s", s)
	}
}

// span renders a duration in ns compactly: "350 ms", "1.2 s", "2m0s".
func span(ns int64) string {
	d := time.Duration(ns)
	switch {
	case d < time.Microsecond:
		return fmt.Sprintf("%d ns", ns)
	case d < time.Millisecond:
		return fmt.Sprintf("%.0f µs", float64(ns)/1e3)
	case d < time.Second:
		return fmt.Sprintf("%.0f ms", float64(ns)/1e6)
	case d < time.Minute:
		return fmt.Sprintf("%.1f s", float64(ns)/1e9)
	}
	return d.Round(time.Second).String()
}

func percent(f float64) string {
	if math.IsNaN(f) {
		return "–"
	}
	return fmt.Sprintf("%.1f%%", 100*f)
}

// ByteSize renders a file size for people: "1.2 MiB".
func ByteSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
