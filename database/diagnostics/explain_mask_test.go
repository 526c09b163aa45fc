package diagnostics_test

import (
	"testing"

	"socialpredict/database/diagnostics"
)

func TestMaskConstants(t *testing.T) {
	for in, want := range map[string]string{
		"(email = 'a@b.c'::text)":          "(email = ?::text)",
		"((id > 42) AND (price < 1.5))":    "((id > ?) AND (price < ?))",
		"(name = 'it''s'::text)":           "(name = ?::text)",
		"(t1.col2 = $1)":                   "(t1.col2 = $1)",
		`("Order" = 'x'::text)`:            `("Order" = ?::text)`,
		"(id = ANY ('{1,2,3}'::bigint[]))": "(id = ANY (?::bigint[]))",
		"(note = E'a\\'b'::text)":          "(note = ?::text)",
		"(note = $q$secret$q$)":            "(note = ?)",
		"(NOT (hashed SubPlan 1))":         "(NOT (hashed SubPlan 1))",
		"(x = 'unterminated":               "(x = ?",
		"((created_at >= '2024-01-01 00:00:00+00'::timestamp with time zone))": "((created_at >= ?::timestamp with time zone))",
	} {
		if got := diagnostics.MaskConstants(in); got != want {
			t.Errorf("MaskConstants(%q) = %q, want %q", in, got, want)
		}
	}
}
