package config

import (
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"

	"socialpredict/internal/confkit"
)

// LogConfig is the `log` section: the application's own log output.
type LogConfig struct {
	Level  string `yaml:"level" doc:"Minimum level logged: debug, info, warn or error."`
	Format string `yaml:"format" doc:"Log line format on standard error: text or json."`
}

// DefaultLog returns the default log settings: info level, text lines.
func DefaultLog() LogConfig { return LogConfig{Level: "info", Format: "text"} }

var (
	logLevels  = map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError}
	logFormats = []string{"text", "json"}
)

// Validate reports unknown levels and formats; the error matches
// confkit.ErrInvalid.
func (c LogConfig) Validate() error {
	var errs confkit.Errors
	if _, ok := logLevels[c.Level]; !ok {
		errs.Add("log.level", fmt.Sprintf("unknown level %q (want debug, info, warn or error)", c.Level))
	}
	if !slices.Contains(logFormats, c.Format) {
		errs.Add("log.format", fmt.Sprintf("unknown format %q (want %s)", c.Format, strings.Join(logFormats, " or ")))
	}
	return errs.Err()
}

// NewLogger returns a slog logger writing to w as c says.
func (c LogConfig) NewLogger(w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: logLevels[c.Level]}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
