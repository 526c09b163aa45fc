package opspage_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5/pgconn"

	"socialpredict/database/dbtest"
)

// EnvChrome names the browser the tests drive; EnvArtifacts the directory
// the screenshots go to (default: the test's temporary directory).
const (
	EnvChrome    = "SOCIALPREDICT_TEST_CHROME"
	EnvArtifacts = "SOCIALPREDICT_TEST_ARTIFACTS"
)

// chromePath finds a Chromium: $SOCIALPREDICT_TEST_CHROME, then Debian's
// chromium-headless-shell and the usual names. Without one the test is
// skipped, or fails when SOCIALPREDICT_TEST_REQUIRE_POSTGRES=1 (CI installs
// chromium-headless-shell).
func chromePath(t *testing.T) string {
	t.Helper()
	msg := "no Chromium found (apt-get install chromium-headless-shell, or set " + EnvChrome + ")"
	if p := os.Getenv(EnvChrome); p != "" {
		if _, err := exec.LookPath(p); err == nil {
			return p
		}
		msg = EnvChrome + "=" + p + " is not an executable"
	} else if p := findChrome(); p != "" {
		return p
	}
	if os.Getenv(dbtest.EnvRequirePostgres) == "1" {
		t.Fatalf("%s; %s=1 (CI) requires the browser test", msg, dbtest.EnvRequirePostgres)
	}
	t.Skip(msg)
	return ""
}

// findChrome looks for Debian's chromium-headless-shell and the usual
// names on PATH, then in Debian's library directory.
func findChrome() string {
	for _, name := range []string{"chromium-headless-shell", "chrome-headless-shell", "headless-shell", "chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	for _, p := range []string{"/usr/lib/chromium/chromium-headless-shell", "/usr/lib/chromium/chrome-headless-shell", "/usr/lib/chromium/chromium"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// browser is one tab of a headless Chromium, with what its console said.
type browser struct {
	ctx  context.Context
	mu   sync.Mutex
	logs []chromedp.ConsoleMessage
}

// newBrowser starts a headless Chromium for the test, with a desktop-sized
// window.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	opts := append([]chromedp.ExecAllocatorOption{}, chromedp.DefaultExecAllocatorOptions[:]...)
	opts = append(opts, chromedp.ExecPath(chromePath(t)), chromedp.NoSandbox, chromedp.WindowSize(1280, 900),
		chromedp.UserDataDir(t.TempDir()))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	b := &browser{ctx: ctx}
	messages := chromedp.Console(ctx) // starts the browser
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.logs = append(b.logs, m)
			b.mu.Unlock()
		}
	}()
	return b
}

