package bench

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"socialpredict/database"
	"socialpredict/internal/pgcluster"
)

// Server says which PostgreSQL server a suite ran against: one it was given,
// or a throwaway cluster it started.
type Server struct {
	// Throwaway is true for a cluster the suite started and deleted.
	Throwaway bool
	// URL is the given server's connection URL, password redacted
	// ("" for a throwaway cluster).
	URL string
	// BinDir holds the binaries a throwaway cluster ran from; Settings are
	// the server settings it was started with beyond initdb's defaults.
	BinDir   string
	Settings []string
	// Dir was a throwaway cluster's temporary directory (data, socket, log),
	// deleted when the suite returned; not in the report.
	Dir string
}

// throwawaySettings are the settings of the throwaway cluster on top of
// pgcluster's (loopback only, max_connections=100, fsync=off): a benchmark
// syncs as production does, so fsync goes back on. Everything else is
// initdb's default (shared_buffers 128MB, synchronous_commit on, work_mem
// 4MB), as on a fresh Debian cluster.
var throwawaySettings = []string{"fsync=on"}

// pgclusterDefaults are the settings pgcluster starts every cluster with,
// for the report.
var pgclusterDefaults = []string{"listen_addresses=127.0.0.1", "max_connections=100", "fsync=off"}

// givenServer describes the server admin names.
func givenServer(admin database.Config) Server {
	return Server{URL: admin.RedactedDSN()}
}

// startThrowaway starts a throwaway PostgreSQL cluster (internal/pgcluster:
// initdb as the postgres OS user when run as root, a free port on
// 127.0.0.1, trust authentication) and returns the configuration of its
// postgres database as the superuser, its description, and the function
// that stops and deletes it (safe to call more than once). It returns
// pgcluster.ErrNoBinaries (wrapped) without server binaries.
func startThrowaway(ctx context.Context, log *slog.Logger) (database.Config, Server, func(), error) {
	c, err := pgcluster.Start(ctx, pgcluster.Options{Settings: throwawaySettings})
	if err != nil {
		return database.Config{}, Server{}, nil, fmt.Errorf("start a throwaway PostgreSQL cluster: %w", err)
	}
	log.Info("started a throwaway PostgreSQL cluster; it is deleted when the suite ends", "addr", c.Addr(), "dir", c.Dir)
	admin := database.DefaultConfig()
	admin.Driver, admin.URL = database.DriverPostgres, c.URL("postgres")
	srv := Server{Throwaway: true, BinDir: c.BinDir, Settings: merged(pgclusterDefaults, throwawaySettings), Dir: c.Dir}
	return admin, srv, func() {
		c.Destroy()
		log.Info("deleted the throwaway PostgreSQL cluster", "dir", srv.Dir)
	}, nil
}

// merged returns the name=value settings of base overridden by those of
// over, in base's order (a later -c wins on the server's command line).
func merged(base, over []string) []string {
	out := append([]string{}, base...)
	for _, o := range over {
		name, _, _ := strings.Cut(o, "=")
		i := slices.IndexFunc(out, func(s string) bool { return strings.HasPrefix(s, name+"=") })
		if i < 0 {
			out = append(out, o)
			continue
		}
		out[i] = o
	}
	return out
}

// String describes the server for the report.
func (s Server) String() string {
	if !s.Throwaway {
		return "given: " + s.URL
	}
	return fmt.Sprintf("a throwaway cluster the suite started (internal/pgcluster) and deleted afterwards: initdb -E UTF8 --locale=C -A trust "+
		"from %s, its data in a temporary directory, started with %s; every other setting initdb's default",
		s.BinDir, strings.Join(s.Settings, " "))
}
