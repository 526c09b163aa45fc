package repository

import "context"

// PlaceBatch places ps as one batch of the group commit would (see
// placeBatch), for the tests that compare it with placing them one by one.
func PlaceBatch(ctx context.Context, b BetRepository, ps []BetPlacement) ([]*Placement, []error) {
	ctxs := make([]context.Context, len(ps))
	for i := range ctxs {
		ctxs[i] = ctx
	}
	return PlaceBatchOf(ctx, ctxs, b, ps)
}

// PlaceBatchOf is PlaceBatch with each bet's own context (its caller's) in
// ctxs and the batch's in ctx, as the group commit gives them.
func PlaceBatchOf(ctx context.Context, ctxs []context.Context, b BetRepository, ps []BetPlacement) ([]*Placement, []error) {
	bets := make([]groupedBet, len(ps))
	for i, p := range ps {
		bets[i] = groupedBet{ctx: ctxs[i], p: p}
	}
	res := b.(*betRepository).placeBatch(ctx, bets)
	out, errs := make([]*Placement, len(res)), make([]error, len(res))
	for i, r := range res {
		out[i], errs[i] = r.placement, r.err
		if r.alone { // as placeGrouped does, in the caller's goroutine
			out[i], errs[i] = PlaceAlone(ctxs[i], b, ps[i])
		}
	}
	return out, errs
}

// PlaceAlone places p as one bet of a batch placed one by one would be (see
// placeAlone).
func PlaceAlone(ctx context.Context, b BetRepository, p BetPlacement) (*Placement, error) {
	return b.(*betRepository).placeAlone(ctx, p)
}
