package diagnostics

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"
)

// Errors of Explain and SingleStatement. They are returned before anything
// is sent to the database.
var (
	// ErrEmptyQuery is matched by the error for a query that holds no
	// statement: only whitespace, comments or a semicolon.
	ErrEmptyQuery = errors.New("explain: the query is empty")
	// ErrMultipleStatements is matched by the error for a query that holds
	// more than one statement: a semicolon outside string literals, quoted
	// identifiers, comments and dollar quotes, followed by anything but
	// whitespace and comments.
	ErrMultipleStatements = errors.New("explain: the query holds more than one statement")
	// ErrUnterminatedQuery is matched by the error for a query that ends
	// inside a string literal, quoted identifier, block comment or dollar
	// quote.
	ErrUnterminatedQuery = errors.New("explain: the query ends inside a quote or comment")
	// ErrExplainTimeout is matched by the error of an Explain whose statement
	// ran longer than ExplainOptions.Timeout (PostgreSQL's statement_timeout;
	// the error also wraps the server's SQLSTATE 57014).
	ErrExplainTimeout = errors.New("explain: statement timeout")
)

// DefaultExplainTimeout bounds an explained statement when
// ExplainOptions.Timeout is zero.
const DefaultExplainTimeout = 5 * time.Second

// ExplainOptions configure Explain. The zero value explains without running
// the statement, within DefaultExplainTimeout.
type ExplainOptions struct {
	// Analyze runs the statement (PostgreSQL only: EXPLAIN ANALYZE, BUFFERS)
	// in a transaction that is always rolled back, and reports actual times
	// and rows. Default false: the statement is planned, not run.
	Analyze bool
	// Timeout bounds the EXPLAIN on PostgreSQL, as statement_timeout set for
	// its transaction only. Default (0): DefaultExplainTimeout.
	Timeout time.Duration
}

// Plan is the execution plan of one statement.
type Plan struct {
	// Driver is the engine that planned it: postgres or sqlite.
	Driver string `json:"driver"`
	// Query is the statement explained, without its trailing semicolon.
	Query string `json:"query"`
	// Analyzed is true when the statement was run (ExplainOptions.Analyze).
	Analyzed bool `json:"analyzed"`
	// Summary is the top of the plan in a few numbers.
	Summary PlanSummary `json:"summary"`
	// Text is the plan rendered for people, one node per line.
	Text string `json:"text"`
	// Raw is PostgreSQL's EXPLAIN (FORMAT JSON) output, unchanged (empty on
	// SQLite).
	Raw json.RawMessage `json:"plan,omitempty"`
	// Root is Raw's top plan node, decoded (nil on SQLite).
	Root *PlanNode `json:"-"`
	// Steps are SQLite's EXPLAIN QUERY PLAN rows (empty on PostgreSQL).
	Steps []QueryPlanStep `json:"steps,omitempty"`
	// Notes say what the reader should know about how the plan was obtained.
	Notes []string `json:"notes,omitempty"`
}

// String returns p.Text.
func (p *Plan) String() string { return p.Text }

// PlanSummary is the top node of a plan. Costs are in the planner's
// arbitrary units, times in milliseconds; SQLite reports neither.
type PlanSummary struct {
	// NodeType is the top node: "Seq Scan", "Index Scan", "Insert"... on
	// PostgreSQL, the first step's detail ("SCAN items") on SQLite (empty
	// when the statement reads no table).
	NodeType string `json:"node_type"`
	// Relation is the table the top node reads or writes, when it has one.
	Relation string `json:"relation,omitempty"`
	// EstimatedCost is the planner's total cost of the top node.
	EstimatedCost float64 `json:"estimated_cost,omitempty"`
	// EstimatedRows is the planner's estimate of the rows the top node returns.
	EstimatedRows float64 `json:"estimated_rows,omitempty"`
	// ActualTimeMS is the top node's actual total time (Analyze only).
	ActualTimeMS float64 `json:"actual_time_ms,omitempty"`
	// ActualRows is the rows the top node returned per loop (Analyze only).
	ActualRows float64 `json:"actual_rows,omitempty"`
	// PlanningTimeMS and ExecutionTimeMS are the server's totals (Analyze only).
	PlanningTimeMS  float64 `json:"planning_time_ms,omitempty"`
	ExecutionTimeMS float64 `json:"execution_time_ms,omitempty"`
}

