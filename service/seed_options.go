package service

import (
	"fmt"
	"strconv"
)

// The limits of SeedOptions: Seed builds every row in memory before
// writing them in bulk, so the counts are capped well below what would
// exhaust the memory of a small machine.
const (
	// MaxSeedUsers caps SeedOptions.Users.
	MaxSeedUsers = 1_000_000
	// MaxSeedMarkets caps SeedOptions.Markets.
	MaxSeedMarkets = 100_000
	// MaxSeedBets caps SeedOptions.Bets.
	MaxSeedBets = 1_000_000
)

// DefaultSeedPrefix starts the seeded usernames when SeedOptions.Prefix is
// empty.
const DefaultSeedPrefix = "seed"

// Validate returns the first invalid option as an *errs.InputError whose Field
// is the option in snake case (users, markets, bets, initial_balance,
// prefix): a count outside 1..MaxSeedUsers users, 0..MaxSeedMarkets
// markets or 0..MaxSeedBets bets, bets with no market, an initial balance
// outside 0..MaxCredits, or a prefix that does not make valid usernames
// (PREFIX_N must follow the username rule, 3-30 lower-case letters, digits
// or underscores, for every N below Users).
func (o SeedOptions) Validate() error {
	for _, c := range []struct {
		field   string
		v, l, h int64
	}{
		{"users", int64(o.Users), 1, MaxSeedUsers},
		{"markets", int64(o.Markets), 0, MaxSeedMarkets},
		{"bets", int64(o.Bets), 0, MaxSeedBets},
		{"initial_balance", o.InitialBalance, 0, MaxCredits},
	} {
		if err := CheckRange(c.field, c.v, c.l, c.h); err != nil {
			return err
		}
	}
	if o.Bets > 0 && o.Markets == 0 {
		return invalid("bets", "needs at least one market to bet on, got %d bets and 0 markets", o.Bets)
	}
	return checkSeedPrefix(o.Prefix, o.Users)
}

// checkSeedPrefix checks that prefix_0 to prefix_(users-1) are valid
// usernames. The message never quotes a long prefix.
func checkSeedPrefix(prefix string, users int) error {
	if prefix == "" {
		prefix = DefaultSeedPrefix
	}
	last := prefix + "_" + strconv.Itoa(users-1)
	if usernamePattern.MatchString(last) { // and so the shorter ones

		return nil
	}
	if room := maxUsernameLen - len(last) + len(prefix); len(last) > maxUsernameLen {
		return invalid("prefix", "is %d characters long: with %d users the usernames PREFIX_0 to PREFIX_%d would be longer than %d characters (at most %d characters for the prefix)",
			len(prefix), users, users-1, maxUsernameLen, room)
	}
	return invalid("prefix", "must be lower-case letters, digits or underscores (it starts the usernames), got %s", quoteShort(prefix))
}

// quoteShort quotes s, or only its start when it is long.
func quoteShort(s string) string {
	const limit = 40
	if len(s) <= limit {
		return strconv.Quote(s)
	}
	return fmt.Sprintf("%q… (%d bytes)", s[:limit], len(s))
}
