package dbpm

import "testing"

func TestPools(t *testing.T) {
	tests := []struct {
		name            string
		volume          int64
		yesStake        int64
		noStake         int64
		r               float64
		wantYes, wantNo int64
	}{
		// round(S·R), round(S·(1−R)), half away from zero.
		{name: "halves round up on both sides", volume: 3, yesStake: 2, noStake: 1, r: 0.5, wantYes: 2, wantNo: 2}, // round(1.5), round(1.5)
		{name: "quarter", volume: 10, yesStake: 10, r: 0.75, wantYes: 8, wantNo: 3},                                // round(7.5), round(2.5)
		{name: "R 0", volume: 7, noStake: 7, r: 0, wantYes: 0, wantNo: 7},
		{name: "R 1", volume: 7, yesStake: 7, r: 1, wantYes: 7, wantNo: 0},
		// S == 1: the one share goes to the side with the larger total stake,
		// whatever R is (round(0.5) would give both sides 1).
		{name: "volume 1 YES stake", volume: 1, yesStake: 1, r: 0.5, wantYes: 1, wantNo: 0},
		{name: "volume 1 NO stake", volume: 1, noStake: 1, r: 0.5, wantYes: 0, wantNo: 1},
		{name: "volume 1 YES stake R 0", volume: 1, yesStake: 1, r: 0, wantYes: 1, wantNo: 0},
		{name: "volume 1 equal stakes", volume: 1, r: 0.5, wantYes: 0, wantNo: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gotYes, gotNo := pools(tt.volume, tt.yesStake, tt.noStake, tt.r)
			if gotYes != tt.wantYes || gotNo != tt.wantNo {
				t.Errorf("pools(%d, %d, %d, %v) = %d, %d, want %d, %d",
					tt.volume, tt.yesStake, tt.noStake, tt.r, gotYes, gotNo, tt.wantYes, tt.wantNo)
			}
		})
	}
}

func TestScaleSubnormalSum(t *testing.T) {
	// ΣC_i so small that S_side/ΣC_i overflows: the scaled payout stays
	// round(C_i/ΣC_i · S_side).
	tiny := 5e-324
	s := newSide(10, 2*tiny)
	if got, want := s.scale(tiny), int64(5); got != want {
		t.Errorf("scale(%v) = %d, want %d", tiny, got, want)
	}
	if got, want := s.scale(0), int64(0); got != want {
		t.Errorf("scale(0) = %d, want %d", got, want)
	}
}
