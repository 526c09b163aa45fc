// Package confkit loads YAML configuration into plain Go structs.
//
// It is schema-agnostic: the structs it fills declare their keys with `yaml`
// tags, their documentation with `doc` tags and their secrets with `secret`
// tags. On top of a YAML decoder it adds what an operator expects from a
// configuration file:
//
//   - ${VAR} and ${VAR:-default} expansion in values (see Expand);
//   - unknown keys are errors naming the full key path, with a suggestion;
//   - every bad value is reported with its key path, all problems at once;
//   - environment variables override the file (EnvPrefix + KEY_PATH);
//   - the source of every effective value is recorded (default, file, env),
//     and Show prints the effective values with secrets masked.
package confkit
