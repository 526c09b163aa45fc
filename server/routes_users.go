package server

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"socialpredict/database"
	"socialpredict/models"
	"socialpredict/repository"
	"socialpredict/service"
)

// newUserBody is the body of POST /v1/users.
type newUserBody struct {
	Username    string          `json:"username" minLength:"3" maxLength:"30" pattern:"^[a-z0-9_]+$" doc:"3-30 lower-case letters, digits or underscores."`
	DisplayName string          `json:"display_name" minLength:"1" maxLength:"50"`
	Email       string          `json:"email" maxLength:"254" format:"email"`
	UserType    models.UserType `json:"user_type,omitempty" enum:"ADMIN,REGULAR" doc:"Default REGULAR."`
}

// createdUser is the response of POST /v1/users.
type createdUser struct {
	User   Me        `json:"user"`
	APIKey NewAPIKey `json:"api_key"`
}

// UsernamePath is the {username} path parameter of a user.
type UsernamePath struct {
	Username string `path:"username" maxLength:"30"`
}

func (s *Server) registerUsers() {
	op := s.operation("create-user", http.MethodPost, "/v1/users", "Create a user and their first API key", admin, http.StatusConflict)
	op.DefaultStatus = http.StatusCreated
	huma.Register(s.api, op, func(ctx context.Context, in *struct{ Body newUserBody }) (*body[createdUser], error) {
		if _, err := adminCaller(ctx); err != nil {
			return nil, problemOf(ctx, err)
		}
		u, key, err := s.svc.Users.Create(ctx, service.NewUser{Username: in.Body.Username,
			DisplayName: in.Body.DisplayName, Email: in.Body.Email, UserType: in.Body.UserType})
		if err != nil {
			return nil, problemOf(ctx, err)
		}
		keys, err := s.svc.Users.ListKeys(ctx, u.ID)
		if err != nil || len(keys) == 0 {
			return nil, problemOf(ctx, err)
		}
		return &body[createdUser]{Body: createdUser{User: meView(u), APIKey: NewAPIKey{APIKey: keyView(keys[0]), Key: key}}}, nil
	})

	huma.Register(s.api, s.operation("list-users", http.MethodGet, "/v1/users", "List users", public),
		func(ctx context.Context, in *struct {
			PageParams
			Sort           string          `query:"sort" enum:"created_at,username,balance" doc:"Default created_at."`
			UserType       models.UserType `query:"user_type" enum:"ADMIN,REGULAR"`
			UsernamePrefix string          `query:"username_prefix" maxLength:"200"`
			Q              string          `query:"q" maxLength:"200" doc:"Usernames and display names containing this (any case)."`
		}) (*body[Page[User]], error) {
			req, err := s.request(in.PageParams, in.Sort)
			if err != nil {
				return nil, problemOf(ctx, err)
			}
			p, err := s.svc.Users.List(ctx, repository.UserFilters{UserType: in.UserType,
				UsernamePrefix: in.UsernamePrefix, Search: in.Q, PageRequest: req})
			return replyPage(ctx, p, err, userView)
		})

	huma.Register(s.api, s.operation("get-user", http.MethodGet, "/v1/users/{username}", "Get a user", public, http.StatusNotFound),
		func(ctx context.Context, in *UsernamePath) (*body[User], error) {
			u, err := s.svc.Users.GetByUsername(ctx, in.Username)
			if err != nil {
				return nil, problemOf(ctx, err)
			}
			return reply(ctx, userView(u), nil)
		})

	huma.Register(s.api, s.operation("get-me", http.MethodGet, "/v1/me", "The caller's own user", user),
		func(ctx context.Context, _ *struct{}) (*body[Me], error) {
			u, err := caller(ctx)
			if err != nil {
				return nil, problemOf(ctx, err)
			}
			// Read again: the balance may have changed since authentication.
			u, err = s.svc.Users.Get(ctx, u.ID)
			if err != nil {
				return nil, problemOf(ctx, err)
			}
			return reply(ctx, meView(u), nil)
		})

	huma.Register(s.api, s.operation("list-user-positions", http.MethodGet, "/v1/users/{username}/positions",
		"A user's positions (stakes per market)", public, http.StatusNotFound),
		func(ctx context.Context, in *struct {
			UsernamePath
			PageParams
		}) (*body[Page[Position]], error) {
			req, err := s.request(in.PageParams, "")
			if err != nil {
				return nil, problemOf(ctx, err)
			}
			u, err := s.svc.Users.GetByUsername(ctx, in.Username)
			if err != nil {
				return nil, problemOf(ctx, err)
			}
			p, err := s.svc.Positions.ListByUser(database.StaleOK(ctx), u.ID, req) // public positions: may come from a replica
			return replyPage(ctx, p, err, positionView)
		})

	huma.Register(s.api, s.operation("list-user-bets", http.MethodGet, "/v1/users/{username}/bets", "A user's bets", public, http.StatusNotFound),
		func(ctx context.Context, in *struct {
			UsernamePath
			PageParams
			Sort string `query:"sort" enum:"placed_at,amount" doc:"Default placed_at."`
		}) (*body[Page[Bet]], error) {
			req, err := s.request(in.PageParams, in.Sort)
			if err != nil {
				return nil, problemOf(ctx, err)
			}
			u, err := s.svc.Users.GetByUsername(ctx, in.Username)
			if err != nil {
				return nil, problemOf(ctx, err)
			}
			p, err := s.svc.Bets.ListByUser(ctx, u.ID, req)
			return replyPage(ctx, p, err, betView)
		})

	huma.Register(s.api, s.operation("get-user-portfolio", http.MethodGet, "/v1/users/{username}/portfolio",
		"A user's positions with their shares and value", public, http.StatusNotFound),
		func(ctx context.Context, in *UsernamePath) (*body[[]Holding], error) {
			u, err := s.svc.Users.GetByUsername(ctx, in.Username)
			if err != nil {
				return nil, problemOf(ctx, err)
			}
			p, err := s.svc.Positions.Portfolio(ctx, u.ID)
			return reply(ctx, holdingsView(p), err)
		})

	huma.Register(s.api, s.operation("get-leaderboard", http.MethodGet, "/v1/leaderboard", "Users by balance, highest first", public),
		func(ctx context.Context, in *struct{ PageParams }) (*body[Page[User]], error) {
			req, err := s.request(in.PageParams, "")
			if err != nil {
				return nil, problemOf(ctx, err)
			}
			p, err := s.svc.Users.Leaderboard(database.StaleOK(ctx), req) // may come from a replica
			return replyPage(ctx, p, err, userView)
		})
}

