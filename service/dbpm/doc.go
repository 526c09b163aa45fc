// Package dbpm computes the payouts of a resolved market with the
// divergence-based payout model (DBPM) of the domain rules, steps 1–6:
// pools from the volume and the final probability, course payouts from each
// bet's divergence from the final probability, normalisation per side,
// correction of the rounding excess, netting per user, and the adjustment of
// the winners' values so that they sum exactly to the volume.
//
// Resolve gives the payouts of a YES or NO resolution; Shares and
// AdjustToVolume expose the intermediate steps for positions (the value of
// unresolved shares). The package is pure: no database, no I/O, no globals.
// It runs in O(n log n) time for n bets.
package dbpm