// do runs actions within 30 seconds.
func (b *browser) do(t *testing.T, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// text is the text content of the element sel selects.
func (b *browser) text(t *testing.T, sel string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`(document.querySelector(%q) || {textContent: "(no %s)"}).textContent`, sel, sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// eval evaluates a boolean expression.
func (b *browser) eval(t *testing.T, expr string) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// waitText waits until the element sel selects contains want.
func (b *browser) waitText(t *testing.T, sel, want string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		got := b.text(t, sel)
		if strings.Contains(got, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s does not show %q within %s:\n%s", sel, want, d, got)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// contains checks that the element sel selects shows every one of wants.
func (b *browser) contains(t *testing.T, sel string, wants ...string) {
	t.Helper()
	got := b.text(t, sel)
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s does not show %q:\n%s", sel, w, squeeze(got))
		}
	}
}

// squeeze collapses white space, for readable failures.
func squeeze(s string) string { return strings.Join(strings.Fields(s), " ") }

// errors returns the console errors and uncaught exceptions so far,
// ignoring the network entries of expected statuses (the 401 of the
// sign-in form).
func (b *browser) errors(allowed ...string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
next:
	for _, m := range b.logs {
		if m.Type != chromedp.ConsoleError && m.Type != chromedp.ConsoleException {
			continue
		}
		for _, a := range allowed {
			if strings.Contains(m.Text, a) {
				continue next
			}
		}
		out = append(out, fmt.Sprintf("%s (%s:%d)", m, m.URL, m.Line))
	}
	return out
}

// signIn opens the page, which asks for a key, and signs in with key.
func (b *browser) signIn(t *testing.T, url, key string) {
	t.Helper()
	b.do(t, "sign in",
		chromedp.Navigate(url),
		chromedp.WaitVisible(chromedp.ID("key")),
		chromedp.SendKeys(chromedp.ID("key"), key),
		chromedp.Click(chromedp.CSS("form.signin button")),
		chromedp.WaitVisible(chromedp.ID("overview")),
	)
}

// signOut signs out with the page's button.
func (b *browser) signOut(t *testing.T) {
	t.Helper()
	b.do(t, "sign out", chromedp.Click(chromedp.CSS("form.inline button")), chromedp.WaitVisible(chromedp.ID("key")))
}

// act clicks an action button and confirms it in the dialog, then waits for
// the message line to show want.
func (b *browser) act(t *testing.T, button, want string) {
	t.Helper()
	b.do(t, "click "+button,
		chromedp.ScrollIntoView(chromedp.CSS(button)),
		chromedp.Click(chromedp.CSS(button)),
		chromedp.WaitVisible(chromedp.ID("confirm-yes")),
		chromedp.Click(chromedp.ID("confirm-yes")),
	)
	b.waitText(t, "#toast", want, 20*time.Second)
}

// screenshot saves the whole page as a PNG under the artifacts directory
// and logs where.
func (b *browser) screenshot(t *testing.T, name string, width, height int64) {
	t.Helper()
	dir := os.Getenv(EnvArtifacts)
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	b.do(t, "resize", chromedp.EmulateViewport(width, height))
	b.eval(t, `window.scrollTo(0, 0), true`)
	b.do(t, "settle", chromedp.Sleep(300*time.Millisecond))
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

// TestPageInBrowserPostgres drives the page in Chromium on PostgreSQL: each
// section shows what the test set up (an unused index, a blocked session, a
// 20,000-row table read by sequential scans, a sequence at 95%), the
// refresh shows a number that changed, the ops token may not act, and the
// admin key cancels the blocked statement.
func TestPageInBrowserPostgres(t *testing.T) {
	t.Parallel()
	chromePath(t)
	f := newFixture(t, dbtest.Postgres)
	db := f.postgresConditions(t)
	lock := blockSession(t, db)
	slow := fmt.Sprintf("SELECT pg_sleep(%g) AS ops_page_probe", (250 * time.Millisecond).Seconds())
	if err := f.tdb.Handle.Conn(context.Background()).Exec(slow).Error; err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)
	page := f.url + "/debug/db?refresh=1"

	b.signIn(t, page, opsToken)
	if errs := b.errors("401"); len(errs) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(errs, "\n"))
	}
	b.contains(t, "#overview", "PostgreSQL 1", "Needs attention", "big_note_idx", "big_id_seq")
	b.contains(t, "header", "ops token · read-only")
	b.contains(t, "#queries", "pg_stat_statements is not enabled", "shared_preload_libraries", "ops_page_probe")
	b.contains(t, "#connections", "ops-page-test", "max_connections")
	b.contains(t, "#blocked", fmt.Sprint(lock.waiter), fmt.Sprint(lock.holder), "UPDATE big SET val = 0")
	b.contains(t, "#blocking", fmt.Sprint(lock.holder), "idle in transaction", "UPDATE big SET val = val + 1")
	b.contains(t, "#unused-indexes", "big_note_idx", "public.big")
	b.contains(t, "#missing-indexes", "public.big", "20,000")
	b.contains(t, "#table-sizes", "public.big", "20,000")
	b.contains(t, "#sequences", "big_id_seq", "big.id", "95.0%")
	b.contains(t, "#replication", "Replica")
	b.contains(t, "#settings-table", "shared_buffers", "max_connections", "synchronous_commit")
	if !b.eval(t, `document.querySelector('#blocked button[data-action="cancel"]').disabled`) {
		t.Error("with the ops token, the cancel button is enabled")
	}

	// The refresh shows the sequence moving, without a reload.
	b.eval(t, `(window.opsMarker = 1) === 1`)
	execAll(t, db, fmt.Sprintf("SELECT setval('big_id_seq', %d)", seqAt(97.5)))
	b.waitText(t, "#sequences", "97.5%", 15*time.Second)
	if !b.eval(t, `window.opsMarker === 1`) {
		t.Error("the page reloaded to refresh")
	}
	b.screenshot(t, "ops-page-postgres", 1280, 900)
	b.screenshot(t, "ops-page-postgres-phone", 390, 844)
	b.do(t, "desktop", chromedp.EmulateViewport(1280, 900))

	// The admin key cancels the blocked statement.
	b.signOut(t)
	b.signIn(t, page, adminKey)
	b.contains(t, "header", "admin")
	b.act(t, fmt.Sprintf(`#blocked button[data-action="cancel"][data-pid="%d"]`, lock.waiter), fmt.Sprintf("cancelled the statement of session %d", lock.waiter))
	var pgErr *pgconn.PgError
	if err := lock.result(10 * time.Second); !errors.As(err, &pgErr) || pgErr.Code != "57014" {
		t.Errorf("the blocked statement ended with %v, want a cancellation (57014)", err)
	}
	b.waitText(t, "#blocked", "No session is waiting for a lock.", 15*time.Second)
	if !strings.Contains(f.logs.String(), fmt.Sprintf(`msg="ops action" action="cancel pid %d" by=admin`, lock.waiter)) {
		t.Error("the cancellation is not logged with who asked")
	}
	if errs := b.errors("401"); len(errs) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(errs, "\n"))
	}
}