// String renders the summary on one line.
func (s PlanSummary) String() string {
	var b strings.Builder
	b.WriteString(s.NodeType)
	if s.Relation != "" && !strings.Contains(s.NodeType, s.Relation) {
		b.WriteString(" on " + s.Relation)
	}
	if s.EstimatedCost > 0 || s.EstimatedRows > 0 {
		fmt.Fprintf(&b, ": estimated cost %.2f, %.0f rows", s.EstimatedCost, s.EstimatedRows)
	}
	if s.ExecutionTimeMS > 0 {
		fmt.Fprintf(&b, "; actual %.3f ms, %.0f rows (execution %.3f ms, planning %.3f ms)",
			s.ActualTimeMS, s.ActualRows, s.ExecutionTimeMS, s.PlanningTimeMS)
	}
	return b.String()
}

// PlanNode is one node of a PostgreSQL plan: the fields of EXPLAIN (FORMAT
// JSON) that people read most. Actual* and buffer fields are set by Analyze.
type PlanNode struct {
	NodeType          string     `json:"Node Type"`
	Operation         string     `json:"Operation,omitempty"`
	RelationName      string     `json:"Relation Name,omitempty"`
	FunctionName      string     `json:"Function Name,omitempty"`
	Alias             string     `json:"Alias,omitempty"`
	IndexName         string     `json:"Index Name,omitempty"`
	JoinType          string     `json:"Join Type,omitempty"`
	StartupCost       float64    `json:"Startup Cost"`
	TotalCost         float64    `json:"Total Cost"`
	PlanRows          float64    `json:"Plan Rows"`
	PlanWidth         int        `json:"Plan Width"`
	ActualStartupTime float64    `json:"Actual Startup Time,omitempty"`
	ActualTotalTime   float64    `json:"Actual Total Time,omitempty"`
	ActualRows        float64    `json:"Actual Rows,omitempty"`
	ActualLoops       float64    `json:"Actual Loops,omitempty"`
	SharedHitBlocks   int64      `json:"Shared Hit Blocks,omitempty"`
	SharedReadBlocks  int64      `json:"Shared Read Blocks,omitempty"`
	IndexCond         string     `json:"Index Cond,omitempty"`
	Filter            string     `json:"Filter,omitempty"`
	RowsRemoved       float64    `json:"Rows Removed by Filter,omitempty"`
	Plans             []PlanNode `json:"Plans,omitempty"`
}

// name is the node's name as PostgreSQL's text format shows it: the
// operation ("Insert") of a ModifyTable node, else the node type.
func (n *PlanNode) name() string {
	if n.NodeType == "ModifyTable" && n.Operation != "" {
		return n.Operation
	}
	return n.NodeType
}

// QueryPlanStep is one row of SQLite's EXPLAIN QUERY PLAN.
type QueryPlanStep struct {
	ID     int    `json:"id"`
	Parent int    `json:"parent"`
	Detail string `json:"detail"`
}

// Explain returns the execution plan of query, one statement with args for
// its placeholders in the driver's own syntax ($1 on PostgreSQL, ? on
// SQLite: the form of gorm's Statement.SQL and Statement.Vars, so a slow
// statement can be explained as it was run).
//
// The query goes to the driver as written, bypassing GORM's callbacks (so
// query monitoring never sees, or recursively explains, an EXPLAIN). It
// runs on db, never on a transaction ctx merely carries, so it is safe to
// call in the background with a caller's context: to explain inside the
// transaction ctx carries (and see its uncommitted rows), pass
// Conn(ctx, db). On PostgreSQL it runs in a savepoint when db is a
// transaction, or else in a transaction of its own (read-only without
// opts.Analyze), always rolled back, with statement_timeout set to
// opts.Timeout for that transaction or savepoint only: a failed EXPLAIN
// leaves the caller's transaction usable. With opts.Analyze the
// statement really runs, so its effects on the data are undone but its
// duration, sequence increments and other non-transactional effects are
// not. SQLite's EXPLAIN QUERY PLAN never runs the statement.
//
// Errors: ErrEmptyQuery, ErrMultipleStatements or ErrUnterminatedQuery
// (checked before anything is sent); an error matching errors.ErrUnsupported
// for Analyze on SQLite or an unknown driver; ErrExplainTimeout; otherwise
// the database's error (a syntax error, a missing table), wrapped.
func Explain(ctx context.Context, db *gorm.DB, query string, args []any, opts ExplainOptions) (*Plan, error) {
	driver := db.Dialector.Name()
	stmt, err := SingleStatement(query, driver)
	if err != nil {
		return nil, err
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultExplainTimeout
	}
	switch driver {
	case driverPostgres:
		return explainPostgres(ctx, db, stmt, args, opts)
	case driverSQLite:
		if opts.Analyze {
			return nil, fmt.Errorf("explain analyze is not supported on sqlite (EXPLAIN QUERY PLAN has no actual times): %w", errors.ErrUnsupported)
		}
		return explainSQLite(ctx, db, stmt, args)
	default:
		return nil, fmt.Errorf("explain on %s: %w", driver, errors.ErrUnsupported)
	}
}

