// Package cli is the socialpredict command line: one cobra command tree,
// built by NewRootCommand so tests can run it with their own input, output
// and environment.
package cli