// TestPageInBrowserSQLite drives the page in Chromium on SQLite: the file's
// numbers, the project's query plans and "not on SQLite" for the rest; the
// refresh shows the file growing; ANALYZE and integrity_check run from the
// page.
func TestPageInBrowserSQLite(t *testing.T) {
	t.Parallel()
	chromePath(t)
	f := newFixture(t, dbtest.SQLite)
	g := f.tdb.DB
	if err := g.Exec("CREATE TABLE items (id integer PRIMARY KEY, note text NOT NULL)").Error; err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)
	b.signIn(t, f.url+"/debug/db?refresh=1", adminKey)
	if errs := b.errors("401"); len(errs) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(errs, "\n"))
	}
	b.contains(t, "#overview", "SQLite 3.")
	b.contains(t, "#queries", "pg_stat_statements: not on SQLite", "No slow statement")
	b.contains(t, "#connections", "server connections: not on SQLite")
	b.contains(t, "#locks", "not on SQLite")
	b.contains(t, "#maintenance", "not on SQLite", "Never analyzed")
	b.contains(t, "#replication", "replication: not on SQLite")
	b.contains(t, "#settings", "not on SQLite")
	b.contains(t, "#query-plans", "a market's bets", "bets_market_placed_idx", "leaderboard")
	b.contains(t, "#sqlite-objects", "bets", "items")

	// The refresh shows the file growing.
	before := b.text(t, "#page-count")
	if err := g.Exec("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000) INSERT INTO items (note) SELECT printf('note %d', i) FROM n").Error; err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for b.text(t, "#page-count") == before {
		if time.Now().After(deadline) {
			t.Fatalf("the page count stays %s after 5,000 rows", before)
		}
		time.Sleep(200 * time.Millisecond)
	}
	b.waitText(t, "#sqlite-objects", "5,000", 15*time.Second)

	// ANALYZE from the page fills sqlite_stat1; integrity_check says ok.
	b.do(t, "choose items", chromedp.SetValue(chromedp.ID("analyze-table"), "items"))
	b.act(t, `#analyze-form button`, "analyzed items")
	b.waitText(t, "#stat1", "items", 15*time.Second)
	b.act(t, `button[data-action="integrity_check"]`, "integrity_check: ok")
	b.contains(t, "#integrity-output", "ok")
	b.screenshot(t, "ops-page-sqlite", 1280, 900)
	if errs := b.errors("401"); len(errs) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(errs, "\n"))
	}
}
