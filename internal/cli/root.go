package cli

import (
	"context"
	"io"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"socialpredict/config"
	"socialpredict/internal/confkit"
)

// Env is what a command reads from its surroundings, so tests can replace it.
type Env struct {
	// Stdout and Stderr receive the command's output and its log lines.
	Stdout, Stderr io.Writer
	// Environ is the environment, as "KEY=value" strings.
	Environ []string
}

// OSEnv is the real process environment.
func OSEnv() Env {
	return Env{Stdout: os.Stdout, Stderr: os.Stderr, Environ: os.Environ()}
}

// app carries what every subcommand needs: the environment and the
// --config flag.
type app struct {
	env        Env
	configFile string
}

// NewRootCommand builds the socialpredict command tree.
func NewRootCommand(env Env) *cobra.Command {
	a := &app{env: env}
	root := &cobra.Command{
		Use:   "socialpredict",
		Short: "Run and operate a SocialPredict prediction market database",
		Long: `socialpredict runs the data layer of a play-money prediction market.

With no configuration it uses an embedded SQLite database (./socialpredict.db).
Point it at PostgreSQL with --config FILE, SOCIALPREDICT_CONFIG or DATABASE_URL.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	root.PersistentFlags().StringVar(&a.configFile, "config", "",
		"configuration file (YAML); default: $"+config.EnvConfigFile+", else built-in defaults")
	root.AddCommand(a.versionCommand(), a.configCommand(), a.dbCommand(), a.migrateCommand(), a.seedCommand(), a.benchCommand(), a.serveCommand(), a.chaosCommand())
	return root
}

// Execute runs the command line with args and returns the error to report.
func Execute(ctx context.Context, env Env, args []string) error {
	root := NewRootCommand(env)
	root.SetArgs(args)
	return root.ExecuteContext(ctx)
}

// load reads the configuration named by --config or SOCIALPREDICT_CONFIG.
func (a *app) load() (*config.Loaded, error) {
	path := a.configFile
	if path == "" {
		path = confkit.EnvMap(a.env.Environ)[config.EnvConfigFile]
	}
	return config.Load(path, a.env.Environ)
}

// logger returns the application logger configured by cfg, on stderr.
func (a *app) logger(cfg *config.Loaded) *slog.Logger {
	return cfg.Log.NewLogger(a.env.Stderr)
}
