package config_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"socialpredict/config"
)

// TestLoadRejectsNonFiniteAndOutOfRange is the regression test of issue 9,
// item 11: every number must be finite and within its documented range, so
// that no value overflows the arithmetic it feeds (minimum_future_hours of
// 3e6 used to overflow time.Duration and let markets close in the past).
func TestLoadRejectsNonFiniteAndOutOfRange(t *testing.T) {
	tests := []struct {
		name     string
		yaml     string
		wantKey  string // the problem's key (initial_backoff: and max_backoff)
		wantText string
	}{
		{"future hours NaN", "economics:\n  minimum_future_hours: NaN\n", "economics.minimum_future_hours", "finite"},
		{"future hours .nan", "economics:\n  minimum_future_hours: .nan\n", "economics.minimum_future_hours", "finite"},
		{"future hours Inf", "economics:\n  minimum_future_hours: Inf\n", "economics.minimum_future_hours", "finite"},
		{"future hours -Inf", "economics:\n  minimum_future_hours: -Inf\n", "economics.minimum_future_hours", "finite"},
		{"future hours 1e300", "economics:\n  minimum_future_hours: 1e300\n", "economics.minimum_future_hours", "at most 876000"},
		{"future hours 3e6", "economics:\n  minimum_future_hours: 3e6\n", "economics.minimum_future_hours", "at most 876000"},
		{"future hours just above 100 years", "economics:\n  minimum_future_hours: 876000.5\n", "economics.minimum_future_hours", "at most 876000"},
		{"future hours negative", "economics:\n  minimum_future_hours: -1\n", "economics.minimum_future_hours", "negative"},
		{"probability NaN", "economics:\n  initial_market_probability: nan\n", "economics.initial_market_probability", "finite"},
		{"probability 0", "economics:\n  initial_market_probability: 0\n", "economics.initial_market_probability", "greater than 0 and less than 1"},
		{"probability 1", "economics:\n  initial_market_probability: 1\n", "economics.initial_market_probability", "greater than 0 and less than 1"},
		{"probability 1.5", "economics:\n  initial_market_probability: 1.5\n", "economics.initial_market_probability", "greater than 0 and less than 1"},
		{"huge cost", "economics:\n  create_market_cost: 9223372036854775807\n", "economics.create_market_cost", "at most 1000000000000000"},
		{"huge balance", "economics:\n  initial_balance: 1000000000000001\n", "economics.initial_balance", "at most 1000000000000000"},
		{"huge debt", "economics:\n  maximum_debt_allowed: 4611686018427387904\n", "economics.maximum_debt_allowed", "at most"},
		{"huge minimum bet", "economics:\n  minimum_bet: 9223372036854775807\n", "economics.minimum_bet", "at most"},
		{"huge fee", "economics:\n  buy_shares_fee: 9000000000000000000\n", "economics.buy_shares_fee", "at most"},
		{"huge first-bet fee", "economics:\n  initial_bet_fee: 9000000000000000000\n", "economics.initial_bet_fee", "at most"},
		{"huge subsidy", "economics:\n  initial_market_subsidization: 9000000000000000000\n", "economics.initial_market_subsidization", "at most"},
		{"huge yes seed", "economics:\n  initial_market_yes: 9000000000000000000\n", "economics.initial_market_yes", "at most"},
		{"huge no seed", "economics:\n  initial_market_no: 9000000000000000000\n", "economics.initial_market_no", "at most"},
		{"huge pool", "database:\n  connection_pool:\n    max_open_conns: 1000000\n    max_idle_conns: 1\n", "database.connection_pool.max_open_conns", "at most 10000"},
		{"huge lifetime", "database:\n  connection_pool:\n    conn_max_lifetime: 2562047h\n", "database.connection_pool.conn_max_lifetime", "at most 8760h"},
		{"huge idle time", "database:\n  connection_pool:\n    conn_max_idle_time: 100000h\n", "database.connection_pool.conn_max_idle_time", "at most 8760h"},
		{"huge busy timeout", "database:\n  sqlite:\n    busy_timeout: 1000h\n", "database.sqlite.busy_timeout", "at most 1h"},
		{"huge connect attempts", "database:\n  connect_retry:\n    attempts: 2000000000\n", "database.connect_retry.attempts", "at most 1000"},
		{"huge connect backoff", "database:\n  connect_retry:\n    initial_backoff: 2h\n    max_backoff: 2h\n", "database.connect_retry.initial_backoff", "at most 1h"},
		{"huge connect max backoff", "database:\n  connect_retry:\n    max_backoff: 2h\n", "database.connect_retry.max_backoff", "at most 1h"},
		{"huge attempt timeout", "database:\n  connect_retry:\n    attempt_timeout: 25h\n", "database.connect_retry.attempt_timeout", "at most 1h"},
		{"huge tx attempts", "database:\n  transaction_retry:\n    attempts: 1000\n", "database.transaction_retry.attempts", "at most 100"},
		{"huge tx backoff", "database:\n  transaction_retry:\n    initial_backoff: 2m\n    max_backoff: 2m\n", "database.transaction_retry.initial_backoff", "at most 1m"},
		{"huge tx max backoff", "database:\n  transaction_retry:\n    max_backoff: 2m\n", "database.transaction_retry.max_backoff", "at most 1m"},
		{"huge slow threshold", "database:\n  monitoring:\n    slow_query_threshold: 25h\n", "database.monitoring.slow_query_threshold", "at most 24h"},
		{"huge n+1 threshold", "database:\n  monitoring:\n    n_plus_one_threshold: 2000000000\n", "database.monitoring.n_plus_one_threshold", "at most 1000000"},
		{"huge recent slow queries", "database:\n  monitoring:\n    recent_slow_queries: 1001\n", "database.monitoring.recent_slow_queries", "at most 1000"},
		{"negative recent slow queries", "database:\n  monitoring:\n    recent_slow_queries: -1\n", "database.monitoring.recent_slow_queries", "must not be negative"},
		{"huge recent n+1", "database:\n  monitoring:\n    recent_n_plus_one: 1001\n", "database.monitoring.recent_n_plus_one", "at most 1000"},
		{"huge health interval", "database:\n  health_check:\n    interval: 2562047h\n", "database.health_check.interval", "at most 24h"},
		{"huge health timeout", "database:\n  health_check:\n    timeout: 2h\n", "database.health_check.timeout", "at most 1h"},
		{"huge health retries", "database:\n  health_check:\n    retries: 2000000000\n", "database.health_check.retries", "at most 1000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Load(writeFile(t, tt.yaml), envMap())
			got := problemKeys(t, err)
			want := []string{tt.wantKey}
			if strings.HasSuffix(tt.wantKey, ".initial_backoff") {
				// A too long initial backoff is also too long a max_backoff.
				want = append(want, strings.Replace(tt.wantKey, ".initial_backoff", ".max_backoff", 1))
			}
			if diff := cmp.Diff(got, want); diff != "" {
				t.Errorf("problem keys (-got +want):\n%s\nerror: %v", diff, err)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q does not mention %q", err, tt.wantText)
			}
		})
	}
}

