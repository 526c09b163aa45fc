package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"socialpredict/database"
)

func (a *app) dbCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "db",
		Short: "Check and diagnose the database",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "ping",
		Short: "Connect to the database and print its driver, server version and latency",
		Long: `Connect to the configured database (retrying as connect_retry says), then
print the driver, the server version and the median round-trip latency of a
trivial query. Exits non-zero when the database cannot be reached.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, cfg, err := a.openDB(cmd.Context())
			if err != nil {
				return err
			}
			defer db.Close()
			res, err := database.Ping(cmd.Context(), db)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "driver:         %s\nserver version: %s\nlatency:        %s\ntarget:         %s\n",
				res.Driver, res.ServerVersion, res.Latency.Round(time.Microsecond), cfg.Database.Target())
			return err
		},
	})
	cmd.AddCommand(a.dbCheckCommand(), a.dbHealthCommand(), a.dbExplainCommand(), a.dbDoctorCommand())
	return cmd
}
