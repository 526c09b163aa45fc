package dbreport

import "context"

// Reporter builds reports and runs actions on one source, with fixed
// options: what the ops page needs.
type Reporter struct {
	Source  Source
	Options Options
}

// Report builds a report (see Build). The error is always nil: a section
// that fails says so in the report.
func (p Reporter) Report(ctx context.Context) (*Report, error) {
	return Build(ctx, p.Source, p.Options), nil
}

// Act runs an action on the source's database (see Act).
func (p Reporter) Act(ctx context.Context, a Action) (Result, error) {
	return Act(ctx, p.Source.DB, a)
}
