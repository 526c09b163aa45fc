package server

import (
	"context"
	"fmt"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"socialpredict/errs"
	"socialpredict/models"
	"socialpredict/repository"
)

// register registers every operation of the API.
func (s *Server) register() {
	s.registerUsers()
	s.registerKeys()
	s.registerMarkets()
	s.registerBets()
	s.registerLedger()
	s.registerProblems()
}

// access says who may call an operation.
type access int

const (
	// public operations need no key (a key, when sent, must be valid).
	public access = iota
	// user operations need a valid key.
	user
	// admin operations need an admin's key.
	admin
)

// operation describes one operation for huma; statuses are its error
// statuses beyond those every operation may return.
func (s *Server) operation(id, method, path, summary string, who access, statuses ...int) huma.Operation {
	// huma refuses a body that reaches its limit (it reads up to the limit
	// and takes reaching it as too large): its limit is one byte more than
	// the largest body accepted.
	op := huma.Operation{OperationID: id, Method: method, Path: path, Summary: summary,
		MaxBodyBytes: s.cfg.MaxBodyBytes + 1, Errors: append([]int{http.StatusBadRequest, http.StatusTooManyRequests,
			http.StatusServiceUnavailable}, statuses...)}
	if who != public {
		op.Security = []map[string][]string{{"bearer": {}}}
		op.Errors = append(op.Errors, http.StatusUnauthorized)
	}
	if who == admin {
		op.Errors = append(op.Errors, http.StatusForbidden)
		op.Description = "Admins only."
	}
	if method == http.MethodPost {
		op.Errors = append(op.Errors, http.StatusRequestEntityTooLarge)
	}
	return op
}

// caller returns the authenticated user, or errs.ErrUnauthenticated.
func caller(ctx context.Context) (*models.User, error) {
	if u := callerFrom(ctx); u != nil {
		return u, nil
	}
	return nil, fmt.Errorf("%w: this operation needs an API key: Authorization: Bearer <key>", errs.ErrUnauthenticated)
}

// adminCaller returns the authenticated admin, or ErrUnauthenticated or
// ErrForbidden.
func adminCaller(ctx context.Context) (*models.User, error) {
	u, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if u.UserType != models.UserTypeAdmin {
		return nil, fmt.Errorf("%w: only an admin may do this", errs.ErrForbidden)
	}
	return u, nil
}

// PageParams are the paging query parameters of every list. It is exported
// (as are MarketPath and UsernamePath) because huma reads the parameters of
// embedded structs only when their type is exported.
type PageParams struct {
	Limit  int    `query:"limit" minimum:"1" maximum:"500" doc:"Page size (default 50; at most server.max_page_size)."`
	Cursor string `query:"cursor" maxLength:"2048" doc:"next_cursor of the previous page."`
	Order  string `query:"order" enum:"asc,desc" doc:"Sort direction (default: asc, or the list's natural order)."`
}

// request returns the repository's page request for sort, or an
// *errs.InputError for a page size over the server's cap.
func (s *Server) request(p PageParams, sort string) (repository.PageRequest, error) {
	if p.Limit > s.cfg.MaxPageSize {
		return repository.PageRequest{}, errs.Invalid("query.limit", "must be at most %d, got %d", s.cfg.MaxPageSize, p.Limit)
	}
	return repository.PageRequest{Sort: sort, Desc: p.Order == "desc", Limit: p.Limit, Cursor: p.Cursor}, nil
}

// body wraps a response body for huma.
type body[T any] struct {
	Body T
}

// reply returns v as a response body, or the problem of err.
func reply[T any](ctx context.Context, v T, err error) (*body[T], error) {
	if err != nil {
		return nil, problemOf(ctx, err)
	}
	return &body[T]{Body: v}, nil
}

// replyPage maps a page with view, or returns the problem of err.
func replyPage[M, V any](ctx context.Context, p repository.Page[M], err error, view func(M) V) (*body[Page[V]], error) {
	if err != nil {
		return nil, problemOf(ctx, err)
	}
	return &body[Page[V]]{Body: pageOf(p, view)}, nil
}

// registerProblems serves a short description of each problem type at its
// type URI.
func (s *Server) registerProblems() {
	type problemDoc struct {
		Type   string `json:"type"`
		Title  string `json:"title"`
		Status int    `json:"status"`
	}
	huma.Register(s.api, s.operation("get-problem-type", http.MethodGet, ProblemTypeBase+"{slug}",
		"Describe a problem type", public, http.StatusNotFound),
		func(ctx context.Context, in *struct {
			Slug string `path:"slug" maxLength:"64"`
		}) (*body[problemDoc], error) {
			for _, t := range errs.ProblemTypes() {
				if t.Type == in.Slug {
					return &body[problemDoc]{Body: problemDoc{Type: ProblemTypeBase + t.Type, Title: t.Title, Status: t.Status}}, nil
				}
			}
			return nil, problemOf(ctx, fmt.Errorf("%w: problem type %q", errs.ErrNotFound, in.Slug))
		})
}
