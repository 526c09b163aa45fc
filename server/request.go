package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"regexp"

	"socialpredict/models"
)

// requestInfo is what the middleware learns about a request, carried in
// its context.
type requestInfo struct {
	id, path string
	// route is the route pattern that served the request ("" until known).
	route string
	log   *slog.Logger
	// caller is the authenticated user, nil for an anonymous request.
	caller *models.User
	// maxBody is server.max_body_bytes, for the detail of a 413.
	maxBody int64
}

type requestInfoKey struct{}

func withRequestInfo(ctx context.Context, ri *requestInfo) context.Context {
	return context.WithValue(ctx, requestInfoKey{}, ri)
}

func requestInfoFrom(ctx context.Context) *requestInfo {
	ri, _ := ctx.Value(requestInfoKey{}).(*requestInfo)
	return ri
}

// loggerFrom returns the request's logger (with its request id), or the
// default logger outside a request.
func loggerFrom(ctx context.Context) *slog.Logger {
	if ri := requestInfoFrom(ctx); ri != nil && ri.log != nil {
		return ri.log
	}
	return slog.Default()
}

// callerFrom returns the authenticated user of the request, or nil.
func callerFrom(ctx context.Context) *models.User {
	if ri := requestInfoFrom(ctx); ri != nil {
		return ri.caller
	}
	return nil
}

// clientRequestID accepts a client's X-Request-Id when it is short and plain.
var clientRequestID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// newRequestID returns 16 random hex digits.
func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// jsonEncode writes v as one line of JSON.
func jsonEncode(w io.Writer, v any) error { return json.NewEncoder(w).Encode(v) }