// explainPostgres runs EXPLAIN (FORMAT JSON) in a rolled-back transaction.
func explainPostgres(ctx context.Context, db *gorm.DB, stmt string, args []any, opts ExplainOptions) (*Plan, error) {
	prefix := "EXPLAIN (FORMAT JSON) "
	if opts.Analyze {
		prefix = "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) "
	}
	var raw string
	err := inRolledBackTx(ctx, db.WithContext(ctx), !opts.Analyze, func(pool gorm.ConnPool) error {
		timeout := strconv.FormatInt(max(opts.Timeout.Milliseconds(), 1), 10) + "ms"
		if _, err := pool.ExecContext(ctx, "SELECT set_config('statement_timeout', $1, true)", timeout); err != nil {
			return fmt.Errorf("set statement_timeout: %w", err)
		}
		return pool.QueryRowContext(ctx, prefix+stmt, args...).Scan(&raw)
	})
	if err != nil {
		var pgErr *pgconn.PgError
		if ctx.Err() == nil && errors.As(err, &pgErr) && pgErr.Code == pgerrcode.QueryCanceled {
			return nil, fmt.Errorf("%w after %s: %w", ErrExplainTimeout, opts.Timeout, err)
		}
		return nil, fmt.Errorf("explain: %w", err)
	}
	var out []struct {
		Plan          PlanNode `json:"Plan"`
		PlanningTime  float64  `json:"Planning Time"`
		ExecutionTime float64  `json:"Execution Time"`
	}
	if err := json.Unmarshal([]byte(raw), &out); err != nil || len(out) == 0 {
		return nil, fmt.Errorf("explain: decode the JSON plan: %w", errors.Join(err, errors.New("no plan")))
	}
	root := out[0].Plan
	p := &Plan{
		Driver: driverPostgres, Query: stmt, Analyzed: opts.Analyze, Raw: json.RawMessage(raw), Root: &root,
		Summary: PlanSummary{
			NodeType: root.name(), Relation: root.RelationName,
			EstimatedCost: root.TotalCost, EstimatedRows: root.PlanRows,
			ActualTimeMS: root.ActualTotalTime, ActualRows: root.ActualRows,
			PlanningTimeMS: out[0].PlanningTime, ExecutionTimeMS: out[0].ExecutionTime,
		},
	}
	var b strings.Builder
	renderPlanNode(&b, &root, 0, opts.Analyze, nil)
	if opts.Analyze {
		fmt.Fprintf(&b, "Planning Time: %.3f ms\nExecution Time: %.3f ms\n", out[0].PlanningTime, out[0].ExecutionTime)
		p.Notes = append(p.Notes, "the statement ran in a transaction that was rolled back: its changes to the data were undone")
	} else {
		p.Notes = append(p.Notes, "the statement was planned, not run: costs and rows are the planner's estimates")
	}
	p.Text = b.String()
	return p, nil
}

// inRolledBackTx runs fn on a transaction that is rolled back afterwards:
// a savepoint when h is already in a transaction, else a new transaction
// (read-only if readOnly). The undo survives a cancelled ctx.
func inRolledBackTx(ctx context.Context, h *gorm.DB, readOnly bool, fn func(gorm.ConnPool) error) (err error) {
	if pool := h.Statement.ConnPool; isTx(pool) {
		const sp = "socialpredict_explain"
		if _, err := pool.ExecContext(ctx, "SAVEPOINT "+sp); err != nil {
			return fmt.Errorf("savepoint: %w", err)
		}
		defer func() {
			undo := context.WithoutCancel(ctx)
			if _, rbErr := pool.ExecContext(undo, "ROLLBACK TO SAVEPOINT "+sp); rbErr != nil {
				err = errors.Join(err, fmt.Errorf("rollback to savepoint: %w", rbErr))
				return
			}
			if _, relErr := pool.ExecContext(undo, "RELEASE SAVEPOINT "+sp); relErr != nil {
				err = errors.Join(err, fmt.Errorf("release savepoint: %w", relErr))
			}
		}()
		return fn(pool)
	}
	tx := h.Begin(&sql.TxOptions{ReadOnly: readOnly})
	if tx.Error != nil {
		return fmt.Errorf("begin: %w", tx.Error)
	}
	defer func() {
		// A transaction whose context ended is already rolled back.
		if rbErr := tx.Rollback().Error; rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) &&
			!errors.Is(rbErr, context.Canceled) && !errors.Is(rbErr, context.DeadlineExceeded) {
			err = errors.Join(err, fmt.Errorf("rollback: %w", rbErr))
		}
	}()
	return fn(tx.Statement.ConnPool)
}

