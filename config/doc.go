// Package config is the application's configuration: the YAML file with its
// sections (database, economics, log, and later server), how it is loaded
// (file, ${VAR} expansion, environment overrides) and how it is shown.
package config
