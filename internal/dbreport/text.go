package dbreport

import (
	"fmt"
	"io"
	"strings"
)

// WriteText writes the findings for people, as db doctor prints them: one
// line per finding, grouped by section, then the verdict ("ok: no problem
// found", or how many checks failed; with strict, warnings count as
// problems).
func WriteText(w io.Writer, r *Report, strict bool) error {
	var b strings.Builder
	fmt.Fprintf(&b, "db doctor: %s (%s)\n", r.Target, r.Driver)
	for _, section := range sectionOrder(r.Findings) {
		fmt.Fprintf(&b, "\n%s\n", section)
		for _, f := range r.FindingsOf(section) {
			status := f.Status
			if status == StatusFail || (strict && status == StatusWarn) {
				status = strings.ToUpper(status)
			}
			fmt.Fprintf(&b, "  %-8s %s: %s\n", status, f.Name, f.Message)
		}
	}
	b.WriteString("\n")
	switch n := r.ProblemCount(strict); {
	case n > 0:
		fmt.Fprintf(&b, "%d checks failed", r.Problems)
		if r.Warnings > 0 {
			fmt.Fprintf(&b, ", %d warnings", r.Warnings)
			if strict {
				b.WriteString(" (--strict: they count)")
			}
		}
		b.WriteString("\n")
	case r.Warnings > 0:
		fmt.Fprintf(&b, "ok: no problem found (%d warnings: values that look wrong; --strict counts them)\n", r.Warnings)
	default:
		b.WriteString("ok: no problem found\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// ProblemCount is Problems, plus Warnings when strict.
func (r *Report) ProblemCount(strict bool) int {
	if strict {
		return r.Problems + r.Warnings
	}
	return r.Problems
}

// sections is the order db doctor prints the sections in: the page's.
var sections = []string{"overview", "health", "sqlite", "queries", "connections", "locks", "indexes", "cache",
	"space", "maintenance", "replication", "settings"}

// sectionOrder lists the sections of findings in the page's order (any
// other after them, as found).
func sectionOrder(findings []Finding) []string {
	seen := map[string]bool{}
	for _, f := range findings {
		seen[f.Section] = true
	}
	var out []string
	for _, s := range sections {
		if seen[s] {
			out = append(out, s)
			delete(seen, s)
		}
	}
	for _, f := range findings {
		if seen[f.Section] {
			out = append(out, f.Section)
			delete(seen, f.Section)
		}
	}
	return out
}
