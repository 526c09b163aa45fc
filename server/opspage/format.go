package opspage

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// The formats of the page's numbers. assets/static/page.js formats the
// refreshed values the same way (function fmt there): keep them in step.

// fmtInt renders an integer with thousands separators: "20,000".
func fmtInt(v any) string {
	n, ok := asFloat(v)
	if !ok {
		return "—"
	}
	s := strconv.FormatInt(int64(math.Round(n)), 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// fmtBytes renders a size: "512 B", "1.5 kB", "12.3 MB".
func fmtBytes(v any) string {
	n, ok := asFloat(v)
	if !ok {
		return "—"
	}
	if math.Abs(n) < 1024 {
		return fmt.Sprintf("%d B", int64(n))
	}
	units := []string{"kB", "MB", "GB", "TB", "PB"}
	i := -1
	for math.Abs(n) >= 1024 && i < len(units)-1 {
		n /= 1024
		i++
	}
	return fmt.Sprintf("%.1f %s", n, units[i])
}

// fmtDur renders nanoseconds: "0 s", "850 µs", "12 ms", "30 s", "4.2 s", "3m 20s",
// "5h 2m", "3d 4h".
func fmtDur(v any) string {
	n, ok := asFloat(v)
	if !ok {
		return "—"
	}
	return fmtSeconds(n / 1e9)
}

// fmtSeconds renders seconds as fmtDur does.
func fmtSeconds(s float64) string {
	switch {
	case s == 0:
		return "0 s"
	case s < 0.001:
		return fmt.Sprintf("%d µs", int64(math.Round(s*1e6)))
	case s < 1:
		return fmt.Sprintf("%d ms", int64(math.Round(s*1e3)))
	case s < 60 && s == math.Trunc(s):
		return fmt.Sprintf("%d s", int64(s))
	case s < 60:
		return fmt.Sprintf("%.1f s", s)
	}
	t := int64(s)
	switch {
	case t < 3600:
		return fmt.Sprintf("%dm %ds", t/60, t%60)
	case t < 86400:
		return fmt.Sprintf("%dh %dm", t/3600, t%3600/60)
	}
	return fmt.Sprintf("%dd %dh", t/86400, t%86400/3600)
}

// fmtMS renders milliseconds: "0.42 ms", "12.3 ms", "4.2 s".
func fmtMS(v any) string {
	n, ok := asFloat(v)
	if !ok {
		return "—"
	}
	switch {
	case n < 1:
		return fmt.Sprintf("%.2f ms", n)
	case n < 1000:
		return fmt.Sprintf("%.1f ms", n)
	}
	return fmtSeconds(n / 1000)
}

// fmtPct renders a percentage: "95.0%".
func fmtPct(v any) string {
	n, ok := asFloat(v)
	if !ok {
		return "—"
	}
	return fmt.Sprintf("%.1f%%", n)
}

// fmtAgo renders a time relative to now: "12s ago", "never".
func fmtAgo(v any, now time.Time) string {
	t, ok := asTime(v)
	if !ok {
		return "never"
	}
	d := now.Sub(t).Seconds()
	if d < 0 {
		d = 0
	}
	switch {
	case d < 60:
		return fmt.Sprintf("%ds ago", int64(d))
	case d < 3600:
		return fmt.Sprintf("%dm ago", int64(d/60))
	case d < 86400:
		return fmt.Sprintf("%dh ago", int64(d/3600))
	}
	return fmt.Sprintf("%dd ago", int64(d/86400))
}

// fmtTime renders a time in UTC: "2024-05-01 12:00:00 UTC".
func fmtTime(v any) string {
	t, ok := asTime(v)
	if !ok {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05") + " UTC"
}

// fmtBool renders yes or no.
func fmtBool(v bool) string {
	if v {
		return "yes"
	}
	return "no"
}

// asFloat reads a number of any type (nil pointers: false).
func asFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case int32:
		return float64(x), true
	case float64:
		return x, true
	case time.Duration:
		return float64(x), true
	case *int64:
		if x != nil {
			return float64(*x), true
		}
	case *float64:
		if x != nil {
			return *x, true
		}
	case *time.Duration:
		if x != nil {
			return float64(*x), true
		}
	}
	return 0, false
}

// asTime reads a time or a non-nil *time.Time (the zero time: false).
func asTime(v any) (time.Time, bool) {
	switch x := v.(type) {
	case time.Time:
		return x, !x.IsZero()
	case *time.Time:
		if x != nil {
			return *x, !x.IsZero()
		}
	}
	return time.Time{}, false
}
