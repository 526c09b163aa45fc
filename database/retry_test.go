package database_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"socialpredict/database"
	"socialpredict/database/dbtest"
	"socialpredict/errs"
)

// recorder is a slog handler that keeps every record.
type recorder struct {
	mu      sync.Mutex
	records []slog.Record
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) WithAttrs(as []slog.Attr) slog.Handler    { return &withAttrs{r: r, attrs: as} }
func (r *recorder) WithGroup(string) slog.Handler            { return r }
func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.records = append(r.records, rec)
	return nil
}

// withAttrs keeps the attributes given with Logger.With on each record.
type withAttrs struct {
	r     *recorder
	attrs []slog.Attr
}

func (w *withAttrs) Enabled(context.Context, slog.Level) bool { return true }
func (w *withAttrs) WithAttrs(as []slog.Attr) slog.Handler {
	return &withAttrs{r: w.r, attrs: append(append([]slog.Attr(nil), w.attrs...), as...)}
}
func (w *withAttrs) WithGroup(string) slog.Handler { return w }
func (w *withAttrs) Handle(ctx context.Context, rec slog.Record) error {
	rec = rec.Clone()
	rec.AddAttrs(w.attrs...)
	return w.r.Handle(ctx, rec)
}

// text renders every record, attributes included, one per line.
func (r *recorder) text() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	for _, rec := range r.records {
		b.WriteString(rec.Message)
		rec.Attrs(func(a slog.Attr) bool {
			b.WriteString(" " + a.String())
			return true
		})
		b.WriteString("\n")
	}
	return b.String()
}

// attempts returns the attempt number and retry delay of every failed attempt.
func (r *recorder) attempts() (nums []int64, delays []time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rec := range r.records {
		if !strings.HasPrefix(rec.Message, "database connection failed") {
			continue
		}
		rec.Attrs(func(a slog.Attr) bool {
			switch a.Key {
			case "attempt":
				nums = append(nums, a.Value.Int64())
			case "retry_in":
				delays = append(delays, a.Value.Duration())
			}
			return true
		})
	}
	return nums, delays
}

const secret = "hunter2-do-not-print"

func unreachableConfig(t *testing.T) database.Config {
	cfg := database.DefaultConfig()
	cfg.Driver = database.DriverPostgres
	cfg.Host = "127.0.0.1"
	cfg.Port = dbtest.ClosedPort(t)
	cfg.Password = secret
	cfg.ConnectRetry = database.RetryConfig{
		Attempts:       4,
		InitialBackoff: 20 * time.Millisecond,
		MaxBackoff:     time.Second,
		AttemptTimeout: time.Second,
	}
	return cfg
}

func TestConnectRetryClosedPort(t *testing.T) {
	cfg := unreachableConfig(t)
	rec := &recorder{}
	start := time.Now()
	_, err := database.NewDatabase(context.Background(), cfg, database.WithLogger(slog.New(rec)))
	elapsed := time.Since(start)

	if !errors.Is(err, errs.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(cfg.Port)
	if !strings.Contains(err.Error(), addr) || !strings.Contains(err.Error(), "4 attempts") {
		t.Errorf("error %q does not name %s and the 4 attempts", err, addr)
	}
	nums, delays := rec.attempts()
	if want := []int64{1, 2, 3, 4}; !slices.Equal(nums, want) {
		t.Errorf("logged attempts %v, want %v", nums, want)
	}
	if len(delays) != 3 {
		t.Fatalf("logged %d retry delays, want 3 (none after the last attempt)", len(delays))
	}
	var total time.Duration
	for i, d := range delays {
		nominal := cfg.ConnectRetry.InitialBackoff << i
		if d < nominal/2 || d > nominal {
			t.Errorf("delay %d = %s, want within [%s, %s]", i, d, nominal/2, nominal)
		}
		if i > 0 && d < delays[i-1] {
			t.Errorf("delays shrink: %v", delays)
		}
		total += d
	}
	if elapsed < total {
		t.Errorf("returned after %s, before the %s of backoff", elapsed, total)
	}
	if strings.Contains(rec.text(), secret) || strings.Contains(err.Error(), secret) {
		t.Errorf("password leaked:\nerror: %v\nlogs:\n%s", err, rec.text())
	}
	if !strings.Contains(rec.text(), "xxxxx") {
		t.Errorf("logs lack the redacted DSN:\n%s", rec.text())
	}
}

func TestConnectRetryStopsOnCancel(t *testing.T) {
	cfg := unreachableConfig(t)
	cfg.ConnectRetry.Attempts = 50
	cfg.ConnectRetry.InitialBackoff = 200 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	rec := &recorder{}
	start := time.Now()
	_, err := database.NewDatabase(ctx, cfg, database.WithLogger(slog.New(rec)))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("took %s to notice the cancelled context", elapsed)
	}
	if nums, _ := rec.attempts(); len(nums) >= 10 {
		t.Errorf("made %d attempts after cancellation, want it to stop early", len(nums))
	}
}

func TestConnectErrorsAreRedacted(t *testing.T) {
	cfg := unreachableConfig(t)
	cfg.ConnectRetry.Attempts = 1
	for name, mutate := range map[string]func(*database.Config){
		"closed port": func(*database.Config) {},
		"bad url option": func(c *database.Config) {
			c.URL = "postgres://app:" + secret + "@127.0.0.1:" + strconv.Itoa(c.Port) + "/db?sslmode=disable&connect_timeout=soon"
		},
		"url with password": func(c *database.Config) {
			c.URL = "postgres://app:" + secret + "@127.0.0.1:" + strconv.Itoa(c.Port) + "/db?sslmode=disable"
		},
	} {
		t.Run(name, func(t *testing.T) {
			c := cfg
			mutate(&c)
			rec := &recorder{}
			_, err := database.NewDatabase(context.Background(), c, database.WithLogger(slog.New(rec)))
			if err == nil {
				t.Fatal("connected to a closed port")
			}
			if strings.Contains(err.Error(), secret) || strings.Contains(rec.text(), secret) {
				t.Errorf("password leaked:\nerror: %v\nlogs:\n%s", err, rec.text())
			}
		})
	}
}

func TestBackoffDelay(t *testing.T) {
	b := database.Backoff{Initial: 10 * time.Millisecond, Max: 100 * time.Millisecond}
	for n, nominal := range []time.Duration{10, 20, 40, 80, 100, 100, 100} {
		nominal *= time.Millisecond
		for range 100 {
			if d := b.Delay(n); d < nominal/2 || d > nominal {
				t.Fatalf("Delay(%d) = %s, want within [%s, %s]", n, d, nominal/2, nominal)
			}
		}
	}
	if d := b.Delay(1000); d > b.Max {
		t.Errorf("Delay(1000) = %s, above the cap %s", d, b.Max)
	}
}
