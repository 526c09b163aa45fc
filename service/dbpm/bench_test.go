package dbpm_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"socialpredict/service/dbpm"
)

// BenchmarkResolve resolves a market of 100,000 bets from 10,000 users.
func BenchmarkResolve(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	placements := make([]placed, 100_000)
	for i := range placements {
		u := int64(1 + r.IntN(10_000))
		placements[i] = placed{user: u, name: fmt.Sprintf("user%05d", u), outcome: side(r), amount: 1 + r.Int64N(100)}
	}
	bets, final := replay(placements...)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := dbpm.Resolve(bets, dbpm.Yes, final); err != nil {
			b.Fatal(err)
		}
	}
}
