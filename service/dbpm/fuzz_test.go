package dbpm_test

import (
	"encoding/binary"
	"errors"
	"math"
	"testing"

	"socialpredict/service/dbpm"
)

// betSize is the number of fuzz bytes decoded into one bet.
const betSize = 12

// decodeBets turns fuzz bytes into bets, betSize bytes each: user (byte 0),
// flags (byte 1), amount (bytes 2–3, or 2–9 raw), probability (bytes 10–11
// as a fraction, or 4–11 as raw float64 bits). Flags pick an invalid outcome,
// raw amounts and raw probabilities now and then, so that both valid and
// invalid bets occur.
func decodeBets(data []byte) []dbpm.Bet {
	bets := make([]dbpm.Bet, 0, len(data)/betSize)
	for ; len(data) >= betSize; data = data[betSize:] {
		flags := data[1]
		b := dbpm.Bet{
			UserID:           int64(data[0] % 16),
			Username:         string(rune('a' + data[0]%16)),
			Outcome:          dbpm.Yes,
			Amount:           int64(binary.LittleEndian.Uint16(data[2:])) % 200,
			ProbabilityAfter: float64(binary.LittleEndian.Uint16(data[10:])) / math.MaxUint16,
		}
		if flags&1 != 0 {
			b.Outcome = dbpm.No
		}
		if flags&0x0e == 0x0e {
			b.Outcome = dbpm.Outcome(data[2:4])
		}
		if flags&0x30 == 0x30 {
			b.Amount = int64(binary.LittleEndian.Uint64(data[2:]))
		}
		if flags&0xc0 == 0xc0 {
			b.ProbabilityAfter = math.Float64frombits(binary.LittleEndian.Uint64(data[4:]))
		}
		bets = append(bets, b)
	}
	return bets
}

func FuzzResolve(f *testing.F) {
	f.Add([]byte{}, "YES", 0.5)
	f.Add([]byte{1, 0, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0xc0}, "YES", 0.75)
	f.Add([]byte{1, 0, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0xc0, 2, 1, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0x80}, "NO", 0.5)
	f.Add([]byte{1, 0xff, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0xc0}, "N/A", 2.0)
	f.Fuzz(func(t *testing.T, data []byte, result string, r float64) {
		bets := decodeBets(data)
		got, err := dbpm.Resolve(bets, dbpm.Outcome(result), r)
		if err != nil {
			if !errors.Is(err, dbpm.ErrInvalidResult) && !errors.Is(err, dbpm.ErrInvalidBet) && !errors.Is(err, dbpm.ErrInvalidProbability) {
				t.Fatalf("Resolve error %v matches no sentinel", err)
			}
			return
		}
		var sum int64
		for i, p := range got {
			if p.Amount <= 0 || (i > 0 && got[i-1].UserID >= p.UserID) {
				t.Fatalf("Resolve payouts %v: want positive amounts in strictly increasing UserID order", got)
			}
			sum += p.Amount
		}
		if len(got) > 0 && sum != volume(bets) {
			t.Fatalf("Resolve payouts sum to %d, want the volume %d", sum, volume(bets))
		}
	})
}