// isTx reports whether pool is a transaction (it can commit).
func isTx(pool gorm.ConnPool) bool {
	_, ok := pool.(gorm.TxCommitter)
	return ok
}

// renderPlanNode writes n and its children in the style of PostgreSQL's
// text format, passing the conditions through mask unless it is nil.
func renderPlanNode(b *strings.Builder, n *PlanNode, depth int, analyzed bool, mask func(string) string) {
	indent := strings.Repeat("      ", max(depth-1, 0))
	if depth > 0 {
		indent += "->  "
	}
	b.WriteString(indent + n.name())
	if n.IndexName != "" {
		b.WriteString(" using " + n.IndexName)
	}
	if on := n.RelationName + n.FunctionName; on != "" {
		b.WriteString(" on " + on)
		if n.Alias != "" && n.Alias != on {
			b.WriteString(" " + n.Alias)
		}
	}
	fmt.Fprintf(b, "  (cost=%.2f..%.2f rows=%.0f width=%d)", n.StartupCost, n.TotalCost, n.PlanRows, n.PlanWidth)
	if analyzed {
		fmt.Fprintf(b, " (actual time=%.3f..%.3f rows=%.0f loops=%.0f)", n.ActualStartupTime, n.ActualTotalTime, n.ActualRows, n.ActualLoops)
	}
	b.WriteString("\n")
	detail := strings.Repeat(" ", len(indent)+2)
	if mask == nil {
		mask = func(s string) string { return s }
	}
	if n.IndexCond != "" {
		b.WriteString(detail + "Index Cond: " + mask(n.IndexCond) + "\n")
	}
	if n.Filter != "" {
		b.WriteString(detail + "Filter: " + mask(n.Filter) + "\n")
	}
	if analyzed && (n.SharedHitBlocks > 0 || n.SharedReadBlocks > 0) {
		fmt.Fprintf(b, "%sBuffers: shared hit=%d read=%d\n", detail, n.SharedHitBlocks, n.SharedReadBlocks)
	}
	for i := range n.Plans {
		renderPlanNode(b, &n.Plans[i], depth+1, analyzed, mask)
	}
}

// explainSQLite runs EXPLAIN QUERY PLAN, which plans without running.
func explainSQLite(ctx context.Context, db *gorm.DB, stmt string, args []any) (*Plan, error) {
	rows, err := db.WithContext(ctx).Statement.ConnPool.QueryContext(ctx, "EXPLAIN QUERY PLAN "+stmt, args...)
	if err != nil {
		return nil, fmt.Errorf("explain: %w", err)
	}
	defer rows.Close()
	p := &Plan{Driver: driverSQLite, Query: stmt}
	for rows.Next() {
		var s QueryPlanStep
		var notUsed int
		if err := rows.Scan(&s.ID, &s.Parent, &notUsed, &s.Detail); err != nil {
			return nil, fmt.Errorf("explain: read the plan: %w", err)
		}
		p.Steps = append(p.Steps, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("explain: %w", err)
	}
	if len(p.Steps) > 0 {
		p.Summary.NodeType = p.Steps[0].Detail
	}
	var b strings.Builder
	b.WriteString("QUERY PLAN\n")
	renderSQLiteSteps(&b, p.Steps, 0, "")
	if len(p.Steps) == 0 {
		b.WriteString("`--(no table is read)\n")
	}
	p.Text = b.String()
	p.Notes = append(p.Notes, "sqlite's EXPLAIN QUERY PLAN reports the strategy only: no costs, row estimates or timings")
	return p, nil
}

// renderSQLiteSteps draws the children of parent as the sqlite3 shell does.
func renderSQLiteSteps(b *strings.Builder, steps []QueryPlanStep, parent int, prefix string) {
	var children []QueryPlanStep
	for _, s := range steps {
		if s.Parent == parent && s.ID != parent {
			children = append(children, s)
		}
	}
	for i, s := range children {
		branch, next := "|--", "|  "
		if i == len(children)-1 {
			branch, next = "`--", "   "
		}
		b.WriteString(prefix + branch + s.Detail + "\n")
		renderSQLiteSteps(b, steps, s.ID, prefix+next)
	}
}
