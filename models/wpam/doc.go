// Package wpam computes a market's probability with the WPAM formula of the
// domain rules:
//
//	P = (P0·I0 + Y) / (I0 + Y + N)
//
// where Y and N are the cumulative YES and NO stakes with the configured
// seeds included. The package is pure: no database, no I/O, no globals. The
// same seeds must be used everywhere (display, positions and payouts).
package wpam
