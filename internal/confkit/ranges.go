package confkit

import (
	"fmt"
	"math"
	"time"
)

// CheckInt adds a problem for key unless lo <= v <= hi. The problem says
// which bound v crosses and the allowed range.
func (es *Errors) CheckInt(key string, v, lo, hi int64) {
	switch {
	case v < 0 && lo == 0:
		es.Add(key, fmt.Sprintf("must not be negative, got %d (allowed: 0 to %d)", v, hi))
	case v < lo:
		es.Add(key, fmt.Sprintf("must be at least %d, got %d (allowed: %d to %d)", lo, v, lo, hi))
	case v > hi:
		es.Add(key, fmt.Sprintf("must be at most %d, got %d (allowed: %d to %d)", hi, v, lo, hi))
	}
}

// CheckFloat adds a problem for key unless v is a finite number with
// lo <= v <= hi.
func (es *Errors) CheckFloat(key string, v, lo, hi float64) {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		es.Add(key, fmt.Sprintf("must be a finite number, got %g", v))
	case v < 0 && lo == 0:
		es.Add(key, fmt.Sprintf("must not be negative, got %g (allowed: 0 to %g)", v, hi))
	case v < lo:
		es.Add(key, fmt.Sprintf("must be at least %g, got %g (allowed: %g to %g)", lo, v, lo, hi))
	case v > hi:
		es.Add(key, fmt.Sprintf("must be at most %g, got %g (allowed: %g to %g)", hi, v, lo, hi))
	}
}

// CheckDuration adds a problem for key unless lo <= d <= hi.
func (es *Errors) CheckDuration(key string, d, lo, hi time.Duration) {
	switch {
	case d < 0 && lo == 0:
		es.Add(key, fmt.Sprintf("must not be negative, got %s (allowed: 0s to %s)", FormatDuration(d), FormatDuration(hi)))
	case d < lo:
		es.Add(key, fmt.Sprintf("must be at least %s, got %s (allowed: %s to %s)", FormatDuration(lo), FormatDuration(d), FormatDuration(lo), FormatDuration(hi)))
	case d > hi:
		es.Add(key, fmt.Sprintf("must be at most %s, got %s (allowed: %s to %s)", FormatDuration(hi), FormatDuration(d), FormatDuration(lo), FormatDuration(hi)))
	}
}

// CheckPositiveDuration adds a problem for key unless 0 < d <= hi.
func (es *Errors) CheckPositiveDuration(key string, d, hi time.Duration) {
	switch {
	case d <= 0:
		es.Add(key, fmt.Sprintf("must be greater than 0, got %s (allowed: up to %s)", FormatDuration(d), FormatDuration(hi)))
	case d > hi:
		es.Add(key, fmt.Sprintf("must be at most %s, got %s (allowed: greater than 0, up to %s)", FormatDuration(hi), FormatDuration(d), FormatDuration(hi)))
	}
}
