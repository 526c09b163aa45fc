package confkit

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestExpand(t *testing.T) {
	env := map[string]string{"A": "alpha", "EMPTY": ""}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	tests := []struct {
		in, want      string
		wantMissing   []string
		wantMalformed string
	}{
		{in: "plain", want: "plain"},
		{in: "${A}", want: "alpha"},
		{in: "x${A}y${A}", want: "xalphayalpha"},
		{in: "${EMPTY}", want: ""},
		{in: "${EMPTY:-d}", want: "d"},
		{in: "${UNSET:-d}", want: "d"},
		{in: "${UNSET:-}", want: ""},
		{in: "${A:-d}", want: "alpha"},
		{in: "${UNSET}", want: "${UNSET}", wantMissing: []string{"UNSET"}},
		{in: "${U1}${U2}", want: "${U1}${U2}", wantMissing: []string{"U1", "U2"}},
		{in: "$$", want: "$"},
		{in: "$${A}", want: "${A}"},
		{in: "a$b", want: "a$b"},
		{in: "end$", want: "end$"},
		{in: "${A", want: "${A", wantMalformed: "${A"},
		{in: "${1A}", want: "${1A}", wantMalformed: "${1A}"},
		{in: "${}", want: "${}", wantMalformed: "${}"},
		{in: "${A-B}", want: "${A-B}", wantMalformed: "${A-B}"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, missing, malformed := Expand(tt.in, lookup)
			if got != tt.want || malformed != tt.wantMalformed {
				t.Errorf("Expand(%q) = %q, malformed %q; want %q, %q", tt.in, got, malformed, tt.want, tt.wantMalformed)
			}
			if diff := cmp.Diff(missing, tt.wantMissing); diff != "" {
				t.Errorf("missing (-got +want):\n%s", diff)
			}
		})
	}
}

func FuzzExpand(f *testing.F) {
	for _, s := range []string{"${A}", "${A:-x}", "$$", "${", "a$b${B:-${C}}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, missing, malformed := Expand(s, func(k string) (string, bool) { return k, k != "B" })
		if (len(missing) > 0 || malformed != "") && out != s {
			t.Fatalf("on failure Expand must return its input unchanged, got %q", out)
		}
	})
}

func TestFormatDuration(t *testing.T) {
	for in, want := range map[string]string{"1h": "1h", "30m": "30m", "1h30m": "1h30m", "250ms": "250ms", "0s": "0s", "90s": "1m30s", "2h0m5s": "2h0m5s"} {
		d, err := time.ParseDuration(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%s) = %q, want %q", in, got, want)
		}
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u:secret@h:5432/db?sslmode=require": "postgres://u:xxxxx@h:5432/db?sslmode=require",
		"postgres://u@h/db":                             "postgres://u@h/db",
		"":                                              `""`,
		"postgres://u:se cret@h/%zz":                    Masked,
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}