func (s *Server) registerKeys() {
	op := s.operation("create-key", http.MethodPost, "/v1/me/keys", "Create another API key for the caller", user)
	op.DefaultStatus = http.StatusCreated
	huma.Register(s.api, op, func(ctx context.Context, _ *struct{}) (*body[NewAPIKey], error) {
		u, err := caller(ctx)
		if err != nil {
			return nil, problemOf(ctx, err)
		}
		k, secret, err := s.svc.Users.CreateKey(ctx, u.ID)
		if err != nil {
			return nil, problemOf(ctx, err)
		}
		return reply(ctx, NewAPIKey{APIKey: keyView(k), Key: secret}, nil)
	})

	huma.Register(s.api, s.operation("list-keys", http.MethodGet, "/v1/me/keys", "The caller's API keys (prefixes only)", user),
		func(ctx context.Context, _ *struct{}) (*body[[]APIKey], error) {
			u, err := caller(ctx)
			if err != nil {
				return nil, problemOf(ctx, err)
			}
			keys, err := s.svc.Users.ListKeys(ctx, u.ID)
			out := make([]APIKey, 0, len(keys))
			for _, k := range keys {
				out = append(out, keyView(k))
			}
			return reply(ctx, out, err)
		})

	op = s.operation("revoke-key", http.MethodDelete, "/v1/me/keys/{id}", "Revoke one of the caller's API keys", user, http.StatusNotFound)
	op.DefaultStatus = http.StatusNoContent
	huma.Register(s.api, op, func(ctx context.Context, in *struct {
		ID int64 `path:"id" minimum:"1"`
	}) (*struct{}, error) {
		u, err := caller(ctx)
		if err != nil {
			return nil, problemOf(ctx, err)
		}
		if err := s.svc.Users.RevokeKey(ctx, u.ID, in.ID); err != nil {
			return nil, problemOf(ctx, err)
		}
		s.auth.purge()
		return nil, nil
	})
}
