package dbpm_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"socialpredict/service/dbpm"
)

// Every golden case below is computed by hand from the domain rules, with
// the default seeds (P0 = 0.5, I0 = 10, Y0 = N0 = 0), so that
// p = (5 + Y) / (10 + Y + N) after each bet, and R = p of the last bet.
// round is half away from zero. "div" and "mod" are integer division and
// remainder. Step numbers are those of the domain text.

const (
	alice = 1
	bob   = 2
	carol = 3
	dave  = 4
)

var (
	alicePlaces = func(o dbpm.Outcome, amount int64) placed { return placed{alice, "alice", o, amount} }
	bobPlaces   = func(o dbpm.Outcome, amount int64) placed { return placed{bob, "bob", o, amount} }
	carolPlaces = func(o dbpm.Outcome, amount int64) placed { return placed{carol, "carol", o, amount} }
	davePlaces  = func(o dbpm.Outcome, amount int64) placed { return placed{dave, "dave", o, amount} }
)

type golden struct {
	name       string
	bets       []placed
	wantP      []float64 // the probability after each bet, by hand
	wantShares map[int64]dbpm.UserShares
	wantYes    []dbpm.Payout // payouts when resolved YES
	wantNo     []dbpm.Payout // payouts when resolved NO
}

var goldens = []golden{
	{
		// p1 = (5+10)/(10+10+0) = 15/20 = 0.75; R = 0.75.
		// 1. S = 10; S_yes = round(10·0.75) = round(7.5) = 8; S_no = round(2.5) = 3.
		// 2. C1 = |0.75−0.75|·10 = 0.
		// 3. ΣC_yes = 0, so F_yes = 0: scaled1 = 0.
		// 4. excess = 0 − 10 = −10; n = 1: add 10 div 1 = 10, remainder 0: scaled1 = 10.
		// 5. alice: YES 10, NO 0.
		// 6. YES: alice's value 10 already sums to S = 10: alice 10.
		//    NO: nobody holds NO shares: nobody is paid.
		name:       "one YES bet",
		bets:       []placed{alicePlaces(dbpm.Yes, 10)},
		wantP:      []float64{0.75},
		wantShares: map[int64]dbpm.UserShares{alice: {Yes: 10, FirstBet: 0, Username: "alice"}},
		wantYes:    []dbpm.Payout{{UserID: alice, Amount: 10}},
		wantNo:     []dbpm.Payout{},
	},
	{
		// p1 = (5+10)/(10+10) = 0.75; p2 = (5+10)/(10+10+10) = 15/30 = 0.5; R = 0.5.
		// 1. S = 20; S_yes = round(20·0.5) = 10; S_no = round(20·0.5) = 10.
		// 2. C1 = |0.5−0.75|·10 = 2.5; C2 = |0.5−0.5|·10 = 0.
		// 3. F_yes = 10/2.5 = 4: scaled1 = round(2.5·4) = 10.
		//    ΣC_no = 0, so F_no = 0: scaled2 = 0.
		// 4. excess = 10 − 20 = −10; n = 2: add 10 div 2 = 5 to each, remainder 0:
		//    scaled1 = 15, scaled2 = 5.
		// 5. alice: YES 15; bob: NO 5.
		// 6. YES: alice 15, add 20 − 15 = 5 (only holder): alice 20.
		//    NO: bob 5, add 20 − 5 = 15: bob 20.
		name:  "one bet per side",
		bets:  []placed{alicePlaces(dbpm.Yes, 10), bobPlaces(dbpm.No, 10)},
		wantP: []float64{0.75, 0.5},
		wantShares: map[int64]dbpm.UserShares{
			alice: {Yes: 15, FirstBet: 0, Username: "alice"},
			bob:   {No: 5, FirstBet: 1, Username: "bob"},
		},
		wantYes: []dbpm.Payout{{UserID: alice, Amount: 20}},
		wantNo:  []dbpm.Payout{{UserID: bob, Amount: 20}},
	},
	{
		// p1 = (5+1)/(10+1) = 6/11; R = 6/11.
		// 1. S = 1: special case. YES stake 1 > NO stake 0: S_yes = 1, S_no = 0.
		// 2. C1 = |6/11 − 6/11|·1 = 0.
		// 3. ΣC_yes = 0, so F_yes = 0: scaled1 = 0.
		// 4. excess = 0 − 1 = −1; n = 1: add 1 div 1 = 1: scaled1 = 1.
		// 5. alice: YES 1.
		// 6. YES: alice 1 = S: alice 1. NO: nobody holds NO: nobody is paid.
		// (A single bet always gets its amount back as shares of its side
		// through step 4, so the special case cannot change a payout; the
		// pools themselves are checked in TestPools.)
		name:       "volume 1",
		bets:       []placed{alicePlaces(dbpm.Yes, 1)},
		wantP:      []float64{6.0 / 11},
		wantShares: map[int64]dbpm.UserShares{alice: {Yes: 1, FirstBet: 0, Username: "alice"}},
		wantYes:    []dbpm.Payout{{UserID: alice, Amount: 1}},
		wantNo:     []dbpm.Payout{},
	},
	{
		// p1 = (5+0)/(10+0+10) = 0.25; p2 = 5/(10+30) = 0.125; R = 0.125.
		// 1. S = 30; S_yes = round(30·0.125) = round(3.75) = 4;
		//    S_no = round(30·0.875) = round(26.25) = 26.
		// 2. C1 = |0.125−0.25|·10 = 1.25; C2 = 0.
		// 3. F_no = 26/1.25 = 20.8: scaled1 = round(1.25·20.8) = 26; scaled2 = 0.
		//    (No YES bets: ΣC_yes = 0.)
		// 4. excess = 26 − 30 = −4; n = 2: add 4 div 2 = 2 to each, remainder 0:
		//    scaled1 = 28, scaled2 = 2.
		// 5. alice: NO 28; bob: NO 2.
		// 6. YES: nobody holds YES shares: nobody is paid (payouts sum to 0, not S).
		//    NO: 28 + 2 = 30 = S, no adjustment: alice 28, bob 2.
		name:  "losing side only",
		bets:  []placed{alicePlaces(dbpm.No, 10), bobPlaces(dbpm.No, 20)},
		wantP: []float64{0.25, 0.125},
		wantShares: map[int64]dbpm.UserShares{
			alice: {No: 28, FirstBet: 0, Username: "alice"},
			bob:   {No: 2, FirstBet: 1, Username: "bob"},
		},
		wantYes: []dbpm.Payout{},
		wantNo:  []dbpm.Payout{{UserID: alice, Amount: 28}, {UserID: bob, Amount: 2}},
	},
	{
		// p1 = 15/20 = 0.75; p2 = (5+20)/(10+20) = 5/6; p3 = (5+40)/(10+40) = 0.9; R = 0.9.
		// 1. S = 40; S_yes = round(40·0.9) = 36; S_no = round(40·0.1) = 4.
		// 2. C1 = |0.9−0.75|·10 = 1.5; C2 = |0.9−5/6|·10 = 10/15 = 2/3; C3 = 0.
		// 3. ΣC_yes = 1.5 + 2/3 = 13/6; F_yes = 36/(13/6) = 216/13 ≈ 16.615:
		//    scaled1 = round(1.5·216/13) = round(324/13 ≈ 24.92) = 25;
		//    scaled2 = round((2/3)·216/13) = round(144/13 ≈ 11.08) = 11; scaled3 = 0.
		// 4. excess = 36 − 40 = −4; n = 3: add 4 div 3 = 1 to each, and the
		//    remainder 4 mod 3 = 1 to the oldest bet: 25+1+1 = 27, 11+1 = 12, 0+1 = 1.
		// 5. alice: YES 27; bob: YES 12; carol: YES 1.
		// 6. YES: 27 + 12 + 1 = 40 = S, no adjustment. NO: nobody is paid.
		name:  "negative excess remainder to the oldest",
		bets:  []placed{alicePlaces(dbpm.Yes, 10), bobPlaces(dbpm.Yes, 10), carolPlaces(dbpm.Yes, 20)},
		wantP: []float64{0.75, 5.0 / 6, 0.9},
		wantShares: map[int64]dbpm.UserShares{
			alice: {Yes: 27, FirstBet: 0, Username: "alice"},
			bob:   {Yes: 12, FirstBet: 1, Username: "bob"},
			carol: {Yes: 1, FirstBet: 2, Username: "carol"},
		},
		wantYes: []dbpm.Payout{{UserID: alice, Amount: 27}, {UserID: bob, Amount: 12}, {UserID: carol, Amount: 1}},
		wantNo:  []dbpm.Payout{},
	},
	{
		// p1 = 15/20 = 0.75; p2 = 15/30 = 0.5; p3 = (5+20)/(10+30) = 0.625;
		// p4 = (5+40)/(10+50) = 0.75; R = 0.75.
		// 1. S = 50; S_yes = round(37.5) = 38; S_no = round(12.5) = 13 (pools sum to 51).
		// 2. C1 = 0; C2 = |0.75−0.5|·10 = 2.5; C3 = |0.75−0.625|·10 = 1.25; C4 = 0.
		// 3. ΣC_yes = 1.25; F_yes = 38/1.25 = 30.4: scaled1 = 0, scaled3 = round(1.25·30.4) = 38, scaled4 = 0.
		//    ΣC_no = 2.5; F_no = 13/2.5 = 5.2: scaled2 = round(2.5·5.2) = 13.
		// 4. excess = 51 − 50 = +1; n = 4: subtract 1 div 4 = 0 from each, and 1
		//    more from the newest 1 mod 4 = 1 bet: scaled4 = −1.
		// 5. alice: YES 0; bob: NO 13; carol: YES 38; dave: YES −1, clamped to 0.
		// 6. YES: carol 38 is the only holder: add 12: carol 50.
		//    NO: bob 13 is the only holder: add 37: bob 50.
		name: "positive excess taken from the newest",
		bets: []placed{
			alicePlaces(dbpm.Yes, 10), bobPlaces(dbpm.No, 10), carolPlaces(dbpm.Yes, 10), davePlaces(dbpm.Yes, 20),
		},
		wantP: []float64{0.75, 0.5, 0.625, 0.75},
		wantShares: map[int64]dbpm.UserShares{
			alice: {FirstBet: 0, Username: "alice"},
			bob:   {No: 13, FirstBet: 1, Username: "bob"},
			carol: {Yes: 38, FirstBet: 2, Username: "carol"},
			dave:  {FirstBet: 3, Username: "dave"},
		},
		wantYes: []dbpm.Payout{{UserID: carol, Amount: 50}},
		wantNo:  []dbpm.Payout{{UserID: bob, Amount: 50}},
	},
	{
		// p1 = 15/20 = 0.75; p2 = 15/40 = 0.375; p3 = 25/50 = 0.5;
		// p4 = 25/80 = 0.3125; R = 0.3125.
		// 1. S = 70; S_yes = round(70·0.3125) = round(21.875) = 22;
		//    S_no = round(70·0.6875) = round(48.125) = 48.
		// 2. C1 = |0.3125−0.75|·10 = 4.375; C2 = |0.3125−0.375|·20 = 1.25;
		//    C3 = |0.3125−0.5|·10 = 1.875; C4 = 0.
		// 3. ΣC_yes = 4.375 + 1.875 = 6.25; F_yes = 22/6.25 = 3.52:
		//    scaled1 = round(4.375·3.52) = round(15.4) = 15; scaled3 = round(1.875·3.52) = round(6.6) = 7.
		//    ΣC_no = 1.25; F_no = 48/1.25 = 38.4: scaled2 = round(1.25·38.4) = 48; scaled4 = 0.
		// 4. Σ = 15 + 48 + 7 + 0 = 70 = S: excess 0.
		// 5. alice: YES 15 (bet 1), NO 48 (bet 2): netted to NO 33; bob: YES 7; carol: NO 0.
		// 6. YES: bob 7 is the only holder: add 63: bob 70.
		//    NO: alice 33 is the only holder (carol has 0): add 37: alice 70.
		name: "netting",
		bets: []placed{
			alicePlaces(dbpm.Yes, 10), alicePlaces(dbpm.No, 20), bobPlaces(dbpm.Yes, 10), carolPlaces(dbpm.No, 30),
		},
		wantP: []float64{0.75, 0.375, 0.5, 0.3125},
		wantShares: map[int64]dbpm.UserShares{
			alice: {No: 33, FirstBet: 0, Username: "alice"},
			bob:   {Yes: 7, FirstBet: 2, Username: "bob"},
			carol: {FirstBet: 3, Username: "carol"},
		},
		wantYes: []dbpm.Payout{{UserID: bob, Amount: 70}},
		wantNo:  []dbpm.Payout{{UserID: alice, Amount: 70}},
	},
	{
		// Users: ann (1), zed (4), cat (3), amy (2), eve (5), in bet order, so
		// that neither UserID nor username would give zed's tie to zed.
		// p1 = 15/20 = 0.75; p2 = 15/30 = 0.5; p3 = 25/40 = 0.625; p4 = 25/50 = 0.5;
		// p5 = (5+45)/(10+45+20) = 50/75 = 2/3; R = 2/3.
		// 1. S = 65; S_yes = round(65·2/3) = round(43.33) = 43; S_no = round(65/3) = round(21.67) = 22.
		// 2. C1 = |2/3−3/4|·10 = 5/6; C2 = |2/3−1/2|·10 = 5/3; C3 = |2/3−5/8|·10 = 5/12;
		//    C4 = 5/3; C5 = 0.
		// 3. ΣC_yes = 5/6 + 5/12 = 5/4; F_yes = 43/(5/4) = 34.4:
		//    scaled1 = round(5/6·34.4) = round(28.67) = 29; scaled3 = round(5/12·34.4) = round(14.33) = 14; scaled5 = 0.
		//    ΣC_no = 10/3; F_no = 22/(10/3) = 6.6: scaled2 = scaled4 = round(5/3·6.6) = 11.
		// 4. Σ = 29 + 11 + 14 + 11 + 0 = 65 = S: excess 0.
		// 5. ann: YES 29; zed: NO 11; cat: YES 14; amy: NO 11; eve: YES 0.
		// 6. NO: zed and amy both hold 11; add 65 − 22 = 43 = 2·21 + 1: 21 each and
		//    the last credit by earliest bet, zed's (bet 2) before amy's (bet 4):
		//    zed 33, amy 32.
		//    YES: ann 29, cat 14 (eve, at 0, takes no part); add 65 − 43 = 22 = 2·11:
		//    ann 40, cat 25.
		name: "tie in the final adjustment broken by earliest bet",
		bets: []placed{
			{1, "ann", dbpm.Yes, 10}, {4, "zed", dbpm.No, 10}, {3, "cat", dbpm.Yes, 10},
			{2, "amy", dbpm.No, 10}, {5, "eve", dbpm.Yes, 25},
		},
		wantP: []float64{0.75, 0.5, 0.625, 0.5, 2.0 / 3},
		wantShares: map[int64]dbpm.UserShares{
			1: {Yes: 29, FirstBet: 0, Username: "ann"},
			4: {No: 11, FirstBet: 1, Username: "zed"},
			3: {Yes: 14, FirstBet: 2, Username: "cat"},
			2: {No: 11, FirstBet: 3, Username: "amy"},
			5: {FirstBet: 4, Username: "eve"},
		},
		wantYes: []dbpm.Payout{{UserID: 1, Amount: 40}, {UserID: 3, Amount: 25}},
		wantNo:  []dbpm.Payout{{UserID: 2, Amount: 32}, {UserID: 4, Amount: 33}},
	},
}

