package diagnostics

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestHealthTruncate(t *testing.T) {
	long := strings.Repeat("é", healthQueryLen+1)
	tests := []struct {
		name, in, want string
	}{
		{name: "short", in: "SELECT 1", want: "SELECT 1"},
		{name: "exactly the limit", in: strings.Repeat("x", healthQueryLen), want: strings.Repeat("x", healthQueryLen)},
		{name: "multi-byte over the limit", in: long, want: strings.Repeat("é", healthQueryLen) + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := truncateQuery(tt.in); got != tt.want {
				t.Errorf("truncateQuery(%d chars) = %q, want %q", len([]rune(tt.in)), got, tt.want)
			}
		})
	}
}

func TestHealthParsePIDs(t *testing.T) {
	tests := []struct {
		in   string
		want []int
	}{
		{in: "", want: nil},
		{in: "42", want: []int{42}},
		{in: "42,7", want: []int{42, 7}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if diff := cmp.Diff(parsePIDs(tt.in), tt.want); diff != "" {
				t.Errorf("parsePIDs(%q) (-got +want):\n%s", tt.in, diff)
			}
		})
	}
}
