package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/validation"

	"socialpredict/errs"
)

// ProblemTypeBase prefixes every problem type slug: a problem's "type" is
// ProblemTypeBase + slug, e.g. /problems/invalid-input, which this server
// also serves as a short description.
const ProblemTypeBase = "/problems/"

// retryAfterSeconds is the Retry-After of a 503.
const retryAfterSeconds = 1

// Problem is an RFC 9457 problem detail, the body of every error response.
type Problem struct {
	// Type is ProblemTypeBase + a stable slug (see errs.Classify).
	Type   string `json:"type" doc:"Stable problem type: /problems/<slug>."`
	Title  string `json:"title" doc:"Short summary of the problem type."`
	Status int    `json:"status" doc:"The HTTP status."`
	Detail string `json:"detail,omitempty" doc:"What went wrong this time."`
	// Instance is the request path.
	Instance  string `json:"instance,omitempty" doc:"The request's path."`
	RequestID string `json:"request_id,omitempty" doc:"The request id, as in the X-Request-Id header and the server's log."`
	// Errors lists each invalid field.
	Errors []FieldError `json:"errors,omitempty" doc:"Each invalid field, for validation problems."`

	headers http.Header
}

// FieldError is one invalid input.
type FieldError struct {
	// Location is where: body.amount, query.limit, path.id, header.Idempotency-Key.
	Location string `json:"location" doc:"Where: body.<field>, query.<name>, path.<name> or header.<name>."`
	Message  string `json:"message" doc:"What is wrong with it."`
}

// Error returns the detail.
func (p *Problem) Error() string { return p.Detail }

// GetStatus returns the HTTP status (huma.StatusError).
func (p *Problem) GetStatus() int { return p.Status }

// GetHeaders returns headers to send with it (huma.HeadersError).
func (p *Problem) GetHeaders() http.Header { return p.headers }

// ContentType makes the body application/problem+json.
func (p *Problem) ContentType(ct string) string {
	if ct == "application/json" {
		return "application/problem+json"
	}
	return ct
}

// newProblem returns the problem of a status and slug.
func newProblem(ctx context.Context, status int, slug, detail string) *Problem {
	p := &Problem{Type: ProblemTypeBase + slug, Title: titleOf(slug, status), Status: status, Detail: detail}
	if ri := requestInfoFrom(ctx); ri != nil {
		p.RequestID, p.Instance = ri.id, ri.path
	}
	switch status {
	case http.StatusServiceUnavailable:
		p.headers = http.Header{"Retry-After": {strconv.Itoa(retryAfterSeconds)}}
	case http.StatusUnauthorized:
		p.headers = http.Header{"Www-Authenticate": {`Bearer realm="socialpredict"`}}
	}
	return p
}

// titleOf is the title of a problem type.
func titleOf(slug string, status int) string {
	for _, t := range errs.ProblemTypes() {
		if t.Type == slug {
			return t.Title
		}
	}
	return strings.ToLower(http.StatusText(status))
}

// problemOf turns an error of the vocabulary (or any other error) into a
// problem. Errors outside the vocabulary are logged with the request id
// and shown only as "internal error".
func problemOf(ctx context.Context, err error) *Problem {
	var p *Problem
	if errors.As(err, &p) {
		return p
	}
	status, slug := errs.Classify(err)
	if ctx.Err() != nil && status == http.StatusInternalServerError {
		status, slug = http.StatusServiceUnavailable, "unavailable"
	}
	switch status {
	case http.StatusInternalServerError:
		p = newProblem(ctx, status, slug, "")
		p.Detail = "internal error (request id " + p.RequestID + ")"
		loggerFrom(ctx).Error("internal error", "error", err)
		return p
	case http.StatusServiceUnavailable:
		loggerFrom(ctx).Warn("database unavailable", "error", err)
		return newProblem(ctx, status, slug, "the database is unavailable or too slow; retry later")
	}
	p = newProblem(ctx, status, slug, err.Error())
	var ie *errs.InputError
	if errors.As(err, &ie) {
		p.Errors = []FieldError{{Location: inputLocation(ie.Field), Message: ie.Problem}}
	}
	return p
}

// inputLocation is where the API takes the input an *errs.InputError names.
// The services and repositories name the JSON field or the parameter
// ("closes_at", "idempotency_key", "cursor"); the server's own errors give
// a location already ("query.limit").
func inputLocation(field string) string {
	switch field {
	case "idempotency_key":
		return "header.Idempotency-Key"
	case "cursor", "sort", "order", "limit":
		return "query." + field
	}
	if strings.Contains(field, ".") {
		return field
	}
	return "body." + field
}

// requiredPrefix and requiredSuffix surround the property name in huma's
// message for a missing required property, which huma reports at the
// enclosing object ("body").
var requiredPrefix, requiredSuffix, _ = strings.Cut(validation.MsgExpectedRequiredProperty, "%s")

// fieldLocation is the location of a huma validation error: a missing
// required property is located at the property (body.amount), not at the
// object that lacks it.
func fieldLocation(d *huma.ErrorDetail) string {
	if name, ok := strings.CutPrefix(d.Message, requiredPrefix); ok {
		if name, ok = strings.CutSuffix(name, requiredSuffix); ok && name != "" {
			return d.Location + "." + name
		}
	}
	return d.Location
}

// humaProblem replaces huma's own errors (malformed JSON, validation, body
// too large, unknown content type, body read timeout), so that they are
// problems of the same table: validation becomes 400 invalid-input naming
// each field.
func humaProblem(hctx huma.Context, status int, msg string, errList ...error) huma.StatusError {
	ctx := context.Background()
	if hctx != nil {
		ctx = hctx.Context()
	}
	if status >= 500 {
		var cause error = errors.New(msg)
		if len(errList) > 0 {
			cause = fmt.Errorf("%s: %w", msg, errors.Join(errList...))
		}
		return problemOf(ctx, cause)
	}
	// The status and type come from the errs table, as every problem's do.
	kind := errs.ErrInvalidInput // 400, and huma's 422 for validation
	switch status {
	case http.StatusRequestEntityTooLarge:
		kind = errs.ErrTooLarge
	case http.StatusUnsupportedMediaType:
		kind = errs.ErrUnsupportedMediaType
	case http.StatusRequestTimeout:
		kind = errs.ErrRequestTimeout
	}
	status, slug := errs.Classify(kind)
	if ri := requestInfoFrom(ctx); ri != nil && kind == errs.ErrTooLarge {
		// huma's message names its limit, one byte over server.max_body_bytes.
		msg = "request body is larger than " + strconv.FormatInt(ri.maxBody, 10) + " bytes"
	}
	p := newProblem(ctx, status, slug, msg)
	for _, e := range errList {
		if e == nil {
			continue
		}
		var d *huma.ErrorDetail
		if errors.As(e, &d) {
			p.Errors = append(p.Errors, FieldError{Location: fieldLocation(d), Message: d.Message})
		} else {
			p.Errors = append(p.Errors, FieldError{Message: e.Error()})
		}
	}
	if len(p.Errors) > 0 && p.Detail == "validation failed" {
		p.Detail = fmt.Sprintf("validation failed: %s: %s", p.Errors[0].Location, p.Errors[0].Message)
	}
	return p
}

// writeProblem writes p outside huma (middleware, unknown routes).
func writeProblem(w http.ResponseWriter, p *Problem) {
	for k, vs := range p.headers {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(p.Status)
	_ = jsonEncode(w, p)
}
