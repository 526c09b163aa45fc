package models

import (
	"strings"
	"time"
	"unicode/utf8"
)

// MaxAmount is the largest amount of credits one bet, balance change or
// setting may carry: far above any play-money economy, and small enough that
// sums of thousands of them cannot overflow int64 on either engine.
const MaxAmount int64 = 1_000_000_000_000_000

// MinTime and MaxTime bound every time a user can set (a market's closing
// time, list filters): both engines store and read back every time between
// them (SQLite keeps times as text with a four-digit year).
var (
	MinTime = time.Date(1, time.January, 1, 0, 0, 0, 0, time.UTC)
	MaxTime = time.Date(9999, time.December, 31, 23, 59, 59, 0, time.UTC)
)

// TimeProblem describes why t cannot be stored, or returns "".
func TimeProblem(t time.Time) string {
	if t.Before(MinTime) || t.After(MaxTime) {
		return "must be between " + MinTime.Format(time.RFC3339) + " and " + MaxTime.Format(time.RFC3339) + ", got " + t.UTC().Format(time.RFC3339)
	}
	return ""
}

// TextProblem describes why s cannot be stored as text on both engines (a
// NUL byte, which PostgreSQL refuses, or bytes that are not UTF-8), or
// returns "".
func TextProblem(s string) string {
	switch {
	case !utf8.ValidString(s):
		return "must be valid UTF-8"
	case strings.IndexByte(s, 0) >= 0:
		return "must not contain a NUL byte"
	}
	return ""
}
