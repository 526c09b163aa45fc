package dbreport

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"socialpredict/database"
	"socialpredict/database/diagnostics"
	"socialpredict/errs"
)

// The actions an operator may take.
const (
	// ActionCancel cancels a session's running statement (PostgreSQL).
	ActionCancel = "cancel"
	// ActionTerminate ends a session (PostgreSQL).
	ActionTerminate = "terminate"
	// ActionAnalyze runs ANALYZE on one table (both engines).
	ActionAnalyze = "analyze"
	// ActionResetStatements resets pg_stat_statements (PostgreSQL).
	ActionResetStatements = "reset_statements"
	// ActionIntegrityCheck runs integrity_check (SQLite); it changes nothing.
	ActionIntegrityCheck = "integrity_check"
)

// Actions lists every action, in the order the page offers them.
var Actions = []string{ActionCancel, ActionTerminate, ActionAnalyze, ActionResetStatements, ActionIntegrityCheck}

// Action is one action an operator asked for.
type Action struct {
	// Name is one of the Action* constants.
	Name string `json:"action"`
	// PID is the session of cancel and terminate.
	PID int `json:"pid,omitempty"`
	// Table is the table of analyze, as Report.Tables names it.
	Table string `json:"table,omitempty"`
}

// String describes the action for a log line.
func (a Action) String() string {
	switch a.Name {
	case ActionCancel, ActionTerminate:
		return fmt.Sprintf("%s pid %d", a.Name, a.PID)
	case ActionAnalyze:
		return fmt.Sprintf("%s %q", a.Name, a.Table)
	}
	return a.Name
}

// ReadOnly reports whether the action changes nothing (integrity_check):
// any operator may run it; the others need the admin key.
func (a Action) ReadOnly() bool { return a.Name == ActionIntegrityCheck }

// Result is what an action did.
type Result struct {
	Action string `json:"action"`
	// Message says what happened, for people.
	Message string `json:"message"`
	// Integrity is integrity_check's output.
	Integrity []string `json:"integrity,omitempty"`
}

// Act runs an action on db. Errors use the errs vocabulary: an unknown
// action, a pid that is not positive or a table that is not in
// Report.Tables match errs.ErrInvalidInput; a session that is not one of
// this database's match errs.ErrNotFound; an action the database role may
// not take matches errs.ErrForbidden; an action that does not apply to the
// engine, or a pg_stat_statements that is not loaded, match
// errs.ErrConflict. The database's own errors are returned wrapped.
func Act(ctx context.Context, db *database.DB, a Action) (Result, error) {
	g := db.GormDB()
	res := Result{Action: a.Name}
	switch a.Name {
	case ActionCancel, ActionTerminate:
		if a.PID <= 0 {
			return res, errors.Join(errs.ErrInvalidInput, fmt.Errorf("%s needs the pid of a session", a.Name))
		}
		signal, done := diagnostics.CancelBackend, "cancelled the statement of"
		if a.Name == ActionTerminate {
			signal, done = diagnostics.TerminateBackend, "terminated"
		}
		ok, err := signal(ctx, g, a.PID)
		if err != nil {
			return res, translate(err)
		}
		res.Message = fmt.Sprintf("%s session %d", done, a.PID)
		if !ok {
			res.Message = fmt.Sprintf("session %d did not accept the signal (it may have just ended)", a.PID)
		}
	case ActionAnalyze:
		t, err := diagnostics.AnalyzeTable(ctx, g, a.Table)
		if err != nil {
			return res, translate(err)
		}
		res.Message = "analyzed " + t.String()
	case ActionResetStatements:
		if err := diagnostics.ResetStatements(ctx, g); err != nil {
			return res, translate(err)
		}
		res.Message = "pg_stat_statements reset"
	case ActionIntegrityCheck:
		out, err := diagnostics.IntegrityCheck(ctx, g)
		if err != nil {
			return res, translate(err)
		}
		res.Integrity = out
		res.Message = "integrity_check: " + strings.Join(out[:min(3, len(out))], "; ")
		if len(out) > 3 {
			res.Message += fmt.Sprintf(" (and %d more)", len(out)-3)
		}
	default:
		return res, errors.Join(errs.ErrInvalidInput, fmt.Errorf("unknown action %q (one of %s)", a.Name, strings.Join(Actions, ", ")))
	}
	return res, nil
}

// translate maps the diagnostics errors onto the errs vocabulary.
func translate(err error) error {
	switch {
	case errors.Is(err, diagnostics.ErrNoSuchTable):
		return errors.Join(errs.ErrInvalidInput, err)
	case errors.Is(err, diagnostics.ErrNoSuchBackend):
		return errors.Join(errs.ErrNotFound, err)
	case errors.Is(err, diagnostics.ErrPermissionDenied):
		return errors.Join(errs.ErrForbidden, err)
	case errors.Is(err, errors.ErrUnsupported), errors.Is(err, diagnostics.ErrStatementsUnavailable):
		return errors.Join(errs.ErrConflict, err)
	}
	return err
}
