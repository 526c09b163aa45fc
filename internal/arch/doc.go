// Package arch holds the architecture tests: which package of the project
// may import which (the layers from cmd down to models), and that only the
// packages that own SQL import GORM, pgx or database/sql. It has no code of
// its own; README.md's "Architecture" section describes the same rules.
package arch
