package server

import (
	"context"
	"fmt"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"socialpredict/errs"
	"socialpredict/models"
)

// betBody is the body of POST /v1/markets/{id}/bets.
type betBody struct {
	Outcome models.Outcome `json:"outcome" enum:"YES,NO"`
	Amount  int64          `json:"amount" minimum:"1" maximum:"1000000000000000" doc:"Stake in whole credits; the fees are charged on top."`
}

func (s *Server) registerBets() {
	op := s.operation("place-bet", http.MethodPost, "/v1/markets/{id}/bets", "Place a bet", user,
		http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity)
	op.DefaultStatus = http.StatusCreated
	op.Description = "With an Idempotency-Key header, a repeated request returns the bet first placed with the key " +
		"(status 201, nothing charged again); the same key with a different market, outcome or amount is 422."
	huma.Register(s.api, op, func(ctx context.Context, in *struct {
		MarketPath
		IdempotencyKey string `header:"Idempotency-Key" maxLength:"100" doc:"Makes retries safe: one bet per key and user."`
		Body           betBody
	}) (*body[Bet], error) {
		u, err := caller(ctx)
		if err != nil {
			return nil, problemOf(ctx, err)
		}
		b, err := s.svc.Bets.PlaceBet(ctx, u.ID, in.ID, in.Body.Outcome, in.Body.Amount, in.IdempotencyKey)
		if err != nil {
			return nil, problemOf(ctx, err)
		}
		return reply(ctx, betView(b), nil)
	})
}

func (s *Server) registerLedger() {
	huma.Register(s.api, s.operation("list-ledger", http.MethodGet, "/v1/ledger",
		"The caller's ledger (an admin may name any user)", user, http.StatusForbidden, http.StatusNotFound),
		func(ctx context.Context, in *struct {
			PageParams
			User string `query:"user" maxLength:"30" doc:"Username whose ledger to list (admins only; default the caller)."`
		}) (*body[Page[LedgerEntry]], error) {
			u, err := caller(ctx)
			if err != nil {
				return nil, problemOf(ctx, err)
			}
			req, err := s.request(in.PageParams, "")
			if err != nil {
				return nil, problemOf(ctx, err)
			}
			target := u
			if in.User != "" && in.User != u.Username {
				if u.UserType != models.UserTypeAdmin {
					return nil, problemOf(ctx, fmt.Errorf("%w: only an admin may list another user's ledger", errs.ErrForbidden))
				}
				if target, err = s.svc.Users.GetByUsername(ctx, in.User); err != nil {
					return nil, problemOf(ctx, err)
				}
			}
			p, err := s.svc.Users.Ledger(ctx, target.ID, req)
			return replyPage(ctx, p, err, ledgerView)
		})
}