// TestLoadRejectsNonFiniteFromEnvironment covers the same numbers given as
// environment variables.
func TestLoadRejectsNonFiniteFromEnvironment(t *testing.T) {
	for _, v := range []string{"NaN", "+Inf", "-inf", "3e6", "1e400"} {
		_, err := config.Load("", envMap("SOCIALPREDICT_ECONOMICS_MINIMUM_FUTURE_HOURS", v))
		got := problemKeys(t, err)
		if diff := cmp.Diff(got, []string{"economics.minimum_future_hours"}); diff != "" {
			t.Errorf("%s: problem keys (-got +want):\n%s\nerror: %v", v, diff, err)
		}
		if !strings.Contains(err.Error(), "SOCIALPREDICT_ECONOMICS_MINIMUM_FUTURE_HOURS") && !strings.Contains(err.Error(), "at most") {
			t.Errorf("%s: error %q names neither the variable nor the range", v, err)
		}
	}
}

// TestLoadAcceptsRangeBoundaries checks that the documented limits
// themselves are valid.
func TestLoadAcceptsRangeBoundaries(t *testing.T) {
	body := "economics:\n  minimum_future_hours: 876000\n  initial_balance: 1000000000000000\n  minimum_bet: 1000000000000000\n" +
		"database:\n  connection_pool:\n    max_open_conns: 10000\n    conn_max_lifetime: 8760h\n" +
		"  health_check:\n    interval: 24h\n    timeout: 1h\n    retries: 1000\n"
	l, err := config.Load(writeFile(t, body), envMap())
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if l.Economics.MinimumFutureHours != 876000 || l.Database.ConnectionPool.MaxOpenConns != 10000 {
		t.Errorf("got %+v", l.Economics)
	}
	if _, err := config.Load(writeFile(t, "economics:\n  minimum_future_hours: 0\n"), envMap()); err != nil {
		t.Errorf("minimum_future_hours 0: %v", err)
	}
}
