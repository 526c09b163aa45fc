package server_test

import (
	"encoding/json"
	"fmt"
	"strings"
)

// tables are the tables a snapshot dumps, with their order.
var tables = []struct{ name, order string }{
	{"users", "id"}, {"api_keys", "id"}, {"markets", "id"}, {"bets", "id"},
	{"positions", "user_id, market_id"}, {"ledger_entries", "id"},
}

// snapshot dumps every row of every table, to compare before and after a
// request that must write nothing.
func (e *env) snapshot() string {
	e.t.Helper()
	var b strings.Builder
	for _, tb := range tables {
		var rows []map[string]any
		if err := e.tdb.DB.Raw("SELECT * FROM " + tb.name + " ORDER BY " + tb.order).Scan(&rows).Error; err != nil {
			e.t.Fatalf("snapshot %s: %v", tb.name, err)
		}
		fmt.Fprintf(&b, "%s: %d rows\n", tb.name, len(rows))
		for _, r := range rows {
			j, _ := json.Marshal(r)
			fmt.Fprintf(&b, "  %s\n", j)
		}
	}
	return b.String()
}
