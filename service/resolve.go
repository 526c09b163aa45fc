package service

import (
	"context"
	"fmt"
	"time"

	"socialpredict/dal"
	"socialpredict/errs"
	"socialpredict/models"
	"socialpredict/repository"
	"socialpredict/service/dbpm"
)

// Resolution summarises a resolved market's payouts.
type Resolution struct {
	Market *models.Market
	// Paid is the total credited to bettors (payouts or refunds);
	// CreatorReward what the creator received.
	Paid, CreatorReward int64
	// Users is how many bettors received something.
	Users int
}

// Resolve resolves a market with result (YES, NO or N/A) for actorID, who
// must be its creator or an admin, and pays out, in one transaction:
//
//   - the status change is guarded in SQL, so a second or concurrent resolve
//     gets errs.ErrAlreadyResolved and pays nothing;
//   - the market's bets are read once, in (placed_at, id) order;
//   - YES/NO pay each bettor their DBPM value (PAYOUT), N/A refunds each
//     bettor's stakes (REFUND; fees are not refunded); the creator receives
//     initial_bet_fee for each distinct bettor (CREATOR_REWARD) either way;
//   - balances and ledger are written by bulk statements: the number of
//     statements does not depend on the number of bets or users.
//
// Errors: *errs.InputError for an unknown result; errs.ErrNotFound for an
// unknown actor or market; errs.ErrForbidden; errs.ErrAlreadyResolved.
func (s *MarketService) Resolve(ctx context.Context, actorID, marketID int64, result models.Resolution) (*Resolution, error) {
	switch result {
	case models.ResolutionYes, models.ResolutionNo, models.ResolutionNA:
	default:
		return nil, invalid("result", "must be YES, NO or N/A, got %q", result)
	}
	var out *Resolution
	err := s.dal.WithTransaction(ctx, func(tx *dal.DataAccessLayer) error {
		actor, err := tx.Users().GetByID(ctx, actorID)
		if err != nil {
			return err
		}
		// Locked first, as bets lock it: bets that hold the lock before are
		// visible below, bets after it are rejected as closed.
		m, err := tx.Markets().GetForUpdate(ctx, marketID)
		if err != nil {
			return err
		}
		if m.CreatorID != actor.ID && actor.UserType != models.UserTypeAdmin {
			return fmt.Errorf("%w: only the creator of market %d or an admin may resolve it", errs.ErrForbidden, marketID)
		}
		// The resolution's time follows the lock order, as a bet's does:
		// never before the market's latest bet.
		at, err := afterLastBet(ctx, tx, marketID, s.clock())
		if err != nil {
			return err
		}
		// Guarded: a concurrent resolve that held the lock first wins.
		if m, err = tx.Markets().Resolve(ctx, marketID, result, at); err != nil {
			return errAlreadyResolved(err, marketID)
		}
		var bets []dbpm.Bet
		err = tx.Bets().ScanMarkets(ctx, []int64{marketID}, func(b *models.Bet, username string) error {
			bets = append(bets, dbpm.Bet{UserID: b.UserID, Username: username, Outcome: dbpm.Outcome(b.Outcome),
				Amount: b.Amount, ProbabilityAfter: b.ProbabilityAfter})
			return nil
		})
		if err != nil {
			return err
		}
		credits, res, err := s.credits(m, bets)
		if err != nil {
			return err
		}
		if err := tx.Ledger().Credit(ctx, marketID, credits, at); err != nil {
			return err
		}
		out = res
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// credits computes what a resolution pays: payouts or refunds in user
// order, then the creator reward.
func (s *MarketService) credits(m *models.Market, bets []dbpm.Bet) ([]repository.Credit, *Resolution, error) {
	res := &Resolution{Market: m}
	var credits []repository.Credit
	if *m.ResolutionResult == models.ResolutionNA {
		stakes := map[int64]int64{}
		var order []int64
		for _, b := range bets {
			if _, seen := stakes[b.UserID]; !seen {
				order = append(order, b.UserID)
			}
			stakes[b.UserID] += b.Amount
		}
		for _, id := range order {
			credits = append(credits, repository.Credit{UserID: id, Kind: models.LedgerRefund, Amount: stakes[id]})
			res.Paid += stakes[id]
		}
	} else {
		payouts, err := dbpm.Resolve(bets, dbpm.Outcome(*m.ResolutionResult), m.Probability)
		if err != nil {
			return nil, nil, fmt.Errorf("resolve market %d: %w", m.ID, err)
		}
		for _, p := range payouts {
			credits = append(credits, repository.Credit{UserID: p.UserID, Kind: models.LedgerPayout, Amount: p.Amount})
			res.Paid += p.Amount
		}
	}
	res.Users = len(credits)
	bettors := map[int64]bool{}
	for _, b := range bets {
		bettors[b.UserID] = true
	}
	if reward := s.econ.InitialBetFee * int64(len(bettors)); reward > 0 {
		credits = append(credits, repository.Credit{UserID: m.CreatorID, Kind: models.LedgerCreatorReward, Amount: reward})
		res.CreatorReward = reward
	}
	return credits, res, nil
}

// afterLastBet returns now, or the time of the market's latest bet when that
// is later: called with the market locked, it dates the resolution after
// every bet that held the lock before it, as bets are dated (see
// repository.BetRepository.Place).
func afterLastBet(ctx context.Context, d *dal.DataAccessLayer, marketID int64, now time.Time) (time.Time, error) {
	last, err := d.Bets().LastPlacedAt(ctx, marketID)
	if err != nil {
		return time.Time{}, err
	}
	if last.After(now) {
		return last, nil
	}
	return now, nil
}
