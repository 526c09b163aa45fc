package config

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"socialpredict/database"
	"socialpredict/internal/confkit"
	"socialpredict/server"
	"socialpredict/service"
)

// EnvPrefix starts every environment variable that overrides a key: the key
// path upper-cased with dots as underscores, e.g. database.connection_pool.
// max_open_conns is SOCIALPREDICT_DATABASE_CONNECTION_POOL_MAX_OPEN_CONNS.
const EnvPrefix = "SOCIALPREDICT_"

// EnvConfigFile names the configuration file when --config is not given.
const EnvConfigFile = "SOCIALPREDICT_CONFIG"

// aliases are the conventional variables also honoured, below the prefixed ones.
var aliases = []confkit.Alias{{Env: "DATABASE_URL", Key: "database.url"}}

// Config is the whole configuration file.
type Config struct {
	Database  database.Config   `yaml:"database"`
	Economics service.Economics `yaml:"economics"`
	Log       LogConfig         `yaml:"log"`
	Server    server.Config     `yaml:"server"`
}

// Default returns the configuration used when there is no file and no
// environment variable: the embedded SQLite database ./socialpredict.db.
func Default() Config {
	return Config{Database: database.DefaultConfig(), Economics: service.DefaultEconomics(), Log: DefaultLog(),
		Server: server.DefaultConfig()}
}

// Loaded is a configuration together with where each value came from.
type Loaded struct {
	Config
	// File is the file it was read from, or "" for none.
	File string
	// Sources maps every key path to the source of its value.
	Sources confkit.Sources
}

// Load reads the configuration: defaults, then the file at path (none when
// path is empty), then the environment environ ("KEY=value" strings as from
// os.Environ; os.Environ() when nil): DATABASE_URL, then SOCIALPREDICT_*
// variables.
//
// The error matches confkit.ErrInvalid and lists every problem with its key
// path (the first confkit.MaxReported in its message) when the file or
// environment holds invalid configuration; it also matches
// confkit.ErrFileTooLarge for a file over confkit.MaxFileSize, which is not
// read whole; it wraps the os error when the file cannot be read.
func Load(path string, environ []string) (*Loaded, error) {
	var data []byte
	if path != "" {
		var err error
		if data, err = confkit.ReadFile(path); errors.Is(err, confkit.ErrFileTooLarge) {
			return nil, err
		} else if err != nil {
			return nil, fmt.Errorf("read configuration: %w", err)
		}
	}
	return Parse(path, data, environ)
}

// Parse is Load for configuration text already in memory; name is the file
// name used in sources and messages.
func Parse(name string, data []byte, environ []string) (*Loaded, error) {
	l := &Loaded{Config: Default(), File: name}
	loader := confkit.Loader{EnvPrefix: EnvPrefix, Aliases: aliases, Environ: environ}
	sources, err := loader.Load(&l.Config, name, data)
	l.Sources = sources
	var problems confkit.Errors
	if err != nil && !errors.As(err, &problems) {
		return nil, err
	}
	isSet := func(key string) bool { return sources.IsSet("database." + key) }
	for key, why := range l.Database.Resolve(isSet) {
		sources["database."+key] = confkit.Source{Kind: confkit.FromDerived, Detail: "(" + why + ")"}
	}
	for key, note := range l.Database.Implications() {
		s := sources["database."+key]
		s.Detail = strings.TrimSpace(s.Detail + " " + note)
		sources["database."+key] = s
	}
	if l.Database.URL != "" {
		for _, key := range database.URLReplaces {
			if s := sources["database."+key]; isSet(key) {
				s.Detail += " (ignored: database.url is set)"
				sources["database."+key] = s
			}
		}
	}
	for _, verr := range []error{l.Database.Validate(), l.Economics.Validate(), l.Log.Validate(), l.Server.Validate()} {
		var more confkit.Errors
		if errors.As(verr, &more) {
			problems = append(problems, more...)
		}
	}
	if len(problems) > 0 {
		return nil, problems
	}
	return l, nil
}

// Show writes every effective value with its source; secrets are masked.
// It returns the first write error.
func (l *Loaded) Show(w io.Writer) error {
	file := l.File
	if file == "" {
		file = "(none: built-in defaults)"
	}
	if _, err := fmt.Fprintf(w, "# configuration file: %s\n", file); err != nil {
		return err
	}
	return confkit.Show(w, &l.Config, l.Sources, EnvPrefix)
}

// Reference writes the Markdown table of every key, its default, type and
// environment variable, as in the README. It returns the first write error.
func Reference(w io.Writer) error {
	d := Default()
	return confkit.Reference(w, &d, EnvPrefix)
}
