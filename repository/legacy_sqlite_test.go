package repository_test

import (
	"io"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"socialpredict/dal"
	"socialpredict/dal/daltest"
	"socialpredict/database"
	"socialpredict/database/dbtest"
	"socialpredict/migration"
	"socialpredict/migration/migrations"
	"socialpredict/models"
	"socialpredict/repository"
)

// legacyFixture is a SQLite database written by the SQLite driver this
// project used until issue 11 (github.com/glebarez/sqlite v1.11.0 over
// github.com/glebarez/go-sqlite v1.21.2, SQLite 3.41.2): the migrated schema,
// three users, two markets (one resolved), two bets, positions, ledger rows
// and an API key, with times given in UTC, EST and IST, to the nanosecond.
// TestWriteLegacySQLiteFixture wrote it through the repositories, with a
// clock fixed at 2025-01-31T23:59:59.987654321Z; that test was removed with
// the old driver (it is in the commit that added the fixture).
const legacyFixture = "testdata/sqlite-glebarez-v1.11.0.db"

// fixtureHistory is the last migration legacyFixture's history holds.
const fixtureHistory = "003"

// zoneIST is a zone of fixed offset +05:30.
var zoneIST = time.FixedZone("IST", 5*3600+1800)

// copyFile copies the file src to dst.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// openLegacyFixture opens a copy of legacyFixture the way the program opens
// its database.
func openLegacyFixture(t *testing.T) (*dal.DataAccessLayer, database.Config) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "legacy.db")
	if err := copyFile(legacyFixture, path); err != nil {
		t.Fatal(err)
	}
	cfg := database.DefaultConfig()
	cfg.Driver, cfg.SQLite.Path = database.DriverSQLite, path
	db, err := database.NewDatabase(t.Context(), cfg, database.WithLogger(dbtest.Logger()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return daltest.Wrap(t, db), cfg
}

// wantTime fails t unless got is the instant want names (RFC 3339) in UTC.
func wantTime(t *testing.T, what string, got time.Time, want string) {
	t.Helper()
	if s := got.Format(time.RFC3339Nano); s != want || got.Location() != time.UTC {
		t.Errorf("%s = %s (%v), want %s UTC", what, s, got.Location(), want)
	}
}

// TestLegacySQLiteFixtureReadsBack opens a database file written by the
// previous SQLite driver and reads back every stored time and value exactly;
// the migration history is intact (nothing modified, only the migrations
// written after the fixture pending, then applied: its two-row bets stay as
// they are), and rows written now sort and filter
// with the old ones, which needs the same text layout for times.
func TestLegacySQLiteFixtureReadsBack(t *testing.T) {
	d, _ := openLegacyFixture(t)
	ctx := t.Context()

	st, err := migration.NewMigrationManager(daltest.DB(t, d), migrations.All(), migration.WithLogger(dbtest.Logger())).Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != len(migrations.All()) {
		t.Errorf("status lists %d migrations, want %d", len(st), len(migrations.All()))
	}
	for _, s := range st {
		if s.Version > fixtureHistory {
			// Written after the fixture: pending on it.
			if s.State != migration.StatePending {
				t.Errorf("migration %s: state %s, want pending", s.Version, s.State)
			}
			continue
		}
		if s.State != migration.StateApplied || s.AppliedAt == nil || s.AppliedBy != "fixture" {
			t.Errorf("migration %s: state %s, applied by %q, want applied by fixture", s.Version, s.State, s.AppliedBy)
			continue
		}
		wantTime(t, "migration "+s.Version+" applied_at", *s.AppliedAt, "2025-01-31T23:59:59.987654321Z")
	}
	// Today's repositories read the schema of every migration: apply the
	// pending ones, as `migrate up` does (007 adds the ledger's fee column;
	// the bets written before keep their two ledger rows).
	if err := migrations.Up(ctx, daltest.DB(t, d)); err != nil {
		t.Fatalf("migrate the fixture up: %v", err)
	}

	users := map[string]struct {
		id                       int64
		userType                 models.UserType
		initial, balance         int64
		createdAt, updatedAt     string
		displayName, emailPrefix string
	}{
		"alice": {1, models.UserTypeAdmin, 1000, 1000, "2025-01-02T08:04:05.123456789Z", "2025-01-02T08:04:05.123456789Z", "Alice", "alice"},
		"bob":   {2, models.UserTypeRegular, 500, 500, "2025-01-02T10:00:00Z", "2025-01-02T10:00:00Z", "Bob", "bob"},
		"carol": {3, models.UserTypeRegular, 0, 0, "2025-01-02T10:00:00.5Z", "2025-01-02T10:00:00.5Z", "Carol", "carol"},
	}
	for name, w := range users {
		u, err := d.Users().GetByUsername(ctx, name)
		if err != nil {
			t.Fatalf("user %s: %v", name, err)
		}
		if u.ID != w.id || u.UserType != w.userType || u.InitialBalance != w.initial || u.Balance != w.balance ||
			u.DisplayName != w.displayName || u.Email != w.emailPrefix+"@example.com" {
			t.Errorf("user %s = %+v, want %+v", name, u, w)
		}
		wantTime(t, name+".created_at", u.CreatedAt, w.createdAt)
		wantTime(t, name+".updated_at", u.UpdatedAt, w.updatedAt)
	}

	open, err := d.Markets().GetByID(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if open.CreatorID != 1 || open.QuestionTitle != "Will it rain?" || open.Description != "Öffentlich — ünïcode" ||
		open.YesLabel != "Rain" || open.NoLabel != "Dry" || open.Status != models.MarketOpen || open.ResolutionResult != nil ||
		open.ResolvedAt != nil || open.YesStake != 10 || open.NoStake != 20 || open.Volume != 30 || open.BetCount != 2 ||
		open.Probability != 0.45 {
		t.Errorf("market 1 = %+v", open)
	}
	wantTime(t, "market 1 closes_at", open.ClosesAt, "2030-06-30T18:29:59.999999Z")
	wantTime(t, "market 1 created_at", open.CreatedAt, "2025-01-03T00:00:00.000001Z")
	wantTime(t, "market 1 updated_at", open.UpdatedAt, "2025-01-31T23:59:59.987654321Z") // AddBet: NowFunc

	res, err := d.Markets().GetByID(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != models.MarketResolved || res.ResolutionResult == nil || *res.ResolutionResult != models.ResolutionYes ||
		res.ResolvedAt == nil || res.Probability != 0.5 {
		t.Fatalf("market 2 = %+v", res)
	}
	wantTime(t, "market 2 resolved_at", *res.ResolvedAt, "2025-02-03T09:05:06.7Z")
	wantTime(t, "market 2 closes_at", res.ClosesAt, "2025-02-01T05:00:00Z")
	wantTime(t, "market 2 created_at", res.CreatedAt, "2025-01-03T06:00:00Z")
	wantTime(t, "market 2 updated_at", res.UpdatedAt, "2025-01-31T23:59:59.987654321Z")

	b1, err := d.Bets().GetByIdempotencyKey(ctx, 1, "legacy-key-1")
	if err != nil {
		t.Fatal(err)
	}
	if b1.ID != 1 || b1.MarketID != 1 || b1.Outcome != models.OutcomeYes || b1.Amount != 10 || b1.Fee != 1 || b1.ProbabilityAfter != 0.55 {
		t.Errorf("bet 1 = %+v", b1)
	}
	wantTime(t, "bet 1 placed_at", b1.PlacedAt, "2025-01-05T11:07:08.000000001Z")
	b2, err := d.Bets().GetByID(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if b2.UserID != 2 || b2.Outcome != models.OutcomeNo || b2.Amount != 20 || b2.Fee != 0 || b2.IdempotencyKey != nil {
		t.Errorf("bet 2 = %+v", b2)
	}
	wantTime(t, "bet 2 placed_at", b2.PlacedAt, "2025-01-05T11:07:09.25Z")
	last, err := d.Bets().LastPlacedAt(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	wantTime(t, "LastPlacedAt", last, "2025-01-05T11:07:09.25Z")

	for _, w := range []struct {
		user              int64
		yes, no           int64
		firstBet, updated string
	}{
		{1, 10, 0, "2025-01-05T11:07:08.000000001Z", "2025-01-05T11:07:08.000000001Z"},
		{2, 0, 20, "2025-01-05T11:07:09.25Z", "2025-01-05T11:07:09.25Z"},
	} {
		p, err := d.Positions().Get(ctx, w.user, 1)
		if err != nil {
			t.Fatal(err)
		}
		if p.YesStake != w.yes || p.NoStake != w.no || p.BetCount != 1 {
			t.Errorf("position of user %d = %+v", w.user, p)
		}
		wantTime(t, "position first_bet_at", p.FirstBetAt, w.firstBet)
		wantTime(t, "position updated_at", p.UpdatedAt, w.updated)
	}

	page, err := d.Ledger().ListByUser(ctx, 1, repository.PageRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 2 {
		t.Fatalf("ledger of user 1: %d rows, want 2", len(page.Items))
	}
	var sum int64
	for _, e := range page.Items {
		sum += e.Amount
		if e.MarketID == nil || *e.MarketID != 1 || e.BetID == nil || *e.BetID != 1 || e.Fee != 0 {
			t.Errorf("ledger row %+v", e)
		}
		wantTime(t, "ledger created_at", e.CreatedAt, "2025-01-05T11:07:08.000000001Z")
	}
	if sum != -11 {
		t.Errorf("ledger of user 1 sums to %d, want -11", sum)
	}

	var key models.APIKey
	if err := daltest.DB(t, d).Take(&key, 1).Error; err != nil {
		t.Fatal(err)
	}
	if key.UserID != 2 || key.KeyPrefix != "sp_abc" || key.RevokedAt != nil || key.LastUsedAt == nil {
		t.Fatalf("API key = %+v", key)
	}
	wantTime(t, "api key created_at", key.CreatedAt, "2025-01-04T06:30:00.000000042Z")
	// Stored with its offset (+05:30) by a write the repositories did not
	// normalize: the same instant, read back in UTC like every time (the old
	// driver returned it in a zone of fixed offset +05:30).
	wantTime(t, "api key last_used_at", *key.LastUsedAt, "2025-01-06T01:38:09.00000001Z")
	if u, err := d.Users().GetByAPIKeyHash(ctx, key.KeyHash); err != nil || u.ID != 2 {
		t.Errorf("GetByAPIKeyHash = %v, %v; want user 2", u, err)
	}

	// The text the old driver stored: "YYYY-MM-DD HH:MM:SS[.fraction]±HH:MM".
	raw := map[string]string{
		"SELECT placed_at FROM bets WHERE id = 1":                     "2025-01-05 11:07:08.000000001+00:00",
		"SELECT placed_at FROM bets WHERE id = 2":                     "2025-01-05 11:07:09.25+00:00",
		"SELECT created_at FROM users WHERE id = 2":                   "2025-01-02 10:00:00+00:00",
		"SELECT closes_at FROM markets WHERE id = 1":                  "2030-06-30 18:29:59.999999+00:00",
		"SELECT last_used_at FROM api_keys WHERE id = 1":              "2025-01-06 07:08:09.00000001+05:30",
		"SELECT applied_at FROM schema_migrations ORDER BY 1 LIMIT 1": "2025-01-31 23:59:59.987654321+00:00",
	}
	for q, want := range raw {
		if got := rawText(t, d, q); got != want {
			t.Errorf("%s: stored %q, want %q", q, got, want)
		}
	}

	// A bet written now lands between the two old ones in time order, and is
	// stored in the same layout, so that text comparisons keep working.
	b3 := &models.Bet{UserID: 3, MarketID: 1, Outcome: models.OutcomeYes, Amount: 5, ProbabilityAfter: 0.5,
		PlacedAt: time.Date(2025, 1, 5, 16, 37, 8, 500000000, zoneIST)}
	if err := d.Bets().Create(ctx, b3); err != nil {
		t.Fatal(err)
	}
	if got, want := rawText(t, d, "SELECT placed_at FROM bets WHERE id = 3"), "2025-01-05 11:07:08.5+00:00"; got != want {
		t.Errorf("new bet stored placed_at %q, want %q (the old driver's layout)", got, want)
	}
	after, before := time.Date(2025, 1, 5, 11, 7, 8, 2, time.UTC), time.Date(2025, 1, 5, 11, 7, 9, 250000000, time.UTC)
	n, err := d.Bets().Count(ctx, repository.BetFilters{MarketID: 1, PlacedAfter: &after, PlacedBefore: &before})
	if err != nil || n != 1 {
		t.Errorf("bets placed in [%v, %v) = %d, %v; want 1 (the new one)", after, before, n, err)
	}
	list, err := d.Bets().ListByMarket(ctx, 1, repository.PageRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var order []int64
	for _, b := range list.Items {
		order = append(order, b.ID)
	}
	if len(order) != 3 || !sortedByTime(list.Items) {
		t.Errorf("bets of market 1 in list order: %v, not in time order", order)
	}
}

// sortedByTime reports whether bets are in ascending or descending time order.
func sortedByTime(bets []*models.Bet) bool {
	asc, desc := true, true
	for i := 1; i < len(bets); i++ {
		asc = asc && !bets[i].PlacedAt.Before(bets[i-1].PlacedAt)
		desc = desc && !bets[i].PlacedAt.After(bets[i-1].PlacedAt)
	}
	return asc || desc
}

// timeLayout matches the text layout of stored times.
var timeLayout = regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?[+-]\d\d:\d\d$`)

// rawText returns the one text value q selects, as stored.
func rawText(t *testing.T, d *dal.DataAccessLayer, q string) string {
	t.Helper()
	var s string
	if err := daltest.DB(t, d).Raw("SELECT CAST((" + q + ") AS TEXT)").Row().Scan(&s); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	if !timeLayout.MatchString(s) {
		t.Errorf("%s: %q is not in the layout YYYY-MM-DD HH:MM:SS[.f]±HH:MM", q, s)
	}
	return s
}
