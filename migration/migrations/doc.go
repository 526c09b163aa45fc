// Package migrations holds the numbered schema migrations of socialpredict,
// one file each (NNN_name.go), registered in init functions and listed in
// version order by All.
//
// A migration never imports today's models: it carries its own DDL, so an
// old migration keeps its meaning when the models change. Add one with
// `socialpredict migrate create NAME`.
package migrations
