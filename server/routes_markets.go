package server

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"socialpredict/database"
	"socialpredict/errs"
	"socialpredict/models"
	"socialpredict/repository"
	"socialpredict/service"
)

// newMarketBody is the body of POST /v1/markets.
type newMarketBody struct {
	QuestionTitle string    `json:"question_title" minLength:"1" maxLength:"160"`
	Description   string    `json:"description,omitempty" maxLength:"2000"`
	YesLabel      string    `json:"yes_label,omitempty" maxLength:"20" doc:"Default YES."`
	NoLabel       string    `json:"no_label,omitempty" maxLength:"20" doc:"Default NO."`
	ClosesAt      time.Time `json:"closes_at" doc:"When betting ends (RFC 3339)."`
}

// MarketPath is the {id} path parameter of a market (exported: huma sets
// only exported embedded fields).
type MarketPath struct {
	ID int64 `path:"id" minimum:"1" doc:"Market id."`
}

// resolveBody is the body of POST /v1/markets/{id}/resolve.
type resolveBody struct {
	Result models.Resolution `json:"result" enum:"YES,NO,N/A"`
}

// resolution is the response of a resolve.
type resolution struct {
	Market Market `json:"market"`
	// Paid is the total credited to bettors; CreatorReward the creator's reward.
	Paid          int64 `json:"paid"`
	CreatorReward int64 `json:"creator_reward"`
	// Users is how many bettors received something.
	Users int `json:"users"`
}

func (s *Server) registerMarkets() {
	op := s.operation("create-market", http.MethodPost, "/v1/markets", "Create a market (costs the creation fee)", user,
		http.StatusUnprocessableEntity)
	op.DefaultStatus = http.StatusCreated
	huma.Register(s.api, op, func(ctx context.Context, in *struct{ Body newMarketBody }) (*body[Market], error) {
		u, err := caller(ctx)
		if err != nil {
			return nil, problemOf(ctx, err)
		}
		m, err := s.svc.Markets.Create(ctx, u.ID, service.NewMarket{QuestionTitle: in.Body.QuestionTitle,
			Description: in.Body.Description, YesLabel: in.Body.YesLabel, NoLabel: in.Body.NoLabel, ClosesAt: in.Body.ClosesAt})
		if err != nil {
			return nil, problemOf(ctx, err)
		}
		return reply(ctx, marketView(m, s.svc.Now()), nil)
	})

	huma.Register(s.api, s.operation("list-markets", http.MethodGet, "/v1/markets", "List markets", public),
		func(ctx context.Context, in *struct {
			PageParams
			Sort    string              `query:"sort" enum:"created_at,closes_at,volume" doc:"Default created_at."`
			Status  models.MarketStatus `query:"status" enum:"OPEN,CLOSED,RESOLVED"`
			Creator string              `query:"creator" maxLength:"30" doc:"Username of the creator."`
			Prefix  string              `query:"prefix" maxLength:"200" doc:"Titles starting with this (any case)."`
			Q       string              `query:"q" maxLength:"200" doc:"Titles containing this (any case)."`
		}) (*body[Page[Market]], error) {
			req, err := s.request(in.PageParams, in.Sort)
			if err != nil {
				return nil, problemOf(ctx, err)
			}
			f := repository.MarketFilters{Status: in.Status, TitlePrefix: in.Prefix, Search: in.Q, PageRequest: req}
			if in.Creator != "" {
				u, err := s.svc.Users.GetByUsername(ctx, in.Creator)
				if errors.Is(err, errs.ErrNotFound) {
					return &body[Page[Market]]{Body: Page[Market]{Items: []Market{}}}, nil
				} else if err != nil {
					return nil, problemOf(ctx, err)
				}
				f.CreatorID = u.ID
			}
			p, err := s.svc.Markets.List(database.StaleOK(ctx), f) // may come from a replica
			now := s.svc.Now()
			return replyPage(ctx, p, err, func(m *models.Market) Market { return marketView(m, now) })
		})

	huma.Register(s.api, s.operation("get-market", http.MethodGet, "/v1/markets/{id}", "Get a market", public, http.StatusNotFound),
		func(ctx context.Context, in *MarketPath) (*body[Market], error) {
			m, err := s.svc.Markets.Get(ctx, in.ID)
			if err != nil {
				return nil, problemOf(ctx, err)
			}
			return reply(ctx, marketView(m, s.svc.Now()), nil)
		})

	huma.Register(s.api, s.operation("list-market-bets", http.MethodGet, "/v1/markets/{id}/bets", "A market's bets", public, http.StatusNotFound),
		func(ctx context.Context, in *struct {
			MarketPath
			PageParams
			Sort string `query:"sort" enum:"placed_at,amount" doc:"Default placed_at."`
		}) (*body[Page[Bet]], error) {
			req, err := s.request(in.PageParams, in.Sort)
			if err != nil {
				return nil, problemOf(ctx, err)
			}
			p, err := s.svc.Bets.ListByMarket(ctx, in.ID, req)
			return replyPage(ctx, p, err, betView)
		})

	huma.Register(s.api, s.operation("list-market-positions", http.MethodGet, "/v1/markets/{id}/positions",
		"Every bettor's position in a market, with shares and value", public, http.StatusNotFound),
		func(ctx context.Context, in *MarketPath) (*body[[]Holding], error) {
			p, err := s.svc.Positions.MarketPositions(database.StaleOK(ctx), in.ID) // public positions: may come from a replica
			return reply(ctx, holdingsView(p), err)
		})

	huma.Register(s.api, s.operation("get-probability-history", http.MethodGet, "/v1/markets/{id}/probability-history",
		"A market's probability after each bet", public, http.StatusNotFound),
		func(ctx context.Context, in *struct {
			MarketPath
			PageParams
		}) (*body[Page[service.ProbabilityPoint]], error) {
			req, err := s.request(in.PageParams, "")
			if err != nil {
				return nil, problemOf(ctx, err)
			}
			p, err := s.svc.Markets.ProbabilityHistory(ctx, in.ID, req)
			return replyPage(ctx, p, err, func(p service.ProbabilityPoint) service.ProbabilityPoint { return p })
		})

	huma.Register(s.api, s.operation("resolve-market", http.MethodPost, "/v1/markets/{id}/resolve",
		"Resolve a market and pay out (its creator or an admin)", user, http.StatusForbidden, http.StatusNotFound, http.StatusConflict),
		func(ctx context.Context, in *struct {
			MarketPath
			Body resolveBody
		}) (*body[resolution], error) {
			u, err := caller(ctx)
			if err != nil {
				return nil, problemOf(ctx, err)
			}
			r, err := s.svc.Markets.Resolve(ctx, u.ID, in.ID, in.Body.Result)
			if err != nil {
				return nil, problemOf(ctx, err)
			}
			return reply(ctx, resolution{Market: marketView(r.Market, s.svc.Now()), Paid: r.Paid,
				CreatorReward: r.CreatorReward, Users: r.Users}, nil)
		})
}
