package dbpm_test

import (
	"errors"
	"math"
	"testing"

	"socialpredict/service/dbpm"
)

func TestResolveErrors(t *testing.T) {
	ok := dbpm.Bet{UserID: 1, Username: "alice", Outcome: dbpm.Yes, Amount: 10, ProbabilityAfter: 0.75}
	with := func(edit func(*dbpm.Bet)) []dbpm.Bet {
		b := ok
		edit(&b)
		return []dbpm.Bet{ok, b}
	}
	tests := []struct {
		name    string
		bets    []dbpm.Bet
		result  dbpm.Outcome
		r       float64
		wantErr error
	}{
		{name: "N/A result", bets: []dbpm.Bet{ok}, result: "N/A", r: 0.75, wantErr: dbpm.ErrInvalidResult},
		{name: "empty result", bets: []dbpm.Bet{ok}, result: "", r: 0.75, wantErr: dbpm.ErrInvalidResult},
		{name: "lowercase result", bets: []dbpm.Bet{ok}, result: "yes", r: 0.75, wantErr: dbpm.ErrInvalidResult},
		{name: "R below 0", bets: []dbpm.Bet{ok}, result: dbpm.Yes, r: -0.01, wantErr: dbpm.ErrInvalidProbability},
		{name: "R above 1", bets: []dbpm.Bet{ok}, result: dbpm.Yes, r: 1.01, wantErr: dbpm.ErrInvalidProbability},
		{name: "R NaN", bets: []dbpm.Bet{ok}, result: dbpm.Yes, r: math.NaN(), wantErr: dbpm.ErrInvalidProbability},
		{name: "unknown outcome", bets: with(func(b *dbpm.Bet) { b.Outcome = "MAYBE" }), result: dbpm.Yes, r: 0.5, wantErr: dbpm.ErrInvalidBet},
		{name: "zero amount", bets: with(func(b *dbpm.Bet) { b.Amount = 0 }), result: dbpm.Yes, r: 0.5, wantErr: dbpm.ErrInvalidBet},
		{name: "negative amount", bets: with(func(b *dbpm.Bet) { b.Amount = -5 }), result: dbpm.Yes, r: 0.5, wantErr: dbpm.ErrInvalidBet},
		{name: "probability below 0", bets: with(func(b *dbpm.Bet) { b.ProbabilityAfter = -0.1 }), result: dbpm.No, r: 0.5, wantErr: dbpm.ErrInvalidBet},
		{name: "probability above 1", bets: with(func(b *dbpm.Bet) { b.ProbabilityAfter = 1.1 }), result: dbpm.No, r: 0.5, wantErr: dbpm.ErrInvalidBet},
		{name: "probability NaN", bets: with(func(b *dbpm.Bet) { b.ProbabilityAfter = math.NaN() }), result: dbpm.No, r: 0.5, wantErr: dbpm.ErrInvalidBet},
		{name: "volume above MaxVolume", bets: with(func(b *dbpm.Bet) { b.Amount = dbpm.MaxVolume - 9 }), result: dbpm.No, r: 0.5, wantErr: dbpm.ErrInvalidBet},
		{name: "volume overflows int64", bets: with(func(b *dbpm.Bet) { b.Amount = math.MaxInt64 }), result: dbpm.No, r: 0.5, wantErr: dbpm.ErrInvalidBet},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := dbpm.Resolve(tt.bets, tt.result, tt.r)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Resolve error = %v, want %v", err, tt.wantErr)
			}
			if got != nil {
				t.Errorf("Resolve payouts = %v, want nil on error", got)
			}
			if tt.wantErr == dbpm.ErrInvalidResult {
				return // Shares takes no result
			}
			if _, err := dbpm.Shares(tt.bets, tt.r); !errors.Is(err, tt.wantErr) {
				t.Errorf("Shares error = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestResolveLimits(t *testing.T) {
	t.Run("no bets", func(t *testing.T) {
		got, err := dbpm.Resolve(nil, dbpm.Yes, 0.5)
		if err != nil || got == nil || len(got) != 0 {
			t.Errorf("Resolve(nil) = %#v, %v, want an empty non-nil slice and no error", got, err)
		}
		shares, err := dbpm.Shares(nil, 0.5)
		if err != nil || shares == nil || len(shares) != 0 {
			t.Errorf("Shares(nil) = %#v, %v, want an empty non-nil map and no error", shares, err)
		}
	})
	t.Run("volume exactly MaxVolume", func(t *testing.T) {
		bets := []dbpm.Bet{
			{UserID: 1, Outcome: dbpm.Yes, Amount: dbpm.MaxVolume - 1, ProbabilityAfter: 1},
			{UserID: 2, Outcome: dbpm.No, Amount: 1, ProbabilityAfter: 1},
		}
		got, err := dbpm.Resolve(bets, dbpm.Yes, 1)
		if err != nil {
			t.Fatalf("Resolve: %v", err)
		}
		var sum int64
		for _, p := range got {
			sum += p.Amount
		}
		if sum != dbpm.MaxVolume {
			t.Errorf("payouts sum to %d, want %d", sum, int64(dbpm.MaxVolume))
		}
	})
}