func TestGolden(t *testing.T) {
	for _, tt := range goldens {
		t.Run(tt.name, func(t *testing.T) {
			bets, r := replay(tt.bets...)
			if diff := cmp.Diff(probabilities(bets), tt.wantP, cmpopts.EquateApprox(0, 1e-12)); diff != "" {
				t.Fatalf("WPAM replay mismatch (-got +want):\n%s", diff)
			}

			shares, err := dbpm.Shares(bets, r)
			if err != nil {
				t.Fatalf("Shares: %v", err)
			}
			if diff := cmp.Diff(shares, tt.wantShares); diff != "" {
				t.Errorf("Shares mismatch (-got +want):\n%s", diff)
			}

			for _, res := range []struct {
				result dbpm.Outcome
				want   []dbpm.Payout
			}{{dbpm.Yes, tt.wantYes}, {dbpm.No, tt.wantNo}} {
				got, err := dbpm.Resolve(bets, res.result, r)
				if err != nil {
					t.Fatalf("Resolve(%s): %v", res.result, err)
				}
				if diff := cmp.Diff(got, res.want); diff != "" {
					t.Errorf("Resolve(%s) mismatch (-got +want):\n%s", res.result, diff)
				}
			}
		})
	}
}

func TestResolveTakeBack(t *testing.T) {
	// Probabilities given directly (R = 1 is not reachable by WPAM with
	// I0 > 0): the one way through Resolve to winners' values above S.
	// 1. S = 5; S_yes = round(5·1) = 5; S_no = round(5·0) = 0.
	// 2. C1 = |1−0.5|·1 = 0.5; C2 = |1−0.75|·2 = 0.5; C3 = |1−0.6|·2 = 0.8.
	// 3. F_yes = 5/(0.5+0.5) = 5: scaled1 = round(2.5) = 3, scaled2 = round(2.5) = 3.
	//    F_no = 0/0.8 = 0: scaled3 = 0.
	// 4. excess = 6 − 5 = +1; n = 3: 1 div 3 = 0 from each, 1 more from the
	//    newest 1 mod 3 = 1 bet: scaled3 = −1.
	// 5. alice: YES 3; bob: YES 3; carol: NO −1, clamped to 0.
	// 6. YES: 3 + 3 = 6 > 5: take back 1, first in order: equal values, so the
	//    earliest bet, alice's: alice 2, bob 3. NO: nobody holds NO.
	bets := []dbpm.Bet{
		{UserID: alice, Username: "alice", Outcome: dbpm.Yes, Amount: 1, ProbabilityAfter: 0.5},
		{UserID: bob, Username: "bob", Outcome: dbpm.Yes, Amount: 2, ProbabilityAfter: 0.75},
		{UserID: carol, Username: "carol", Outcome: dbpm.No, Amount: 2, ProbabilityAfter: 0.6},
	}
	tests := []struct {
		name   string
		result dbpm.Outcome
		want   []dbpm.Payout
	}{
		{name: "YES", result: dbpm.Yes, want: []dbpm.Payout{{UserID: alice, Amount: 2}, {UserID: bob, Amount: 3}}},
		{name: "NO", result: dbpm.No, want: []dbpm.Payout{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := dbpm.Resolve(bets, tt.result, 1)
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if diff := cmp.Diff(got, tt.want); diff != "" {
				t.Errorf("Resolve mismatch (-got +want):\n%s", diff)
			}
		})
	}
}
