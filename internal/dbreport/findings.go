package dbreport

import "slices"

// The statuses of a Finding, in order of severity.
const (
	// StatusOK: checked, nothing to do.
	StatusOK = "ok"
	// StatusSkipped: does not apply here, or could not run.
	StatusSkipped = "skipped"
	// StatusInfo: worth knowing, not a problem.
	StatusInfo = "info"
	// StatusWarn: looks wrong; read the reason (db doctor --strict counts
	// it as a problem).
	StatusWarn = "warn"
	// StatusFail: a problem to fix (db doctor exits non-zero).
	StatusFail = "fail"
)

// Finding is one judgement of the report, in words an operator can act on.
type Finding struct {
	// Section is the page section it belongs to: overview, health, queries,
	// connections, locks, indexes, cache, space, maintenance, replication,
	// settings or sqlite.
	Section string `json:"section"`
	// Name identifies the check within its section.
	Name string `json:"name"`
	// Status is one of the Status* constants.
	Status  string `json:"status"`
	Message string `json:"message"`
}

// add appends a finding and counts it.
func (r *Report) add(section, name, status, message string) {
	r.Findings = append(r.Findings, Finding{Section: section, Name: name, Status: status, Message: message})
	switch status {
	case StatusFail:
		r.Problems++
	case StatusWarn:
		r.Warnings++
	}
}

// FindingsOf returns the findings of one section, in order.
func (r *Report) FindingsOf(section string) []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if f.Section == section {
			out = append(out, f)
		}
	}
	return out
}

// FindingSummary folds the findings of one check that are not ok into one
// line: what the page's "needs attention" list and section headers show.
type FindingSummary struct {
	Section string `json:"section"`
	Name    string `json:"name"`
	// Status is the worst status among them; Message the first message of
	// that status; Count how many findings the line stands for.
	Status  string `json:"status"`
	Message string `json:"message"`
	Count   int    `json:"count"`
	// Anchor is the page section that shows the details ("#indexes").
	Anchor string `json:"anchor"`
}

// severity orders the statuses, worst last.
var severity = map[string]int{StatusOK: 0, StatusSkipped: 1, StatusInfo: 2, StatusWarn: 3, StatusFail: 4}

// anchorOf is the page section that shows a finding's details.
func anchorOf(f Finding) string {
	switch f.Section {
	case "health":
		if f.Name == "locks" || f.Name == "sessions" || f.Name == "transactions" {
			return "#locks"
		}
		return "#overview"
	case "cache":
		return "#indexes"
	case "sqlite":
		return "#space"
	}
	return "#" + f.Section
}

// summarize folds the findings that are not ok or skipped into
// Report.Summary, worst first, then in the order they were found.
func (r *Report) summarize() {
	r.Summary = []FindingSummary{}
	index := map[[2]string]int{}
	for _, f := range r.Findings {
		if severity[f.Status] < severity[StatusInfo] {
			continue
		}
		key := [2]string{f.Section, f.Name}
		i, ok := index[key]
		if !ok {
			index[key] = len(r.Summary)
			r.Summary = append(r.Summary, FindingSummary{Section: f.Section, Name: f.Name, Status: f.Status,
				Message: f.Message, Count: 1, Anchor: anchorOf(f)})
			continue
		}
		s := &r.Summary[i]
		s.Count++
		if severity[f.Status] > severity[s.Status] {
			s.Status, s.Message = f.Status, f.Message
		}
	}
	slices.SortStableFunc(r.Summary, func(a, b FindingSummary) int { return severity[b.Status] - severity[a.Status] })
}
